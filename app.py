"""The Streamlit page: analyse posts, score a file, read the model card.

Run with ``streamlit run app.py``. Every decision is made by the ``sentiment``
package; this file only lays out widgets and shows what the package returns.
Set ``SENTIMENT_MODEL_PATH`` to serve another model than models/model.pkl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from sentiment import config
from sentiment.artifacts import ModelLoadError
from sentiment.batch import (
    UploadedTable,
    check_text_column,
    filter_results,
    label_mix_over_time,
    most_text_like_column,
    read_upload,
    score_frame,
    scored_file_bytes,
    scored_file_name,
    summarize,
)
from sentiment.data import DataError
from sentiment.model import top_contributions, top_features_per_class
from sentiment.predict import (
    STATUS_NO_SIGNAL,
    STATUS_NO_TEXT,
    Predictor,
    load_predictor,
    prepare_text,
)

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


@st.cache_resource(show_spinner="Loading the model…")
def get_predictor(path: str | None) -> Predictor:
    """Load the model once per process; a path set by the operator is trusted."""
    return load_predictor(path, allow_outside_models_dir=path is not None)


def model_ui() -> Predictor:
    """Load the configured model, or explain why not and stop the page."""
    path = config.model_path_from_env()
    try:
        return get_predictor(None if path is None else str(path))
    except ModelLoadError as e:
        st.error(
            f"The model could not be loaded: {e}\n\nSet {config.MODEL_PATH_ENV} to a "
            "model.pkl written by `python -m sentiment.train`, or restore "
            f"{config.DEFAULT_MODEL_PATH}."
        )
        st.stop()


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


def analyse_ui(predictor: Predictor, threshold: float) -> None:
    """Text box for posts, one per line, and a verdict with its reasons for each."""
    text = st.text_area(
        "Posts, one per line",
        height=140,
        placeholder="I love the new phone, the camera is great!\n"
        "Worst customer service ever :(",
    )
    if st.button("Analyse", type="primary"):
        st.session_state["analysed_text"] = text
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


def file_ui(predictor: Predictor, threshold: float) -> None:
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
    st.markdown(
        f"**What it is.** TF-IDF of word {word[0]}–{word[1]}-grams and character "
        f"{char[0]}–{char[1]}-grams of tweet-normalized text (URLs and @users as "
        "placeholders, hashtags split, negation marked), fed to a logistic "
        "regression over the three classes. Model version "
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


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


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
    """Lay out the page: the model, the threshold, and the three tabs."""
    st.set_page_config(page_title="Tweet sentiment", page_icon="💬", layout="wide")
    st.title("Tweet sentiment")
    st.caption(
        "Positive, neutral or negative: for posts you type, for a whole file, and "
        "why the model says so."
    )
    predictor = model_ui()
    threshold = threshold_ui()
    analyse, score_file, card = st.tabs(["Analyse text", "Score a file", "Model card"])
    with analyse:
        analyse_ui(predictor, threshold)
    with score_file:
        file_ui(predictor, threshold)
    with card:
        model_card_ui(predictor)


if __name__ == "__main__":
    main()
