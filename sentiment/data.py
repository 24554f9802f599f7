"""Reading users' CSV/TSV files: encoding, delimiter, columns and labels.

Every cell is read as a string: pandas would otherwise turn posts that say
"None", "NA" or "null" into missing values and drop blank lines, and a row
would disappear without anyone noticing. Rows that cannot be used are counted
and reported with their row numbers, never dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import pandas as pd

from sentiment import config

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


def parse_label_map(spec: str | None) -> dict[str, str]:
    """Parse ``"0=negative,1=neutral,2=positive"`` into {raw value: label}."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        raw, sep, label = part.partition("=")
        label = config.LABEL_ALIASES.get(label.strip().lower())
        if not sep or not raw.strip() or label is None:
            raise DataError(
                f"Bad --label-map entry {part!r}: expected VALUE=LABEL with LABEL one "
                f"of {', '.join(config.LABELS)}, e.g. 0=negative,1=neutral,2=positive."
            )
        mapping[raw.strip().lower()] = label
    return mapping


def canonical_label(raw: str, label_map: dict[str, str]) -> str | None:
    """Map a raw label cell to one of ``config.LABELS``, or None if unknown."""
    key = raw.strip().lower()
    if label_map:
        return label_map.get(key)
    return config.LABEL_ALIASES.get(key)


@dataclass
class LoadReport:
    """What happened to each row of a labelled file."""

    path: str
    n_rows: int
    empty_text_rows: list[int] = field(default_factory=list)
    unknown_label_rows: list[int] = field(default_factory=list)
    unknown_label_values: Counter = field(default_factory=Counter)

    @property
    def n_used(self) -> int:
        return self.n_rows - len(self.empty_text_rows) - len(self.unknown_label_rows)

    def summary(self) -> str:
        """Human-readable account of used and skipped rows (row 1 is the header)."""
        lines = [f"{self.path}: {self.n_used:,} of {self.n_rows:,} rows used."]
        if self.empty_text_rows:
            lines.append(
                f"  {len(self.empty_text_rows):,} rows skipped for empty text "
                f"(rows {_first(self.empty_text_rows)})."
            )
        if self.unknown_label_rows:
            values = ", ".join(
                f"{v!r} ×{n}" for v, n in self.unknown_label_values.most_common(5)
            )
            lines.append(
                f"  {len(self.unknown_label_rows):,} rows skipped for an unknown label "
                f"(rows {_first(self.unknown_label_rows)}; values {values})."
            )
            if any(v.strip().lstrip("-").isdigit() for v in self.unknown_label_values):
                lines.append(
                    "  Numeric labels need an explicit mapping, e.g. "
                    "--label-map 0=negative,1=neutral,2=positive"
                )
        return "\n".join(lines)


def _first(rows: list[int], n: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:n])
    return shown + (", ..." if len(rows) > n else "")


@dataclass
class LabelledData:
    """Usable texts and their canonical labels, plus the account of skipped rows."""

    texts: list[str]
    labels: list[str]
    report: LoadReport


def load_labelled(
    path: str | Path,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> LabelledData:
    """Load a labelled CSV/TSV, keeping rows with text and a known label.

    Raises DataError when a column is missing or no usable row is left.
    """
    path = Path(path)
    frame = read_table(path)
    require_columns(frame, [text_col, label_col], path)
    report = LoadReport(str(path), len(frame))
    texts: list[str] = []
    labels: list[str] = []
    label_map = label_map or {}
    for i, (text, raw) in enumerate(zip(frame[text_col], frame[label_col])):
        row = i + 2  # spreadsheet numbering: the header is row 1
        label = canonical_label(raw, label_map)
        if not text.strip():
            report.empty_text_rows.append(row)
        elif label is None:
            report.unknown_label_rows.append(row)
            report.unknown_label_values[raw] += 1
        else:
            texts.append(text)
            labels.append(label)
    if not texts:
        raise DataError(
            f"No usable rows in {path}.\n{report.summary()}\n"
            f"Columns found: {', '.join(map(repr, frame.columns))}."
        )
    return LabelledData(texts, labels, report)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
