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
    basis: str = "scored"  # which time the periods follow: "posted" or "scored"

    @property
    def alerts(self) -> pd.DataFrame:
        return self.spikes[self.spikes["alert"]]


def monitoring_view(
    prediction_log: PredictionLog,
    freq: str = "hour",
    since: datetime | None = None,
    k: float = config.SPIKE_K,
    window: int | None = None,
    basis: str = "auto",
) -> MonitoringView:
    """Volume, label mix, confidence and spike alerts for the page.

    Periods follow the posting time when the log has posting times (issue 12).
    """
    basis = prediction_log.time_basis(basis)
    spikes = spikes_from_log(prediction_log, freq, k, window, since=since, basis=basis)
    series = prediction_log.time_series(freq, since, basis=basis)
    return MonitoringView(series, spikes, prediction_log.stats(), basis)
