"""Charts that must draw whatever the data: the negative share of empty periods."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from app_pages.charts import negative_share_chart


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
