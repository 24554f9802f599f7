"""The Streamlit page: analyse posts, score a file, read the model card, monitor.

Run with ``streamlit run app.py``. Every decision is made by the ``sentiment``
package; this file only lays out widgets and shows what the package returns.
Set ``SENTIMENT_MODEL_PATH`` to serve another model than models/model.pkl.
Every prediction the page answers is written to the prediction log
(``SENTIMENT_LOG_DB``, see sentiment.logstore), which the Monitoring tab reads.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import altair as alt
import pandas as pd
import streamlit as st
from sentiment import config
from sentiment.batch.upload import (
    filter_results,
    label_mix_over_time,
    score_frame,
    scored_file_bytes,
    scored_file_name,
    summarize,
)
from sentiment.files.formats import DataError
from sentiment.files.upload import (
    UploadedTable,
    check_text_column,
    most_text_like_column,
    read_upload,
)
from sentiment.model.artifacts import ModelLoadError
from sentiment.model.explain import top_contributions, top_features_per_class
from sentiment.model.predictor import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    Predictor,
    load_predictor,
    model_version,
    prepare_text,
)
from sentiment.ops.drift import DriftReport, check_drift, default_reference
from sentiment.ops.drift_report import drift_table, render_html
from sentiment.ops.logstore import (
    LogStoreError,
    PredictionLog,
    open_default_log,
)
from sentiment.ops.sampling import parse_time
from sentiment.ops.views import MonitoringView, monitoring_view
from sentiment.serving.client import ApiError, ApiPredictor
from streamlit.runtime.uploaded_file_manager import UploadedFile

LABEL_NAMES = {"negative": "Negative", "neutral": "Neutral", "positive": "Positive"}
LABEL_COLORS = {"negative": "#d62728", "neutral": "#8c8c8c", "positive": "#2ca02c"}
LABEL_MARKDOWN_COLORS = {"negative": "red", "neutral": "gray", "positive": "green"}
NO_TEXT = "no text"

# The text box is for a handful of posts; longer lists belong in a file.
MAX_ANALYSE_POSTS = 50
# Small chunks so the progress bar moves every second or two.
PROGRESS_CHUNK_ROWS = 2_000
PREVIEW_ROWS = 10
# The browser table shows this many rows; the download always has them all.
SHOWN_ROWS = 1_000
EXPLAINED_TOKENS = 8
INDICATIVE_NGRAMS = 10
# The prediction log's "source" column for rows the page writes.
LOG_SOURCE = "page"
TABS = ["Analyse text", "Score a file", "Model card", "Monitoring"]
# Monitoring: how far back the charts and the drift check look (ages as
# sentiment.monitor.parse_time reads them; None means everything logged).
WINDOWS = {
    "Last 24 hours": "24h",
    "Last 7 days": "7d",
    "Last 30 days": "30d",
    "Everything": None,
}
DEFAULT_WINDOW = "Last 7 days"
REVIEW_ROWS = 50
SHOWN_CORRECTIONS = 20

# Published macro-averaged recall on the SemEval-2017 Task 4A test set
# (copied from shared/data/semeval2017/README.md), to put our score in context.
REFERENCE_SCORES = pd.DataFrame(
    [
        ("SemEval-2017 best systems (deep ensembles)", 0.681),
        ("TweetEval: SVM", 0.629),
        ("TweetEval: FastText", 0.629),
        ("TweetEval: RoBERTa-base", 0.713),
    ],
    columns=["system", "macro recall (AvgRec)"],
)


@dataclass(frozen=True)
class ScoredUpload:
    """One scoring run of an upload, kept across reruns of the page."""

    file_id: str
    text_col: str
    threshold: float
    scored: pd.DataFrame
    download: bytes
    request_id: str  # the prediction log's id for this run


@dataclass(frozen=True)
class DriftCheck:
    """The last drift check of this session: its period and report, or why not."""

    window: str
    checked: datetime
    report: DriftReport | None
    html: str = ""
    error: str = ""


@st.cache_resource(show_spinner="Loading the model…")
def get_predictor(path: str | None, api_url: str | None) -> Predictor | ApiPredictor:
    """The API client when $SENTIMENT_API_URL is set, else the local model, once per
    process; a path set by the operator is trusted."""
    if api_url:
        return ApiPredictor(api_url)
    return load_predictor(path, allow_outside_models_dir=path is not None)


def model_ui() -> Predictor | ApiPredictor:
    """Load the configured model, or explain why not and stop the page."""
    path = config.model_path_from_env()
    api_url = config.api_url_from_env()
    try:
        return get_predictor(None if path is None else str(path), api_url)
    except (ModelLoadError, ApiError) as e:
        st.error(
            f"The model could not be loaded: {e}\n\nSet {config.MODEL_PATH_ENV} to a "
            "model.pkl written by `python -m sentiment.train`, or restore "
            f"{config.DEFAULT_MODEL_PATH}."
        )
        st.stop()


@st.cache_resource(show_spinner=False)
def get_log(configured_path: str) -> PredictionLog | None:
    """Open the prediction log once per process, shared by every session.

    ``configured_path`` (from ``SENTIMENT_LOG_DB``) is the cache key, so a
    different configuration opens its own file; the rest of the settings are
    read from the environment by ``open_default_log``.
    """
    return open_default_log()


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
        return get_log(str(path))
    except LogStoreError as e:
        # The page still answers; only the bookkeeping is missing.
        st.sidebar.error(f"Predictions are NOT being logged. {_escape(str(e))}")
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


def logged_ui(
    prediction_log: PredictionLog | None,
    tab: str,
    request_id: str,
    predictor: Predictor,
    texts: Sequence[object],
    scored: pd.DataFrame,
    store_text: bool,
) -> None:
    """Log one answered request once (reruns reuse the result); warn if it failed.

    Rows are written before the answer is shown. A failed write is counted as
    dropped by the log; the page still answers and says so.
    """
    if prediction_log is None or isinstance(predictor, ApiPredictor):
        return  # through the API, the API has logged each prediction already
    results = st.session_state.setdefault("log_results", {})
    result = results.get(tab)
    if result is None or result.request_id != request_id:
        result = prediction_log.append(
            LOG_SOURCE,
            request_id,
            model_version(predictor),
            texts,
            scored,
            store_text=store_text,
        )
        results[tab] = result
    if not result.logged:
        st.warning(
            f"{_rows(len(texts))} could not be written to the prediction log "
            "(they are counted as dropped; see the Monitoring tab). The results "
            "below are not affected."
        )


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


def analyse_ui(
    predictor: Predictor,
    threshold: float,
    prediction_log: PredictionLog | None,
    store_text: bool,
) -> None:
    """Text box for posts, one per line, and a verdict with its reasons for each."""
    text = st.text_area(
        "Posts, one per line",
        height=140,
        placeholder="I love the new phone, the camera is great!\n"
        "Worst customer service ever :(",
    )
    if st.button("Analyse", type="primary"):
        st.session_state["analysed_text"] = text
        # One request per click: reruns show the same answer and log nothing new.
        st.session_state["analyse_request"] = uuid.uuid4().hex
    lines = st.session_state.get("analysed_text", "").splitlines()
    posts = [line for line in lines if line.strip()]
    if not posts:
        if "analysed_text" in st.session_state:
            st.warning("There is no text to analyse: type or paste at least one post.")
        return
    if len(posts) > MAX_ANALYSE_POSTS:
        st.warning(
            f"Analysing the first {MAX_ANALYSE_POSTS} of {len(posts)} posts. Use the "
            "'Score a file' tab for longer lists."
        )
        posts = posts[:MAX_ANALYSE_POSTS]
    scored = predictor.score(posts, threshold)
    logged_ui(
        prediction_log,
        "analyse",
        st.session_state["analyse_request"],
        predictor,
        posts,
        scored,
        store_text,
    )
    if len(posts) > 1:
        st.dataframe(
            _results_table(pd.Series(posts, name="post"), scored), hide_index=True
        )
    for post, row in zip(posts, scored.itertuples(index=False)):
        with st.container(border=True):
            verdict_ui(predictor, post, row, threshold)


def verdict_ui(predictor: Predictor, post: str, row: Any, threshold: float) -> None:
    """Label, confidence, review marker, probabilities and top tokens of one post."""
    st.markdown(f"> {_escape(post)}")
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
        st.altair_chart(_label_bars(probabilities, "probability"))
    with right:
        if not hasattr(predictor, "pipeline"):
            st.caption("Word contributions are shown when the page runs the model.")
            return
        text, _ = prepare_text(post)
        words, chars = (
            [
                (name.split("__", 1)[1], value)
                for name, value in top_contributions(
                    predictor.pipeline, text, row.sentiment, EXPLAINED_TOKENS, part
                )
            ]
            for part in ("word", "char")
        )
        st.markdown(f"**Words that pushed towards {name}**")
        if words:
            color = LABEL_MARKDOWN_COLORS[row.sentiment]
            st.markdown(
                " ".join(f":{color}-background[{_escape(word)}]" for word, _ in words)
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
            column_config={
                "contribution": st.column_config.NumberColumn(format="%.3f")
            },
        )
        st.caption("Contribution = TF-IDF value × the class's coefficient.")


def file_ui(
    predictor: Predictor,
    threshold: float,
    prediction_log: PredictionLog | None,
    store_text: bool,
) -> None:
    """Upload, preview, pick the text column, score with progress, show and download."""
    limit_mb = int(st.get_option("server.maxUploadSize"))
    uploaded = st.file_uploader(
        f"CSV or TSV with a header row, or .txt with one post per line (at most "
        f"{limit_mb} MB; larger files: `python -m sentiment.predict`)",
        type=["csv", "tsv", "tab", "txt"],
    )
    if uploaded is None:
        # Let go of the last file's table and results once it is removed.
        st.session_state.pop("upload", None)
        st.session_state.pop("scored_upload", None)
        return
    try:
        table = upload_ui(uploaded, limit_mb)
    except DataError as e:
        st.error(_escape(str(e)))
        return
    text_col = text_column_ui(table)
    if text_col is None:
        return
    if st.button("Score", type="primary"):
        bar = st.progress(0.0, text="Scoring…")
        scored = score_frame(
            predictor,
            table.frame[text_col].tolist(),
            threshold,
            PROGRESS_CHUNK_ROWS,
            lambda done, total: bar.progress(
                done / total, text=f"Scored {done:,} of {total:,} rows"
            ),
        )
        st.session_state["scored_upload"] = ScoredUpload(
            uploaded.file_id,
            text_col,
            threshold,
            scored,
            scored_file_bytes(table, scored),
            uuid.uuid4().hex,
        )
        bar.empty()
    run = st.session_state.get("scored_upload")
    if run is None or run.file_id != uploaded.file_id:
        return
    if (run.text_col, run.threshold) != (text_col, threshold):
        st.info(
            "The text column or the threshold changed since this file was scored: "
            "press Score to update the results."
        )
        return
    logged_ui(
        prediction_log,
        "file",
        run.request_id,
        predictor,
        table.frame[run.text_col].tolist(),
        run.scored,
        store_text,
    )
    results_ui(table, run)


def upload_ui(uploaded: UploadedFile, limit_mb: int) -> UploadedTable:
    """Read an upload once per file (kept in the session), and describe it."""
    name = uploaded.name
    cached = st.session_state.get("upload")
    if cached is not None and cached[0] == uploaded.file_id:
        table = cached[1]
    else:
        # getvalue() copies the bytes, so it is called once per file, not per rerun.
        table = read_upload(uploaded.getvalue(), name, max_bytes=limit_mb * 2**20)
        st.session_state["upload"] = (uploaded.file_id, table)
    if table.fmt.encoding_guessed:
        st.warning(
            f"{_escape(name)} is not valid UTF-8; it was read as "
            f"{table.fmt.encoding}. If accents or emoji look wrong below, save it as "
            "UTF-8 and upload again."
        )
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    layout = (
        "one post per line"
        if table.plain_text
        else f"{delimiter.get(table.fmt.delimiter, repr(table.fmt.delimiter))}-"
        "separated"
    )
    st.caption(
        f"{len(table.frame):,} rows · {len(table.frame.columns)} columns · "
        f"{table.fmt.encoding} · {layout}"
    )
    st.dataframe(table.frame.head(PREVIEW_ROWS), hide_index=True)
    return table


def text_column_ui(table: UploadedTable) -> str | None:
    """Column picker defaulting to the most text-like column; None if unusable."""
    columns = list(table.frame.columns)
    default = most_text_like_column(table.frame)
    if default is None:
        st.error(
            f"No column of {_escape(table.name)} holds text: every cell is empty or "
            "a number. Upload a file with a column of posts."
        )
        return None
    text_col = st.selectbox(
        "Column with the posts", columns, index=columns.index(default)
    )
    try:
        check_text_column(table, text_col)
    except DataError as e:
        st.error(_escape(str(e)))
        return None
    empty = int((table.frame[text_col].str.strip() == "").sum())
    if empty:
        st.warning(
            f"{_rows(empty)} without text in '{_escape(text_col)}'. They are kept "
            "in the results and the download, with status 'no_text' and no label."
        )
    return text_col


def results_ui(table: UploadedTable, run: ScoredUpload) -> None:
    """Summary, label mix (over time), filterable table and the download button."""
    summary, mix = summarize(run.scored)
    cells = st.columns(5)
    cells[0].metric("Rows scored", f"{summary.rows:,}")
    for cell, row in zip(cells[1:4], mix.itertuples(index=False)):
        cell.metric(LABEL_NAMES[row.label], f"{row.share:.1%}")
        cell.caption(_rows(row.count))
    cells[4].metric("Need review", f"{summary.needs_review / summary.rows:.1%}")
    cells[4].caption(_rows(summary.needs_review))
    if summary.no_text:
        st.caption(f"{_rows(summary.no_text)} had no text (status 'no_text').")
    left, right = st.columns(2)
    with left:
        st.markdown("**Label mix**")
        labelled = mix[mix["label"] != NO_TEXT].assign(
            label=lambda m: m["label"].map(LABEL_NAMES)
        )
        st.altair_chart(_label_bars(labelled, "share"))
    with right:
        over_time_ui(table, run)

    st.download_button(
        "Download the scored file",
        data=run.download,
        file_name=scored_file_name(table.name),
        mime="text/csv",
        on_click="ignore",
        type="primary",
        help="Your file, every row in order, with the prediction columns added.",
    )
    results = pd.concat(
        [table.frame[[run.text_col]].reset_index(drop=True), run.scored], axis=1
    )
    choices = {LABEL_NAMES[label]: label for label in config.LABELS}
    choices["No text"] = ""
    left, right = st.columns(2)
    picked = left.multiselect("Labels", list(choices), default=list(choices))
    review = right.radio(
        "Review", ["All rows", "Needs review", "Confident"], horizontal=True
    )
    flag = {"All rows": None, "Needs review": True, "Confident": False}[review]
    shown = filter_results(results, [choices[p] for p in picked], flag)
    st.caption(
        f"{len(shown):,} matching rows"
        + (f"; the first {SHOWN_ROWS:,} are shown" if len(shown) > SHOWN_ROWS else "")
    )
    st.dataframe(shown.head(SHOWN_ROWS), hide_index=True)


def over_time_ui(table: UploadedTable, run: ScoredUpload) -> None:
    """Label mix per period for a date column the user picks."""
    none = "(no date column)"
    options = [none] + [c for c in table.frame.columns if c != run.text_col]
    date_col = st.selectbox("Label mix over time, by date column", options)
    if date_col == none:
        return
    try:
        over_time, unparsed = label_mix_over_time(
            table.frame[date_col], run.scored["sentiment"]
        )
    except DataError as e:
        st.error(_escape(str(e)))
        return
    chart = (
        alt.Chart(over_time.assign(label=over_time["label"].map(LABEL_NAMES)))
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%")),
            color=_label_color(),
            tooltip=["period:T", "label", "count", alt.Tooltip("share", format=".1%")],
        )
    )
    st.altair_chart(chart)
    if unparsed:
        st.caption(f"{_rows(unparsed)} without a readable date are not shown.")


def model_card_ui(predictor: Predictor) -> None:
    """What the model is, what it was trained on, how well it does, what it looks at."""
    card = predictor.card
    params = card.get("hyperparameters", config.HYPERPARAMS)
    word, char = params["word_ngram_range"], params["char_ngram_range"]
    extras = []
    if params.get("lexicon_scale") or params.get("pattern_scale"):
        extras.append("sentiment-lexicon scores (VADER, TextBlob)")
    if params.get("vector_scale"):
        extras.append(
            "the mean of its words' pretrained vectors (distilled from "
            "all-MiniLM-L6-v2), so that similar words it never saw count too"
        )
    st.markdown(
        f"**What it is.** TF-IDF of word {word[0]}–{word[1]}-grams and character "
        f"{char[0]}–{char[1]}-grams of tweet-normalized text (URLs and @users as "
        "placeholders, hashtags split, negation marked)"
        + "".join(f", plus {extra}" for extra in extras)
        + ", fed to a logistic regression over the three classes. Model version "
        f"`{predictor.version}`."
    )
    training = card.get("training_data") or {}
    counts = training.get("label_counts") or {}
    st.markdown(
        f"**Trained** {card.get('created', 'at an unrecorded time')} on "
        f"`{training.get('file', 'unrecorded data')}` "
        f"({training.get('rows_used', 0):,} posts: "
        + ", ".join(f"{counts.get(label, 0):,} {label}" for label in config.LABELS)
        + f"; SHA-256 `{str(training.get('sha256', ''))[:12]}`)."
    )
    metrics = card.get("test_metrics")
    if metrics:
        data = metrics.get("data", {})
        st.subheader(f"Benchmark: {data.get('file', 'test set')}")
    else:
        metrics = card.get("validation_metrics")
        st.subheader("Validation split")
        st.caption("This model's card records no benchmark (test set) evaluation.")
    if metrics:
        metrics_ui(metrics)
    st.markdown("**Published results on the SemEval-2017 test set, for comparison**")
    st.dataframe(REFERENCE_SCORES, hide_index=True)
    if not hasattr(predictor, "pipeline"):
        return
    st.subheader("Most indicative word n-grams per class")
    columns = st.columns(len(config.LABELS))
    indicative = top_features_per_class(predictor.pipeline, INDICATIVE_NGRAMS, "word")
    for column, label in zip(columns, config.LABELS):
        with column:
            st.markdown(f"**{LABEL_NAMES[label]}**")
            st.dataframe(
                pd.DataFrame(
                    [(name[6:], weight) for name, weight in indicative[label]],
                    columns=["n-gram", "weight"],
                ),
                hide_index=True,
                column_config={"weight": st.column_config.NumberColumn(format="%.2f")},
            )
    with st.expander("Hyperparameters and library versions"):
        st.json({k: card.get(k) for k in ("hyperparameters", "versions", "seed")})


def metrics_ui(metrics: dict[str, Any]) -> None:
    """Headline scores, per-class table and confusion matrix of one evaluation."""
    cells = st.columns(4)
    cells[0].metric("Macro recall (official)", f"{metrics['macro_recall']:.3f}")
    cells[1].metric("Accuracy", f"{metrics['accuracy']:.3f}")
    cells[2].metric("Macro F1", f"{metrics['macro_f1']:.3f}")
    cells[3].metric("F1-PN", f"{metrics['f1_pn']:.3f}")
    st.caption(f"{metrics['n']:,} labelled posts.")
    left, right = st.columns(2)
    with left:
        st.dataframe(
            pd.DataFrame(metrics["per_class"]).T.rename(index=LABEL_NAMES),
            column_config={
                "support": st.column_config.NumberColumn(format="%d"),
                **{
                    name: st.column_config.NumberColumn(format="%.3f")
                    for name in ("precision", "recall", "f1")
                },
            },
        )
    with right:
        cells = [
            {"true": LABEL_NAMES[t], "predicted": LABEL_NAMES[p], "count": n}
            for t, row in zip(config.LABELS, metrics["confusion_matrix"])
            for p, n in zip(config.LABELS, row)
        ]
        order = [LABEL_NAMES[label] for label in config.LABELS]
        base = alt.Chart(pd.DataFrame(cells)).encode(
            x=alt.X("predicted:N", sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("true:N", sort=order),
        )
        st.altair_chart(
            (
                base.mark_rect().encode(
                    color=alt.Color(
                        "count:Q", legend=None, scale=alt.Scale(scheme="blues")
                    )
                )
                + base.mark_text(fontSize=14).encode(
                    text=alt.Text("count:Q", format=","),
                    color=alt.value("black"),
                )
            ).properties(height=220, title="Confusion matrix (rows: true label)")
        )


@st.fragment
def monitoring_ui(prediction_log: PredictionLog | None, predictor: Predictor) -> None:
    """Volume, label mix, confidence, spike alerts, log stats, drift and review.

    A fragment: its controls rerun only this tab, not the scoring above.
    """
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
    drift_ui(prediction_log, predictor, window, since)
    review_ui(prediction_log)


def logging_off_ui() -> None:
    """Say why there is nothing to monitor and how to change that."""
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
    top_left.altair_chart(_volume_chart(frame, freq))
    top_right.altair_chart(_label_mix_chart(frame, freq))
    bottom_left, bottom_right = st.columns(2)
    bottom_left.altair_chart(_negative_share_chart(frame, freq))
    bottom_right.altair_chart(_confidence_chart(frame, freq))
    st.caption(
        f"Times are UTC. A {freq} is flagged (red) when its negative share is above "
        f"the mean of the previous {config.SPIKE_WINDOW[freq]} {freq}s + "
        f"{config.SPIKE_K:g}σ and it has at least {config.SPIKE_MIN_POSTS} posts "
        "(`python -m sentiment.monitor spikes`)."
    )
    alerts = view.alerts
    if alerts.empty:
        st.success(f"No negative spike in {_count(len(series), freq)}.")
        return
    st.error(
        f"⚠️ {_count(len(alerts), 'negative spike')}: look at "
        "what was posted then (the review queue below holds the unsure ones)."
    )
    st.dataframe(
        alerts.reset_index()[
            ["period", "n", "negative", "share_negative", "baseline_mean", "threshold"]
        ],
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
            f"{_rows(stats['dropped_rows'])} could not be written to the log (the "
            "predictions were still answered). `python -m sentiment.monitor "
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
        f"{_minute(stats['first'])} to {_minute(stats['last'])} UTC"
    )


def drift_ui(
    prediction_log: PredictionLog,
    predictor: Predictor,
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
        st.error(_escape(check.error))
        return
    st.caption(
        f"Reference: {_escape(check.report.reference.description)}, "
        f"{check.report.reference.n:,} posts. Current: "
        f"{_escape(check.report.current.description)}, "
        f"{check.report.current.n:,} posts."
    )
    if check.report.drift_detected:
        st.error("**Drift detected**: the inputs or outputs moved (see the table).")
    else:
        st.success("No drift detected.")
    st.dataframe(
        drift_table(check.report),
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format="%.4g")
            for name in ("statistic", "p_value", "psi")
        },
    )
    st.download_button(
        "Download the drift report (HTML)",
        data=check.html,
        file_name="drift_report.html",
        mime="text/html",
        on_click="ignore",
    )


def run_drift_check(
    prediction_log: PredictionLog,
    predictor: Predictor,
    window: str,
    since: datetime | None,
) -> DriftCheck:
    """Run ``check_drift`` on the log against the served model's profile."""
    checked = datetime.now(timezone.utc)
    try:
        report = check_drift(
            prediction_log.path,
            default_reference(config.model_path_from_env()),
            predictor,
            since=since,
        )
    except (DataError, LogStoreError, ValueError) as e:
        return DriftCheck(window, checked, None, error=f"No drift check: {e}")
    return DriftCheck(window, checked, report, render_html(report))


def review_ui(prediction_log: PredictionLog) -> None:
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
        review_form_ui(prediction_log, queue)
    corrections = prediction_log.corrections()
    if not corrections.empty:
        with st.expander(f"Corrections so far ({len(corrections):,})"):
            st.dataframe(
                corrections.tail(SHOWN_CORRECTIONS)[
                    ["prediction_id", "text", "predicted", "label", "ts"]
                ].iloc[::-1],
                hide_index=True,
            )
    st.markdown(
        "**Retrain with the corrections**, then let the promotion gate decide "
        "whether the new model replaces the served one (restart the page to serve "
        "it):"
    )
    st.code(
        "python -m sentiment.train --data ../shared/data/semeval2017/train.csv \\\n"
        f"    --include-feedback {prediction_log.path} \\\n"
        "    --out models/candidates/model.pkl\n"
        "python -m sentiment.promote models/candidates/model.pkl",
        language="bash",
    )


def review_form_ui(prediction_log: PredictionLog, queue: pd.DataFrame) -> None:
    """An editable table of the queue with a 'right label' column, and Save."""
    st.caption(
        f"The newest {len(queue):,} predictions marked needs review (confidence "
        "below the threshold, or no word the model knows). Pick the right label "
        "in the last column and press Save; rows left empty stay in the queue."
    )
    table = pd.DataFrame(
        {
            "id": queue["id"],
            "time": queue["ts"],
            "source": queue["source"],
            "text": queue["text"].fillna("(text not stored)"),
            "predicted": queue["label"].map(LABEL_NAMES).fillna("no text"),
            "confidence": queue["confidence"],
            "right label": pd.Series([None] * len(queue), dtype=object),
        }
    )
    # A new key after each save gives a fresh editor over the refreshed queue.
    key = f"review_{st.session_state.setdefault('review_round', 0)}"
    with st.form("review"):
        st.data_editor(
            table,
            key=key,
            hide_index=True,
            disabled=[c for c in table.columns if c != "right label"],
            column_config={
                "time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "confidence": st.column_config.NumberColumn(format="%.2f"),
                "right label": st.column_config.SelectboxColumn(
                    options=list(config.LABELS), format_func=LABEL_NAMES.get
                ),
            },
        )
        st.form_submit_button(
            "Save corrections",
            type="primary",
            on_click=save_corrections,
            args=(prediction_log, key, table["id"].tolist()),
        )


def save_corrections(prediction_log: PredictionLog, key: str, ids: list[int]) -> None:
    """Save callback: store the labels picked in editor ``key`` (rows are ``ids``).

    Runs before the page reruns, so the rerun shows the refreshed queue.
    """
    edits = st.session_state[key]["edited_rows"]
    picked = {
        ids[int(row)]: change["right label"]
        for row, change in edits.items()
        if change.get("right label")
    }
    if not picked:
        st.session_state["review_message"] = (
            "warning",
            "Pick a label in the 'right label' column first.",
        )
        return
    try:
        for prediction_id, label in picked.items():
            prediction_log.record_correction(int(prediction_id), label)
    except (ValueError, sqlite3.Error) as e:
        # Saved ones are out of the queue; the rest keep their picks to retry.
        st.session_state["review_message"] = (
            "error",
            f"Not every correction was saved: {_escape(str(e))}",
        )
        return
    st.session_state["review_round"] += 1
    st.session_state["review_message"] = (
        "success",
        f"Saved {_count(len(picked), 'correction')}.",
    )


def _volume_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Predictions per period; flagged periods in red."""
    return (
        alt.Chart(frame, title=f"Predictions per {freq}")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("n:Q", title="predictions"),
            color=alt.condition(
                "datum.alert", alt.value(LABEL_COLORS["negative"]), alt.value("#4c78a8")
            ),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("n:Q", title="predictions", format=","),
                "alert",
            ],
        )
        .properties(height=220)
    )


def _label_mix_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
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
            color=_label_color(),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d %H:%M"),
                "label",
                "count",
            ],
        )
        .properties(height=220)
    )


def _negative_share_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Negative share against the spike threshold; alerts as red points."""
    base = alt.Chart(frame, title=f"Negative share per {freq} and alert threshold")
    x = alt.X("period:T", title=None)
    share = base.mark_line(color=LABEL_COLORS["negative"]).encode(
        x=x,
        y=alt.Y("share_negative:Q", title=None, axis=alt.Axis(format="%")),
        tooltip=[
            alt.Tooltip("period:T", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("share_negative:Q", title="negative", format=".1%"),
            alt.Tooltip("threshold:Q", format=".1%"),
        ],
    )
    threshold = base.mark_line(color="#8c8c8c", strokeDash=[4, 4]).encode(
        x=x, y="threshold:Q"
    )
    alerts = (
        base.transform_filter("datum.alert")
        .mark_point(color=LABEL_COLORS["negative"], size=90, filled=True)
        .encode(x=x, y="share_negative:Q")
    )
    return (share + threshold + alerts).properties(height=220)


def _confidence_chart(frame: pd.DataFrame, freq: str) -> alt.Chart:
    """Mean confidence of the predictions per period."""
    return (
        alt.Chart(frame, title=f"Mean confidence per {freq}")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y(
                "mean_confidence:Q",
                title=None,
                scale=alt.Scale(domain=[1 / 3, 1]),
            ),
            tooltip=[
                alt.Tooltip("period:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("mean_confidence:Q", format=".3f"),
            ],
        )
        .properties(height=220)
    )


def _rows(n: int) -> str:
    return _count(n, "row")


def _minute(timestamp: str) -> str:
    """A logged ISO timestamp to the minute, as people read it."""
    return f"{pd.Timestamp(timestamp):%Y-%m-%d %H:%M}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _results_table(texts: pd.Series, scored: pd.DataFrame) -> pd.DataFrame:
    columns = ["sentiment", "confidence", "needs_review", "status"]
    return pd.concat([texts.reset_index(drop=True), scored[columns]], axis=1)


def _label_color() -> alt.Color:
    return alt.Color(
        "label:N",
        scale=alt.Scale(
            domain=[LABEL_NAMES[label] for label in config.LABELS],
            range=[LABEL_COLORS[label] for label in config.LABELS],
        ),
        legend=None,
    )


def _label_bars(frame: pd.DataFrame, value: str) -> alt.Chart:
    """Horizontal bars, one per label, in the fixed label colours."""
    order = [LABEL_NAMES[label] for label in config.LABELS]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{value}:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
            ),
            y=alt.Y(
                "label:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)
            ),
            color=_label_color(),
            tooltip=["label", alt.Tooltip(value, format=".1%")],
        )
        .properties(height=130)
    )


def _escape(text: str) -> str:
    """Show text from users' posts and files literally: no links, emphasis or HTML."""
    specials = "\\`*_{}[]()#+-.!|<>~:$"
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def main() -> None:
    """Lay out the page: the model, the threshold, the log and the four tabs."""
    st.set_page_config(page_title="Tweet sentiment", page_icon="💬", layout="wide")
    st.title("Tweet sentiment")
    st.caption(
        "Positive, neutral or negative: for posts you type, for a whole file, and "
        "why the model says so."
    )
    predictor = model_ui()
    threshold = threshold_ui()
    prediction_log = log_ui()
    store_text = store_text_ui(prediction_log)
    # Switching tabs reruns the page, so the Monitoring tab queries the log
    # only while it is open; the other tabs render as before.
    analyse, score_file, card, monitoring = st.tabs(TABS, key="tab", on_change="rerun")
    with analyse:
        analyse_ui(predictor, threshold, prediction_log, store_text)
    with score_file:
        file_ui(predictor, threshold, prediction_log, store_text)
    with card:
        model_card_ui(predictor)
    if monitoring.open:
        with monitoring:
            monitoring_ui(prediction_log, predictor)


if __name__ == "__main__":
    main()
