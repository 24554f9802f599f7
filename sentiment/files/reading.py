"""Reading users' tables: whole (``read_table``) or streamed in chunks
(``read_csv_chunks``), every cell as text."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import pandas as pd

from sentiment.files.formats import DataError, TableFormat, detect_format
from sentiment.files.output import OUTPUT_COLUMNS


def read_table(
    source: str | Path | BinaryIO,
    fmt: TableFormat | None = None,
    chunksize: int | None = None,
    name: str | None = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a CSV/TSV with every cell as a string and no row skipped.

    ``source`` is a path, or an open binary file when ``fmt`` is given. With
    ``chunksize`` an iterator of DataFrames is returned, for files of any size.
    ``name`` is how messages refer to the file (default: its path).
    """
    fmt = fmt or detect_format(source)
    path = name or getattr(source, "name", source)
    try:
        return pd.read_csv(
            source,
            sep=fmt.delimiter,
            encoding=fmt.encoding,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=chunksize,
        )
    except pd.errors.EmptyDataError as e:
        raise DataError(f"{path} has no header row: {e}") from e
    except pd.errors.ParserError as e:
        raise DataError(
            f"{path} is not a well-formed table ({e}). Check for an unclosed "
            "quote or a row with more fields than the header."
        ) from e
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path} cannot be decoded as {fmt.encoding} ({e.reason} at byte "
            f"{e.start}). Save it as UTF-8 text and try again."
        ) from e


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """If one of ``columns`` is missing, raise a DataError listing the columns found."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(repr(c) for c in frame.columns)
        raise DataError(
            f"{path} has no column {', '.join(map(repr, missing))}. Columns found: "
            f"{found}. Choose the right one with --text-col / --label-col."
        )


def read_csv_chunks(
    handle: BinaryIO, path: Path, fmt: TableFormat, text_col: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Read an open CSV/TSV in chunks of ``chunk_rows``, checking its columns first.

    Raises DataError when the text column is missing, an output column is
    already there, or the table is malformed.
    """
    chunks = read_table(handle, fmt, chunksize=chunk_rows)
    try:
        for number, chunk in enumerate(chunks):
            if number == 0:
                check_input_columns(chunk.columns, text_col, path)
            yield chunk
    except pd.errors.ParserError as e:
        raise DataError(
            f"{path} is not a well-formed table ({e}). Check for an unclosed "
            "quote or a row with more fields than the header."
        ) from e


def check_input_columns(columns: Iterable[str], text_col: str, path: Path) -> None:
    """Raise DataError unless ``text_col`` is present and no output column is."""
    columns = list(columns)
    require_columns(pd.DataFrame(columns=columns), [text_col], path)
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "output adds. Rename them (is this an already scored file?)."
        )
