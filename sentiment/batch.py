"""Scoring an uploaded file in memory: what the Streamlit page does, without the UI.

An upload arrives as bytes plus a file name. It is read with the same encoding
and delimiter detection as the batch CLI (``sentiment.data``), scored in chunks
so a page can show progress, and written back with the same prediction columns
and formula neutralizing as ``python -m sentiment.predict``, every row kept in
input order.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from sentiment import config
from sentiment.data import DataError, TableFormat, detect_format, read_table
from sentiment.predict import (
    SCORED_FLOAT_FORMAT,
    Predictor,
    ScoreSummary,
    _check_columns,
    with_predictions,
)

# A .txt upload holds one post per line; it becomes a table with this column.
PLAIN_TEXT_SUFFIX = ".txt"
PLAIN_TEXT_COLUMN = "text"

# Columns are judged on their first rows: enough to tell posts from ids,
# labels or dates, and cheap on a file of any length.
_TEXT_LIKE_SAMPLE_ROWS = 1_000


@dataclass(frozen=True)
class UploadedTable:
    """An uploaded file read as a table of strings, with how to write it back."""

    frame: pd.DataFrame
    fmt: TableFormat
    name: str

    @property
    def plain_text(self) -> bool:
        """True for a .txt upload (one post per line), written back as CSV."""
        return Path(self.name).suffix.lower() == PLAIN_TEXT_SUFFIX


def read_upload(data: bytes, name: str, max_bytes: int | None = None) -> UploadedTable:
    """Read an uploaded CSV/TSV (or .txt, one post a line) into a table of strings.

    Raises DataError, with what to do, for a file over ``max_bytes``, an
    empty, binary or undecodable file, a malformed table, or one without rows.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(
            f"{name} is {len(data) / 2**20:,.1f} MB, over the {max_bytes / 2**20:,.0f}"
            " MB upload limit. Split it into smaller files, or score it with "
            "`python -m sentiment.predict FILE --output OUT.csv`, which has no limit."
        )
    fmt = detect_format(data, name)
    if Path(name).suffix.lower() == PLAIN_TEXT_SUFFIX:
        frame = pd.DataFrame({PLAIN_TEXT_COLUMN: _lines(data, fmt.encoding, name)})
        fmt = TableFormat(fmt.encoding, ",", fmt.encoding_guessed)
    else:
        frame = read_table(io.BytesIO(data), fmt, name=name)
    if frame.empty:
        raise DataError(
            f"{name} has a header row but no data rows: add one post per row."
        )
    return UploadedTable(frame, fmt, name)


def _lines(data: bytes, encoding: str, name: str) -> list[str]:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise DataError(
            f"{name} cannot be decoded as {encoding} ({e.reason} at byte {e.start})."
            " Save it as UTF-8 text and try again."
        ) from e
    # Universal newlines, and a final newline ends the last post rather than
    # starting an empty one; blank lines inside the file stay as rows.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def most_text_like_column(frame: pd.DataFrame) -> str | None:
    """The column whose cells hold the most words, or None if no cell has a letter.

    Posts have many words per cell; ids, labels, dates and numbers have one or
    none, so the mean count of runs of letters tells them apart.
    """
    best, best_words = None, 0.0
    for column in frame.columns:
        cells = frame[column].head(_TEXT_LIKE_SAMPLE_ROWS).astype(str)
        words = cells.str.count(r"[^\W\d_]+").mean()
        if words > best_words:
            best, best_words = column, words
    return best


def check_text_column(table: UploadedTable, text_col: str) -> None:
    """Raise DataError if ``text_col`` is missing or output columns already exist."""
    _check_columns(table.frame, text_col, Path(table.name))


def score_frame(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Score ``texts`` in chunks of ``chunk_rows``; one row per text, in order.

    ``on_progress(done, total)`` is called after each chunk, so a page can
    move a progress bar while a large file is scored.
    """
    total = len(texts)
    parts = []
    for start in range(0, total, chunk_rows):
        parts.append(predictor.score(texts[start : start + chunk_rows], threshold))
        if on_progress is not None:
            on_progress(min(start + chunk_rows, total), total)
    if not parts:
        return predictor.score([], threshold)
    return pd.concat(parts, ignore_index=True)


def summarize(scored: pd.DataFrame) -> tuple[ScoreSummary, pd.DataFrame]:
    """Counts of the run, and per label (plus "no text") its count and share of rows."""
    summary = ScoreSummary()
    summary.add(scored)
    counts = scored["sentiment"].replace("", "no text").value_counts()
    order = [*config.LABELS, "no text"]
    mix = pd.DataFrame(
        {"label": order, "count": [int(counts.get(k, 0)) for k in order]}
    )
    mix["share"] = mix["count"] / max(len(scored), 1)
    return summary, mix


def label_mix_over_time(
    dates: pd.Series, labels: pd.Series, freq: str | None = None
) -> tuple[pd.DataFrame, int]:
    """Share of each label per period, and how many rows had no readable date.

    Rows without a label (no text) are left out. ``freq`` is a pandas period
    alias ("h", "D", "W", "M"); by default it is chosen from the dates' span.
    Returns a long table with columns period, label, count, share. Raises
    DataError when no date can be read.
    """
    parsed = pd.to_datetime(dates, errors="coerce", utc=True, format="mixed")
    parsed = parsed.dt.tz_convert(None)
    usable = parsed.notna().to_numpy() & (labels != "").to_numpy()
    unparsed = int(parsed.isna().sum())
    if not usable.any():
        raise DataError(
            f"No date could be read in column {dates.name!r}. Pick a column with "
            "dates such as 2024-05-01 or 2024-05-01 13:45, or none."
        )
    when, label = parsed[usable], labels[usable]
    freq = freq or _period_for(when.max() - when.min())
    period = when.dt.to_period(freq).dt.start_time.rename("period")
    counts = (
        label.groupby([period.to_numpy(), label.to_numpy()])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(config.LABELS), fill_value=0)
    )
    counts.index.name = "period"
    shares = counts.div(counts.sum(axis=1), axis=0)
    long = counts.stack().rename("count").to_frame()
    long["share"] = shares.stack()
    return long.reset_index().rename(columns={"level_1": "label"}), unparsed


def _period_for(span: pd.Timedelta) -> str:
    # Aim for a few dozen points at most, whatever the span of the data.
    if span <= pd.Timedelta(days=2):
        return "h"
    if span <= pd.Timedelta(days=90):
        return "D"
    if span <= pd.Timedelta(days=3 * 365):
        return "W"
    return "M"


def filter_results(
    results: pd.DataFrame, labels: Sequence[str], needs_review: bool | None = None
) -> pd.DataFrame:
    """Rows whose ``sentiment`` is in ``labels`` ("" for no text), by review flag.

    ``needs_review`` None keeps both flagged and confident rows.
    """
    keep = results["sentiment"].isin(list(labels))
    if needs_review is not None:
        keep &= results["needs_review"] == needs_review
    return results[keep]


def scored_file_bytes(table: UploadedTable, scored: pd.DataFrame) -> bytes:
    """The uploaded file with the prediction columns appended, as UTF-8 bytes.

    Same columns, delimiter and formula neutralizing as the batch CLI; a .txt
    upload comes back as a CSV with one ``text`` column.
    """
    buffer = io.StringIO()
    with_predictions(table.frame, scored).to_csv(
        buffer,
        sep=table.fmt.delimiter,
        index=False,
        float_format=SCORED_FLOAT_FORMAT,
    )
    return buffer.getvalue().encode("utf-8")


def scored_file_name(name: str) -> str:
    """Download name for a scored upload: ``posts.tsv`` -> ``posts_scored.tsv``."""
    path = Path(name)
    suffix = ".csv" if path.suffix.lower() in ("", PLAIN_TEXT_SUFFIX) else path.suffix
    return f"{path.stem}_scored{suffix}"
