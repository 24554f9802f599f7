"""The :class:`Predictor`: a loaded model that turns texts into
:class:`Prediction` objects (label, confidence, probabilities, review flag,
status), one at a time or vectorised."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from sentiment import config
from sentiment.model.artifacts import (
    ModelLoadError,
    load_fast_model,
    load_model,
    load_pipeline,
)
from sentiment.model.inputs import prepare_texts
from sentiment.model.remote_model import localize

# Scoring loads numpy only: scikit-learn, SciPy and pandas are imported when a
# caller asks for the pipeline (explanations) or a DataFrame (``score``).

log = logging.getLogger(__name__)

STATUS_OK = "ok"


STATUS_NO_TEXT = "no_text"


STATUS_NO_SIGNAL = "no_signal"


@dataclass(frozen=True)
class Prediction:
    """The verdict on one post.

    ``status`` is "ok", "no_text" (empty input: no label, nothing to review)
    or "no_signal" (no word, emoticon or emoji the model knows, so the label
    is a guess and ``needs_review`` is set whatever the confidence).
    """

    label: str | None
    confidence: float | None
    probabilities: dict[str, float] | None
    needs_review: bool
    status: str
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Predictor:
    """A loaded model with a review threshold; see :func:`load_predictor`.

    ``model`` is a :class:`~sentiment.model.fast.FastModel` (what
    :func:`load_predictor` gives) or a fitted scikit-learn pipeline (training
    and tests). ``pipeline_path``: where the pipeline of a FastModel is, for
    :attr:`pipeline` (explanations), loaded only when asked for.
    """

    def __init__(
        self,
        model: Any,
        card: dict[str, Any] | None = None,
        threshold: float = config.DEFAULT_THRESHOLD,
        pipeline_path: Path | None = None,
    ) -> None:
        classes = list(model.classes_)
        if sorted(classes) != sorted(config.LABELS):
            raise ModelLoadError(
                f"The model predicts {classes}, expected {list(config.LABELS)}."
            )
        self.card = card or {}
        self.threshold = _check_threshold(threshold)
        if hasattr(model, "named_steps"):  # a scikit-learn pipeline
            self._pipeline: Any = model
            self.model: Any = _PipelineModel(model)
        else:
            self._pipeline = None
            self.model = model
        self._pipeline_path = pipeline_path

    @property
    def pipeline(self) -> Any:
        """The scikit-learn pipeline (explanations), loaded and checked on first use."""
        if self._pipeline is None:
            if self._pipeline_path is None:
                raise ModelLoadError("this predictor has no scikit-learn pipeline")
            self._pipeline = load_pipeline(self._pipeline_path, self.card)
        return self._pipeline

    @property
    def model_path(self) -> Path | None:
        """The model's ``.pkl`` on this machine (for a model URL, its download
        beside the profile), or None when it was built in memory."""
        return None if self._pipeline_path is None else Path(self._pipeline_path)

    @property
    def version(self) -> str:
        """Short id of the model file (first 12 hex digits of its SHA-256)."""
        return str(self.card.get("model_sha256", "unknown"))[:12]

    def score(self, texts: Sequence[object], threshold: float | None = None) -> Any:
        """Score texts in one vectorised pass; one row per input, in order.

        Columns are ``OUTPUT_COLUMNS`` plus ``truncated``. Rows without text
        have an empty ``sentiment``, NaN scores and status "no_text".
        """
        return self._score_arrays(texts, threshold).frame()

    def score_columns(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> _Scores:
        """:meth:`score` as plain arrays, one entry per input (no pandas)."""
        return self._score_arrays(texts, threshold)

    def predict_batch(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> list[Prediction]:
        """Predict many texts at once (vectorised); results in input order."""
        # Built from plain lists, not from score()'s DataFrame: for a handful of
        # texts pandas would cost more than the model itself.
        scores = self._score_arrays(texts, threshold)
        rows = zip(
            scores.labels.tolist(),
            scores.confidence.tolist(),
            scores.probabilities.tolist(),
            scores.needs_review.tolist(),
            scores.status.tolist(),
            scores.truncated.tolist(),
        )
        return [_prediction(*row) for row in rows]

    def predict(self, text: object, threshold: float | None = None) -> Prediction:
        """Predict one text. Empty or None input gives status "no_text", no label."""
        return self.predict_batch([text], threshold)[0]

    def _score_arrays(
        self, texts: Sequence[object], threshold: float | None
    ) -> _Scores:
        threshold = self.threshold if threshold is None else _check_threshold(threshold)
        cleaned, truncated = prepare_texts(texts)
        n = len(cleaned)
        has_text = np.fromiter(map(bool, cleaned), bool, count=n)
        probabilities = np.full((n, len(config.LABELS)), np.nan)
        no_signal = np.zeros(n, dtype=bool)
        if has_text.any():
            scored, known = self._probabilities([t for t in cleaned if t])
            probabilities[has_text] = scored
            no_signal[has_text] = known == 0
        filled = np.nan_to_num(probabilities)
        confidence = np.where(has_text, filled.max(axis=1), np.nan)
        return _Scores(
            labels=np.where(has_text, _LABEL_ARRAY[filled.argmax(axis=1)], ""),
            confidence=confidence,
            probabilities=probabilities,
            needs_review=has_text & ((confidence < threshold) | no_signal),
            status=np.where(
                ~has_text,
                STATUS_NO_TEXT,
                np.where(no_signal, STATUS_NO_SIGNAL, STATUS_OK),
            ),
            truncated=np.array(truncated, dtype=bool),
        )

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (``config.LABELS`` order) and known-word counts."""
        return self.model.probabilities(texts)


class _PipelineModel:
    """A fitted scikit-learn pipeline with the FastModel's ``probabilities``."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.classes_ = pipeline.classes_
        classes = list(pipeline.classes_)
        # Column order of predict_proba -> config.LABELS order.
        self._order = [classes.index(label) for label in config.LABELS]
        # Sliced once: slicing builds a new Pipeline on every call.
        self._features = pipeline[:-1]
        self._classifier = pipeline[-1]

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import scipy.sparse as sp
        import sklearn

        from sentiment.model.explain import known_word_counts

        # sklearn re-validates every step's input, which for one text costs more
        # than the model: TF-IDF output is finite and the parameters were checked
        # at fit time, so both checks are skipped (the setting is thread-local).
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = self._features.transform(texts)
            if sp.issparse(features) and not features.has_sorted_indices:
                # A row's entries are summed in stored order, and float32 sums
                # differ in the last bits by order; the pipeline's column order
                # in a row depends on the other texts in the batch. Sorted, a
                # text scores the same alone, in a micro-batch or in a chunk.
                features.sort_indices()
            raw = self._classifier.predict_proba(features)
        return raw[:, self._order], known_word_counts(self.pipeline, features)


class _Scores(NamedTuple):
    """Predictor output as parallel arrays, one entry per input text."""

    labels: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    needs_review: np.ndarray
    status: np.ndarray
    truncated: np.ndarray

    def log_columns(self) -> list[list[Any]]:
        """Columns label, confidence, probabilities..., needs_review, status, as
        the prediction log stores them (None for a missing value).

        Whole columns, not a tuple per row: a batch run logs every row, and
        numpy's ``tolist`` builds each list in C instead of a Python loop.
        """
        # No label (no text, another language): no scores either.
        scores = np.column_stack([self.confidence, self.probabilities]).astype(object)
        scores[self.labels == ""] = None
        return [
            [label or None for label in self.labels.tolist()],
            *scores.T.tolist(),
            self.needs_review.astype(int).tolist(),
            list(map(str, self.status.tolist())),
        ]

    def frame(self) -> Any:
        """The table (a pandas DataFrame) :meth:`Predictor.score` returns."""
        import pandas as pd

        from sentiment.files.output import PROBABILITY_COLUMNS

        return pd.DataFrame(
            {
                "sentiment": self.labels,
                "confidence": self.confidence,
                **{
                    col: self.probabilities[:, i]
                    for i, col in enumerate(PROBABILITY_COLUMNS)
                },
                "needs_review": self.needs_review,
                "status": self.status,
                "truncated": self.truncated,
            }
        )


_LABEL_ARRAY = np.array(config.LABELS, dtype=object)


# The verdict on an empty text (nothing to cut, so never truncated).
NO_TEXT = Prediction(None, None, None, False, STATUS_NO_TEXT)


def _prediction(
    label: str,
    confidence: float,
    probabilities: list[float],
    needs_review: bool,
    status: str,
    truncated: bool,
) -> Prediction:
    if status == STATUS_NO_TEXT:
        return NO_TEXT
    return Prediction(
        label=label,
        confidence=confidence,
        probabilities=dict(zip(config.LABELS, probabilities)),
        needs_review=needs_review,
        status=status,
        truncated=truncated,
    )


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return float(threshold)


def load_predictor(
    path: str | Path | None = None,
    threshold: float = config.DEFAULT_THRESHOLD,
    allow_outside_models_dir: bool = False,
) -> Predictor:
    """Load and check the committed model (or ``path``, the model's ``.pkl``).

    Scores with the model's arrays (see artifacts.load_fast_model); a model
    saved before arrays existed is loaded from its pickle, with a warning.
    """
    # A URL is downloaded and its origin checked there; loaded below as trusted.
    path, allow_outside_models_dir = localize(path, allow_outside_models_dir)
    path = path if path is not None else config.DEFAULT_MODEL_PATH
    fast = load_fast_model(path, allow_outside_models_dir)
    if fast is not None:
        model, card = fast
        return Predictor(model, card, threshold, pipeline_path=path)
    log.warning("%s has no arrays file: loading its pickle; retrain to fix.", path)
    pipeline, card = load_model(path, allow_outside_models_dir)
    return Predictor(pipeline, card, threshold)


def model_version(predictor: Predictor) -> str:
    """The SHA-256 of the predictor's model file, as the prediction log stores it."""
    return str(predictor.card.get("model_sha256", "unknown"))


def load_local_predictor(threshold: float = config.DEFAULT_THRESHOLD) -> Predictor:
    """The committed model, or the one at ``$SENTIMENT_MODEL_PATH`` (trusted, as
    for the web page: see ``config.MODEL_PATH_ENV``)."""
    path = config.model_path_from_env()
    return load_predictor(path, threshold, allow_outside_models_dir=path is not None)
