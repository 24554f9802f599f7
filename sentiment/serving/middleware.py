"""ASGI middleware of the API: request ids with one JSON log line per request,
and the request-body size limit."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentiment import config

# One logger for the whole service, so its JSON lines share one handler.
log = logging.getLogger("sentiment.serving")


REQUEST_ID_HEADER = "X-Request-ID"


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
        return json.dumps(line, default=str)


def configure_logging() -> None:
    """Send this module's log lines to stderr as JSON, once."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


class RequestContextMiddleware:
    """Give every request an id (``X-Request-ID``) and log one JSON line for it.

    A caller's own safe id is kept, so a request can be followed across
    services. An unhandled error becomes a JSON 500 that quotes the id, with
    the traceback logged under the same id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = (
            incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
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
                },
            )


class BodyTooLarge(HTTPException):
    """The request body is over the limit; rendered as a JSON 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is over {limit:,} bytes. Send fewer texts per "
            f"request (at most {config.MAX_BATCH_TEXTS:,}).",
        )


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` without reading the rest.

    A declared Content-Length over the limit is answered at once, before any
    of the body is read; otherwise (chunked bodies, or a Content-Length that
    lies) the bytes are counted as they arrive and reading stops past the
    limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = config.MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(BodyTooLarge(self.max_bytes))(scope, receive, send)
            return
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

        await self.app(scope, counting_receive, send)


def error_response(exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )
