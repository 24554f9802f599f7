"""The Brands page's Altair charts: brands side by side, spikes marked."""

from __future__ import annotations

import altair as alt
import pandas as pd

from app_pages.charts import label_color, label_order
from app_pages.shared import LABEL_COLORS, LABEL_NAMES
from sentiment import config

HEIGHT = 260


def net_sentiment_chart(series: pd.DataFrame, freq: str) -> alt.LayerChart:
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
        color=alt.Color("brand:N", title="Brand"),
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
        alt.Chart(brands, title="Share of voice")
        .mark_bar()
        .encode(
            x=alt.X(
                "share_of_voice:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("brand:N", title=None, sort="-x"),
            color=alt.Color("brand:N", legend=None),
            tooltip=["brand", alt.Tooltip("share_of_voice:Q", format=".1%"), "posts"],
        )
        .properties(height=40 * max(len(brands), 2))
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
        alt.Chart(long, title="Label mix")
        .mark_bar()
        .encode(
            x=alt.X(
                "count:Q", stack="normalize", title=None, axis=alt.Axis(format="%")
            ),
            y=alt.Y("brand:N", title=None),
            color=label_color(),
            order=alt.Order("label_order:Q"),
            tooltip=["brand", "label", "count"],
        )
        .transform_calculate(
            label_order=f"indexof({label_order()!r}, datum.label)".replace("'", '"')
        )
        .properties(height=40 * max(len(brands), 2))
    )
