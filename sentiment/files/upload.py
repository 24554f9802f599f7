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

from sentiment.files.decoding import DecodedLines
from sentiment.files.formats import (
    DataError,
    TableFormat,
    detect_encoding,
    detect_format,
)
from sentiment.files.reading import TableReader, check_input_columns

# A .txt upload holds one post per line; it becomes a table with this column.
PLAIN_TEXT_SUFFIX = ".txt"


PLAIN_TEXT_COLUMN = "text"


# Columns are judged on their first rows: enough to tell posts from ids,
# labels or dates, and cheap on a file of any length.
_TEXT_LIKE_SAMPLE_ROWS = 1_000


@dataclass(frozen=True)
class UploadedTable:
    """An uploaded file read as a table of strings, with how to write it back.

    ``warning`` names the lines that were not UTF-8 (read as cp1252), if any.
    """

    frame: pd.DataFrame
    fmt: TableFormat
    name: str
    warning: str | None = None

    @property
    def plain_text(self) -> bool:
        """True for a .txt upload (one post per line), written back as CSV."""
        return Path(self.name).suffix.lower() == PLAIN_TEXT_SUFFIX


def read_upload(data: bytes, name: str, max_bytes: int | None = None) -> UploadedTable:
    """Read an uploaded CSV/TSV (or .txt, one post a line) into a table of strings.

    The same reader as the batch CLI: every row kept exactly, or a DataError
    naming the line and what to do (see :mod:`sentiment.files.reading`); also
    for a file over ``max_bytes``, an empty or binary file, or one without rows.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(
            f"{name} is {len(data) / 2**20:,.1f} MB, over the {max_bytes / 2**20:,.0f}"
            " MB upload limit. Split it into smaller files, or score it with "
            "`python -m sentiment.predict FILE --output OUT.csv`, which has no limit."
        )
    if Path(name).suffix.lower() == PLAIN_TEXT_SUFFIX:
        encoding, guessed = detect_encoding(data, name)
        lines = DecodedLines(io.BytesIO(data), encoding, name)
        frame = pd.DataFrame({PLAIN_TEXT_COLUMN: [_without_ending(x) for x in lines]})
        fmt = TableFormat(encoding, ",", guessed)
        warning = lines.warning()
    else:
        fmt = detect_format(data, name)
        table = TableReader(io.BytesIO(data), fmt, name)
        frame = pd.DataFrame(list(table), columns=table.header, dtype=object)
        warning = table.warning()
    if frame.empty:
        raise DataError(
            f"{name} has a header row but no data rows: add one post per row."
        )
    return UploadedTable(frame, fmt, name, warning)


def _without_ending(line: str) -> str:
    # A line break ends a post; blank lines inside the file stay as rows.
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(("\r", "\n")) else line


def most_text_like_column(frame: pd.DataFrame) -> str | None:
    """The column whose cells hold the most words, or None if no cell has a letter.

    Posts have many words per cell; ids, labels, dates and numbers have one or
    none, so the mean count of runs of letters tells them apart.
    """
    best, best_words = None, 0.0
    for position, column in enumerate(frame.columns):
        # By position: a header may name two columns alike.
        cells = frame.iloc[:_TEXT_LIKE_SAMPLE_ROWS, position].astype(str)
        words = cells.str.count(r"[^\W\d_]+").mean()
        if words > best_words:
            best, best_words = column, words
    return best


def check_text_column(table: UploadedTable, text_col: str) -> None:
    """Raise DataError if ``text_col`` is missing or output columns already exist."""
    check_input_columns(table.frame.columns, text_col, Path(table.name))
