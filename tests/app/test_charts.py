"""Charts that must draw whatever the data: the negative share of empty periods,
the tier comparison with a system that was not timed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from app_pages.charts import cutoff_chart, negative_share_chart, tier_tradeoff_chart


def test_periods_without_posts_leave_the_negative_share_chart_drawable():
    frame = pd.DataFrame(
        {
            "period": pd.date_range("2026-10-01", periods=3, freq="h", tz="UTC"),
            "share_negative": [np.nan, np.nan, np.nan],  # no post in any period
            "threshold": [np.nan, np.nan, np.nan],
            "alert": [False, False, False],
        }
    )
    spec = negative_share_chart(frame, "hour").to_dict()
    domains = [layer["encoding"]["y"]["scale"]["domain"] for layer in spec["layer"]]
    assert domains == [[0, 1.0]] * 3  # finite: no "Infinite extent"
    filters = json.dumps([layer.get("transform") for layer in spec["layer"]])
    assert "isValid(datum.share_negative)" in filters

    frame["share_negative"] = [0.1, np.nan, 0.3]
    spec = negative_share_chart(frame, "hour").to_dict()
    top = spec["layer"][0]["encoding"]["y"]["scale"]["domain"][1]
    assert 0.3 < top <= 1.0


def test_the_tier_chart_marks_the_chosen_tier_and_keeps_labels_apart():
    frame = pd.DataFrame(
        {
            "system": ["classic (LR)", "cascade (cut-off 0.65)", "untimed", "slow"],
            "macro_recall": [0.66, 0.70, 0.5, 0.69],
            "posts_per_s": [24000.0, 350.0, np.nan, 140.0],
        }
    )
    chart = tier_tradeoff_chart(frame, "cascade (cut-off 0.65)")
    points = chart.data  # the layers share the one data set
    assert points["name"].tolist() == ["slow", "cascade", "classic"]  # untimed: out
    assert points["chosen"].tolist() == [False, True, False]
    # The fastest system's label goes left of its point, the slower ones'
    # right; neighbours in speed get theirs on opposite sides vertically.
    assert points["label_left"].tolist() == [False, False, True]
    dy = points["label_dy"].tolist()
    assert dy[0] * dy[1] < 0 and dy[1] * dy[2] < 0
    spec = chart.to_dict()
    assert spec["layer"][1]["mark"]["align"] == {
        "expr": "datum.label_left ? 'right' : 'left'"
    }
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"


def test_the_cutoff_chart_marks_only_the_cards_cutoff():
    table = [
        {"cutoff": 0.4, "share_sent": 0.26, "macro_recall": 0.70},
        {"cutoff": 0.625, "share_sent": 0.56, "macro_recall": 0.726},
        {"cutoff": 0.8, "share_sent": 0.81, "macro_recall": 0.734},
    ]
    chart = cutoff_chart(table, 0.625)
    assert chart.data["chosen"].tolist() == [False, True, False]
    spec = chart.to_dict()
    label = spec["layer"][2]
    assert label["transform"] == [{"filter": "datum.chosen"}]
    assert chart.data.loc[1, "label"] == "the card's cut-off, 0.625"
    assert spec["layer"][0]["encoding"]["x"]["field"] == "share_sent"
