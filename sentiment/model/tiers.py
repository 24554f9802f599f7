"""Every model tier behind the one :class:`Predictor` contract.

* ``classic``: TF-IDF + lexicons + word vectors + logistic regression (default).
* ``transformer``: the fine-tuned MiniLM, int8 ONNX (sentiment.model.transformer).
* ``cascade``: the classic model scores every post; posts it is less sure of
  than the cut-off recorded in the transformer's card go to the transformer,
  and so do posts with a negation or a contrasting "but" when the card says
  so (the bag of words reads those poorly).

All three return the same :class:`Prediction` and score table, so thresholds,
``needs_review``, ``status``, the prediction log, drift and the promotion gate
work the same for each: only :meth:`Predictor._probabilities` differs.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import config
from sentiment.model.calibration import softmax
from sentiment.model.predictor import Predictor, _check_threshold
from sentiment.model.preprocess import has_negation_or_contrast
from sentiment.model.predictor import load_predictor as load_classic
from sentiment.model.transformer import OnnxSentimentModel, load_onnx_model

log = logging.getLogger(__name__)


class TransformerPredictor(Predictor):
    """The transformer tier with the classic tier's interface."""

    def __init__(
        self,
        model: OnnxSentimentModel,
        card: dict[str, Any],
        threshold: float = config.DEFAULT_THRESHOLD,
    ) -> None:
        # No sklearn pipeline here, so Predictor.__init__'s checks do not apply;
        # asking for ``pipeline`` raises ModelLoadError.
        self.model = model
        self.card = card
        self.threshold = _check_threshold(threshold)
        self._pipeline = None
        self._pipeline_path = None

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.model.scores(texts)


class CascadePredictor(Predictor):
    """Classic first; the transformer rescores the posts below ``cutoff`` and,
    with ``route_negation``, every post with a negation or a contrasting "but".
    A post sent on for being below the cut-off gets both tiers' answers pooled
    (:func:`blend`, ``classic_weight`` for classic's); one sent for a
    negation or a contrast gets the transformer's alone (see
    :mod:`sentiment.model.cascade_cutoff`).

    ``sent`` and ``scored`` count the posts sent on and the posts scored, for
    the benchmark's "share sent to the transformer".
    """

    def __init__(
        self,
        classic: Predictor,
        transformer: TransformerPredictor,
        cutoff: float,
        threshold: float = config.DEFAULT_THRESHOLD,
        route_negation: bool = False,
        classic_weight: float = 0.0,
    ) -> None:
        self.classic = classic
        self.transformer = transformer
        self.cutoff = _check_threshold(cutoff)
        self.route_negation = route_negation
        if not 0.0 <= float(classic_weight) <= 1.0:
            raise ValueError(
                f"the cascade's classic_weight must be between 0 and 1, got "
                f"{classic_weight}; check the transformer card's 'cascade' entry"
            )
        self.classic_weight = float(classic_weight)
        self.threshold = _check_threshold(threshold)
        self.card = cascade_card(
            classic.card,
            transformer.card,
            self.cutoff,
            route_negation,
            self.classic_weight,
        )
        warning = routing_mismatch(classic.card, transformer.card.get("cascade") or {})
        if warning:
            log.warning(warning)
            self.card["routing_warning"] = warning
        self.sent = 0
        self.scored = 0
        # The classic model's own tokenizer when it has one: the routing then
        # needs no NLTK, whose import takes about a second.
        self._split = getattr(classic.model, "split_tokens", None)

    @property
    def pipeline(self) -> Any:
        """The classic tier's pipeline, for what needs one (drift's vocabulary)."""
        return self.classic.pipeline

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        probabilities, known = self.classic._probabilities(texts)
        unsure = probabilities.max(axis=1) < self.cutoff
        hard = np.zeros(len(texts), dtype=bool)  # a negation or a contrast
        if self.route_negation:
            # Unsure posts need the check only to know whether to blend.
            checked = np.ones_like(unsure) if self.classic_weight else ~unsure
            for i in np.flatnonzero(checked):
                hard[i] = has_negation_or_contrast(texts[i], self._split)
        sent = np.flatnonzero(unsure | hard)
        self.scored += len(texts)
        self.sent += len(sent)
        if len(sent):
            rescored, words = self.transformer._probabilities([texts[i] for i in sent])
            # The bag of words reads a negation or a contrast poorly: there
            # its vote would pull the transformer's answer the wrong way.
            weights = np.where(hard[sent], 0.0, self.classic_weight)[:, None]
            probabilities[sent] = blend(probabilities[sent], rescored, weights)
            known[sent] = words
        return probabilities, known


def blend(
    classic: np.ndarray, transformer: np.ndarray, classic_weight: float | np.ndarray
) -> np.ndarray:
    """The cascade's probabilities for a post sent to the transformer: the
    softmax of the weighted sum of both tiers' log-probabilities
    (``classic_weight``: one weight, or a column of one per post)."""
    logits = classic_weight * np.log(np.clip(classic, 1e-12, None))
    logits += (1.0 - classic_weight) * np.log(np.clip(transformer, 1e-12, None))
    return softmax(logits)


def routing_mismatch(classic: dict[str, Any], routing: dict[str, Any]) -> str | None:
    """Why the cascade's cut-off and classic weight may not suit this classic
    model: they were chosen on another file than it was trained on (None when
    the files match or either card does not say)."""
    chosen = routing.get("chosen_on") or {}
    trained = classic.get("training_data") or {}
    if not chosen.get("sha256") or not trained.get("sha256"):
        return None
    if chosen["sha256"] == trained["sha256"]:
        return None
    return (
        f"The cascade's cut-off and classic weight were chosen on "
        f"{chosen.get('file', 'another file')}, but the classic model was trained "
        f"on {trained.get('file', 'other data')}: choose them again for it with "
        "`python -m sentiment.train --backend cascade --data YOUR_TRAINING_FILE`."
    )


def cascade_card(
    classic: dict[str, Any],
    transformer: dict[str, Any],
    cutoff: float,
    route_negation: bool = False,
    classic_weight: float = 0.0,
) -> dict[str, Any]:
    """The cascade's card: both cards, the routing, and one SHA-256 that
    changes when either model, the routing or the blend does (the log's model
    version)."""
    parts = f"{classic.get('model_sha256')}|{transformer.get('model_sha256')}|{cutoff}"
    if route_negation:
        parts += "|negation"
    if classic_weight:
        parts += f"|blend {classic_weight}"
    return {
        "backend": "cascade",
        "model_sha256": hashlib.sha256(parts.encode()).hexdigest(),
        "cutoff": cutoff,
        "route_negation": route_negation,
        "classic_weight": classic_weight,
        "classic": classic,
        "transformer": transformer,
        "default_threshold": config.DEFAULT_THRESHOLD,
    }


def load_transformer(
    model_dir: str | Path | None = None,
    threshold: float = config.DEFAULT_THRESHOLD,
    threads: int | None = None,
) -> TransformerPredictor:
    """The committed transformer (``models/transformer``) or ``model_dir``."""
    model, card = load_onnx_model(model_dir or config.TRANSFORMER_DIR, threads)
    return TransformerPredictor(model, card, threshold)


def load_predictor(
    path: str | Path | None = None,
    threshold: float = config.DEFAULT_THRESHOLD,
    allow_outside_models_dir: bool = False,
    backend: str = config.DEFAULT_BACKEND,
    transformer_dir: str | Path | None = None,
    cutoff: float | None = None,
) -> Predictor:
    """Load one tier: "classic" (``path``: the classic model file),
    "transformer" (``transformer_dir``) or "cascade" (both; ``cutoff``
    defaults to the one recorded in the transformer's card)."""
    if backend not in config.BACKENDS:
        raise ValueError(
            f"Unknown backend {backend!r}; choose one of {', '.join(config.BACKENDS)}."
        )
    if backend == "classic":
        return load_classic(path, threshold, allow_outside_models_dir)
    transformer = load_transformer(transformer_dir, threshold)
    if backend == "transformer":
        return transformer
    classic = load_classic(path, threshold, allow_outside_models_dir)
    routing = transformer.card.get("cascade", {})
    if cutoff is None:
        cutoff = routing.get("cutoff", config.CASCADE_CUTOFF)
    return CascadePredictor(
        classic,
        transformer,
        float(cutoff),
        threshold,
        route_negation=bool(routing.get("route_negation", False)),
        classic_weight=float(routing.get("classic_weight", 0.0)),
    )


def backend_of(predictor: Predictor) -> str:
    """The tier a loaded predictor is: "classic", "transformer" or "cascade"."""
    return str(predictor.card.get("backend", "classic"))


def load_local_predictor(
    threshold: float = config.DEFAULT_THRESHOLD, backend: str | None = None
) -> Predictor:
    """The tier ``backend`` (default ``$SENTIMENT_BACKEND``, else classic) with
    the classic model at ``$SENTIMENT_MODEL_PATH`` if set (trusted, as for
    the web page: see ``config.MODEL_PATH_ENV``)."""
    path = config.model_path_from_env()
    return load_predictor(
        path,
        threshold,
        allow_outside_models_dir=path is not None,
        backend=backend or config.backend_from_env(),
    )
