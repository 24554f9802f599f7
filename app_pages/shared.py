"""What every page uses: the cached model and log, the frame's context, labels.

Page files are run afresh on every rerun, so whatever must outlive one run
(caches, and the classes of objects kept in ``st.session_state``) lives in
this module, which is imported once per process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

import pandas as pd
import streamlit as st

from sentiment import config
from sentiment.model.artifacts import ModelLoadError
from sentiment.model.predictor import Predictor, model_version
from sentiment.ops.drift import DriftReport
from sentiment.ops.logstore import PredictionLog, open_default_log
from sentiment.ops.post_log import append_posts
from sentiment.serving.client import ApiError, ApiPredictor, get_predictor

LABEL_NAMES = {"negative": "Negative", "neutral": "Neutral", "positive": "Positive"}
LABEL_COLORS = {"negative": "#d62728", "neutral": "#8c8c8c", "positive": "#2ca02c"}
LABEL_MARKDOWN_COLORS = {"negative": "red", "neutral": "gray", "positive": "green"}
NO_TEXT = "no text"
# The prediction log's "source" column for rows the page writes.
LOG_SOURCE = "page"
# The Analyse text page's text box; the frame keeps it across page switches.
POSTS_KEY = "posts"
_CONTEXT_KEY = "page_context"


@dataclass(frozen=True)
class PageContext:
    """What the frame (app.py) sets up on every run for the page it then runs."""

    predictor: Predictor | ApiPredictor
    threshold: float  # the sidebar's review threshold
    prediction_log: PredictionLog | None  # None: logging is off or failed
    store_text: bool  # the sidebar's "store post texts" switch


@dataclass(frozen=True)
class ScoredUpload:
    """One scoring run of an upload, kept across reruns of the page."""

    file_id: str
    text_col: str
    threshold: float
    scored: pd.DataFrame
    download: bytes
    request_id: str  # the prediction log's id for this run
    file_sha256: str = ""  # of the uploaded bytes: the rows' content keys use it


@dataclass(frozen=True)
class DriftCheck:
    """The last drift check of this session: its period and report, or why not."""

    window: str
    checked: datetime
    report: DriftReport | None
    html: str = ""
    error: str = ""


def set_page_context(context: PageContext) -> None:
    """Hand this run's context to the page the frame runs next."""
    st.session_state[_CONTEXT_KEY] = context


def page_context() -> PageContext:
    """The context the frame set up on this run."""
    return st.session_state[_CONTEXT_KEY]


# --- the model and the prediction log, once per process ----------------------


@st.cache_resource(show_spinner="Loading the model…")
def cached_predictor(
    model_path: str | None, api_url: str | None, backend: str = config.DEFAULT_BACKEND
) -> Predictor | ApiPredictor:
    """``get_predictor()`` once per process, configuration and model tier.

    The first two arguments are the configuration ``get_predictor`` reads
    from the environment, passed only as the cache key, so that another
    configuration gets its own predictor. A model path set by the operator is
    trusted.
    """
    return get_predictor(backend=backend)


def backend_ui() -> str:
    """The model tier, from a sidebar select box (classic by default)."""
    default = config.backend_from_env()
    return st.sidebar.selectbox(
        "Model",
        config.BACKENDS,
        index=config.BACKENDS.index(default),
        help="classic: fastest. transformer: most accurate, slower. cascade: "
        "classic, with the transformer for the posts classic is unsure of.",
    )


def predictor_or_stop() -> Predictor | ApiPredictor:
    """Load the configured model, or explain why not and stop the page."""
    path = config.model_path_from_env()
    try:
        return cached_predictor(
            None if path is None else str(path), config.api_url_from_env(), backend_ui()
        )
    except (ModelLoadError, ApiError) as e:
        st.error(
            f"The model could not be loaded: {e}\n\nSet {config.MODEL_PATH_ENV} to a "
            f"model.pkl written by `{python_command()} -m sentiment.train`, or restore "
            f"{config.DEFAULT_MODEL_PATH}."
        )
        st.stop()


@st.cache_resource(show_spinner=False)
def cached_log(configured_path: str) -> PredictionLog | None:
    """Open the prediction log once per process, shared by every session.

    ``configured_path`` (from ``SENTIMENT_LOG_DB``) is the cache key, so a
    different configuration opens its own file; the rest of the settings are
    read from the environment by ``open_default_log``.
    """
    return open_default_log()


def logged_ui(
    context: PageContext,
    page: str,
    request_id: str,
    texts: Sequence[object],
    scored: pd.DataFrame,
    content_keys: Sequence[str] | None = None,
    posted_at: Sequence[str | None] | None = None,
) -> None:
    """Log one answered request once (reruns reuse the result); warn if it failed.

    Rows are written before the answer is shown. A failed write is counted as
    dropped by the log; the page still answers and says so. With
    ``content_keys`` a row already in the log (the same post scored again) is
    not written twice; ``posted_at`` are the posts' posting times.
    """
    prediction_log, predictor = context.prediction_log, context.predictor
    if prediction_log is None or isinstance(predictor, ApiPredictor):
        return  # through the API, the API has logged each prediction already
    results = st.session_state.setdefault("log_results", {})
    result = results.get(page)
    if result is None or result.request_id != request_id:
        if content_keys is None:
            result = prediction_log.append(
                LOG_SOURCE,
                request_id,
                model_version(predictor),
                texts,
                scored,
                store_text=context.store_text,
            )
        else:
            result = append_posts(
                prediction_log,
                LOG_SOURCE,
                request_id,
                model_version(predictor),
                texts,
                scored,
                posted_at or [None] * len(texts),
                [None] * len(texts),
                [None] * len(texts),
                content_keys,
                store_text=context.store_text,
            )
        results[page] = result
    if not result.logged:
        st.warning(
            f"{counted_rows(len(texts))} could not be written to the prediction log "
            "(they are counted as dropped; see the Monitoring page). The results "
            "below are not affected."
        )


def logging_off_ui() -> None:
    """Say why there is no prediction log to show and how to change that."""
    if config.log_path_from_env() is None:
        st.info(
            f"The prediction log is off ({config.LOG_DB_ENV}=off), so there is "
            "nothing to monitor. To record predictions, unset "
            f"{config.LOG_DB_ENV} (the log then goes to "
            f"`{config.DEFAULT_LOG_DB.relative_to(config.PROJECT_ROOT)}`) or set "
            "it to a writable file on a local disk, and restart the page."
        )
    else:
        st.error(
            "The prediction log could not be opened (the sidebar says why), so "
            f"there is nothing to monitor. Point {config.LOG_DB_ENV} at a writable "
            "file on a local disk and restart the page."
        )


# --- formatting ---------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Show text from users' posts and files literally: no links, emphasis or HTML."""
    specials = "\\`*_{}[]()#+-.!|<>~:$"
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless one: "1 row", "1,200 rows"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def counted_rows(n: int) -> str:
    """``counted(n, "row")``, the count most messages give."""
    return counted(n, "row")


def python_command() -> str:
    """The python to put in commands the page prints: the one running the page.

    Inside the project (its .venv) it is shown relative to the project root,
    e.g. ``.venv/bin/python``, so the command works from a checkout.
    """
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(config.PROJECT_ROOT))
    except ValueError:
        return str(executable)


def to_minute(timestamp: str) -> str:
    """A logged ISO timestamp to the minute, as people read it."""
    return f"{pd.Timestamp(timestamp):%Y-%m-%d %H:%M}"
