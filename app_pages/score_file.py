"""The "Score a file" page: upload, pick the text column, score, look and download."""

from __future__ import annotations

import hashlib
import uuid

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from app_pages.charts import label_bars, label_mix_over_time_chart
from app_pages.shared import (
    LABEL_NAMES,
    NO_TEXT,
    PageContext,
    ScoredUpload,
    counted_rows,
    escape_markdown,
    logged_ui,
    page_context,
)
from sentiment import config
from sentiment.batch.brand_scoring import content_keys
from sentiment.batch.upload import (
    OTHER_LANGUAGE,
    brand_values,
    label_mix_over_time,
    relabel,
    result_mask,
    score_frame,
    scored_file_bytes,
    scored_file_name,
    summarize,
)
from sentiment.files.formats import DataError
from sentiment.files.timestamps import detect_time_column, iso_or_none, parse_times
from sentiment.files.upload import (
    UploadedTable,
    check_text_column,
    most_text_like_column,
    read_upload,
)

# Small chunks so the progress bar moves every second or two.
PROGRESS_CHUNK_ROWS = 2_000
PREVIEW_ROWS = 10
# The browser table shows this many rows; the download always has them all.
SHOWN_ROWS = 1_000
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
REVIEW_FILTERS = {"All rows": None, "Needs review": True, "Confident": False}
BRAND_COLUMNS = ("brand", "brands")
NO_BRAND_COLUMN = "(no brand column)"


def render(context: PageContext) -> None:
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
        st.error(escape_markdown(str(e)))
        return
    text_col = text_column_ui(table)
    if text_col is None:
        return
    score_all = st.toggle(
        "Score posts in every language",
        value=False,
        help="The model was trained on English posts. Off: posts detected in "
        "another language keep their row with status 'unsupported_language' and "
        "no label. On: they are scored anyway (expect poor labels).",
    )
    if st.button("Score", type="primary"):
        st.session_state["scored_upload"] = score_upload(
            context,
            uploaded.file_id,
            table,
            text_col,
            hashlib.sha256(uploaded.getvalue()).hexdigest(),
            score_all,
        )
    run = st.session_state.get("scored_upload")
    if run is None or run.file_id != uploaded.file_id:
        return
    if run.text_col != text_col:
        st.info(
            "The text column changed since this file was scored: press Score to "
            "score the new column."
        )
        return
    log_upload_ui(context, table, run)
    # A new threshold re-labels the rows (needs review or not) without scoring
    # them again; the filters and the date column stay as they were.
    results_ui(table, run, relabel(run.scored, context.threshold))


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
    if table.warning:
        st.warning(escape_markdown(table.warning))
    if table.fmt.encoding_guessed:
        st.warning(
            f"{escape_markdown(name)} is not valid UTF-8; it was read as "
            f"{table.fmt.encoding}. If accents or emoji look wrong below, save it as "
            "UTF-8 and upload again."
        )
    delimiter = table.fmt.delimiter
    layout = (
        "one post per line"
        if table.plain_text
        else f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated"
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
            f"No column of {escape_markdown(table.name)} holds text: every cell is "
            "empty or a number. Upload a file with a column of posts."
        )
        return None
    text_col = st.selectbox(
        "Column with the posts", columns, index=columns.index(default)
    )
    try:
        check_text_column(table, text_col)
    except DataError as e:
        st.error(escape_markdown(str(e)))
        return None
    empty = int((table.frame[text_col].str.strip() == "").sum())
    if empty:
        st.warning(
            f"{counted_rows(empty)} without text in '{escape_markdown(text_col)}'. "
            "They are kept in the results and the download, with status 'no_text' "
            "and no label."
        )
    return text_col


def score_upload(
    context: PageContext,
    file_id: str,
    table: UploadedTable,
    text_col: str,
    file_sha256: str,
    score_all: bool = False,
) -> ScoredUpload:
    """Score the text column with a progress bar; the results and the download."""
    bar = st.progress(0.0, text="Scoring…")
    scored = score_frame(
        context.predictor,
        table.frame[text_col].tolist(),
        context.threshold,
        PROGRESS_CHUNK_ROWS,
        lambda done, total: bar.progress(
            done / total, text=f"Scored {done:,} of {total:,} rows"
        ),
        score_all_languages=score_all,
    )
    run = ScoredUpload(
        file_id,
        text_col,
        context.threshold,
        scored,
        scored_file_bytes(table, scored),
        uuid.uuid4().hex,
        file_sha256,
    )
    bar.empty()
    return run


def log_upload_ui(
    context: PageContext, table: UploadedTable, run: ScoredUpload
) -> None:
    """Log the scored rows once, with posting times where the file has them.

    Each row's content key is the file's bytes (their SHA-256), its row number
    and text: pressing Score again, or uploading the same file again, adds
    nothing to the log.
    """
    texts = table.frame[run.text_col].tolist()
    time_col = detect_time_column(table.frame)
    posted = (
        [iso_or_none(t) for t in parse_times(table.frame[time_col])]
        if time_col
        else [None] * len(texts)
    )
    rows = [f"{run.file_sha256}:{i}" for i in range(len(texts))]
    keys = content_keys(texts, posted, [[] for _ in texts], rows)
    logged_ui(context, "file", run.request_id, texts, run.scored, keys, posted)


def results_ui(table: UploadedTable, run: ScoredUpload, scored: pd.DataFrame) -> None:
    """Summary, label mix (over time), the filterable table and the download."""
    summary, mix = summarize(scored)
    cells = st.columns(5)
    cells[0].metric("Rows scored", f"{summary.rows:,}")
    for cell, row in zip(cells[1:4], mix.itertuples(index=False)):
        cell.metric(LABEL_NAMES[row.label], f"{row.share:.1%}")
        cell.caption(counted_rows(row.count))
    cells[4].metric("Need review", f"{summary.needs_review / summary.rows:.1%}")
    cells[4].caption(counted_rows(summary.needs_review))
    if summary.no_text:
        st.caption(f"{counted_rows(summary.no_text)} had no text (status 'no_text').")
    other = int(mix.loc[mix["label"] == OTHER_LANGUAGE, "count"].sum())
    if other:
        st.caption(
            f"{counted_rows(other)} not in English were left unscored (status "
            "'unsupported_language'); switch on 'Score posts in every language' "
            "and press Score to score them anyway."
        )
    left, right = st.columns(2)
    with left:
        st.markdown("**Label mix**")
        labelled = mix[~mix["label"].isin([NO_TEXT, OTHER_LANGUAGE])].assign(
            label=lambda m: m["label"].map(LABEL_NAMES)
        )
        st.altair_chart(label_bars(labelled, "share"))
    with right:
        over_time_ui(table, run)
    keep = filtered_table_ui(table, run, scored)
    download_ui(table, run, scored, keep)


def filtered_table_ui(
    table: UploadedTable, run: ScoredUpload, scored: pd.DataFrame
) -> pd.Series:
    """Every column of the file and the predictions, filtered by label, review
    flag and brand; the first SHOWN_ROWS. Returns the filter as a row mask."""
    results = pd.concat([table.frame.reset_index(drop=True), scored], axis=1)
    choices = {LABEL_NAMES[label]: label for label in config.LABELS}
    choices["No label"] = ""  # no text, or not in English
    left, middle, right = st.columns(3)
    picked = left.multiselect("Labels", list(choices), default=list(choices))
    review = middle.radio("Review", list(REVIEW_FILTERS), horizontal=True)
    brand_col, brands = brand_filter_ui(right, table)
    keep = result_mask(
        results, [choices[p] for p in picked], REVIEW_FILTERS[review], brand_col, brands
    )
    shown = results[keep]
    st.caption(
        f"{len(shown):,} matching rows"
        + (f"; the first {SHOWN_ROWS:,} are shown" if len(shown) > SHOWN_ROWS else "")
    )
    st.dataframe(shown.head(SHOWN_ROWS), hide_index=True)
    return keep


def brand_filter_ui(column, table: UploadedTable) -> tuple[str | None, list | None]:
    """A brand filter over a column of brands (``brand``/``brands`` by default)."""
    columns = list(table.frame.columns)
    default = next((c for c in columns if str(c).lower() in BRAND_COLUMNS), None)
    brand_col = column.selectbox(
        "Brand column",
        [NO_BRAND_COLUMN, *columns],
        index=1 + columns.index(default) if default is not None else 0,
    )
    if brand_col == NO_BRAND_COLUMN:
        return None, None
    names = brand_values(table.frame[brand_col])
    brands = column.multiselect("Brands", names, default=names)
    return brand_col, brands


def download_ui(
    table: UploadedTable, run: ScoredUpload, scored: pd.DataFrame, keep: pd.Series
) -> None:
    """Download the whole file or the filtered rows, spreadsheet-safe or not."""
    left, right = st.columns(2)
    which = left.radio(
        "Download",
        ["Whole file", f"Filtered rows ({int(keep.sum()):,})"],
        horizontal=True,
    )
    safe = right.toggle(
        "Spreadsheet-safe",
        value=True,
        help="Cells that start with = + - @ (or a tab or line break) are what "
        "Excel, LibreOffice and Google Sheets run as formulas, which a hostile "
        "post can use to run commands or leak data. Spreadsheet-safe puts a ' "
        "in front of such cells so they show as text. Tweets that start with an "
        "@handle get it too: '@user =HYPERLINK(...)' would still run, so a "
        "handle is not trusted. Switch off only for a file you read with code "
        "(pandas, R), never open in a spreadsheet.",
    )
    whole = which == "Whole file"
    if whole and safe and scored["needs_review"].equals(run.scored["needs_review"]):
        data = run.download  # as scored: no need to write it again
    else:
        data = scored_file_bytes(table, scored, None if whole else keep, safe)
    right.caption(
        "Formula-like cells get a leading ' (spreadsheet-safe)."
        if safe
        else "Cells are written exactly as they were: do not open it in a "
        "spreadsheet."
    )
    st.download_button(
        "Download the scored file",
        data=data,
        file_name=scored_file_name(table.name),
        mime="text/csv",
        on_click="ignore",
        type="primary",
        help="Your file, every column, rows in order, with the prediction columns "
        "added: all rows, or only those the filters above keep.",
    )


def over_time_ui(table: UploadedTable, run: ScoredUpload) -> None:
    """Label mix per period for a date column the user picks."""
    none = "(no date column)"
    options = [none] + [c for c in table.frame.columns if c != run.text_col]
    detected = detect_time_column(table.frame)
    date_col = st.selectbox(
        "Label mix over time, by date column",
        options,
        index=options.index(detected) if detected in options else 0,
    )
    if date_col == none:
        return
    try:
        over_time, unparsed = label_mix_over_time(
            table.frame[date_col], run.scored["sentiment"]
        )
    except DataError as e:
        st.error(escape_markdown(str(e)))
        return
    st.altair_chart(label_mix_over_time_chart(over_time))
    if unparsed:
        st.caption(f"{counted_rows(unparsed)} without a readable date are not shown.")


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
