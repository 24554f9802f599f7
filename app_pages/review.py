"""The "Review" page: signed-in reviewers label the predictions marked needs
review, and settle disagreements.

Each saved label is appended to the prediction log's correction history with
the reviewer's name; when two reviewers disagree the post comes back to the
queue marked "disagreement" (sentiment.ops.corrections has the rule). Training
takes the agreed corrections (``--include-feedback``).
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import streamlit as st

from app_pages.access import reviewer_or_stop
from app_pages.shared import (
    LABEL_NAMES,
    PageContext,
    counted,
    escape_markdown,
    logging_off_ui,
    page_context,
    python_command,
)
from sentiment import config
from sentiment.ops.corrections import DISAGREEMENT
from sentiment.ops.logstore import PredictionLog

REVIEW_ROWS = 50
SHOWN_CORRECTIONS = 20
LABEL_COLUMN = "right label"


def render(context: PageContext) -> None:
    """The needs-review queue, the corrections so far, and how to retrain on them."""
    reviewer = reviewer_or_stop("Review")
    if context.prediction_log is None:
        logging_off_ui()
        return
    review_ui(context.prediction_log, reviewer)


def review_ui(prediction_log: PredictionLog, reviewer: str) -> None:
    """The needs-review queue: a person sets the right labels and saves them."""
    st.subheader("Review queue")
    message = st.session_state.pop("review_message", None)
    if message is not None:
        kind, text = message
        getattr(st, kind)(text)
    queue = prediction_log.review_queue(REVIEW_ROWS)
    if queue.empty:
        st.success("No prediction is waiting for review.")
    else:
        review_form_ui(prediction_log, queue, reviewer)
    corrections = prediction_log.corrections()
    if not corrections.empty:
        with st.expander(f"Corrections so far ({len(corrections):,})"):
            st.dataframe(
                corrections.tail(SHOWN_CORRECTIONS)[
                    ["prediction_id", "text", "predicted", "label", "votes", "ts"]
                ].iloc[::-1],
                hide_index=True,
            )
    st.markdown(
        "**Retrain with the corrections**, then let the promotion gate decide "
        "whether the new model replaces the served one (restart the page to serve "
        "it):"
    )
    st.code(
        f"{python_command()} -m sentiment.train "
        "--data ../shared/data/semeval2017/train.csv \\\n"
        f"    --include-feedback {prediction_log.path} \\\n"
        "    --out models/candidates/model.pkl\n"
        f"{python_command()} -m sentiment.promote models/candidates/model.pkl",
        language="bash",
    )


def review_form_ui(
    prediction_log: PredictionLog, queue: pd.DataFrame, reviewer: str
) -> None:
    """An editable table of the queue with a 'right label' column, and Save."""
    disagreements = int((queue["review"] == DISAGREEMENT).sum())
    st.caption(
        f"The newest {len(queue):,} predictions marked needs review (confidence "
        "below the threshold, or no word the model knows). Pick the right label "
        "in the last column and press Save; rows left empty stay in the queue. "
        "Your name is saved with each label."
    )
    if disagreements:
        st.warning(
            f"{counted(disagreements, 'post')} at the top got different labels "
            "from different reviewers (see 'review'). Your label counts as your "
            "vote; a post leaves the queue when one label has the most votes."
        )
    table = pd.DataFrame(
        {
            "id": queue["id"],
            "review": _review_notes(queue),
            "time": queue["ts"],
            "source": queue["source"],
            "text": queue["text"].fillna("(text not stored)"),
            "predicted": queue["label"].map(LABEL_NAMES).fillna("no text"),
            "confidence": queue["confidence"],
            LABEL_COLUMN: pd.Series([None] * len(queue), dtype=object),
        }
    )
    # A new key after each save gives a fresh editor over the refreshed queue.
    key = f"review_{st.session_state.setdefault('review_round', 0)}"
    with st.form("review"):
        st.data_editor(
            table,
            key=key,
            hide_index=True,
            # The label to pick comes first, so it is visible without scrolling
            # past long posts.
            column_order=[
                "id",
                LABEL_COLUMN,
                "predicted",
                "confidence",
                "text",
                "time",
                "source",
            ],
            disabled=[c for c in table.columns if c != LABEL_COLUMN],
            column_config={
                "time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "confidence": st.column_config.NumberColumn(format="%.2f"),
                LABEL_COLUMN: st.column_config.SelectboxColumn(
                    options=list(config.LABELS), format_func=LABEL_NAMES.get
                ),
            },
        )
        st.form_submit_button(
            "Save corrections",
            type="primary",
            on_click=save_corrections,
            args=(prediction_log, key, table["id"].tolist(), reviewer),
        )


def _review_notes(queue: pd.DataFrame) -> pd.Series:
    """ "new", or "disagreement: ana: positive, bo: negative" per queue row."""
    votes = queue["votes"].fillna("")
    return queue["review"].where(
        queue["review"] != DISAGREEMENT, DISAGREEMENT + ": " + votes
    )


def save_corrections(
    prediction_log: PredictionLog, key: str, ids: list[int], reviewer: str
) -> None:
    """Save callback: store the labels picked in editor ``key`` (rows are ``ids``).

    Runs before the page reruns, so the rerun shows the refreshed queue.
    """
    edits = st.session_state[key]["edited_rows"]
    picked = {
        ids[int(row)]: change[LABEL_COLUMN]
        for row, change in edits.items()
        if change.get(LABEL_COLUMN)
    }
    if not picked:
        st.session_state["review_message"] = (
            "warning",
            "Pick a label in the 'right label' column first.",
        )
        return
    results = []
    try:
        for prediction_id, label in picked.items():
            results.append(
                prediction_log.record_correction(int(prediction_id), label, reviewer)
            )
    except (ValueError, sqlite3.Error) as e:
        # Saved ones are out of the queue; the rest keep their picks to retry.
        st.session_state["review_message"] = (
            "error",
            f"Not every correction was saved: {escape_markdown(str(e))}",
        )
        return
    st.session_state["review_round"] += 1
    disagreeing = [r.prediction_id for r in results if r.disagreement]
    saved = f"Saved {counted(len(picked), 'correction')}."
    if not disagreeing:
        st.session_state["review_message"] = ("success", saved)
        return
    st.session_state["review_message"] = (
        "warning",
        f"{saved} {counted(len(disagreeing), 'label')} disagree with another "
        "reviewer's (prediction "
        f"{', '.join(map(str, disagreeing))}): nothing was overwritten; "
        "they are back in the queue, marked disagreement.",
    )


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
