"""REST API: ``uvicorn sentiment.api:app`` (or ``python -m sentiment.api``).

* ``POST /predict`` ``{"text": "...", "threshold": 0.6}`` -> one prediction.
* ``POST /predict/batch`` ``{"texts": [...], "threshold": 0.6}`` -> predictions
  in input order; at most ``MAX_BATCH_TEXTS`` texts a request.
* ``GET /health`` (alive, model loaded), ``GET /model`` (the model card),
  OpenAPI docs at ``/docs``.

Client mistakes get a 422 naming the field and the reason (missing, null, not
a string, empty, over ``config.MAX_TEXT_CHARS`` characters, too many texts,
threshold outside [0, 1]) or a 413 for a body over ``MAX_BODY_BYTES``, which
is refused from its Content-Length, or once that many bytes of a chunked body
have arrived, without reading the rest. Every response carries an
``X-Request-ID`` header, also in the one JSON log line written per request.

The model is loaded once at start-up: the committed ``models/model.pkl``, or
the one at ``$SENTIMENT_MODEL_PATH``; a missing or tampered model stops
start-up with a log line saying why. Every answered prediction is first
committed to the prediction log (``sentiment.logstore``, source "api", the
request id); a misconfigured log stops start-up. Requests that arrive while the
model is busy are scored together in one vectorised call
(:class:`MicroBatcher`): the results are the same, and under load a request
waits for one batch instead of a queue of single calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, AsyncIterator, Callable, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentiment import config
from sentiment.client import load_local_predictor
from sentiment.logstore import LogStoreError, PredictionLog, open_default_log
from sentiment.predict import Prediction, Predictor, model_version, prepare_text

log = logging.getLogger(__name__)

MAX_BATCH_TEXTS = 1_000
MAX_BODY_BYTES = 2 * 1024 * 1024
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is kept only if it cannot forge a log line.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


# ---------------------------------------------------------------- schemas


def _has_visible_text(text: str) -> str:
    if not prepare_text(text)[0]:
        raise ValueError("has no visible characters (only spaces or invisible ones)")
    return text


Text = Annotated[
    str,
    Field(min_length=1, max_length=config.MAX_TEXT_CHARS),
    AfterValidator(_has_visible_text),
]
Threshold = Annotated[
    float | None,
    Field(
        default=None,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="needs_review when confidence is below this "
        f"(default {config.DEFAULT_THRESHOLD})",
    ),
]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    threshold: Threshold = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Text] = Field(min_length=1, max_length=MAX_BATCH_TEXTS)
    threshold: Threshold = None


class Probabilities(BaseModel):
    negative: float
    neutral: float
    positive: float


class PredictionOut(BaseModel):
    """One prediction: :class:`sentiment.predict.Prediction` plus the model version."""

    label: Literal["negative", "neutral", "positive"] | None
    confidence: float | None
    probabilities: Probabilities | None
    needs_review: bool
    status: Literal["ok", "no_text", "no_signal"]
    truncated: bool
    model_version: str


class BatchOut(BaseModel):
    predictions: list[PredictionOut]


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ErrorOut(BaseModel):
    detail: str
    errors: list[FieldError] = []


class HealthOut(BaseModel):
    status: Literal["ok", "starting"]
    model_loaded: bool
    model_version: str | None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": f"Body over {MAX_BODY_BYTES:,} bytes"},
    422: {"model": ErrorOut, "description": "Invalid request: which field and why"},
}


# ---------------------------------------------------------------- batching


@dataclass
class _Pending:
    texts: list[str]
    threshold: float | None
    request_id: str | None
    future: asyncio.Future[list[Prediction]] = field(repr=False)


class MicroBatcher:
    """Score requests that arrive while the model is busy in one vectorised call.

    Scoring runs on the event loop itself: it holds the GIL either way, and
    handing it to a thread and back cost up to the interpreter's 5 ms switch
    interval per request. Requests that arrive during a batch wait in their
    sockets and make up the next batch, so a request waits for at most one
    batch, and a lone request is scored at once. A text's result does not
    depend on its batch-mates (rows are scored independently); requests with
    different thresholds are scored in separate calls.

    With a ``prediction_log``, each batch's predictions are committed to it in
    one transaction (source "api", each request's id) before any is answered.
    """

    def __init__(
        self,
        predictor: Predictor,
        prediction_log: PredictionLog | None = None,
        max_texts: int = MAX_BATCH_TEXTS,
    ) -> None:
        self.predictor = predictor
        self.prediction_log = prediction_log
        self.max_texts = max_texts
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def predict(
        self,
        texts: list[str],
        threshold: float | None = None,
        request_id: str | None = None,
    ) -> list[Prediction]:
        """Predictions for ``texts`` in order, scored with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(texts, threshold, request_id, future))
        return await future

    async def run(self) -> None:
        """Serve the queue until cancelled."""
        while True:
            batch = [await self._queue.get()]
            # One turn of the loop lets requests already read from their
            # sockets reach the queue and join this batch.
            await asyncio.sleep(0)
            size = len(batch[0].texts)
            while size < self.max_texts and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].texts)
            batch = [p for p in batch if not p.future.done()]  # caller went away
            outcomes = _score_pending(self.predictor, batch)
            answered = [
                (pending, outcome)
                for pending, outcome in zip(batch, outcomes)
                if not isinstance(outcome, BaseException)
            ]
            if self.prediction_log is not None and answered:
                # One commit for the whole batch; never raises (a failed write
                # is counted as dropped and the predictions are still answered).
                self.prediction_log.append_many(
                    "api",
                    model_version(self.predictor),
                    [(p.request_id, p.texts, outcome) for p, outcome in answered],
                )
            for pending, outcome in zip(batch, outcomes):
                if isinstance(outcome, BaseException):
                    pending.future.set_exception(outcome)
                else:
                    pending.future.set_result(outcome)


def _score_pending(
    predictor: Predictor, batch: list[_Pending]
) -> list[list[Prediction] | BaseException]:
    outcomes: list[list[Prediction] | BaseException] = [[] for _ in batch]
    by_threshold: dict[float | None, list[int]] = {}
    for index, pending in enumerate(batch):
        by_threshold.setdefault(pending.threshold, []).append(index)
    for threshold, members in by_threshold.items():
        texts = [text for i in members for text in batch[i].texts]
        try:
            predictions = predictor.predict_batch(texts, threshold)
        except Exception as e:  # reaches only these callers, as a 500
            for i in members:
                outcomes[i] = e
            continue
        start = 0
        for i in members:
            end = start + len(batch[i].texts)
            outcomes[i] = predictions[start:end]
            start = end
    return outcomes


# ---------------------------------------------------------------- logging


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
            f"request (at most {MAX_BATCH_TEXTS:,}).",
        )


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` without reading the rest.

    A declared Content-Length over the limit is answered at once, before any
    of the body is read; otherwise (chunked bodies, or a Content-Length that
    lies) the bytes are counted as they arrive and reading stops past the
    limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _error_response(BodyTooLarge(self.max_bytes))(scope, receive, send)
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


# ---------------------------------------------------------------- the app


@dataclass
class _Service:
    predictor: Predictor
    batcher: MicroBatcher


def create_app(load: Callable[[], Predictor] = load_local_predictor) -> FastAPI:
    """The API, with ``load`` called once at start-up to get the predictor."""
    configure_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            predictor = load()
        except Exception as e:
            log.critical("cannot start: the model could not be loaded: %s", e)
            raise
        try:
            prediction_log = open_default_log()
        except LogStoreError as e:
            log.critical("cannot start: %s", e)
            raise
        batcher = MicroBatcher(predictor, prediction_log)
        worker = asyncio.create_task(batcher.run())
        app.state.service = _Service(predictor, batcher)
        log.info(
            "model loaded",
            extra={
                "model_version": predictor.version,
                "prediction_log": str(prediction_log.path) if prediction_log else None,
            },
        )
        try:
            yield
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            del app.state.service
            if prediction_log is not None:
                prediction_log.close()

    app = FastAPI(
        title="Sentiment API",
        summary="Negative / neutral / positive for social-media posts.",
        description=__doc__.split("\n\n", 1)[1],
        version="1",
        lifespan=lifespan,
    )
    # The last added is the outermost: every response, 413s included, gets an id.
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    @app.post("/predict", response_model=PredictionOut, responses=ERROR_RESPONSES)
    async def predict(body: PredictRequest, request: Request) -> dict[str, Any]:
        """Predict one text."""
        service = _service(request)
        (prediction,) = await service.batcher.predict(
            [body.text], body.threshold, request.state.request_id
        )
        return _output(prediction, service.predictor.version)

    @app.post(
        "/predict/batch",
        response_model=BatchOut,
        responses=ERROR_RESPONSES,
        description=f"Predict up to {MAX_BATCH_TEXTS:,} texts; results in input order.",
    )
    async def predict_batch(body: BatchRequest, request: Request) -> dict[str, Any]:
        service = _service(request)
        predictions = await service.batcher.predict(
            body.texts, body.threshold, request.state.request_id
        )
        version = service.predictor.version
        return {"predictions": [_output(p, version) for p in predictions]}

    @app.get("/health", response_model=HealthOut)
    async def health(request: Request) -> JSONResponse:
        """Alive, and whether the model is loaded (503 until it is)."""
        service = getattr(request.app.state, "service", None)
        if service is None:
            return JSONResponse(
                {"status": "starting", "model_loaded": False, "model_version": None},
                status_code=503,
            )
        return JSONResponse(
            {
                "status": "ok",
                "model_loaded": True,
                "model_version": service.predictor.version,
            }
        )

    @app.get("/model")
    async def model_card(request: Request) -> dict[str, Any]:
        """The model card (models/model.json) of the loaded model."""
        return _service(request).predictor.card

    return app


def _service(request: Request) -> _Service:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "The model is not loaded yet; retry shortly.")
    return service


def _output(prediction: Prediction, model_version: str) -> dict[str, Any]:
    # A shallow copy of the fields: Prediction.to_dict() deep-copies, which cost
    # a tenth of a request's time, for a dict that is serialised right away.
    return {**vars(prediction), "model_version": model_version}


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    where = [str(part) for part in error.get("loc", ()) if part != "body"]
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return {
            "field": "body",
            "message": f"not valid JSON ({reason} at character {where[0]})",
            "type": "json_invalid",
        }
    if error.get("type") == "model_attributes_type" and not where:
        return {
            "field": "body",
            "message": 'expected a JSON object such as {"text": "..."}, sent with '
            "Content-Type: application/json",
            "type": "model_attributes_type",
        }
    return {
        "field": ".".join(where) or "body",
        "message": error.get("msg", "invalid"),
        "type": error.get("type", "invalid"),
    }


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _error_response(exc)


def _error_response(exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )


app = create_app()


class LocalServer:
    """``uvicorn sentiment.api:app`` in a subprocess on a free 127.0.0.1 port.

    For tests, benchmarks and notebooks: ``with LocalServer() as server:`` waits
    until ``/health`` answers (raising with the server's log if it exits or
    ``startup_timeout`` passes), and stops the server on the way out. Its
    stdout and stderr (the JSON request log) go to ``log_path``, by default a
    temporary file removed with the server.
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        workers: int = 1,
        startup_timeout: float = 120.0,
        log_path: Path | None = None,
    ) -> None:
        self.env = {**os.environ, **(env or {})}
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_log = log_path is None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="sentiment-api-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        command = [sys.executable, "-m", "uvicorn", "sentiment.api:app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--no-access-log"]
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to repeat."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The API server exited with code {self.process.returncode} "
                    f"during start-up:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"The API server did not answer within {self.startup_timeout:.0f} s:\n"
            f"{self.log()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    """``python -m sentiment.api``: serve with uvicorn, JSON request logs only."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m sentiment.api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    uvicorn.run(
        "sentiment.api:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the JSON line per request replaces it
    )


if __name__ == "__main__":
    main()
