"""REST API: ``uvicorn sentiment.api:app`` (or ``python -m sentiment.api``).

* ``POST /predict`` ``{"text": "...", "threshold": 0.6}`` -> one prediction.
* ``POST /predict/batch`` ``{"texts": [...], "threshold": 0.6}`` -> predictions
  in input order; at most ``MAX_BATCH_TEXTS`` texts a request.
* ``GET /health`` (alive, model loaded, log state), ``GET /model`` (the model
  card), OpenAPI docs at ``/docs``.

``/predict*`` (and ``/brands*``) need an API key, sent as ``Authorization:
Bearer KEY``; without a valid one they answer 401. ``/health`` and the docs
stay open.

Client mistakes get a 422 naming the field and the reason (missing, null, not
a string, empty, over ``config.MAX_TEXT_CHARS`` characters, too many texts,
threshold outside [0, 1]) or a 413 for a body over ``MAX_BODY_BYTES``, which
is refused from its Content-Length, or once that many bytes of a chunked body
have arrived, without reading the rest. Every response carries an
``X-Request-ID`` header, also in the one JSON log line written per request.

The model is loaded once at start-up: the committed ``models/model.pkl``, or
the one at ``$SENTIMENT_MODEL_PATH``; a missing or tampered model stops
start-up with a log line saying why. Every answered prediction has its own row
in the prediction log (``sentiment.ops.logstore``, source "api", the caller's
``X-Request-ID`` as ``correlation_id``), committed before the answer, or the
answer's ``X-Prediction-Logged: false`` header says it is not logged (the log
was locked or failing for ``SENTIMENT_LOG_WAIT_MS``; counted in ``/health``).
A misconfigured log stops start-up. Requests that arrive while the model is
busy are scored together in one vectorised call (:class:`MicroBatcher`): the
results are the same, and under load a request waits for one batch instead
of a queue of single calls."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from sentiment import config
from sentiment.model.predictor import Predictor
from sentiment.model.tiers import load_local_predictor
from sentiment.ops.log_writer import QueuedLogWriter
from sentiment.ops.logstore import LogStoreError, PredictionLog, open_default_log
from sentiment.serving.auth import ApiKeyError, ApiKeys
from sentiment.serving.batcher import MicroBatcher
from sentiment.serving.bodies import http_error, invalid_request
from sentiment.serving.brands_routes import register_brand_routes
from sentiment.serving.docs import openapi_with_keys
from sentiment.serving.middleware import ApiMiddleware, Gate, configure_logging
from sentiment.serving.routes import (
    Service,
    add_prediction_routes,
    add_status_routes,
)

# One logger for the whole service, so its JSON lines share one handler.
log = logging.getLogger("sentiment.serving")


def create_app(
    load: Callable[[], Predictor] = load_local_predictor,
    keys: Callable[[], ApiKeys | None] = ApiKeys.from_env,
    show_versions: bool | None = None,
) -> FastAPI:
    """The API; at start-up ``load`` gives the predictor and ``keys`` the API keys.

    ``show_versions`` (default: ``SENTIMENT_API_SHOW_VERSIONS``) lets /model
    name library versions and the git commit.
    """
    configure_logging()
    gate = Gate()
    if show_versions is None:
        show_versions = config.api_show_versions_from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service, prediction_log = _start(load, keys, gate)
        worker = asyncio.create_task(service.batcher.run())
        app.state.service = service
        gate.ready = True
        try:
            yield
        finally:
            gate.ready = False
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            del app.state.service
            if service.writer is not None:
                service.writer.close()  # commits what is still queued
            if prediction_log is not None:
                prediction_log.close()

    app = FastAPI(
        title="Sentiment API",
        summary="Negative / neutral / positive for social-media posts.",
        description=__doc__.split("\n\n", 1)[1],
        version="1",  # the contract's version, not the software's
        lifespan=lifespan,
        # FastAPI's OpenTelemetry hooks asked the tracer and meter providers
        # (and the environment) on every request, for nothing we export.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(ApiMiddleware, gate=gate, max_bytes=config.MAX_BODY_BYTES)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)

    documented: list[APIRoute] = []  # lean routes, described for the docs
    add_prediction_routes(app, documented)
    register_brand_routes(app)
    add_status_routes(app, show_versions)
    openapi_with_keys(app, documented)
    return app


def _start(
    load: Callable[[], Predictor],
    keys: Callable[[], ApiKeys | None],
    gate: Gate,
) -> tuple[Service, PredictionLog | None]:
    """Keys, model, log and batcher, or a CRITICAL log line saying what is wrong."""
    try:
        gate.keys = keys()
    except ApiKeyError as e:
        log.critical("cannot start: %s", e)
        raise
    try:
        predictor = load()
    except Exception as e:
        log.critical("cannot start: the model could not be loaded: %s", e)
        raise
    try:
        prediction_log = open_default_log()
        capacity = config.log_queue_from_env()
        wait_s = config.log_wait_ms_from_env() / 1000
    except (LogStoreError, ValueError) as e:
        log.critical("cannot start: %s", e)
        raise
    writer = None
    if prediction_log is not None:
        writer = QueuedLogWriter(prediction_log, capacity)
        writer.start()
    batcher = MicroBatcher(predictor, writer, log_wait_s=wait_s)
    log.info(
        "model loaded",
        extra={
            "model_version": predictor.version,
            "prediction_log": str(prediction_log.path) if prediction_log else None,
            "api_keys": "off" if gate.keys is None else len(gate.keys.keys),
        },
    )
    return Service(predictor, batcher, writer), prediction_log
