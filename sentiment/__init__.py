"""Three-class sentiment for social-media posts.

>>> from sentiment import load_predictor
>>> load_predictor().predict("I love this!").label  # doctest: +SKIP
'positive'
"""

from __future__ import annotations

from typing import Any

__all__ = ["Prediction", "Predictor", "load_predictor"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `import sentiment` (and every command's start) stays
    # cheap: the predictor pulls in scikit-learn.
    if name == "load_predictor":
        # Every tier: classic (default), transformer, cascade.
        from sentiment.model.tiers import load_predictor

        return load_predictor
    if name in __all__:
        from sentiment.model import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'sentiment' has no attribute {name!r}")
