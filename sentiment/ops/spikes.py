"""Negative-share spike alerts: a period whose negative share exceeds its
trailing mean + k standard deviations."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sentiment import config
from sentiment.ops.logstore import PredictionLog


def negative_spikes(
    series: pd.DataFrame,
    k: float = config.SPIKE_K,
    window: int = 24,
    min_posts: int = config.SPIKE_MIN_POSTS,
) -> pd.DataFrame:
    """Flag periods whose negative share exceeds the trailing mean + k sigma.

    ``series`` is ``PredictionLog.time_series`` output. The baseline is the
    mean and standard deviation of the previous ``window`` periods that had at
    least ``min_posts`` posts (at least 3 of them). Sigma is never below the
    binomial standard error of the period's own share, sqrt(p(1-p)/n), so a
    flat history does not turn sampling noise into alerts.
    """
    share = series["share_negative"].where(series["n"] >= min_posts)
    history = share.shift(1).rolling(window, min_periods=min(3, window))
    mean, std = history.mean(), history.std()
    noise = np.sqrt(mean * (1 - mean) / series["n"].where(series["n"] > 0))
    sigma = np.maximum(std.fillna(0), noise)
    threshold = mean + k * sigma
    out = pd.DataFrame(
        {
            "n": series["n"],
            "negative": series["negative"],
            "share_negative": series["share_negative"],
            "baseline_mean": mean,
            "baseline_std": std,
            "threshold": threshold,
        }
    )
    out["alert"] = (series["n"] >= min_posts) & (share > threshold).fillna(False)
    return out


def spikes_from_log(
    prediction_log: PredictionLog,
    freq: str = "hour",
    k: float = config.SPIKE_K,
    window: int | None = None,
    min_posts: int = config.SPIKE_MIN_POSTS,
    since: datetime | None = None,
    until: datetime | None = None,
    basis: str = "scored",
) -> pd.DataFrame:
    """:func:`negative_spikes` over the log, per hour or day, from ``since`` on.

    The ``window`` periods before ``since`` are read too, so the first periods
    shown have their full baseline. ``basis``: periods of the scoring or the
    posting time (see ``PredictionLog.time_basis``).
    """
    window = window or config.SPIKE_WINDOW[freq]
    period = timedelta(hours=1) if freq == "hour" else timedelta(days=1)
    start = since - window * period if since else None
    table = negative_spikes(
        prediction_log.time_series(freq, start, until, basis), k, window, min_posts
    )
    if since is not None:
        table = table[table.index >= pd.Timestamp(since).floor(period)]
    return table
