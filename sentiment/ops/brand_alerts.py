"""Alerts per brand: a day whose negative share, or whose volume, jumps above
the brand's own trailing baseline; each delivered once.

Both tests compare a period with the previous ``window`` periods of the same
brand (mean + k sigma, at least 3 of them with ``min_posts`` posts):

* ``negative_share``: :func:`sentiment.ops.spikes.negative_spikes` on the
  brand's labelled posts (sigma never below the binomial noise);
* ``volume``: posts mentioning the brand (sigma never below the Poisson
  noise, sqrt(mean)).

Periods follow the posting time where the log has it. Alerts already
delivered are remembered in the log's ``alerts_sent`` table, so a restart
never sends one twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from sentiment import config
from sentiment.ops.log_rows import utc_now
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.spikes import negative_spikes
from sentiment.ops.watchlist import BRAND_SEPARATOR

_FREQ = {"hour": "h", "day": "D"}
_PERIOD_LABEL = {"hour": "%Y-%m-%dT%H:00Z", "day": "%Y-%m-%d"}


@dataclass(frozen=True)
class BrandAlert:
    """One spike of one brand in one period."""

    brand: str
    kind: str  # "negative_share" or "volume"
    period: str  # start of the period, ISO
    value: float  # the period's negative share or post count
    baseline: float  # trailing mean
    threshold: float
    posts: int
    time_basis: str  # "posted" or "scored"

    @property
    def key(self) -> str:
        return f"{self.brand}|{self.kind}|{self.period}"

    def message(self) -> dict[str, str]:
        """The webhook body: Slack and Teams both show ``text``."""
        when = f"{self.period} (by {self.time_basis} time)"
        if self.kind == "negative_share":
            what = (
                f"negative share {self.value:.0%} of {self.posts:,} posts, against "
                f"a usual {self.baseline:.0%} (alert above {self.threshold:.0%})"
            )
        else:
            what = (
                f"{self.value:,.0f} posts, against a usual {self.baseline:,.0f} "
                f"(alert above {self.threshold:,.0f})"
            )
        return {"text": f":rotating_light: {self.brand}: {what} on {when}."}


def brand_series(
    prediction_log: PredictionLog, freq: str = "day", basis: str = "auto"
) -> tuple[pd.DataFrame, str]:
    """Per brand and period: posts, labelled posts and negatives; and the basis."""
    basis = prediction_log.time_basis(basis)
    rows = prediction_log.query(
        f"SELECT {prediction_log.time_expression(basis)} AS moment, brand, label "
        "FROM predictions WHERE brand IS NOT NULL AND brand != ''"
    )
    if rows.empty:
        return (
            pd.DataFrame(columns=["brand", "period", "posts", "n", "negative"]),
            basis,
        )
    rows["brand"] = rows["brand"].str.split(BRAND_SEPARATOR, regex=False)
    rows = rows.explode("brand")
    moment = pd.to_datetime(rows["moment"], utc=True, format="ISO8601")
    rows["period"] = moment.dt.floor(_FREQ[freq])
    rows["labelled"] = rows["label"].notna()
    rows["is_negative"] = rows["label"] == "negative"
    table = rows.groupby(["brand", "period"]).agg(
        posts=("brand", "size"), n=("labelled", "sum"), negative=("is_negative", "sum")
    )
    return table.reset_index(), basis


def find_brand_alerts(
    series: pd.DataFrame,
    basis: str,
    brands: Sequence[str] | None = None,
    freq: str = "day",
    k: float = config.BRAND_ALERT_K,
    window: int = config.BRAND_ALERT_WINDOW,
    min_posts: int = config.BRAND_ALERT_MIN_POSTS,
) -> list[BrandAlert]:
    """Every negative-share and volume spike of every brand (or of ``brands``)."""
    if series.empty:
        return []
    periods = pd.date_range(
        series["period"].min(), series["period"].max(), freq=_FREQ[freq]
    )
    alerts = []
    for brand in brands if brands is not None else sorted(series["brand"].unique()):
        mine = series[series["brand"] == brand].set_index("period")
        mine = mine[["posts", "n", "negative"]].reindex(periods, fill_value=0)
        mine.index = mine.index.strftime(_PERIOD_LABEL[freq])
        alerts += _share_alerts(mine, brand, basis, k, window, min_posts)
        alerts += _volume_alerts(mine, brand, basis, k, window, min_posts)
    return sorted(alerts, key=lambda a: (a.period, a.brand, a.kind))


def _share_alerts(mine, brand, basis, k, window, min_posts) -> list[BrandAlert]:
    frame = mine.assign(
        share_negative=mine["negative"] / mine["n"].where(mine["n"] > 0)
    )
    table = negative_spikes(frame, k, window, min_posts)
    return [
        BrandAlert(
            brand,
            "negative_share",
            str(period),
            float(row.share_negative),
            float(row.baseline_mean),
            float(row.threshold),
            int(row.n),
            basis,
        )
        for period, row in table[table["alert"]].iterrows()
    ]


def _volume_alerts(mine, brand, basis, k, window, min_posts) -> list[BrandAlert]:
    volume = mine["posts"].astype(float)
    history = volume.shift(1).rolling(window, min_periods=min(3, window))
    mean = history.mean()
    sigma = np.maximum(history.std().fillna(0), np.sqrt(mean))
    threshold = mean + k * sigma
    flagged = (volume >= min_posts) & (volume > threshold).fillna(False)
    return [
        BrandAlert(
            brand,
            "volume",
            str(period),
            float(volume[period]),
            float(mean[period]),
            float(threshold[period]),
            int(volume[period]),
            basis,
        )
        for period in volume.index[flagged]
    ]


def sent_keys(prediction_log: PredictionLog) -> set[str]:
    """Keys of the alerts already delivered."""
    return set(prediction_log.query("SELECT alert_key FROM alerts_sent")["alert_key"])


def record_sent(prediction_log: PredictionLog, alert: BrandAlert, where: str) -> None:
    """Remember that ``alert`` was delivered (committed before the next one)."""
    with prediction_log._lock:
        conn = prediction_log._connection()
        conn.execute(
            "INSERT OR IGNORE INTO alerts_sent VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                alert.key,
                alert.brand,
                alert.kind,
                alert.period,
                utc_now(),
                where,
                json.dumps(asdict(alert)),
            ),
        )


def alert_dict(alert: BrandAlert, sent: bool) -> dict:
    """An alert as the command prints it in JSON."""
    return {**asdict(alert), "key": alert.key, "already_sent": sent}
