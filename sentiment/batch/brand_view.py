"""What the page's Brands page shows for a table of posts: every row scored and
tagged, the per-brand summary, the series with spikes marked, the most engaged
negative posts and the top words per brand and label.

The numbers come from the same functions as ``python -m sentiment.brands``
(:func:`score_brand_chunk`, :func:`summarize_brands`) and the alert command
(:func:`find_brand_alerts`), so the page, the CLI and the API agree.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from sentiment import config
from sentiment.batch.brand_scoring import BrandOptions, score_brand_chunk
from sentiment.files.output import OUTPUT_COLUMNS
from sentiment.model.predictor import Predictor
from sentiment.ops.brand_alerts import BrandAlert, find_brand_alerts
from sentiment.ops.brand_summary import add_counts, series_frame, summarize_brands
from sentiment.ops.watchlist import BRAND_SEPARATOR

# Engagement columns, in order of preference (case-insensitive); their sum
# ranks the most engaged posts.
ENGAGEMENT_NAMES = ("likes", "retweets", "favorites", "shares", "replies", "reposts")
_WORD_RE = re.compile(r"(?<![@#\w])[^\W\d_][\w']+")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")


@dataclass
class BrandView:
    """One analysis of a table for the Brands page (plain data, no widgets)."""

    rows: pd.DataFrame  # the table + brands, language + prediction columns
    summary: dict
    series: pd.DataFrame  # brand, period, posts, ..., net_sentiment, spike
    alerts: list[BrandAlert] = field(default_factory=list)
    engagement: list[str] = field(default_factory=list)
    text_col: str = "text"

    @property
    def brands(self) -> list[str]:
        return [b["brand"] for b in self.summary["brands"]]


def engagement_columns(columns: Sequence[str]) -> list[str]:
    """The columns of likes, retweets and the like that a table has."""
    by_name = {str(c).strip().lower(): c for c in columns}
    return [by_name[name] for name in ENGAGEMENT_NAMES if name in by_name]


def analyse_brands(
    predictor: Predictor,
    frame: pd.DataFrame,
    text_col: str,
    options: BrandOptions,
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> BrandView:
    """Score and tag every row of ``frame`` in chunks; the Brands page's data."""
    rows, scored, counts = [], [], []
    for start in range(0, len(frame), chunk_rows):
        done = score_brand_chunk(
            predictor,
            frame.iloc[start : start + chunk_rows],
            text_col,
            options,
            threshold,
        )
        rows.append(done.rows)
        scored.append(done.scored[OUTPUT_COLUMNS])
        counts.append(done.counts)
        if on_progress is not None:
            on_progress(min(start + chunk_rows, len(frame)), len(frame))
    table = pd.concat(
        [pd.concat(rows, ignore_index=True), pd.concat(scored, ignore_index=True)],
        axis=1,
    )
    basis = f"posted_at ({options.time_col})" if options.time_col else None
    names = options.watchlist.names if options.watchlist else None
    summary = summarize_brands(add_counts(counts), names, options.freq, basis)
    summary["posts"] = len(frame)
    series = series_frame(summary)
    alerts: list[BrandAlert] = []
    if not series.empty and options.freq in ("hour", "day"):
        alerts = find_brand_alerts(
            series.assign(n=series[list(config.LABELS)].sum(axis=1)),
            "posted",
            names,
            options.freq,
        )
    spikes = {(a.brand, a.period) for a in alerts if a.kind == "negative_share"}
    if not series.empty:
        label = series["period"].dt.strftime(
            "%Y-%m-%dT%H:00Z" if options.freq == "hour" else "%Y-%m-%d"
        )
        series["spike"] = [(b, p) in spikes for b, p in zip(series["brand"], label)]
    return BrandView(
        table, summary, series, alerts, engagement_columns(frame.columns), text_col
    )


def rows_of(view: BrandView, brands: Sequence[str]) -> pd.Series:
    """Which rows mention one of ``brands`` (a boolean mask)."""
    wanted = set(brands)
    return view.rows["brands"].map(
        lambda cell: bool(wanted.intersection(cell.split(BRAND_SEPARATOR)))
    )


def most_engaged_negative(
    view: BrandView, brands: Sequence[str], limit: int = 10
) -> pd.DataFrame:
    """The negative posts of ``brands`` with the most likes, retweets, ...

    Without an engagement column, the most confident negative posts.
    """
    negative = view.rows[rows_of(view, brands) & (view.rows["sentiment"] == "negative")]
    if view.engagement:
        numbers = negative[view.engagement].apply(pd.to_numeric, errors="coerce")
        ranked = negative.assign(engagement=numbers.fillna(0).sum(axis=1))
        ranked = ranked.sort_values("engagement", ascending=False, kind="stable")
    else:
        ranked = negative.sort_values("confidence", ascending=False, kind="stable")
    return ranked.head(limit)


def top_words(
    view: BrandView, brands: Sequence[str], per_label: int = 8
) -> pd.DataFrame:
    """The most frequent words per brand and label (stop words, handles,
    hashtags, links and the brands' own names left out)."""
    out = []
    for brand in brands:
        mine = view.rows[rows_of(view, [brand])]
        own = {w.lower() for w in re.findall(r"\w+", brand)}
        for label in config.LABELS:
            texts = mine.loc[mine["sentiment"] == label, view.text_col]
            counter: Counter[str] = Counter()
            for text in texts:
                words = _WORD_RE.findall(_URL_RE.sub(" ", str(text)).lower())
                counter.update(
                    w for w in words if w not in ENGLISH_STOP_WORDS and w not in own
                )
            for word, count in counter.most_common(per_label):
                out.append(
                    {"brand": brand, "label": label, "word": word, "count": count}
                )
    return pd.DataFrame(out, columns=["brand", "label", "word", "count"])
