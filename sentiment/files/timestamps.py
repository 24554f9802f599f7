"""Posting times in users' files: which column holds them, and reading them.

A column is a posting time when its name is one of
``config.TIME_COLUMN_NAMES`` (``created_at``, ``timestamp``, ``date``, ...)
and most of its cells parse: ISO 8601 (with or without a zone; none means
UTC) or epoch seconds (epoch milliseconds too).
"""

from __future__ import annotations

import pandas as pd

from sentiment import config

# Numbers in this range are epoch seconds (1973 to 2286); in the next one,
# epoch milliseconds. Anything else numeric is not a time.
_EPOCH_SECONDS = (1e8, 1e10)
_EPOCH_MILLISECONDS = (1e11, 1e13)
# Share of non-empty cells that must parse for a column to count as times.
_MIN_PARSED_SHARE = 0.8
_SAMPLE_ROWS = 1_000


def parse_times(values: pd.Series) -> pd.Series:
    """Each cell as a UTC timestamp, NaT where it is empty or not a time."""
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    seconds = numbers.where(numbers.between(*_EPOCH_SECONDS))
    millis = numbers.where(numbers.between(*_EPOCH_MILLISECONDS))
    out = pd.to_datetime(
        text.where(numbers.isna()), errors="coerce", utc=True, format="ISO8601"
    )
    out = out.fillna(pd.to_datetime(seconds, unit="s", utc=True))
    out = out.fillna(pd.to_datetime(millis, unit="ms", utc=True))
    return out.rename(values.name)


def detect_time_column(frame: pd.DataFrame) -> str | None:
    """The column of posting times, or None when no column looks like one."""
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    for name in config.TIME_COLUMN_NAMES:
        column = by_name.get(name)
        if column is None:
            continue
        sample = frame[column].head(_SAMPLE_ROWS)
        filled = sample.astype("string").str.strip().fillna("") != ""
        if filled.sum() and parse_times(sample[filled]).notna().mean() >= (
            _MIN_PARSED_SHARE
        ):
            return column
    return None


def iso_or_none(moment: object) -> str | None:
    """A timestamp as the log stores it (UTC ISO 8601), None for NaT/None."""
    if moment is None or pd.isna(moment):
        return None
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert("UTC").isoformat(timespec="microseconds")


def parse_one_time(value: str | None) -> str | None:
    """One posting time given by a client, as stored; None when empty.

    Raises ValueError, saying what is accepted, when it is not a time.
    """
    if value is None or not str(value).strip():
        return None
    parsed = iso_or_none(parse_times(pd.Series([str(value)]))[0])
    if parsed is None:
        raise ValueError(
            "is not a time: use ISO 8601 (2026-10-20T14:05:00Z) or epoch seconds"
        )
    return parsed
