"""One scoring step: a chunk of rows in, the same rows with prediction columns
out, plus counts for the summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # pandas loads only where a table is built (start-up)
    import pandas as pd

from sentiment import config
from sentiment.files.output import scored_csv_text
from sentiment.model.language import (
    STATUS_UNSUPPORTED_LANGUAGE,
    is_supported,
    languages,
)
from sentiment.model.predictor import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    Prediction,
    Predictor,
    _Scores,
)
from sentiment.ops.log_staging import stage_in_worker, staged_columns


def predictions_frame(predictions: Sequence[Prediction]) -> pd.DataFrame:
    """The :meth:`Predictor.score` table of predictions made elsewhere (the API)."""
    n = len(predictions)
    return _Scores(
        labels=np.array([p.label or "" for p in predictions], dtype=object),
        confidence=np.array(
            [np.nan if p.confidence is None else p.confidence for p in predictions],
            dtype=float,
        ),
        probabilities=np.array(
            [
                (
                    [np.nan] * len(config.LABELS)
                    if p.probabilities is None
                    else [p.probabilities[label] for label in config.LABELS]
                )
                for p in predictions
            ],
            dtype=float,
        ).reshape(n, len(config.LABELS)),
        needs_review=np.array([p.needs_review for p in predictions], dtype=bool),
        status=np.array([p.status for p in predictions], dtype=str),
        truncated=np.array([p.truncated for p in predictions], dtype=bool),
    ).frame()


@dataclass
class ScoreSummary:
    """Counts from one batch run."""

    rows: int = 0
    no_text: int = 0
    needs_review: int = 0
    no_signal: int = 0
    truncated: int = 0
    other_language: int = 0  # not scored: a language the model was not trained on

    def add(self, scored: pd.DataFrame | dict[str, np.ndarray] | _Scores) -> None:
        """Count a ``Predictor.score`` table, or its columns as arrays."""
        if isinstance(scored, _Scores):
            scored = scored._asdict()
        self.rows += len(scored["status"])
        self.no_text += int((scored["status"] == STATUS_NO_TEXT).sum())
        self.no_signal += int((scored["status"] == STATUS_NO_SIGNAL).sum())
        self.needs_review += int(scored["needs_review"].sum())
        self.truncated += int(scored["truncated"].sum())
        other = scored["status"] == STATUS_UNSUPPORTED_LANGUAGE
        self.other_language += int(other.sum())

    def merge(self, other: ScoreSummary) -> None:
        """Add the counts of another run (a chunk or a partition) to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def score_language_columns(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None,
    score_all_languages: bool = False,
) -> tuple[_Scores, list[str]]:
    """Predictions for ``texts`` (as arrays) and their languages.

    Posts in a language the model was not trained for keep their row with
    status ``unsupported_language`` and no label, unless ``score_all_languages``.
    The one scoring step of every batch engine.
    """
    found = languages(texts)
    skip = np.array(
        [not score_all_languages and not is_supported(x) for x in found], dtype=bool
    )
    # Skipped posts are scored as no text (no label, no scores, no review);
    # only their status changes.
    scores = predictor.score_columns(
        [None if s else t for t, s in zip(texts, skip)], threshold
    )
    if skip.any():
        status = scores.status.astype(object)
        status[skip] = STATUS_UNSUPPORTED_LANGUAGE
        scores = scores._replace(status=status)
    return scores, found


def score_languages(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None,
    score_all_languages: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`score_language_columns` as a :meth:`Predictor.score` table."""
    scores, found = score_language_columns(
        predictor, texts, threshold, score_all_languages
    )
    return scores.frame(), found


def score_text_columns(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None,
    score_all_languages: bool = False,
) -> _Scores:
    """:func:`score_language_columns` without the languages; when every
    language is scored, no language is detected at all (it costs as much as
    scoring)."""
    if score_all_languages:
        return predictor.score_columns(texts, threshold)
    return score_language_columns(predictor, texts, threshold)[0]


def score_texts(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None,
    score_all_languages: bool = False,
) -> pd.DataFrame:
    """:func:`score_text_columns` as a :meth:`Predictor.score` table."""
    return score_text_columns(predictor, texts, threshold, score_all_languages).frame()


def score_chunk(
    predictor: Predictor,
    chunk: pd.DataFrame,
    text_col: str,
    threshold: float | None = None,
    score_all_languages: bool = False,
) -> tuple[pd.DataFrame, ScoreSummary]:
    """The predictions for ``chunk[text_col]`` (a :meth:`Predictor.score` table).

    The one scoring step of every batch engine (in-process, worker processes,
    Dask), so they all give the same rows; also returns their counts.
    """
    texts = chunk[text_col]
    if texts.hasnans:  # Parquet and in-memory frames can hold missing values
        texts = texts.astype(object).where(texts.notna(), None)
    scored = score_texts(predictor, texts.tolist(), threshold, score_all_languages)
    summary = ScoreSummary()
    summary.add(scored)
    return scored, summary


class _ScoredChunk(NamedTuple):
    """What scoring one chunk of a CSV gives back to the process writing the file."""

    csv_text: str
    summary: ScoreSummary
    # ops.log_staging.staged_columns; None: no log, or staged by the worker
    log_columns: list[list[Any]] | None
    staged_rows: int = 0  # rows the worker staged in the run's folder itself


def _score_csv_rows(
    predictor: Predictor,
    rows: list[list[str]],
    text_index: int,
    threshold: float | None,
    delimiter: str,
    score_all_languages: bool = False,
    log_text: bool | None = None,
) -> _ScoredChunk:
    """Score the cells at ``text_index`` of ``rows``; their lines of the scored file.

    No DataFrame: from the rows to arrays to lines (pandas would cost more
    than the model). With ``log_text`` (the log's ``store_text``) not None,
    also their staged log columns: made here, in the worker, the process writing
    the file only stores them.
    """
    texts = [row[text_index] for row in rows]
    scored = score_text_columns(predictor, texts, threshold, score_all_languages)
    summary = ScoreSummary()
    summary.add(scored)
    log_columns = None if log_text is None else staged_columns(texts, scored, log_text)
    return _ScoredChunk(scored_csv_text(rows, scored, delimiter), summary, log_columns)


def _score_csv_chunk(
    predictor: Predictor,
    chunk: tuple[int, list[list[str]]],
    stage_folder: str | None = None,
    **options: Any,
) -> _ScoredChunk:
    """:func:`_score_csv_rows` of a numbered chunk (its first row's item, its
    rows). With ``stage_folder`` (a ``--jobs`` worker's), the log rows are
    staged here, in this process's own file of that folder, not sent back:
    the process writing the file is a run's busiest."""
    first_item, rows = chunk
    done = _score_csv_rows(predictor, rows, **options)
    if stage_folder is None or done.log_columns is None:
        return done
    staged = stage_in_worker(stage_folder, first_item, done.log_columns)
    return done._replace(log_columns=None, staged_rows=staged)


class NoProgress:
    """A progress bar that shows nothing (tqdm's disabled bar still costs its
    import and a monitor thread)."""

    n = 0

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        self.n += n


def file_progress(path: Path, enabled: bool) -> Any:
    """A progress bar over the bytes of ``path`` (update it with ``handle.tell()``)."""
    if not enabled:
        return NoProgress()
    from tqdm import tqdm

    return tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc="scoring",
    )
