"""Reading an uploaded file in memory: what the Streamlit page does, without the UI.

An upload arrives as bytes plus a file name. It is read with the same encoding
and delimiter detection as the batch CLI (:mod:`sentiment.files.formats`),
scored in chunks (:mod:`sentiment.batch.upload`) so a page can show progress,
and written back with the same prediction columns
and formula neutralizing as ``python -m sentiment.predict``, every row kept in
input order.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sentiment.files.formats import DataError, TableFormat, detect_format
from sentiment.files.reading import check_input_columns, read_table

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
    check_input_columns(table.frame.columns, text_col, Path(table.name))
