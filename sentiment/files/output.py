"""The scored-file format: the prediction columns and the formula guard that
keeps spreadsheets from running cells as formulas."""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads only where a table is built (start-up)
    import pandas as pd

from sentiment import config

PROBABILITY_COLUMNS = [f"prob_{label}" for label in config.LABELS]


OUTPUT_COLUMNS = [
    "sentiment",
    "confidence",
    *PROBABILITY_COLUMNS,
    "needs_review",
    "status",
]


# Cells a spreadsheet would run as a formula (OWASP "CSV injection"); plain
# numbers such as "-3.5" are data, not formulas, and are left alone.
_FORMULA_START_RE = r"^[=+\-@\t\r\n\x00]"


_PLAIN_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


_FORMULA_CELL = re.compile(_FORMULA_START_RE)


_PLAIN_NUMBER = re.compile(_PLAIN_NUMBER_RE)


def neutralize_cell(cell: str) -> str:
    """One cell with :func:`neutralize_formulas`'s guard (the pandas-free path)."""
    if _FORMULA_CELL.match(cell) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a quote to text cells a spreadsheet would execute as a formula."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (
            pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        ):
            continue
        text = values.astype(str)
        risky = text.str.contains(_FORMULA_START_RE, regex=True) & ~text.str.match(
            _PLAIN_NUMBER_RE
        )
        if risky.any():
            out[column] = values.where(~risky, "'" + text)
    return out


def with_predictions(rows: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``OUTPUT_COLUMNS`` of ``scored`` appended and formulas neutralized.

    This is what a scored file holds; write it with ``SCORED_FLOAT_FORMAT``.
    """
    import pandas as pd

    return neutralize_formulas(
        pd.concat(
            [
                rows.reset_index(drop=True),
                scored[OUTPUT_COLUMNS].reset_index(drop=True),
            ],
            axis=1,
        )
    )


# Four decimals: enough to rank and threshold, and the files stay small.
SCORED_FLOAT_FORMAT = "%.4f"


def to_csv_text(
    rows: pd.DataFrame, scored: pd.DataFrame, delimiter: str, header: bool
) -> str:
    """The CSV text a scored file holds for ``rows`` (see :func:`with_predictions`)."""
    return with_predictions(rows, scored).to_csv(
        sep=delimiter, index=False, header=header, float_format=SCORED_FLOAT_FORMAT
    )
