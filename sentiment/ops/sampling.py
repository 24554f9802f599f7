"""Samples of posts for drift checks: from a table, from the prediction log
(with a time window), or from a saved reference profile."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.files.reading import read_table, require_columns
from sentiment.model.predictor import Predictor
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reference import (
    Sample,
    load_reference,
    oov_shares,
    sample_from_scores,
    sample_indices,
)

_AGE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([hd])$", re.IGNORECASE)


_LOG_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def parse_time(value: str, now: datetime | None = None) -> datetime:
    """``"24h"``, ``"7d"`` (that long ago) or an ISO date/time (UTC if no zone)."""
    now = now or datetime.now(timezone.utc)
    age = _AGE_RE.match(value.strip())
    if age:
        amount, unit = float(age.group(1)), age.group(2).lower()
        return now - timedelta(**{"hours" if unit == "h" else "days": amount})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"Cannot read the time {value!r}: use an ISO date/time such as "
            "2026-01-31 or 2026-01-31T09:00, or an age such as 24h or 7d."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sample_from_table(
    path: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """Score up to ``size`` random non-empty posts of a CSV/TSV with the model."""
    path = Path(path)
    frame = read_table(path)
    require_columns(frame, [text_col], path)
    texts = [t for t in frame[text_col] if t.strip()]
    texts = [
        texts[i] for i in sample_indices(len(texts), size, np.random.default_rng(seed))
    ]
    description = f"{path.name} ({len(texts):,} of {len(frame):,} rows)"
    return sample_from_scores(
        predictor.pipeline, texts, predictor.score(texts), description
    )


def sample_from_log(
    prediction_log: PredictionLog,
    predictor: Predictor,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """Up to ``size`` random labelled predictions from the log, as logged.

    Labels and confidences are the ones served; the model is used only to
    tokenize stored texts for the OOV share (skipped when texts were not
    stored).
    """
    # Windows follow the posting time where the log has it (issue 12).
    basis = prediction_log.time_basis("auto")
    rows = prediction_log.predictions(since, until, basis=basis)
    rows = rows[rows["label"].notna()].reset_index(drop=True)
    rows = rows.iloc[sample_indices(len(rows), size, np.random.default_rng(seed))]
    versions = rows["model_version"].nunique()
    description = (
        f"prediction log {prediction_log.path.name} ({len(rows):,} predictions"
        f"{f', {versions} model versions' if versions > 1 else ''}; "
        f"windows by {basis} time)"
    )
    texts = rows["text"].dropna().tolist()
    oov = None
    if texts:
        shares, unknown, total = oov_shares(predictor.pipeline, texts)
        oov = (shares, (unknown, total))
    return Sample(
        description=description,
        label_counts={
            label: int((rows["label"] == label).sum()) for label in config.LABELS
        },
        confidence=rows["confidence"].to_numpy(dtype=float),
        length=rows["text_length"].to_numpy(dtype=float),
        oov_share=oov[0] if oov else None,
        oov_tokens=oov[1] if oov else None,
        texts=texts or None,
    )


def load_sample(
    source: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """A Sample from a profile (.json), a prediction log (.db or "log") or a table."""
    if str(source) == "log":
        path = config.log_path_from_env()
        if path is None:
            raise ValueError(f"The prediction log is off ({config.LOG_DB_ENV}).")
        source = path
    path = Path(source)
    if path.suffix.lower() == ".json":
        return load_reference(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file.")
    if path.suffix.lower() in _LOG_SUFFIXES:
        with PredictionLog(path) as prediction_log:
            return sample_from_log(prediction_log, predictor, since, until, size, seed)
    return sample_from_table(path, predictor, text_col, size, seed)
