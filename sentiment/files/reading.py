"""Reading users' tables with the standard library's :mod:`csv`: every cell as
the text it is in the file, and every row checked against the header.

A row with more or fewer fields than the header, a quote that is never closed
or closes in the middle of a field, and a field over
``config.MAX_FIELD_CHARS`` are refused with the line number and what to do:
guessing would shift a row's cells into the wrong columns. A blank line is a
row of empty cells (a post with no text), so no row disappears.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator

if TYPE_CHECKING:  # pandas loads only for the readers that build frames
    import pandas as pd

from sentiment import config
from sentiment.files.decoding import DecodedLines
from sentiment.files.formats import DataError, TableFormat, detect_format
from sentiment.files.output import OUTPUT_COLUMNS

log = logging.getLogger(__name__)

# Process-wide setting of the csv module; the default (131,072) would refuse
# long posts that are fine.
csv.field_size_limit(config.MAX_FIELD_CHARS)


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class TableReader:
    """The header (``header``) and then, iterated, the rows of an open CSV/TSV.

    ``name`` is how messages refer to the file. Raises DataError, naming the
    line, for a malformed file (see the module's doc).
    """

    def __init__(self, handle: BinaryIO, fmt: TableFormat, name: str | Path) -> None:
        self.name = str(name)
        self.delimiter = fmt.delimiter
        self.lines = DecodedLines(handle, fmt.encoding, self.name)
        self._records = csv.reader(self.lines, delimiter=fmt.delimiter, strict=True)
        header = self._next_record()
        if not header:
            raise DataError(
                f"{self.name} has no header row: line 1 is blank. The first line "
                "must name the columns, e.g. text,id."
            )
        self.header: list[str] = header

    def __iter__(self) -> Iterator[list[str]]:
        width = len(self.header)
        records = self._records
        done = records.line_num  # the line the last good record ended on
        try:
            for row in records:
                if len(row) != width:
                    if row:
                        raise DataError(self._ragged_message(done + 1, len(row)))
                    row = [""] * width  # a blank line: a row without text
                done = records.line_num
                yield row
        except csv.Error as e:
            raise DataError(self._malformed_message(done + 1, str(e))) from e

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far (a block ahead of the rows handed out)."""
        return self.lines.bytes_read

    def warning(self) -> str | None:
        """Lines read as cp1252 (see :class:`DecodedLines`), once all are read."""
        return self.lines.warning()

    def _next_record(self) -> list[str] | None:
        start = self._records.line_num + 1
        try:
            return next(self._records)
        except StopIteration:
            return None
        except csv.Error as e:
            raise DataError(self._malformed_message(start, str(e))) from e

    def _ragged_message(self, line: int, fields: int) -> str:
        width = len(self.header)
        named = DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        return (
            f"{self.name}: line {line:,} has {fields} field(s) but the header has "
            f"{width}, when split at each {named} ({self.delimiter!r}). Nothing was "
            "scored. If a post contains that character, put the post in double "
            'quotes ("hello, world"); if the file uses another delimiter, say which '
            "(--delimiter); if fields are missing, add them."
        )

    def _malformed_message(self, start: int, error: str) -> str:
        if "field larger than field limit" in error:
            return (
                f"{self.name}: the row starting on line {start:,} has a field over "
                f'{config.MAX_FIELD_CHARS:,} characters. If a quote (") there is '
                "never closed, close it; otherwise shorten that post."
            )
        if "unexpected end of data" in error:
            return (
                f"{self.name}: the quoted field starting on line {start:,} is never "
                "closed (the file ends inside it). Close the quote, or write a quote "
                'that is part of a post as two ("").'
            )
        return (
            f"{self.name}: line {self._records.line_num:,} is not well-formed CSV "
            f"({error}). A field that starts with a quote must end with one; write "
            'a quote inside a quoted field as two ("").'
        )


def row_chunks(
    table: TableReader,
    chunk_rows: int,
    chunk_bytes: int = config.BATCH_CHUNK_BYTES,
) -> Iterator[list[list[str]]]:
    """Consecutive rows of ``table``, ``chunk_rows`` at a time, or fewer when they
    take more than about ``chunk_bytes`` of the file (long posts)."""
    chunk: list[list[str]] = []
    start = table.bytes_read
    for row in table:
        chunk.append(row)
        if len(chunk) >= chunk_rows or table.bytes_read - start >= chunk_bytes:
            yield chunk
            chunk, start = [], table.bytes_read
    if chunk:
        yield chunk


def read_table(
    source: str | Path | BinaryIO,
    fmt: TableFormat | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Read a whole CSV/TSV into a DataFrame of strings, every row kept.

    ``source`` is a path, or an open binary file when ``fmt`` is given.
    ``name`` is how messages refer to the file (default: its path). Lines
    that were not UTF-8 are named in a warning.
    """
    name = name or str(getattr(source, "name", source))
    if isinstance(source, (str, Path)):
        fmt = fmt or detect_format(source)
        with open(source, "rb") as handle:
            return read_table(handle, fmt, name)
    if fmt is None:
        raise ValueError("read_table needs fmt for an open file")
    import pandas as pd

    table = TableReader(source, fmt, name)
    rows = list(table)
    warn_about_decoding(table)
    return pd.DataFrame(rows, columns=table.header, dtype=object)


def read_csv_chunks(
    handle: BinaryIO, path: Path, fmt: TableFormat, text_col: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Read an open CSV/TSV as DataFrames of ``chunk_rows``, checking its columns first.

    Raises DataError when the text column is missing or named twice, an output
    column is already there, or the table is malformed.
    """
    import pandas as pd

    table = TableReader(handle, fmt, path)
    check_input_columns(table.header, text_col, path)
    for rows in row_chunks(table, chunk_rows):
        yield pd.DataFrame(rows, columns=table.header, dtype=object)
    warn_about_decoding(table)


def warn_about_decoding(table: TableReader) -> None:
    """Log the lines that were read as cp1252, if any."""
    message = table.warning()
    if message:
        log.warning(message)


def require_columns(
    frame: pd.DataFrame | Iterable[str], columns: list[str], path: str | Path
) -> None:
    """Raise a DataError unless each of ``columns`` is there exactly once.

    ``frame`` is a DataFrame or its column names. The message lists the
    columns found.
    """
    found = list(frame.columns if hasattr(frame, "columns") else frame)
    missing = [c for c in columns if c not in found]
    if missing:
        listed = ", ".join(repr(c) for c in found)
        raise DataError(
            f"{path} has no column {', '.join(map(repr, missing))}. Columns found: "
            f"{listed}. Choose the right one with --text-col / --label-col (or add "
            "a header row if the first line holds data)."
        )
    for column in columns:
        positions = [str(i + 1) for i, c in enumerate(found) if c == column]
        if len(positions) > 1:
            raise DataError(
                f"{path} has {len(positions)} columns named {column!r} (columns "
                f"{', '.join(positions)}), so which one to use is unclear. Rename "
                "the others in the header."
            )


def check_input_columns(
    columns: Iterable[str], text_col: str, path: str | Path
) -> None:
    """Raise DataError unless ``text_col`` is there once and no output column is."""
    columns = list(columns)
    require_columns(columns, [text_col], path)
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "output adds. Rename them (is this an already scored file?)."
        )
