"""The API's brand monitoring: posting time, brand and language of posts sent
to ``/predict`` and ``/predict/batch``, and ``GET /brands/summary``.

Kept apart from the core routes: they call :func:`brand_outputs` once, and
:func:`register_brand_routes` adds the summary route.

* A post in a language the model was not trained for gets status
  ``unsupported_language`` and no label, unless the request sets
  ``score_all_languages``.
* With ``created_at`` the post is logged with its posting time, and a post
  sent again (same text, ``created_at`` and ``brand``) is logged once: a
  retried or re-sent request does not count twice. Without ``created_at``
  every request is a new prediction, as before.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any, Sequence

from fastapi import FastAPI, HTTPException, Query, Request

from sentiment.model.language import (
    STATUS_UNSUPPORTED_LANGUAGE,
    is_supported,
    languages,
)
from sentiment.model.predictor import Prediction
from sentiment.ops.brand_log import api_content_key, attach_post_details
from sentiment.ops.brand_log import summary_from_log
from sentiment.ops.brand_summary import FREQS
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.sampling import parse_time

log = logging.getLogger("sentiment.serving")


async def brand_outputs(
    prediction_log: PredictionLog | None,
    request_id: str,
    model_version: str,
    texts: Sequence[str],
    predictions: Sequence[Prediction],
    created_at: Sequence[str | None],
    brands: Sequence[str | None],
    score_all_languages: bool = False,
) -> list[dict[str, Any]]:
    """The response items of a request, with language; logged rows completed.

    The micro-batcher has already logged the rows (request id, item); here
    they get their posting time, brand, language and content key, when a
    post has a time or a brand or was left unscored. ``prediction_log`` is
    None when the rows were not logged. The update runs in a worker thread:
    a held log lock must not stall the event loop (and /health with it).
    """
    found = languages(texts)
    outputs, details = [], []
    for text, prediction, posted, brand, language in zip(
        texts, predictions, created_at, brands, found
    ):
        unscored = not score_all_languages and not is_supported(language)
        if unscored:
            prediction = Prediction(
                None, None, None, False, STATUS_UNSUPPORTED_LANGUAGE
            )
        outputs.append(
            {**vars(prediction), "language": language, "model_version": model_version}
        )
        details.append(
            {
                "posted_at": posted,
                "brand": brand,
                "language": language,
                "content_key": (
                    api_content_key(text, posted, brand or "") if posted else None
                ),
                "unscored": STATUS_UNSUPPORTED_LANGUAGE if unscored else None,
            }
        )
    # Plain English posts without time or brand need no second write: the
    # batcher's one commit per batch stays the only one on the hot path.
    if prediction_log is not None and any(
        d["posted_at"] or d["brand"] or d["unscored"] for d in details
    ):
        try:
            await asyncio.to_thread(
                attach_post_details, prediction_log, request_id, details
            )
        except sqlite3.Error as e:  # the answer stands; the log says what failed
            log.error("could not attach brand details to %s: %s", request_id, e)
    return outputs


def register_brand_routes(app: FastAPI) -> None:
    """Add ``GET /brands/summary`` to the API."""

    @app.get("/brands/summary")
    async def brands_summary(
        request: Request,
        since: str | None = Query(None, description="ISO time or an age: 7d, 24h"),
        until: str | None = Query(None, description="ISO time or an age"),
        freq: str = Query("day", description=f"one of {', '.join(FREQS)}"),
    ) -> dict[str, Any]:
        """Per brand, from the prediction log: posts, labels, net sentiment,
        share of voice, languages and the series over posting time."""
        service = getattr(request.app.state, "service", None)
        prediction_log = service.prediction_log if service else None
        if prediction_log is None:
            raise HTTPException(503, "The prediction log is off: nothing to summarise.")
        if freq not in FREQS:
            raise HTTPException(422, f"freq must be one of {', '.join(FREQS)}.")
        try:
            start = parse_time(since) if since else None
            end = parse_time(until) if until else None
        except ValueError as e:
            raise HTTPException(422, f"since/until: {e}") from e
        return summary_from_log(prediction_log, start, end, freq)
