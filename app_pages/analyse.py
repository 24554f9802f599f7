"""The "Analyse text" page: a verdict, and the words behind it, for each post typed."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.charts import label_bars
from app_pages.shared import (
    LABEL_MARKDOWN_COLORS,
    LABEL_NAMES,
    POSTS_KEY,
    PageContext,
    escape_markdown,
    logged_ui,
    page_context,
)
from sentiment import config
from sentiment.model.explain import top_contributions, word_influence
from sentiment.model.inputs import prepare_text
from sentiment.model.predictor import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    Predictor,
)
from sentiment.serving.client import ApiPredictor

# The text box is for a handful of posts; longer lists belong in a file.
MAX_ANALYSE_POSTS = 50
EXPLAINED_TOKENS = 8


def render(context: PageContext) -> None:
    """Text box for posts, one per line, and a verdict with its reasons for each."""
    text = st.text_area(
        "Posts, one per line",
        height=140,
        placeholder="I love the new phone, the camera is great!\n"
        "Worst customer service ever :(",
        key=POSTS_KEY,
    )
    if st.button("Analyse", type="primary"):
        st.session_state["analysed_text"] = text
        # One request per click: reruns show the same answer and log nothing new.
        st.session_state["analyse_request"] = uuid.uuid4().hex
    posts = analysed_posts()
    if not posts:
        return
    scored = context.predictor.score(posts, context.threshold)
    logged_ui(context, "analyse", st.session_state["analyse_request"], posts, scored)
    if len(posts) > 1:
        columns = ["sentiment", "confidence", "needs_review", "status"]
        table = pd.concat([pd.Series(posts, name="post"), scored[columns]], axis=1)
        st.dataframe(table, hide_index=True)
    for post, row in zip(posts, scored.itertuples(index=False)):
        with st.container(border=True):
            verdict_ui(context.predictor, post, row, context.threshold)


def analysed_posts() -> list[str]:
    """The non-blank lines of the last analysed text, at most MAX_ANALYSE_POSTS.

    Warns when there are none (after a click) or too many.
    """
    lines = st.session_state.get("analysed_text", "").splitlines()
    posts = [line for line in lines if line.strip()]
    if not posts and "analysed_text" in st.session_state:
        st.warning("There is no text to analyse: type or paste at least one post.")
    if len(posts) > MAX_ANALYSE_POSTS:
        st.warning(
            f"Analysing the first {MAX_ANALYSE_POSTS} of {len(posts)} posts. Use the "
            "'Score a file' page for longer lists."
        )
    return posts[:MAX_ANALYSE_POSTS]


def verdict_ui(
    predictor: Predictor | ApiPredictor, post: str, row: Any, threshold: float
) -> None:
    """Label, confidence, review marker, probabilities and top tokens of one post."""
    st.markdown(f"> {escape_markdown(post)}")
    if row.status == STATUS_NO_TEXT:
        st.info("Nothing is left of this post once invisible characters are removed.")
        return
    name = LABEL_NAMES[row.sentiment]
    st.markdown(f"### {name} · {row.confidence:.0%} confident")
    if row.status == STATUS_NO_SIGNAL:
        st.warning(
            "⚠️ Needs review: the post has no word the model knows, so the label "
            "is a guess."
        )
    elif row.needs_review:
        st.warning(
            f"⚠️ Needs review: confidence {row.confidence:.0%} is below the "
            f"{threshold:.0%} threshold."
        )
    if row.truncated:
        st.caption(f"Only the first {config.MAX_TEXT_CHARS:,} characters were read.")
    left, right = st.columns(2)
    with left:
        probabilities = pd.DataFrame(
            {
                "label": [LABEL_NAMES[label] for label in config.LABELS],
                "probability": [
                    getattr(row, f"prob_{label}") for label in config.LABELS
                ],
            }
        )
        st.altair_chart(label_bars(probabilities, "probability"))
    with right:
        if isinstance(predictor, Predictor):
            contributions_ui(predictor, post, row.sentiment)
        else:
            st.caption("Word contributions are shown when the page runs the model.")


def contributions_ui(predictor: Predictor, post: str, label: str) -> None:
    """The word and character n-grams that pushed the post towards ``label``."""
    text, _ = prepare_text(post)
    if getattr(predictor, "card", {}).get("backend") in ("transformer", "cascade"):
        influence_ui(predictor, text, label)
        return
    words, chars = (
        [
            (feature.split("__", 1)[1], value)
            for feature, value in top_contributions(
                predictor.pipeline, text, label, EXPLAINED_TOKENS, part
            )
        ]
        for part in ("word", "char")
    )
    st.markdown(f"**Words that pushed towards {LABEL_NAMES[label]}**")
    if words:
        color = LABEL_MARKDOWN_COLORS[label]
        st.markdown(
            " ".join(
                f":{color}-background[{escape_markdown(word)}]" for word, _ in words
            )
        )
    else:
        st.caption("No known word pushed towards this label.")
    st.dataframe(
        pd.DataFrame(
            [(ngram, "word", value) for ngram, value in words]
            + [(ngram, "characters", value) for ngram, value in chars],
            columns=["n-gram", "kind", "contribution"],
        ),
        hide_index=True,
        column_config={"contribution": st.column_config.NumberColumn(format="%.3f")},
    )
    st.caption("Contribution = TF-IDF value × the class's coefficient.")


def influence_ui(predictor: Predictor, text: str, label: str) -> None:
    """The post's words that moved the decision most (left out one at a time)."""
    influence = word_influence(predictor, text, label)
    top = sorted(influence, key=lambda pair: -pair[1])[:EXPLAINED_TOKENS]
    st.markdown(f"**Words that pushed towards {LABEL_NAMES[label]}**")
    color = LABEL_MARKDOWN_COLORS[label]
    words = [f":{color}-background[{escape_markdown(w)}]" for w, v in top if v > 0]
    st.markdown(" ".join(words) or "No single word; the post as a whole.")


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
