"""The Streamlit app: analyse posts, score a file, read the model card, monitor.

Run with ``streamlit run app.py``. This file is the frame around the pages in
app_pages/: it loads the model, draws the sidebar and runs the page chosen in
the navigation. Every decision is made by the ``sentiment`` package; the pages
only lay out widgets and show what the package returns.
Set ``SENTIMENT_MODEL_PATH`` to serve another model than models/model.pkl, or
``SENTIMENT_API_URL`` to ask a running API instead of loading the model.
Every prediction the page answers is written to the prediction log
(``SENTIMENT_LOG_DB``, see sentiment.ops.logstore), which the Monitoring page
reads.
"""

from __future__ import annotations

import streamlit as st

from app_pages.shared import (
    POSTS_KEY,
    PageContext,
    cached_log,
    escape_markdown,
    predictor_or_stop,
    set_page_context,
)
from sentiment import config
from sentiment.ops.logstore import LogStoreError, PredictionLog

# (file, title) of each page, in the navigation's order; the first is the default.
PAGES = [
    ("app_pages/analyse.py", "Analyse text"),
    ("app_pages/score_file.py", "Score a file"),
    ("app_pages/model_card.py", "Model card"),
    ("app_pages/monitoring.py", "Monitoring"),
    ("app_pages/review.py", "Review"),
    ("app_pages/brands.py", "Brands"),
]
# Widgets whose values outlive a visit to another page (Streamlit forgets the
# values of widgets that a run does not draw).
KEPT_WIDGETS = [POSTS_KEY]


def threshold_ui() -> float:
    """The review threshold, from a sidebar slider."""
    with st.sidebar:
        threshold = st.slider(
            "Review threshold",
            min_value=0.0,
            max_value=1.0,
            value=config.DEFAULT_THRESHOLD,
            step=0.01,
            help="A prediction whose confidence is below this is marked "
            "'needs review'.",
        )
        st.caption(
            "Predictions below the threshold, and posts without any word the model "
            "knows, are marked **needs review**."
        )
    return threshold


def log_ui() -> PredictionLog | None:
    """The shared prediction log; None when it is off or cannot be opened."""
    path = config.log_path_from_env()
    if path is None:
        st.sidebar.caption(
            f"The prediction log is off ({config.LOG_DB_ENV}=off): nothing is "
            "recorded."
        )
        return None
    try:
        return cached_log(str(path))
    except LogStoreError as e:
        # The page still answers; only the bookkeeping is missing.
        st.sidebar.error(f"Predictions are NOT being logged. {escape_markdown(str(e))}")
        return None


def store_text_ui(prediction_log: PredictionLog | None) -> bool:
    """Sidebar switch: store each post's text in the log, or only its SHA-256."""
    if prediction_log is None:
        return False
    return st.sidebar.toggle(
        "Store post texts in the prediction log",
        value=prediction_log.store_text,
        help="Off: only a SHA-256 of each post is stored. Corrections of such "
        "predictions cannot be used for retraining.",
    )


def keep_widget_values(keys: list[str]) -> None:
    """Keep the values of these widgets while another page is shown.

    Setting a widget's key in Session State makes it the app's value rather
    than the widget's, so it is not dropped on a run that does not draw the
    widget; the widget shows it again when its page is back.
    """
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def main() -> None:
    """The frame: title, model, sidebar, then the page chosen in the navigation."""
    st.set_page_config(page_title="Tweet sentiment", page_icon="💬", layout="wide")
    # Across the top, like tabs: the sidebar is for the settings.
    page = st.navigation(
        [
            st.Page(path, title=title, default=i == 0)
            for i, (path, title) in enumerate(PAGES)
        ],
        position="top",
    )
    st.title("Tweet sentiment")
    st.caption(
        "Positive, neutral or negative: for posts you type, for a whole file, and "
        "why the model says so."
    )
    keep_widget_values(KEPT_WIDGETS)
    predictor = predictor_or_stop()
    threshold = threshold_ui()
    prediction_log = log_ui()
    store_text = store_text_ui(prediction_log)
    set_page_context(PageContext(predictor, threshold, prediction_log, store_text))
    page.run()


if __name__ == "__main__":
    main()
