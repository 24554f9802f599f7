"""The scored-file format: the prediction columns and the formula guard that
keeps spreadsheets from running cells as formulas."""

from __future__ import annotations

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


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a quote to text cells a spreadsheet would execute as a formula."""
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


def with_predictions(
    rows: pd.DataFrame, scored: pd.DataFrame, spreadsheet_safe: bool = True
) -> pd.DataFrame:
    """``rows`` with ``OUTPUT_COLUMNS`` of ``scored`` appended and formulas neutralized.

    This is what a scored file holds; write it with ``SCORED_FLOAT_FORMAT``.
    ``spreadsheet_safe=False`` leaves cells exactly as they were (for files
    read by code, never opened in a spreadsheet).
    """
    table = pd.concat(
        [
            rows.reset_index(drop=True),
            scored[OUTPUT_COLUMNS].reset_index(drop=True),
        ],
        axis=1,
    )
    return neutralize_formulas(table) if spreadsheet_safe else table


# Four decimals: enough to rank and threshold, and the files stay small.
SCORED_FLOAT_FORMAT = "%.4f"


def to_csv_text(
    rows: pd.DataFrame, scored: pd.DataFrame, delimiter: str, header: bool
) -> str:
    """The CSV text a scored file holds for ``rows`` (see :func:`with_predictions`)."""
    return with_predictions(rows, scored).to_csv(
        sep=delimiter, index=False, header=header, float_format=SCORED_FLOAT_FORMAT
    )
