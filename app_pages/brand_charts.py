"""The Brands page's Altair charts: brands side by side, spikes marked."""

from __future__ import annotations

import altair as alt
import pandas as pd

from app_pages.charts import label_color, label_order
from app_pages.shared import LABEL_COLORS, LABEL_NAMES
from sentiment import config

HEIGHT = 260
# Brand colours: none of them red, green or grey, which mean the labels.
BRAND_PALETTE = ["#4c78a8", "#f58518", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b"]


def brand_color(brands: list[str], legend: bool = True) -> alt.Color:
    """One fixed colour per brand, the same in every chart of the page."""
    return alt.Color(
        "brand:N",
        title="Brand" if legend else None,
        scale=alt.Scale(
            domain=brands,
            range=[BRAND_PALETTE[i % len(BRAND_PALETTE)] for i in range(len(brands))],
        ),
        legend=alt.Legend() if legend else None,
    )


def _bar_height(rows: int) -> int:
    return 40 * max(rows, 2) + 10


def net_sentiment_chart(
    series: pd.DataFrame, freq: str, brands: list[str]
) -> alt.LayerChart:
    """Net sentiment per period, one line per brand; negative spikes as red rings.

    Periods a brand had no scored post are left out (no NaN reaches the chart).
    """
    frame = series.dropna(subset=["net_sentiment"])
    base = alt.Chart(frame, title=f"Net sentiment per {freq}, by posting time")
    x = alt.X("period:T", title=None)
    y = alt.Y(
        "net_sentiment:Q",
        title="(positive - negative) / posts",
        scale=alt.Scale(domain=[-1, 1]),
    )
    lines = base.mark_line(point=True).encode(
        x=x,
        y=y,
        color=brand_color(brands),
        tooltip=[
            "brand",
            alt.Tooltip("period:T", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("net_sentiment:Q", format="+.2f"),
            alt.Tooltip("share_negative:Q", format=".0%", title="negative"),
            alt.Tooltip("posts:Q", format=","),
        ],
    )
    spikes = (
        base.transform_filter("datum.spike")
        .mark_point(color=LABEL_COLORS["negative"], size=260, strokeWidth=3)
        .encode(x=x, y=y, tooltip=["brand", alt.Tooltip("period:T", title="spike")])
    )
    return (lines + spikes).properties(height=HEIGHT)


def share_of_voice_chart(brands: pd.DataFrame) -> alt.Chart:
    """Each brand's share of all brand mentions."""
    return (
        alt.Chart(brands)
        .mark_bar()
        .encode(
            x=alt.X(
                "share_of_voice:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y(
                "brand:N",
                title=None,
                sort=brands["brand"].tolist(),
                axis=alt.Axis(labelOverlap=False),
            ),
            color=brand_color(brands["brand"].tolist(), legend=False),
            tooltip=["brand", alt.Tooltip("share_of_voice:Q", format=".1%"), "posts"],
        )
        .properties(height=_bar_height(len(brands)))
    )


def label_mix_by_brand_chart(brands: pd.DataFrame) -> alt.Chart:
    """Share of each label among each brand's scored posts."""
    long = brands.melt(
        id_vars=["brand"],
        value_vars=list(config.LABELS),
        var_name="label",
        value_name="count",
    )
    long["label"] = long["label"].map(LABEL_NAMES)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "count:Q", stack="normalize", title=None, axis=alt.Axis(format="%")
            ),
            y=alt.Y(
                "brand:N",
                title=None,
                sort=brands["brand"].tolist(),
                axis=alt.Axis(labelOverlap=False),
            ),
            color=label_color(),
            order=alt.Order("label_order:Q"),
            tooltip=["brand", "label", "count"],
        )
        .transform_calculate(
            label_order=f"indexof({label_order()!r}, datum.label)".replace("'", '"')
        )
        .properties(height=_bar_height(len(brands)))
    )
