"""Reading users' CSV/TSV files: encoding, delimiter, columns and labels.

Every cell is read as a string: pandas would otherwise turn posts that say
"None", "NA" or "null" into missing values and drop blank lines, and a row
would disappear without anyone noticing. Rows that cannot be used are counted
and reported with their row numbers, never dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


_SNIFF_BYTES = 64 * 1024


_DELIMITERS = ",;\t|"


class DataError(ValueError):
    """A user's data file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class TableFormat:
    """How a text table is encoded and delimited."""

    encoding: str
    delimiter: str
    encoding_guessed: bool = False


def _open_binary(source: str | Path | bytes) -> BinaryIO:
    """A binary file object over a path or over bytes already in memory."""
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def detect_encoding(
    source: str | Path | bytes, name: str | None = None
) -> tuple[str, bool]:
    """Return ``(encoding, guessed)`` for a file, given as a path or as its bytes.

    UTF-16 and UTF-8 byte-order marks are honoured; otherwise the whole file is
    checked as UTF-8 in streaming fashion, and if that fails cp1252 (or
    latin-1, which decodes any byte) is used and ``guessed`` is True. ``name``
    is how messages refer to the file (default: the path).
    """
    name = name or str(source)
    with _open_binary(source) as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        raise DataError(f"{name} is empty: expected a header row and data rows.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    if b"\x00" in head:
        raise DataError(
            f"{name} looks like a binary file (it contains NUL bytes), not CSV or "
            "TSV text. Export it as CSV (UTF-8) and try again."
        )
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    if _decodes_as(source, "utf-8"):
        return "utf-8", False
    encoding = "cp1252" if _decodes_as(source, "cp1252") else "latin-1"
    return encoding, True


def _decodes_as(source: str | Path | bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with _open_binary(source) as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(sample: str, name: str | Path) -> str:
    """Guess the delimiter from the first lines; fall back on the header's counts.

    ``name`` is the file name, whose extension (.tsv, .tab) breaks a tie.
    """
    lines = sample.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best]:
        return best
    return "\t" if Path(name).suffix.lower() in (".tsv", ".tab") else ","


def detect_format(source: str | Path | bytes, name: str | None = None) -> TableFormat:
    """Detect encoding and delimiter of a CSV/TSV, warning on a guessed encoding.

    ``source`` is a path, or the file's bytes (an upload) with ``name`` its
    file name, used in messages and to break a delimiter tie.
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if not source.is_file():
            raise DataError(f"{source} does not exist or is not a file.")
    name = name or str(source)
    encoding, guessed = detect_encoding(source, name)
    if guessed:
        log.warning(
            "%s is not valid UTF-8; reading it as %s. Save it as UTF-8 to be sure "
            "accented characters and emoji are read correctly.",
            name,
            encoding,
        )
    with io.TextIOWrapper(
        _open_binary(source), encoding=encoding, errors="replace", newline=""
    ) as f:
        sample = f.read(_SNIFF_BYTES)
    return TableFormat(encoding, sniff_delimiter(sample, name), guessed)
