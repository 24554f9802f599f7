"""The pages' Altair charts, in the fixed label colours."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from app_pages.shared import LABEL_COLORS, LABEL_NAMES
from sentiment import config

# Volume bars are blue, or red for a period with a negative-spike alert.
VOLUME_COLOR = "#4c78a8"
THRESHOLD_COLOR = "#8c8c8c"
MONITORING_HEIGHT = 220
PERIOD_TOOLTIP = alt.Tooltip("period:T", format="%Y-%m-%d %H:%M")


def label_order() -> list[str]:
    """The label names in the package's class order."""
    return [LABEL_NAMES[label] for label in config.LABELS]


def label_color() -> alt.Color:
    """Colour by the "label" field (label names), one fixed colour per label."""
    return alt.Color(
        "label:N",
        scale=alt.Scale(
            domain=label_order(),
            range=[LABEL_COLORS[label] for label in config.LABELS],
        ),
        legend=None,
    )


def label_bars(frame: pd.DataFrame, value: str) -> alt.Chart:
    """Horizontal bars, one per label, in the fixed label colours."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{value}:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            y=alt.Y(
                "label:N",
                sort=label_order(),
                title=None,
                axis=alt.Axis(labelOverlap=False),
            ),
            color=label_color(),
            tooltip=["label", alt.Tooltip(value, format=".1%")],
        )
        .properties(height=130)
    )


def label_mix_over_time_chart(over_time: pd.DataFrame) -> alt.Chart:
    """Share of each label per period of an uploaded file's date column."""
    return (
        alt.Chart(over_time.assign(label=over_time["label"].map(LABEL_NAMES)))
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%")),
            color=label_color(),
            tooltip=["period:T", "label", "count", alt.Tooltip("share", format=".1%")],
        )
    )


def confusion_matrix_chart(confusion_matrix: list[list[int]]) -> alt.LayerChart:
    """Counts of true (rows) against predicted (columns) labels, as a heat map."""
    cells = [
        {"true": LABEL_NAMES[t], "predicted": LABEL_NAMES[p], "count": n}
        for t, row in zip(config.LABELS, confusion_matrix)
        for p, n in zip(config.LABELS, row)
    ]
    order = label_order()
    base = alt.Chart(pd.DataFrame(cells)).encode(
        x=alt.X("predicted:N", sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:N", sort=order),
    )
    return (
        base.mark_rect().encode(
            color=alt.Color("count:Q", legend=None, scale=alt.Scale(scheme="blues"))
        )
        + base.mark_text(fontSize=14).encode(
            text=alt.Text("count:Q", format=","),
            color=alt.value("black"),
        )
    ).properties(height=220, title="Confusion matrix (rows: true label)")


# --- Monitoring: one row per period of the prediction log ---------------------


def volume_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Predictions per period; flagged periods in red."""
    return (
        alt.Chart(frame, title=f"Predictions per {freq}")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("n:Q", title="predictions"),
            color=alt.condition(
                "datum.alert",
                alt.value(LABEL_COLORS["negative"]),
                alt.value(VOLUME_COLOR),
            ),
            tooltip=[
                PERIOD_TOOLTIP,
                alt.Tooltip("n:Q", title="predictions", format=","),
                "alert",
            ],
        )
        .properties(height=MONITORING_HEIGHT)
    )


def label_mix_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Share of each predicted label per period, stacked."""
    long = frame.melt(
        id_vars=["period"],
        value_vars=list(config.LABELS),
        var_name="label",
        value_name="count",
    )
    long["label"] = long["label"].map(LABEL_NAMES)
    return (
        alt.Chart(long, title=f"Label mix per {freq}")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y(
                "count:Q", stack="normalize", title=None, axis=alt.Axis(format="%")
            ),
            color=label_color(),
            tooltip=[PERIOD_TOOLTIP, "label", "count"],
        )
        .properties(height=MONITORING_HEIGHT)
    )


def negative_share_chart(frame: pd.DataFrame, freq: str) -> alt.LayerChart:
    """Negative share against the spike threshold; alerts as red points.

    Periods without posts have no share (NaN): they are left out of the lines,
    and the y axis gets an explicit range, so a window with no share at all
    still draws (Vega-Lite's "Infinite extent" otherwise leaves it blank).
    """
    shares = frame[["share_negative", "threshold"]].to_numpy(dtype=float)
    top = float(np.nanmax(shares)) if np.isfinite(shares).any() else 1.0
    y_scale = alt.Scale(domain=[0, min(1.0, max(top * 1.1, 0.05))])
    base = alt.Chart(frame, title=f"Negative share per {freq} and alert threshold")
    x = alt.X("period:T", title=None)
    share = (
        base.transform_filter("isValid(datum.share_negative)")
        .mark_line(color=LABEL_COLORS["negative"])
        .encode(
            x=x,
            y=alt.Y(
                "share_negative:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=y_scale,
            ),
            tooltip=[
                PERIOD_TOOLTIP,
                alt.Tooltip("share_negative:Q", title="negative", format=".1%"),
                alt.Tooltip("threshold:Q", format=".1%"),
            ],
        )
    )
    threshold = (
        base.transform_filter("isValid(datum.threshold)")
        .mark_line(color=THRESHOLD_COLOR, strokeDash=[4, 4])
        .encode(x=x, y=alt.Y("threshold:Q", scale=y_scale))
    )
    alerts = (
        base.transform_filter("datum.alert")
        .mark_point(color=LABEL_COLORS["negative"], size=90, filled=True)
        .encode(x=x, y=alt.Y("share_negative:Q", scale=y_scale))
    )
    return (share + threshold + alerts).properties(height=MONITORING_HEIGHT)


def confidence_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Mean confidence of the predictions per period."""
    return (
        alt.Chart(frame, title=f"Mean confidence per {freq}")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y(
                "mean_confidence:Q",
                title=None,
                # A three-class top probability is never below one third.
                scale=alt.Scale(domain=[1 / 3, 1]),
            ),
            tooltip=[
                PERIOD_TOOLTIP,
                alt.Tooltip("mean_confidence:Q", format=".3f"),
            ],
        )
        .properties(height=MONITORING_HEIGHT)
    )


# --- Model card: the tiers' accuracy against their speed ----------------------


def chosen_color() -> dict:
    """The accent colour for the point a chart is about (``datum.chosen``),
    the plain one for the rest."""
    return alt.condition(
        "datum.chosen", alt.value(VOLUME_COLOR), alt.value(THRESHOLD_COLOR)
    )


def short_system_name(system: str) -> str:
    """A system's name without its parenthesised details, for a chart label."""
    return system.split(" (")[0]


def tier_tradeoff_chart(frame: pd.DataFrame, chosen: str | None) -> alt.LayerChart:
    """Macro-recall against posts/s (log scale), one labelled point per system
    of the tier comparison; ``chosen`` (a system) in the accent colour."""
    points = (
        frame.dropna(subset=["macro_recall", "posts_per_s"])
        .sort_values("posts_per_s")
        .reset_index(drop=True)
    )
    points["name"] = points["system"].map(short_system_name)
    points["chosen"] = points["system"] == chosen
    # Labels stay clear of each other and of the edges: the fastest systems'
    # go left of their point (else right), and systems next to each other in
    # speed (often as accurate, e.g. the transformer and the cascade) get
    # theirs alternately above and below their point.
    speeds = np.log10(points["posts_per_s"].astype(float))
    points["label_left"] = speeds > (speeds.min() + speeds.max()) / 2
    points["label_dy"] = np.where(points.index % 2 == 0, -10, 12)
    base = alt.Chart(points).encode(
        x=alt.X(
            "posts_per_s:Q",
            scale=alt.Scale(type="log"),
            title="posts per second, 2 CPU cores (log scale)",
        ),
        y=alt.Y(
            "macro_recall:Q",
            scale=alt.Scale(zero=False, padding=24),
            title="macro-recall (test set)",
        ),
        color=chosen_color(),
        tooltip=[
            "system",
            alt.Tooltip("macro_recall:Q", title="macro-recall", format=".3f"),
            alt.Tooltip("posts_per_s:Q", title="posts/s", format=",.0f"),
        ],
    )
    labels = base.mark_text(
        align=alt.expr("datum.label_left ? 'right' : 'left'"),
        dx=alt.expr("datum.label_left ? -9 : 9"),
        dy=alt.expr("datum.label_dy"),
        fontSize=12,
    ).encode(text="name:N")
    return alt.layer(base.mark_point(size=110, filled=True), labels).properties(
        height=340, title="Macro-recall against speed: up and to the right is better"
    )


# --- Model card: the cascade's cut-off --------------------------------------


def cutoff_chart(table: list[dict[str, float]], chosen: float | None) -> alt.LayerChart:
    """Held-out macro-recall against the share of posts sent to the
    transformer, one point per cut-off of the card's search (``table``);
    ``chosen`` (the card's cut-off) in the accent colour."""
    points = pd.DataFrame(table)
    points["chosen"] = points["cutoff"] == chosen
    points["label"] = points["cutoff"].map(lambda c: f"the card's cut-off, {c:g}")
    base = alt.Chart(points).encode(
        x=alt.X(
            "share_sent:Q",
            axis=alt.Axis(format="%"),
            title="posts sent to the transformer (slower)",
        ),
        y=alt.Y(
            "macro_recall:Q",
            scale=alt.Scale(zero=False),
            title="macro-recall (held-out split)",
        ),
        tooltip=[
            alt.Tooltip("cutoff:Q", title="--cutoff", format=".3f"),
            alt.Tooltip("share_sent:Q", title="sent", format=".1%"),
            alt.Tooltip("macro_recall:Q", title="macro-recall", format=".4f"),
        ],
    )
    line = base.mark_line(color=THRESHOLD_COLOR)
    dots = base.mark_point(filled=True, size=60).encode(
        color=chosen_color(),
        size=alt.condition("datum.chosen", alt.value(160), alt.value(40)),
    )
    label = (
        base.transform_filter("datum.chosen")
        .mark_text(align="left", dx=10, dy=-8, fontSize=12)
        .encode(text="label:N")
    )
    return alt.layer(line, dots, label).properties(
        height=300, title="Each cut-off: accuracy against the share sent on"
    )
