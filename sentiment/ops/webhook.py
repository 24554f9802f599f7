"""Delivering alerts to a chat channel through an incoming webhook.

The body is ``{"text": "..."}``, which Slack and Microsoft Teams incoming
webhooks both accept. A failed delivery (no connection, a timeout, a 5xx or
429 answer) is retried with exponential backoff; another 4xx means the URL or
the body is wrong, so it is not retried.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any, Callable
from urllib.parse import urlsplit

from sentiment import config

log = logging.getLogger(__name__)


class WebhookError(RuntimeError):
    """The webhook did not accept the message after every attempt."""


def destination(url: str) -> str:
    """Where a webhook points, safe to print and store: scheme and host only.

    The path of a Slack or Teams webhook URL is its secret.
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def post_json(
    url: str,
    payload: dict[str, Any],
    attempts: int | None = None,
    backoff_s: float | None = None,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``payload`` as JSON until accepted; returns the attempts it took.

    ``attempts``, the first ``backoff_s`` and ``timeout_s`` default to the
    ``WEBHOOK_*`` settings of :mod:`sentiment.config`. Raises WebhookError
    when every attempt failed or the receiver refused the message outright
    (a 4xx other than 429).
    """
    attempts = attempts or config.WEBHOOK_ATTEMPTS
    backoff_s = config.WEBHOOK_BACKOFF_S if backoff_s is None else backoff_s
    timeout_s = timeout_s or config.WEBHOOK_TIMEOUT_S
    if urlsplit(url).scheme not in ("http", "https"):
        raise WebhookError(f"The webhook must be an http(s) URL, not {url!r}.")
    body = json.dumps(payload).encode("utf-8")
    wait, last = backoff_s, ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, body, {"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                response.read()
            return attempt
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
            if 400 <= e.code < 500 and e.code != 429:
                raise WebhookError(
                    f"{destination(url)} refused the alert ({last}): check the "
                    "webhook URL."
                ) from e
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, "reason", e))
        log.warning(
            "Webhook %s: attempt %d of %d failed (%s)",
            destination(url),
            attempt,
            attempts,
            last,
        )
        if attempt < attempts:
            sleep(wait)
            wait *= 2
    raise WebhookError(
        f"{destination(url)} did not accept the alert after {attempts} attempts "
        f"({last})."
    )
