"""Scoring posts for brand monitoring: the batch step plus brands, language and
posting time.

Each chunk of rows gets, besides the prediction columns of every scored file
(:mod:`sentiment.files.output`), a ``brands`` column (every brand the post
mentions, ``|``-separated) and a ``language`` column. Posts in a language the
model was not trained for keep their row, get status
``unsupported_language`` and no label, unless ``score_all_languages``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from sentiment.batch.step import score_languages
from sentiment.files.timestamps import iso_or_none, parse_times
from sentiment.model.language import STATUS_UNSUPPORTED_LANGUAGE
from sentiment.model.predictor import Predictor
from sentiment.ops.brand_summary import count_mentions
from sentiment.ops.watchlist import Watchlist, brands_from_column, join_brands

BRANDS_COLUMN = "brands"
LANGUAGE_COLUMN = "language"
ADDED_COLUMNS = [BRANDS_COLUMN, LANGUAGE_COLUMN]


@dataclass(frozen=True)
class BrandOptions:
    """How posts are tagged: a watchlist and/or a column naming the brand."""

    watchlist: Watchlist | None = None
    brand_col: str | None = None
    time_col: str | None = None
    id_col: str | None = None
    score_all_languages: bool = False
    freq: str = "day"


@dataclass
class BrandChunk:
    """One scored chunk: rows with the added columns, predictions, and counts."""

    rows: pd.DataFrame
    scored: pd.DataFrame
    brands: list[list[str]]
    posted_at: list[str | None]
    counts: pd.DataFrame

    @property
    def unsupported(self) -> int:
        return int((self.scored["status"] == STATUS_UNSUPPORTED_LANGUAGE).sum())


def tag_brands(chunk: pd.DataFrame, text_col: str, options: BrandOptions) -> list:
    """Every brand each row mentions (watchlist) or names (brand column), merged."""
    texts = chunk[text_col].tolist()
    found = [[] for _ in texts]
    if options.brand_col is not None:
        found = brands_from_column(chunk[options.brand_col].tolist())
    if options.watchlist is not None:
        matched = options.watchlist.match_all(texts)
        found = [list(dict.fromkeys(a + b)) for a, b in zip(matched, found)]
    return found


def score_brand_chunk(
    predictor: Predictor,
    chunk: pd.DataFrame,
    text_col: str,
    options: BrandOptions,
    threshold: float | None = None,
) -> BrandChunk:
    """Score one chunk and tag it with brands, languages and posting times."""
    chunk = chunk.reset_index(drop=True)
    texts = chunk[text_col].astype(object).where(chunk[text_col].notna(), None)
    scored, found = score_languages(
        predictor, texts.tolist(), threshold, options.score_all_languages
    )
    brands = tag_brands(chunk, text_col, options)
    times = parse_times(chunk[options.time_col]) if options.time_col else None
    rows = chunk.assign(
        **{BRANDS_COLUMN: [join_brands(b) for b in brands], LANGUAGE_COLUMN: found}
    )
    counts = count_mentions(
        brands,
        scored["sentiment"].tolist(),
        scored["status"].tolist(),
        found,
        times,
        options.freq,
    )
    posted = [None] * len(chunk) if times is None else [iso_or_none(t) for t in times]
    return BrandChunk(rows, scored, brands, posted, counts)


def content_keys(
    texts: Sequence[object],
    posted_at: Sequence[str | None],
    brands: Sequence[Sequence[str]],
    row_ids: Sequence[object] | None = None,
) -> list[str]:
    """A key per post, the same whenever the same post is scored again.

    SHA-256 of (row id when the file has one, text, posting time, brands):
    the prediction log ignores a row whose key it already holds, so pressing
    Score twice or re-running a command does not count the posts twice.
    """
    ids = row_ids if row_ids is not None else [""] * len(texts)
    return [
        hashlib.sha256(
            "\x1f".join(
                [str(i), "" if t is None else str(t), p or "", join_brands(b)]
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        for i, t, p, b in zip(ids, texts, posted_at, brands)
    ]
