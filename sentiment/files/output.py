"""The scored-file format: the input's cells, then the prediction columns,
as the standard library's :mod:`csv` writes it.

* Every cell a spreadsheet would run as a formula gets a leading ``'``
  (OWASP "CSV injection"), header cells included; plain numbers such as
  "-3.5" are data, not formulas, and are left alone.
* Lines end with CRLF (RFC 4180). That also makes the writer quote every cell
  holding a CR or an LF: with LF endings, Python's writer leaves a lone CR
  unquoted, and the row splits in two when read back.
* Header names are written as they are, duplicates included.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pandas is imported where a table is built, not at start-up
    import pandas as pd

import numpy as np

from sentiment import config

PROBABILITY_COLUMNS = [f"prob_{label}" for label in config.LABELS]


OUTPUT_COLUMNS = [
    "sentiment",
    "confidence",
    *PROBABILITY_COLUMNS,
    "needs_review",
    "status",
]


LINE_TERMINATOR = "\r\n"


_FORMULA_START = frozenset("=+-@\t\r\n\x00")


_PLAIN_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralize_cell(cell: str) -> str:
    """``cell`` with a leading ``'`` if a spreadsheet would execute it as a formula."""
    if cell and cell[0] in _FORMULA_START and not _PLAIN_NUMBER_RE.fullmatch(cell):
        return "'" + cell
    return cell


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralize_cell` applied to its text cells."""
    import pandas as pd

    out = frame.copy()
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out.isetitem(
                position,
                values.map(lambda v: neutralize_cell(v) if isinstance(v, str) else v),
            )
    return out


def scored_header(columns: Sequence[str]) -> list[str]:
    """The header of a scored file: the input's names, then ``OUTPUT_COLUMNS``."""
    return [*map(neutralize_cell, columns), *OUTPUT_COLUMNS]


@functools.cache
def _ten_thousandths() -> np.ndarray:
    """ "0.0000" ... "1.0000": the cell of each number of ten-thousandths, as
    Python strings (an object array), so a lookup makes no new string. Made
    on first use: commands that write no scored rows do not pay for it."""
    return np.array([f"{i // 10000}.{i % 10000:04d}" for i in range(10001)], object)


def _numbers(values: Sequence[float] | np.ndarray) -> list[str]:
    """Each value as ``f"{v:.4f}"`` writes it, NaN (no text) as an empty cell.

    Four decimals: enough to rank and threshold, and the files stay small.
    Values in [0, 1] are looked up by their nearest ten-thousandth (six times
    faster than formatting each); the rest, and the few within a millionth of
    a tie (where the float product could round the other way), are formatted.
    """
    values = np.asarray(values, dtype=np.float64)
    scaled = values * 10000.0
    with np.errstate(invalid="ignore"):  # inf - inf: not plain anyway
        fraction = scaled - np.floor(scaled)
    plain = ~np.signbit(values) & (values <= 1) & (np.abs(fraction - 0.5) > 1e-6)
    cells = _ten_thousandths()[np.where(plain, np.rint(scaled), 0).astype(np.int64)]
    for i in np.flatnonzero(~plain).tolist():
        v = float(values[i])
        cells[i] = "" if v != v else f"{v:.4f}"
    return cells.tolist()


def prediction_cells(scored: pd.DataFrame | Any) -> list[tuple[str, ...]]:
    """The ``OUTPUT_COLUMNS`` cells of each row of a :meth:`Predictor.score`
    table, or of its arrays (:meth:`Predictor.score_columns`: no pandas)."""
    if hasattr(scored, "columns"):  # a DataFrame
        labels = scored["sentiment"].tolist()
        numbers = [scored[c].tolist() for c in ["confidence", *PROBABILITY_COLUMNS]]
        needs_review = scored["needs_review"].tolist()
        status = scored["status"].tolist()
    else:
        labels = scored.labels.tolist()
        numbers = [scored.confidence.tolist(), *scored.probabilities.T.tolist()]
        needs_review = scored.needs_review.tolist()
        status = scored.status.tolist()
    review = ["True" if r else "False" for r in needs_review]
    return list(zip(labels, *map(_numbers, numbers), review, status))


def header_csv_text(header: Sequence[str], delimiter: str) -> str:
    """The first line of a scored file whose input has ``header``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=LINE_TERMINATOR)
    writer.writerow(scored_header(header))
    return buffer.getvalue()


def scored_csv_text(
    rows: Iterable[Sequence[str]],
    scored: pd.DataFrame | Any,
    delimiter: str,
    header: Sequence[str] | None = None,
    spreadsheet_safe: bool = True,
) -> str:
    """The CSV text of ``rows`` with their predictions, after ``header`` if given.

    ``rows`` are the input's cells (strings), ``scored`` the predictions for
    them in order (see :func:`prediction_cells`). ``spreadsheet_safe=False``
    leaves cells exactly as they were (for files read by code, never opened in
    a spreadsheet).
    """
    guard = neutralize_cell if spreadsheet_safe else str
    body = csv_text(
        (
            [*map(guard, row), *predicted]
            for row, predicted in zip(rows, prediction_cells(scored), strict=True)
        ),
        delimiter,
    )
    return body if header is None else header_csv_text(header, delimiter) + body


def csv_text(rows: Iterable[Sequence[str]], delimiter: str) -> str:
    """What ``csv.writer(..., lineterminator=LINE_TERMINATOR).writerows(rows)``
    writes for rows of strings (the excel dialect), about twice as fast.

    The writer's rule, for each cell: one holding the delimiter, a quote, CR or
    LF is quoted, its quotes doubled; a row of one empty cell is ``""``. Most
    rows need none of it and are their cells joined.
    """
    lines = []
    for cells in rows:
        line = delimiter.join(cells)
        if (
            line.count(delimiter) != len(cells) - 1
            or '"' in line
            or "\r" in line
            or "\n" in line
        ):
            line = delimiter.join([_quoted(cell, delimiter) for cell in cells])
        elif not line and len(cells) == 1:
            line = '""'
        lines.append(line)
    if lines:
        lines.append("")
    return LINE_TERMINATOR.join(lines)


def _quoted(cell: str, delimiter: str) -> str:
    """``cell`` as the csv writer writes it (see :func:`csv_text`)."""
    if delimiter in cell or '"' in cell or "\r" in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def to_csv_text(
    rows: pd.DataFrame, scored: pd.DataFrame, delimiter: str, header: bool
) -> str:
    """:func:`scored_csv_text` of a DataFrame of strings (a Dask partition)."""
    return scored_csv_text(
        rows.astype(object).where(rows.notna(), "").astype(str).to_numpy().tolist(),
        scored,
        delimiter,
        list(map(str, rows.columns)) if header else None,
    )
