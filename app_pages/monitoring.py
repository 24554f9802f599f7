"""The "Monitoring" page: activity over time, spike alerts, the log, drift.

It reads the prediction log that every page, the API and the batch CLI write.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.access import reviewer_or_stop
from app_pages.retrain_history import retrain_history_ui
from app_pages.charts import (
    confidence_chart,
    label_mix_chart,
    negative_share_chart,
    volume_chart,
)
from app_pages.shared import (
    DriftCheck,
    PageContext,
    counted,
    counted_rows,
    escape_markdown,
    logging_off_ui,
    page_context,
    python_command,
    to_minute,
)
from sentiment import config
from sentiment.files.formats import DataError
from sentiment.model.predictor import Predictor
from sentiment.ops.drift import DriftReport, check_drift, default_reference
from sentiment.ops.drift_report import drift_table, render_html
from sentiment.ops.logstore import LogStoreError, PredictionLog
from sentiment.ops.sampling import parse_time
from sentiment.ops.views import MonitoringView, monitoring_view
from sentiment.serving.client import ApiPredictor

# How far back the charts and the drift check look (ages as
# sentiment.ops.sampling.parse_time reads them; None means everything logged).
WINDOWS = {
    "Last 24 hours": "24h",
    "Last 7 days": "7d",
    "Last 30 days": "30d",
    "Everything": None,
}
DEFAULT_WINDOW = "Last 7 days"
ALERT_COLUMNS = [
    "period",
    "n",
    "negative",
    "share_negative",
    "baseline_mean",
    "threshold",
]


def render(context: PageContext) -> None:
    """Volume, label mix, confidence, spike alerts, log stats and drift."""
    reviewer_or_stop("Monitoring")  # logged posts: reviewers only
    prediction_log = context.prediction_log
    if prediction_log is None:
        logging_off_ui()
        return
    left, right = st.columns(2)
    window = left.selectbox(
        "Period", list(WINDOWS), index=list(WINDOWS).index(DEFAULT_WINDOW)
    )
    freq = right.radio("Per", ["hour", "day"], horizontal=True)
    age = WINDOWS[window]
    since = None if age is None else parse_time(age)
    view = monitoring_view(prediction_log, freq, since)
    if view.stats["predictions"] == 0:
        st.info(
            f"The prediction log `{prediction_log.path}` is empty. "
            "Analyse a post or score a file (or call the API or the batch CLI) "
            "and its predictions show up here."
        )
        if view.stats["dropped_rows"]:
            log_stats_ui(view.stats)
        return
    activity_ui(view, freq, window)
    log_stats_ui(view.stats)
    drift_ui(prediction_log, context.predictor, window, since)
    retrain_history_ui(prediction_log)


def activity_ui(view: MonitoringView, freq: str, window: str) -> None:
    """Headline figures, the four charts over time, and the spike alerts."""
    series = view.series
    total = int(series["n"].sum())
    if total == 0:
        st.info(
            f"No prediction with a label in this period ({window.lower()}): "
            "choose a longer period."
        )
        return
    cells = st.columns(4)
    cells[0].metric("Predictions", f"{total:,}")
    cells[1].metric("Negative", f"{series['negative'].sum() / total:.1%}")
    cells[2].metric("Need review", f"{series['needs_review'].sum() / total:.1%}")
    cells[3].metric("Negative spikes", f"{len(view.alerts):,}")
    frame = series.join(view.spikes[["threshold", "alert"]]).reset_index()
    frame["alert"] = frame["alert"].fillna(False).astype(bool)
    top_left, top_right = st.columns(2)
    top_left.altair_chart(volume_chart(frame, freq))
    top_right.altair_chart(label_mix_chart(frame, freq))
    bottom_left, bottom_right = st.columns(2)
    bottom_left.altair_chart(negative_share_chart(frame, freq))
    bottom_right.altair_chart(confidence_chart(frame, freq))
    article = "An" if freq == "hour" else "A"
    clock = (
        "when the posts were posted (where known, else scored)"
        if view.basis == "posted"
        else "when the posts were scored"
    )
    st.caption(
        f"Times are UTC, {clock}. {article} {freq} is flagged (red) when its "
        "negative share is above the mean of the previous "
        f"{config.SPIKE_WINDOW[freq]} {freq}s + "
        f"{config.SPIKE_K:g}σ and it has at least {config.SPIKE_MIN_POSTS} posts "
        f"(`{python_command()} -m sentiment.monitor spikes`)."
    )
    alerts_ui(view.alerts, len(series), freq)


def alerts_ui(alerts: pd.DataFrame, periods: int, freq: str) -> None:
    """The negative-spike alerts of the ``periods`` shown, or that there are none."""
    if alerts.empty:
        st.success(f"No negative spike in {counted(periods, freq)}.")
        return
    st.error(
        f"⚠️ {counted(len(alerts), 'negative spike')}: look at "
        "what was posted then (the Review page holds the unsure ones)."
    )
    st.dataframe(
        alerts.reset_index()[ALERT_COLUMNS],
        hide_index=True,
        column_config={
            "period": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "n": st.column_config.NumberColumn("posts"),
            **{
                name: st.column_config.NumberColumn(label, format="percent")
                for name, label in [
                    ("share_negative", "negative share"),
                    ("baseline_mean", "baseline (mean)"),
                    ("threshold", "alert threshold"),
                ]
            },
        },
    )


def log_stats_ui(stats: dict[str, Any]) -> None:
    """Counts of the whole log: per source and model, review, corrections, drops."""
    st.subheader("Prediction log")
    cells = st.columns(4)
    cells[0].metric("Logged predictions", f"{stats['predictions']:,}")
    cells[1].metric("Awaiting review", f"{stats['awaiting_review']:,}")
    cells[2].metric("Corrections", f"{stats['corrections']:,}")
    cells[3].metric("Dropped rows", f"{stats['dropped_rows']:,}")
    if stats["dropped_rows"]:
        st.warning(
            f"{counted_rows(stats['dropped_rows'])} could not be written to the log "
            "(the predictions were still answered). "
            f"`{python_command()} -m sentiment.monitor "
            "status` and the `-dropped.jsonl` file beside the log have details."
        )
    left, right = st.columns(2)
    left.dataframe(
        pd.DataFrame(stats["by_source"].items(), columns=["source", "predictions"]),
        hide_index=True,
    )
    right.dataframe(
        pd.DataFrame(
            [(version[:12], n) for version, n in stats["by_model_version"].items()],
            columns=["model version", "predictions"],
        ),
        hide_index=True,
    )
    st.caption(
        f"`{stats['path']}` · {stats['bytes'] / 2**20:,.1f} MB · "
        f"{to_minute(stats['first'])} to {to_minute(stats['last'])} UTC"
    )


def drift_ui(
    prediction_log: PredictionLog,
    predictor: Predictor | ApiPredictor,
    window: str,
    since: datetime | None,
) -> None:
    """A button that runs the drift check on the period; its verdict and report."""
    st.subheader("Drift")
    st.caption(
        "Compares the predictions logged in the period with the reference profile "
        "saved beside the model at training: label mix, confidence, text length "
        "and words the model does not know. Up to "
        f"{config.DRIFT_SAMPLE_ROWS:,} posts per side; it takes up to half a "
        "minute."
    )
    if st.button("Check drift"):
        with st.spinner(f"Checking drift ({window.lower()})…"):
            st.session_state["drift"] = run_drift_check(
                prediction_log, predictor, window, since
            )
    check: DriftCheck | None = st.session_state.get("drift")
    if check is None:
        return
    st.caption(
        f"Checked {check.checked:%Y-%m-%d %H:%M} UTC for {check.window.lower()}."
        + ("" if check.window == window else " Press Check drift for this period.")
    )
    if check.report is None:
        st.error(escape_markdown(check.error))
        return
    drift_report_ui(check.report, check.html)


def drift_report_ui(report: DriftReport, html: str) -> None:
    """The verdict of a drift check, its tests, and its report (``html``)."""
    st.caption(
        f"Reference: {escape_markdown(report.reference.description)}, "
        f"{report.reference.n:,} posts. Current: "
        f"{escape_markdown(report.current.description)}, "
        f"{report.current.n:,} posts."
    )
    if report.drift_detected:
        st.error("**Drift detected**: the inputs or outputs moved (see the table).")
    else:
        st.success("No drift detected.")
    st.dataframe(
        drift_table(report),
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format="%.4g")
            for name in ("statistic", "p_value", "psi")
        },
    )
    st.download_button(
        "Download the drift report (HTML)",
        data=html,
        file_name="drift_report.html",
        mime="text/html",
        on_click="ignore",
    )


def served_model_path(predictor: Predictor | ApiPredictor) -> Path | str | None:
    """Where the served classic model lies on this machine, its profile beside
    it: a model URL's download, else ``$SENTIMENT_MODEL_PATH`` (None: the
    committed model). The cascade's profile is its classic model's."""
    classic = getattr(predictor, "classic", predictor)
    local = getattr(classic, "model_path", None)
    return local if local is not None else config.model_path_from_env()


def run_drift_check(
    prediction_log: PredictionLog,
    predictor: Predictor | ApiPredictor,
    window: str,
    since: datetime | None,
) -> DriftCheck:
    """Run ``check_drift`` on the log against the served model's profile."""
    checked = datetime.now(timezone.utc)
    try:
        report = check_drift(
            prediction_log.path,
            default_reference(
                served_model_path(predictor), shown_as=config.model_path_from_env()
            ),
            predictor,
            since=since,
        )
    except (DataError, LogStoreError, ValueError) as e:
        return DriftCheck(window, checked, None, error=f"No drift check: {e}")
    return DriftCheck(window, checked, report, render_html(report))


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
