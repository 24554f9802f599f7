"""Brand monitoring on the prediction log: the per-brand summary of logged
posts, and attaching posting time, brands and language to rows already logged
(what the API does after its micro-batcher has logged a request)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Sequence

import pandas as pd

from sentiment.model.language import STATUS_UNSUPPORTED_LANGUAGE
from sentiment.ops.brand_summary import count_mentions, summarize_brands
from sentiment.ops.log_queries import _time_filter
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.watchlist import BRAND_SEPARATOR


def summary_from_log(
    prediction_log: PredictionLog,
    since: datetime | None = None,
    until: datetime | None = None,
    freq: str = "day",
    basis: str = "auto",
    brand_order: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The per-brand summary (``summarize_brands``) of the logged posts with a brand.

    Periods, ``since`` and ``until`` follow the posting time where rows have
    one (``basis`` "auto"), else the scoring time; the summary says which.
    """
    basis = prediction_log.time_basis(basis)
    moment = prediction_log.time_expression(basis)
    where, params = _time_filter(since, until, moment)
    where.append("brand IS NOT NULL AND brand != ''")
    rows = prediction_log.query(
        f"SELECT {moment} AS moment, brand, label, status, language "
        f"FROM predictions WHERE {' AND '.join(where)}",
        params,
    )
    times = pd.to_datetime(rows["moment"], utc=True, format="ISO8601")
    counts = count_mentions(
        [b.split(BRAND_SEPARATOR) for b in rows["brand"]],
        rows["label"].tolist(),
        rows["status"].tolist(),
        rows["language"].fillna("").tolist(),
        times,
        freq,
    )
    label = "posted_at" if basis == "posted" else "ts (scoring time)"
    summary = summarize_brands(counts, brand_order, freq, label)
    summary["posts"] = len(rows)
    summary["unsupported_language"] = int(
        (rows["status"] == STATUS_UNSUPPORTED_LANGUAGE).sum()
    )
    return summary


def api_content_key(text: str, posted_at: str, brand: str) -> str:
    """The API's key of a post: the same text, posting time and brand is one post."""
    joined = "\x1f".join(["api", text, posted_at, brand])
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def attach_post_details(
    prediction_log: PredictionLog,
    request_id: str,
    details: Sequence[dict[str, Any]],
) -> int:
    """Set posting time, brand, language (and a status override) on logged rows.

    ``details[i]`` belongs to item ``i`` of ``request_id`` and may hold
    ``posted_at``, ``brand``, ``language``, ``content_key`` and ``unscored``
    (a status that replaces the label). A row whose content key is already
    in the log is a post sent again: the new row is removed, so the post
    counts once. Returns the rows removed. Raises sqlite3.Error on I/O.
    """
    removed = 0
    with prediction_log._lock:
        conn = prediction_log._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item, detail in enumerate(details):
                key = detail.get("content_key")
                if (
                    key
                    and conn.execute(
                        "SELECT 1 FROM predictions WHERE content_key = ?", (key,)
                    ).fetchone()
                ):
                    conn.execute(
                        "DELETE FROM predictions WHERE request_id = ? AND item = ?",
                        (request_id, item),
                    )
                    removed += 1
                    continue
                _update_row(conn, request_id, item, detail)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
    return removed


def _update_row(conn, request_id: str, item: int, detail: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE predictions SET posted_at = ?, brand = ?, language = ?, "
        "content_key = ? WHERE request_id = ? AND item = ?",
        (
            detail.get("posted_at"),
            detail.get("brand") or None,
            detail.get("language") or None,
            detail.get("content_key"),
            request_id,
            item,
        ),
    )
    if detail.get("unscored"):
        conn.execute(
            "UPDATE predictions SET label = NULL, confidence = NULL, "
            "prob_negative = NULL, prob_neutral = NULL, prob_positive = NULL, "
            "needs_review = 0, status = ? WHERE request_id = ? AND item = ?",
            (detail["unscored"], request_id, item),
        )
