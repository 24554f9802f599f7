"""The Monitoring page's "Retraining runs" section: what ``python -m
sentiment.retrain --auto`` did, from the log's retrain_runs table."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.shared import python_command
from sentiment.ops import retrain_runs as runs
from sentiment.ops.logstore import PredictionLog

DECISION_COLORS = {
    runs.PROMOTED: "#2ca02c",
    runs.REJECTED: "#d62728",
    runs.FAILED: "#7f7f7f",
    runs.RUNNING: "#1f77b4",
}


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: when, what fired, the decision and the gate's macro-recall
    of the candidate and of the model it was compared with."""

    def recall(metrics: dict, side: str) -> float | None:
        return (metrics.get(side) or {}).get("macro_recall")

    return pd.DataFrame(
        {
            "run": frame["id"],
            "started": pd.to_datetime(frame["started_at"], utc=True, format="ISO8601"),
            "trigger": frame["trigger"],
            "decision": frame["decision"],
            "candidate": [recall(m, "candidate") for m in frame["metrics"]],
            "current": [recall(m, "current") for m in frame["metrics"]],
            "reason": frame["reason"],
        }
    )


def recall_chart(table: pd.DataFrame) -> alt.Chart:
    """The candidate's gate macro-recall per run, coloured by the decision, and
    the current model's as a grey tick."""
    scored = table.dropna(subset=["candidate"])
    color = alt.Color(
        "decision:N",
        scale=alt.Scale(
            domain=list(DECISION_COLORS), range=list(DECISION_COLORS.values())
        ),
    )
    points = alt.Chart(scored).mark_point(filled=True, size=80)
    ticks = alt.Chart(scored).mark_tick(color="#8c8c8c", thickness=2)
    return (
        points.encode(
            x="run:O",
            y=alt.Y("candidate:Q", title="macro-recall", scale=alt.Scale(zero=False)),
            color=color,
            tooltip=["run", "trigger", "decision", "candidate", "current", "reason"],
        )
        + ticks.encode(x="run:O", y="current:Q")
    ).properties(height=200)


def retrain_history_ui(prediction_log: PredictionLog) -> None:
    """The runs table, counts per decision and the gate chart (or how to start)."""
    st.subheader("Retraining runs")
    table = runs_table(runs.list_runs(prediction_log))
    if table.empty:
        st.info(
            "No retraining run recorded yet. Schedule "
            f"`{python_command()} -m sentiment.retrain --auto` (cron, or the "
            "retrain workflow); `--dry-run` shows what would fire."
        )
        return
    counts = table["decision"].value_counts()
    cells = st.columns(4)
    for cell, decision in zip(cells, runs.DECISIONS[1:] + (runs.RUNNING,)):
        cell.metric(decision.capitalize(), f"{int(counts.get(decision, 0)):,}")
    if table["candidate"].notna().any():
        st.altair_chart(recall_chart(table))
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "candidate": st.column_config.NumberColumn(format="%.4f"),
            "current": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    st.caption(
        "Gate: macro-recall on the held-out evaluation set; a candidate is "
        "promoted only if it is at most the margin below the current model."
    )
