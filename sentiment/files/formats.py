"""How a user's CSV/TSV is encoded and delimited, decided before it is read.

Encoding: a UTF-16 or UTF-8 byte-order mark is honoured; UTF-16 without one is
recognised by its NUL bytes all at odd (little-endian) or all at even
(big-endian) offsets; anything else is read as UTF-8, line by line, with
Windows-1252 for a line that is not UTF-8 (:mod:`sentiment.files.decoding`
names those lines). Office documents, archives and other binary files are
refused with what to do.

Delimiter: the one (of ``, ; TAB |``) that splits the header into the most
columns and every sampled row into as many; a header with none of them is a
one-column file. A row that does not fit is refused later with its line
number, never shifted (:mod:`sentiment.files.reading`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SNIFF_BYTES = 64 * 1024


# The delimiters a user can have, in the order a tie is broken.
DELIMITERS = ",\t;|"


# File signatures of what people save by mistake instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an .xlsx workbook is one)",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"%PDF": "a PDF",
    b"\x1f\x8b": "a gzip archive",
    b"PAR1": "a Parquet file (score it with --engine dask)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


# Lines end as with open(newline=""): at LF, CRLF or a lone CR, nothing else
# (str.splitlines would also split at form feeds and U+2028 inside a post).
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def split_lines(text: str) -> list[str]:
    """``text`` cut into lines that keep their endings (LF, CRLF or lone CR)."""
    return _LINE_RE.findall(text)


class DataError(ValueError):
    """A user's data file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class TableFormat:
    """How a text table is encoded and delimited.

    ``encoding`` is "utf-8" (UTF-8 with Windows-1252 for lines that are not),
    "utf-8-sig" (the same after a BOM), "utf-16" (with a BOM), or
    "utf-16-le"/"utf-16-be" (no BOM: then ``encoding_guessed`` is True).
    """

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

    Raises DataError for an empty file, a known binary format, or NUL bytes
    that are not UTF-16 (naming the line of the first one).
    """
    name = name or str(source)
    with _open_binary(source) as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        raise DataError(f"{name} is empty: expected a header row and data rows.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise DataError(
                f"{name} is {what}, not CSV or TSV text. Export it as CSV (UTF-8) "
                "and try again."
            )
    if b"\x00" in head:
        bom_less = _utf16_without_bom(head)
        if bom_less:
            return bom_less, True
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise DataError(
            f"{name} has a NUL byte on line {line}: it looks like a binary file, "
            "not CSV or TSV text. Export it as CSV (UTF-8); if it is text, remove "
            "the NUL characters."
        )
    return "utf-8", False


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 with no byte-order mark: "utf-16-le" or "utf-16-be" if surely so.

    Surely: every NUL at one parity, at least a tenth of the characters ASCII
    (delimiters, digits and line breaks are), and a line break among them, so
    a stray NUL in a UTF-8 file is not taken for UTF-16.
    """
    head = head[: len(head) // 2 * 2]
    odd = head[1::2].count(0)
    even = head[0::2].count(0)
    if odd and not even:
        encoding = "utf-16-le"
    elif even and not odd:
        encoding = "utf-16-be"
    else:
        return None
    try:
        # The sample may end inside a surrogate pair; the rest must decode.
        text = codecs.getincrementaldecoder(encoding)().decode(head)
    except UnicodeDecodeError:
        return None
    ascii_share = max(odd, even) / max(len(head) // 2, 1)
    if ascii_share < 0.1 or not ("\n" in text or "\r" in text):
        return None
    return encoding


def sniff_delimiter(sample: str, name: str | Path) -> str:
    """The delimiter that splits the header into most columns, rows consistently.

    ``sample`` is the start of the decoded file. A candidate that splits every
    sampled row into as many fields as the header beats one that does not;
    then more header columns win, then the order of ``DELIMITERS``. A header
    with no candidate in it is a one-column file: "," (or tab for .tsv/.tab,
    ``name``'s extension).
    """
    lines = split_lines(sample)
    if len(sample) >= _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    best: tuple[bool, int, int] | None = None
    choice = None
    for rank, delimiter in enumerate(DELIMITERS):
        counts = _field_counts(lines, delimiter)
        if not counts or counts[0] < 2:
            continue
        consistent = all(n == counts[0] for n in counts[1:] if n)
        key = (consistent, counts[0], -rank)
        if best is None or key > best:
            best, choice = key, delimiter
    if choice is not None:
        return choice
    return "\t" if Path(name).suffix.lower() in (".tsv", ".tab") else ","


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Fields per record of the sample (0 for a blank line); [] if it will not parse."""
    try:
        return [len(row) for row in csv.reader(lines[:200], delimiter=delimiter)]
    except csv.Error:  # an unclosed quote, a field over the limit
        return []


def detect_format(
    source: str | Path | bytes, name: str | None = None, delimiter: str | None = None
) -> TableFormat:
    """Detect encoding and delimiter of a CSV/TSV (``delimiter`` given: that one).

    ``source`` is a path, or the file's bytes (an upload) with ``name`` its
    file name, used in messages and to break a delimiter tie.
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if not source.is_file():
            raise DataError(f"{source} does not exist or is not a file.")
    name = name or str(source)
    encoding, guessed = detect_encoding(source, name)
    if delimiter is None:
        with _open_binary(source) as f:
            head = f.read(_SNIFF_BYTES)
        delimiter = sniff_delimiter(decode_sample(head, encoding), name)
    return TableFormat(encoding, delimiter, guessed)


def decode_sample(head: bytes, encoding: str) -> str:
    """The start of a file as text, for sniffing only (never for the data)."""
    if encoding.startswith("utf-16"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        return decoder.decode(head).lstrip("\ufeff")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")
