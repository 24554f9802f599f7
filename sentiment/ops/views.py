"""What the page's Monitoring page shows, computed from the prediction log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from sentiment import config
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.spikes import spikes_from_log


@dataclass
class MonitoringView:
    """What the Monitoring page shows, as plain data.

    ``series``: per period, ``n`` (volume), counts and ``share_*`` per label,
    ``mean_confidence``, ``needs_review``. ``spikes``: :func:`negative_spikes`
    output (``alert`` column). ``stats``: :meth:`PredictionLog.stats`.
    """

    series: pd.DataFrame
    spikes: pd.DataFrame
    stats: dict[str, Any]

    @property
    def alerts(self) -> pd.DataFrame:
        return self.spikes[self.spikes["alert"]]


def monitoring_view(
    prediction_log: PredictionLog,
    freq: str = "hour",
    since: datetime | None = None,
    k: float = config.SPIKE_K,
    window: int | None = None,
) -> MonitoringView:
    """Volume, label mix, confidence and spike alerts for the page."""
    spikes = spikes_from_log(prediction_log, freq, k, window, since=since)
    series = prediction_log.time_series(freq, since)
    return MonitoringView(series, spikes, prediction_log.stats())
