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
committed to the prediction log (``sentiment.ops.logstore``, source "api", the
request id); a misconfigured log stops start-up. Requests that arrive while the
model is busy are scored together in one vectorised call
(:class:`MicroBatcher`): the results are the same, and under load a request
waits for one batch instead of a queue of single calls.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sentiment import config
from sentiment.model.predictor import Prediction, Predictor
from sentiment.model.tiers import backend_of, load_local_predictor
from sentiment.ops.logstore import LogStoreError, open_default_log
from sentiment.serving.batcher import MicroBatcher
from sentiment.serving.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    configure_logging,
    error_response,
)
from sentiment.serving.schemas import (
    ERROR_RESPONSES,
    BatchOut,
    BatchRequest,
    HealthOut,
    PredictionOut,
    PredictRequest,
)

# One logger for the whole service, so its JSON lines share one handler.
log = logging.getLogger("sentiment.serving")


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
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    @app.post("/predict", response_model=PredictionOut, responses=ERROR_RESPONSES)
    async def predict(body: PredictRequest, request: Request) -> dict[str, Any]:
        """Predict one text."""
        service = _service(request)
        _check_backend(service, body.backend)
        (prediction,) = await service.batcher.predict(
            [body.text], body.threshold, request.state.request_id
        )
        return _output(prediction, service.predictor.version)

    @app.post(
        "/predict/batch",
        response_model=BatchOut,
        responses=ERROR_RESPONSES,
        description=(
            f"Predict up to {config.MAX_BATCH_TEXTS:,} texts; results in input order."
        ),
    )
    async def predict_batch(body: BatchRequest, request: Request) -> dict[str, Any]:
        service = _service(request)
        _check_backend(service, body.backend)
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


def _check_backend(service: _Service, backend: str | None) -> None:
    """A request may name the tier it expects; this server runs one."""
    served = backend_of(service.predictor)
    if backend is not None and backend != served:
        raise HTTPException(
            409,
            f"This server runs the {served} tier, not {backend}. Send "
            f'"backend": "{served}" (or no backend), or start a server with '
            f"{config.BACKEND_ENV}={backend}.",
        )


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
    return error_response(exc)
