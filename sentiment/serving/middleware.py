"""The API's ASGI middleware: request ids with one JSON log line per request,
API keys, and the request-body size limit."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentiment import config
from sentiment.serving.auth import ApiKeys

# One logger for the whole service, so its JSON lines share one handler.
log = logging.getLogger("sentiment.serving")


REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_BYTES = REQUEST_ID_HEADER.lower().encode()


# A caller's own request id is kept only if it cannot forge a log line.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and ``extra`` fields."""

    _RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = vars(record).keys() - self._RECORD_FIELDS
        line.update((k, getattr(record, k)) for k in sorted(extra))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging() -> None:
    """Send this module's log lines to stderr as JSON, once."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


@dataclass
class Gate:
    """Who may call the protected routes: set at start-up, read per request.

    ``ready`` is False until start-up has read the keys; ``keys`` None then
    means no keys are asked for (``SENTIMENT_API_AUTH=off``).
    """

    ready: bool = False
    keys: ApiKeys | None = None
    protected: tuple[str, ...] = config.PROTECTED_API_PREFIXES


class ApiMiddleware:
    """The API's one middleware layer, in this order, for every HTTP request:

    * an id (``X-Request-ID``) on the response and in one JSON log line; a
      caller's own safe id is kept, so a request can be followed across
      services;
    * the API key for ``/predict*`` and ``/brands*`` (401 without a valid
      one; the key's name goes in the log line, never the key);
    * the body limit: a declared Content-Length over ``max_bytes`` is answered
      at once, before any of the body is read; otherwise (chunked bodies, or a
      Content-Length that lies) the bytes are counted as they arrive and
      reading stops past the limit;
    * an unhandled error becomes a JSON 500 that quotes the id, with the
      traceback logged under the same id.

    One layer instead of one per concern: each ASGI layer costs every request
    a wrapped ``send`` and ``receive``.
    """

    def __init__(
        self, app: ASGIApp, gate: Gate, max_bytes: int = config.MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.gate = gate
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = _header_map(scope)
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (_REQUEST_ID_BYTES, request_id.encode()),
                ]
            await send(message)

        try:
            refusal = self._refusal(scope, headers, state)
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, self._counting(receive), send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if started:
                raise
            response = JSONResponse(
                {"detail": f"Internal error; quote request id {request_id}."},
                status_code=500,
            )
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                    **({"api_key": state["api_key"]} if "api_key" in state else {}),
                },
            )

    def _refusal(
        self, scope: Scope, headers: dict[bytes, bytes], state: dict[str, Any]
    ) -> JSONResponse | None:
        """The answer for a request refused before the app sees it, or None."""
        if scope["path"].startswith(self.gate.protected):
            if not self.gate.ready:
                return error_response(
                    HTTPException(503, "The API is starting; retry shortly.")
                )
            if self.gate.keys is not None:
                authorization = headers.get(b"authorization", b"").decode("latin-1")
                name = self.gate.keys.check(authorization)
                if name is None:
                    return error_response(Unauthorized())
                state["api_key"] = name
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return error_response(BodyTooLarge(self.max_bytes))
        return None

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes HTTPExceptions raised while it reads the
                    # body on to its handler, which answers the 413.
                    raise BodyTooLarge(self.max_bytes)
            return message

        return counting_receive


def _header_map(scope: Scope) -> dict[bytes, bytes]:
    # ASGI servers give header names in lower case.
    return dict(scope.get("headers", ()))


class Unauthorized(HTTPException):
    """No valid API key; rendered as a JSON 401."""

    def __init__(self) -> None:
        super().__init__(
            401,
            "Missing or invalid API key: send it as 'Authorization: Bearer KEY'. "
            "Ask the API's operator for a key.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class BodyTooLarge(HTTPException):
    """The request body is over the limit; rendered as a JSON 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is over {limit:,} bytes. Send fewer texts per "
            f"request (at most {config.MAX_BATCH_TEXTS:,}).",
        )


def error_response(exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )
