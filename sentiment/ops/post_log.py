"""Logging posts with their posting time, brands, language and content key.

:func:`append_posts` is :meth:`PredictionLog.append` for brand monitoring: the
same row plus the columns of schema version 3 (``posted_at``, ``brand``,
``language``, ``content_key``). A row whose content key is already in the log
is skipped, so re-scoring the same posts does not count them twice; rows
without a key (None) are always written, as before.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from sentiment.ops.log_rows import COLUMNS, build_rows, utc_now
from sentiment.ops.logstore import LogResult, PredictionLog

POST_COLUMNS = [*COLUMNS, "posted_at", "brand", "language", "content_key"]
# No conflict target: a repeated (request_id, item) or content key is skipped.
POST_INSERT = (
    f"INSERT INTO predictions ({', '.join(POST_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(POST_COLUMNS))}) ON CONFLICT DO NOTHING"
)


def append_posts(
    prediction_log: PredictionLog,
    source: str,
    request_id: str | None,
    model_version: str,
    texts: Sequence[object],
    predictions: pd.DataFrame | Sequence[object],
    posted_at: Sequence[str | None],
    brands: Sequence[str | None],
    languages: Sequence[str | None],
    content_keys: Sequence[str | None],
    first_item: int = 0,
    store_text: bool | None = None,
) -> LogResult:
    """Write one row per post in one transaction; never raises on I/O.

    Like :meth:`PredictionLog.append`: a failed write is counted as dropped
    and ``logged`` is False. ``rows`` counts only the rows actually added.
    """
    columns = [posted_at, brands, languages, content_keys]
    if len({len(texts), *map(len, columns)}) != 1:
        raise ValueError(
            "texts, predictions, times, brands, languages and keys must pair up"
        )
    keep_text = prediction_log.store_text if store_text is None else store_text
    ids, (rows,) = build_rows(
        source,
        model_version,
        [(request_id, texts, predictions)],
        keep_text,
        first_item,
        utc_now(),
    )
    post_rows = [
        (*row, posted, brand or None, language or None, key)
        for row, posted, brand, language, key in zip(rows, *columns)
    ]
    (result,) = prediction_log.write_rows(source, ids, [post_rows], insert=POST_INSERT)
    return result
