"""Posting times: finding the column and reading ISO 8601 and epoch seconds."""

from __future__ import annotations

import pandas as pd

from sentiment.files.timestamps import detect_time_column, iso_or_none, parse_times


def test_iso_8601_and_epoch_seconds_read_as_utc():
    parsed = parse_times(
        pd.Series(
            [
                "2026-10-01T05:40:48Z",
                "2026-10-01T07:40:48+02:00",
                "2026-10-01 05:40:48",
                "1790833248",  # epoch seconds
                "1790833248000",  # epoch milliseconds
                "not a date",
                "",
                "42",  # a number that is no time
            ]
        )
    )
    moment = pd.Timestamp("2026-10-01T05:40:48Z")
    assert list(parsed[:3]) == [moment] * 3
    assert parsed[3] == parsed[4] == pd.Timestamp(1790833248, unit="s", tz="UTC")
    assert parsed[5:].isna().all()


def test_the_time_column_is_found_by_name_and_content():
    frame = pd.DataFrame(
        {
            "date": ["soon", "later"],  # named like a date, but not one
            "text": ["a", "b"],
            "Created_At": ["2026-10-01T00:00:00Z", "1790833248"],
        }
    )
    assert detect_time_column(frame) == "Created_At"
    assert detect_time_column(frame[["date", "text"]]) is None


def test_times_are_stored_as_utc_iso_strings():
    assert iso_or_none(pd.Timestamp("2026-10-01T07:00:00+02:00")) == (
        "2026-10-01T05:00:00.000000+00:00"
    )
    assert iso_or_none(pd.NaT) is None
