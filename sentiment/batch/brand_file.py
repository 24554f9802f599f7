"""A CSV of posts -> the per-brand summary, and optionally the scored file with
``brands`` and ``language`` columns and rows in the prediction log.

Streams the file in chunks (memory stays flat); the output is the batch
CLI's scored-file format (:func:`sentiment.files.output.to_csv_text`) with the
two added columns before the prediction columns, written to a temporary file
beside the target and moved into place only when the whole run succeeded, so
a failed run never clobbers an existing output.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from sentiment import config
from sentiment.batch.brand_scoring import (
    ADDED_COLUMNS,
    BrandChunk,
    BrandOptions,
    content_keys,
    score_brand_chunk,
)
from sentiment.batch.step import ScoreSummary, file_progress
from sentiment.files.formats import DataError, detect_format
from sentiment.files.output import to_csv_text
from sentiment.files.reading import read_csv_chunks, require_columns
from sentiment.files.storage import atomic_write
from sentiment.files.timestamps import detect_time_column
from sentiment.model.predictor import Predictor, model_version
from sentiment.ops.brand_summary import add_counts, summarize_brands
from sentiment.ops.logstore import LogResult, PredictionLog
from sentiment.ops.post_log import append_posts

# An "id" column (any case) identifies rows in the content key of the log.
ID_COLUMN_NAMES = ("id", "post_id", "tweet_id", "status_id")


@dataclass
class BrandRun:
    """What a run over a file found: counts, the summary, what was logged."""

    summary: dict[str, Any]
    rows: ScoreSummary
    unsupported_language: int = 0
    logged: int = 0
    time_col: str | None = None
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)


def resolve_columns(columns: list[str], options: BrandOptions, path: Path) -> None:
    """Check the columns the options name; DataError says which is missing."""
    named = [c for c in (options.brand_col, options.time_col, options.id_col) if c]
    require_columns(pd.DataFrame(columns=columns), named, path)
    clash = [c for c in ADDED_COLUMNS if c in columns]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "brand output adds. Rename them (is this an already scored file?)."
        )
    if options.watchlist is None and options.brand_col is None:
        raise DataError("Give --watchlist FILE.toml, --brand-col COLUMN, or both.")


def with_detected_columns(
    chunk: pd.DataFrame, options: BrandOptions, detect_time: bool
) -> BrandOptions:
    """``options`` with the id and posting-time columns found, when not given."""
    id_col = options.id_col or next(
        (c for c in chunk.columns if str(c).strip().lower() in ID_COLUMN_NAMES), None
    )
    time_col = options.time_col
    if time_col is None and detect_time:
        time_col = detect_time_column(chunk)
    return replace(options, id_col=id_col, time_col=time_col)


def score_brand_file(
    input_path: str | Path,
    predictor: Predictor,
    options: BrandOptions,
    text_col: str = "text",
    output_path: str | Path | None = None,
    threshold: float | None = None,
    prediction_log: PredictionLog | None = None,
    detect_time: bool = True,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    progress: bool = True,
) -> BrandRun:
    """Score a file for brand monitoring; see the module doc."""
    input_path = Path(input_path)
    if output_path is not None and Path(output_path).resolve() == input_path.resolve():
        raise DataError("--output must differ from the input file, or it is lost.")
    fmt = detect_format(input_path)
    run = BrandRun({}, ScoreSummary())
    parts: list[pd.DataFrame] = []
    request_id: str | None = None

    def score(out: TextIO | None) -> None:
        nonlocal options, request_id
        with (
            open(input_path, "rb") as handle,
            file_progress(input_path, progress) as bar,
        ):
            chunks = read_csv_chunks(handle, input_path, fmt, text_col, chunk_rows)
            for number, chunk in enumerate(chunks):
                if number == 0:
                    resolve_columns(list(chunk.columns), options, input_path)
                    options = with_detected_columns(chunk, options, detect_time)
                    run.time_col = options.time_col
                done = score_brand_chunk(predictor, chunk, text_col, options, threshold)
                if out is not None:
                    out.write(
                        to_csv_text(done.rows, done.scored, fmt.delimiter, number == 0)
                    )
                if prediction_log is not None:
                    # Logged as scored: content keys make a re-run after a
                    # failure add no row twice.
                    logged = _log_chunk(
                        prediction_log,
                        model_version(predictor),
                        done,
                        options,
                        text_col,
                        request_id,
                        run.rows.rows,
                    )
                    request_id, run.logged = logged.request_id, run.logged + logged.rows
                run.rows.add(done.scored)
                run.unsupported_language += done.unsupported
                parts.append(done.counts)
                bar.update(handle.tell() - bar.n)

    if output_path is None:
        score(None)
    else:

        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as out:
                score(out)

        atomic_write(Path(output_path), write, mode=None)
    run.counts = add_counts(parts)
    basis = f"posted_at ({run.time_col})" if run.time_col else None
    brand_order = options.watchlist.names if options.watchlist else None
    run.summary = summarize_brands(run.counts, brand_order, options.freq, basis)
    run.summary["posts"] = run.rows.rows
    run.summary["unsupported_language"] = run.unsupported_language
    return run


def _log_chunk(
    prediction_log: PredictionLog,
    version: str,
    done: BrandChunk,
    options: BrandOptions,
    text_col: str,
    request_id: str | None,
    first_item: int,
) -> LogResult:
    """Log one chunk with its posting times, brands, languages and content keys."""
    texts = done.rows[text_col].tolist()
    ids = done.rows[options.id_col].tolist() if options.id_col else None
    return append_posts(
        prediction_log,
        "batch",
        request_id,
        version,
        texts,
        done.scored,
        done.posted_at,
        done.rows["brands"].tolist(),
        done.rows["language"].tolist(),
        content_keys(texts, done.posted_at, done.brands, ids),
        first_item=first_item,
    )
