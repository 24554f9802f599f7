"""Per-brand sentiment: posts, label counts and shares, net sentiment, share of
voice, per-language volume and a series over posting time.

One summary for every front end: the brands command (a scored file), the API
(the prediction log) and the page (an upload), so their counts agree. Rows are
first reduced to a small count table (:func:`count_mentions`), which can be
summed chunk by chunk, so a file of any size is summarised in flat memory.

Definitions, per brand:

* ``posts``: posts that mention the brand (a post naming two brands counts
  once for each); ``scored``: those with a label.
* ``shares``: each label's count over ``scored``; ``net_sentiment``:
  (positive - negative) / scored, from -1 (all negative) to +1.
* ``share_of_voice``: the brand's posts over all brand mentions.
* ``languages``: posts per detected language ("" when there was no text).
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from sentiment import config

FREQS = {"hour": "h", "day": "D", "week": "W-MON"}
COUNT_KEYS = ["brand", "period", "outcome", "language"]
NO_PERIOD = ""  # rows without a readable posting time


def count_mentions(
    brands: Sequence[Sequence[str]],
    labels: Sequence[object],
    statuses: Sequence[object],
    languages: Sequence[object],
    times: pd.Series | None,
    freq: str = "day",
) -> pd.DataFrame:
    """Posts per (brand, period, outcome, language): the summary's building block.

    ``outcome`` is the label, or the status when there is none (no_text,
    unsupported_language). Posts without a brand are left out. ``times`` are
    UTC timestamps (NaT where unknown); None when the rows have no time.
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    outcome = [
        str(label) if isinstance(label, str) and label else str(status)
        for label, status in zip(labels, statuses)
    ]
    frame = pd.DataFrame(
        {
            "brand": list(brands),
            "period": _periods(times, freq, len(outcome)),
            "outcome": outcome,
            "language": [str(x) if isinstance(x, str) else "" for x in languages],
        }
    )
    frame = frame.explode("brand").dropna(subset=["brand"])
    frame = frame[frame["brand"] != ""]
    return add_counts([frame.groupby(COUNT_KEYS).size().rename("n").reset_index()])


def _periods(times: pd.Series | None, freq: str, n: int) -> list[str]:
    if times is None:
        return [NO_PERIOD] * n
    times = pd.to_datetime(pd.Series(times).reset_index(drop=True), utc=True)
    start = times.dt.tz_convert(None).dt.to_period(FREQS[freq]).dt.start_time
    fmt = "%Y-%m-%dT%H:00" if freq == "hour" else "%Y-%m-%d"
    return start.dt.strftime(fmt).fillna(NO_PERIOD).tolist()


def add_counts(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Several count tables (chunks of one file) summed into one."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({k: pd.Series(dtype=str) for k in COUNT_KEYS}).assign(
            n=pd.Series(dtype=int)
        )
    return (
        pd.concat(parts, ignore_index=True)
        .groupby(COUNT_KEYS, as_index=False)["n"]
        .sum()
    )


def summarize_brands(
    counts: pd.DataFrame,
    brand_order: Sequence[str] | None = None,
    freq: str = "day",
    time_basis: str | None = None,
) -> dict[str, Any]:
    """The per-brand summary (see the module doc) as plain JSON-ready data.

    ``brand_order``: the watchlist's brands, listed even with no post; others
    found in ``counts`` follow by volume. ``time_basis`` says which time the
    series follow (e.g. "posted_at (created_at)"), None when there is none.
    """
    totals = counts.groupby("brand")["n"].sum()
    order = list(brand_order or [])
    order += [b for b in totals.sort_values(ascending=False).index if b not in order]
    mentions = int(totals.sum())
    return {
        "time_basis": time_basis,
        "freq": freq,
        "mentions": mentions,
        "brands": [_brand_summary(counts, b, mentions) for b in order],
    }


def _brand_summary(counts: pd.DataFrame, brand: str, mentions: int) -> dict:
    mine = counts[counts["brand"] == brand]
    by_outcome = mine.groupby("outcome")["n"].sum()
    labels = {label: int(by_outcome.get(label, 0)) for label in config.LABELS}
    posts = int(mine["n"].sum())
    scored = sum(labels.values())
    languages = mine.groupby("language")["n"].sum().sort_values(ascending=False)
    return {
        "brand": brand,
        "posts": posts,
        "scored": scored,
        "labels": labels,
        "shares": {k: (v / scored if scored else None) for k, v in labels.items()},
        "net_sentiment": _net(labels, scored),
        "share_of_voice": posts / mentions if mentions else None,
        "unscored": {
            str(k): int(v) for k, v in by_outcome.items() if k not in config.LABELS
        },
        "languages": {str(k): int(v) for k, v in languages.items()},
        "series": _series(mine),
    }


def _net(labels: dict[str, int], scored: int) -> float | None:
    return (labels["positive"] - labels["negative"]) / scored if scored else None


def _series(mine: pd.DataFrame) -> list[dict[str, Any]]:
    dated = mine[mine["period"] != NO_PERIOD]
    if dated.empty:
        return []
    table = dated.pivot_table(
        index="period", columns="outcome", values="n", aggfunc="sum", fill_value=0
    )
    rows = []
    for period, row in table.iterrows():
        labels = {label: int(row.get(label, 0)) for label in config.LABELS}
        scored = sum(labels.values())
        rows.append(
            {
                "period": str(period),
                "posts": int(row.sum()),
                **labels,
                "share_negative": labels["negative"] / scored if scored else None,
                "net_sentiment": _net(labels, scored),
            }
        )
    return rows


def series_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """Every brand's series as one long table (brand, period, posts, ...)."""
    rows = [
        {"brand": b["brand"], **point}
        for b in summary["brands"]
        for point in b["series"]
    ]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["period"] = pd.to_datetime(frame["period"], utc=True)
    return frame
