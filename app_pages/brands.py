"""The "Brands" page: brands side by side over posting time.

Upload an export of posts (or take the demo file) and a watchlist; the page
scores every post, tags it with the brands it mentions and compares them: net
sentiment over posting time with spikes marked, share of voice, label mix,
the most engaged negative posts and the top words per brand and label. The
numbers are those of ``python -m sentiment.brands`` on the same file.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import streamlit as st

from app_pages.brand_charts import (
    label_mix_by_brand_chart,
    net_sentiment_chart,
    share_of_voice_chart,
)
from app_pages.shared import (
    LABEL_NAMES,
    PageContext,
    counted,
    escape_markdown,
    page_context,
    python_command,
)
from sentiment import config
from sentiment.batch.brand_scoring import BrandOptions
from sentiment.batch.brand_view import (
    BrandView,
    analyse_brands,
    most_engaged_negative,
    top_words,
)
from sentiment.files.formats import DataError
from sentiment.files.timestamps import detect_time_column
from sentiment.files.upload import most_text_like_column, read_upload
from sentiment.ops.watchlist import watchlist_from_dict

DEMO_POSTS = config.PROJECT_ROOT / "examples" / "brand_posts.csv"
DEMO_WATCHLIST = config.PROJECT_ROOT / "examples" / "brands.toml"
NONE = "(none)"
VIEW_KEY = "brand_view"


def render(context: PageContext) -> None:
    """Source and watchlist, then the comparison of the brands picked."""
    table = source_ui()
    if table is None:
        return
    watchlist = watchlist_ui()
    columns = list(table.frame.columns)
    left, middle, right = st.columns(3)
    text_col = left.selectbox(
        "Column with the posts",
        columns,
        index=columns.index(most_text_like_column(table.frame) or columns[0]),
    )
    detected = detect_time_column(table.frame)
    time_col = middle.selectbox(
        "Posting time",
        [NONE, *columns],
        index=1 + columns.index(detected) if detected else 0,
        help="Detected from names like created_at or timestamp; ISO 8601 or "
        "epoch seconds. Trends and spikes follow this time.",
    )
    freq = right.radio("Per", ["day", "hour", "week"], horizontal=True)
    if st.button("Analyse brands", type="primary") and watchlist is not None:
        options = BrandOptions(
            watchlist=watchlist,
            time_col=None if time_col == NONE else time_col,
            freq=freq,
        )
        bar = st.progress(0.0, text="Scoring…")
        st.session_state[VIEW_KEY] = (
            table.name,
            analyse_brands(
                context.predictor,
                table.frame,
                text_col,
                options,
                context.threshold,
                on_progress=lambda done, total: bar.progress(
                    done / total, text=f"Scored {done:,} of {total:,} posts"
                ),
            ),
            freq,
        )
        bar.empty()
    kept = st.session_state.get(VIEW_KEY)
    if kept is not None and kept[0] == table.name:
        comparison_ui(kept[1], kept[2])


def source_ui():
    """The uploaded export, or the demo file; None until there is one."""
    uploaded = st.file_uploader(
        "Export of posts (CSV/TSV with a header row)", type=["csv", "tsv"]
    )
    demo = st.toggle(
        f"Use the demo file ({DEMO_POSTS.name}: 3 brands, 5 weeks)",
        value=uploaded is None,
    )
    try:
        if uploaded is not None and not demo:
            return read_upload(uploaded.getvalue(), uploaded.name)
        if demo:
            return read_upload(DEMO_POSTS.read_bytes(), DEMO_POSTS.name)
    except DataError as e:
        st.error(escape_markdown(str(e)))
    return None


def watchlist_ui():
    """The watchlist, edited in place (TOML); None while it does not parse."""
    with st.expander("Watchlist (brands, keywords, @handles, #hashtags, exclusions)"):
        text = st.text_area(
            "Watchlist (TOML)",
            value=DEMO_WATCHLIST.read_text(encoding="utf-8"),
            height=300,
            label_visibility="collapsed",
        )
        st.caption(
            "The same file works on the command line: "
            f"`{python_command()} -m sentiment.brands --watchlist brands.toml "
            "posts.csv`."
        )
    try:
        return watchlist_from_dict(tomllib.loads(text), "the watchlist")
    except tomllib.TOMLDecodeError as e:
        st.error(f"The watchlist is not valid TOML: {escape_markdown(str(e))}")
    except DataError as e:
        st.error(escape_markdown(str(e)))
    return None


def comparison_ui(view: BrandView, freq: str) -> None:
    """Brands side by side: metrics, charts, engaged negative posts, words."""
    summary = view.summary
    unsupported = int((view.rows["status"] == "unsupported_language").sum())
    mentions = counted(summary["mentions"], "brand mention")
    st.caption(
        f"{counted(summary['posts'], 'post')}, {mentions}; "
        f"{counted(unsupported, 'post')} not in English (marked, not scored); "
        f"time: {summary['time_basis'] or 'none: pick a posting-time column'}"
    )
    picked = st.multiselect("Brands", view.brands, default=view.brands)
    if not picked:
        st.info("Pick at least one brand.")
        return
    rows = [b for b in summary["brands"] if b["brand"] in picked]
    cells = st.columns(len(rows))
    for cell, brand in zip(cells, rows):
        net = brand["net_sentiment"]
        cell.metric(brand["brand"], "–" if net is None else f"{net:+.2f}")
        voice = brand["share_of_voice"] or 0
        cell.caption(f"net sentiment · {brand['posts']:,} posts · {voice:.0%} of voice")
    series = view.series
    if not series.empty:
        chart = net_sentiment_chart(series[series["brand"].isin(picked)], freq, picked)
        st.altair_chart(chart)
    spikes = [a for a in view.alerts if a.brand in picked]
    for alert in spikes:
        st.warning(alert.message()["text"].replace(":rotating_light: ", ""))
    brands = pd.DataFrame([{"brand": b["brand"], **b["labels"], **b} for b in rows])[
        ["brand", "posts", "share_of_voice", *config.LABELS]
    ]
    left, right = st.columns(2)
    left.markdown("**Share of voice**")
    left.altair_chart(share_of_voice_chart(brands))
    right.markdown("**Label mix**")
    right.altair_chart(label_mix_by_brand_chart(brands))
    engaged_ui(view, picked)
    words_ui(view, picked)
    languages_ui(rows)


def engaged_ui(view: BrandView, picked: list[str]) -> None:
    st.markdown("**Most engaged negative posts**")
    top = most_engaged_negative(view, picked)
    if not view.engagement:
        st.caption("No likes/retweets column: the most confident negative posts.")
    total = ["engagement"] if view.engagement else []
    shown = [view.text_col, "brands", *total, *view.engagement, "confidence"]
    time_cols = [c for c in view.rows.columns if c == "created_at"]
    st.dataframe(top[time_cols + shown], hide_index=True)


def words_ui(view: BrandView, picked: list[str]) -> None:
    st.markdown("**Top words per brand and label**")
    words = top_words(view, picked)
    if words.empty:
        st.caption("No words to show.")
        return
    words["label"] = words["label"].map(LABEL_NAMES)
    table = (
        words.assign(word=words["word"] + " (" + words["count"].astype(str) + ")")
        .groupby(["brand", "label"])["word"]
        .agg(", ".join)
        .unstack("label")
        .reindex(columns=[LABEL_NAMES[x] for x in config.LABELS])
    )
    st.dataframe(table)


def languages_ui(rows: list[dict]) -> None:
    st.markdown("**Posts per language**")
    table = (
        pd.DataFrame({b["brand"]: b["languages"] for b in rows}).fillna(0).astype(int)
    )
    table.index = [x or "(no text)" for x in table.index]
    st.dataframe(table)


if __name__ == "__main__":  # run as a page by st.navigation in app.py
    render(page_context())
