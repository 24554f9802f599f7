"""Three-class sentiment for social-media posts.

>>> from sentiment import load_predictor
>>> load_predictor().predict("I love this!").label  # doctest: +SKIP
'positive'
"""

from __future__ import annotations

from typing import Any

__all__ = ["Prediction", "Predictor", "load_predictor"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m sentiment.predict` does not import its own
    # module twice, and `import sentiment` stays cheap.
    if name in __all__:
        from sentiment import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'sentiment' has no attribute {name!r}")
