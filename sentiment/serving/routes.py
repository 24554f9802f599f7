"""The API's routes: predictions (``/predict``, ``/predict/batch``) and status
(``/health``, ``/model``); :func:`sentiment.serving.app.create_app` assembles
them with the brand routes, middleware and start-up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sentiment import config
from sentiment.model.predictor import Predictor
from sentiment.model.tiers import backend_of
from sentiment.ops.log_writer import QueuedLogWriter
from sentiment.ops.logstore import PredictionLog
from sentiment.serving.batcher import LOGGED, MicroBatcher
from sentiment.serving.bodies import parse_body
from sentiment.serving.brands_routes import brand_outputs
from sentiment.serving.docs import add_lean_post
from sentiment.serving.schemas import (
    BatchOut,
    BatchRequest,
    HealthOut,
    PredictionOut,
    PredictRequest,
)

# Says whether an answer's predictions are in the prediction log: "true",
# "false" (not logged: the log was busy or failing; counted in /health), or
# "off" (logging is switched off).
LOGGED_HEADER = "X-Prediction-Logged"

# Card fields that name software versions or the code's commit; /model leaves
# them out unless SENTIMENT_API_SHOW_VERSIONS is on.
VERSION_FIELDS = frozenset({"versions", "git_commit"})


@dataclass
class Service:
    """What a running API holds: the model, the batcher and the log writer."""

    predictor: Predictor
    batcher: MicroBatcher
    writer: QueuedLogWriter | None

    @property
    def prediction_log(self) -> PredictionLog | None:
        """The log the writer writes to (None when logging is off)."""
        return None if self.writer is None else self.writer.prediction_log


def add_prediction_routes(app: FastAPI, documented: list[APIRoute]) -> None:
    """Add ``POST /predict`` and ``/predict/batch`` (lean routes, listed in
    ``documented`` for the OpenAPI docs)."""

    async def predict(request: Request) -> Response:
        """Predict one text."""
        service = service_of(request)
        body = await parse_body(request, PredictRequest)
        _check_backend(service, body.backend)
        log_id = uuid.uuid4().hex
        predictions, logged = await service.batcher.predict(
            [body.text], body.threshold, request.state.request_id, log_id
        )
        (output,) = await brand_outputs(
            service.prediction_log if logged == LOGGED else None,
            log_id,
            service.predictor.version,
            [body.text],
            predictions,
            [body.created_at],
            [body.brand],
            body.score_all_languages,
        )
        return _json(output, logged)

    async def predict_batch(request: Request) -> Response:
        """Predict many texts."""
        service = service_of(request)
        body = await parse_body(request, BatchRequest)
        _check_backend(service, body.backend)
        log_id = uuid.uuid4().hex
        predictions, logged = await service.batcher.predict(
            body.texts, body.threshold, request.state.request_id, log_id
        )
        none = [None] * len(body.texts)
        outputs = await brand_outputs(
            service.prediction_log if logged == LOGGED else None,
            log_id,
            service.predictor.version,
            body.texts,
            predictions,
            body.created_at or none,
            body.brand or none,
            body.score_all_languages,
        )
        return _json({"predictions": outputs}, logged)

    add_lean_post(app, documented, "/predict", predict, PredictRequest, PredictionOut)
    add_lean_post(
        app,
        documented,
        "/predict/batch",
        predict_batch,
        BatchRequest,
        BatchOut,
        description=(
            f"Predict up to {config.MAX_BATCH_TEXTS:,} texts; results in input order."
        ),
    )


def add_status_routes(app: FastAPI, show_versions: bool) -> None:
    """Add ``GET /health`` and ``GET /model``."""

    @app.get("/health", response_model=HealthOut)
    async def health(request: Request) -> JSONResponse:
        """Alive, whether the model is loaded (503 until it is), and the log's state.

        ``prediction_log.not_logged`` counts predictions answered without a log
        row since start-up (see the ``X-Prediction-Logged`` header).
        """
        service = getattr(request.app.state, "service", None)
        if service is None:
            return JSONResponse(
                {
                    "status": "starting",
                    "model_loaded": False,
                    "model_version": None,
                    "prediction_log": None,
                },
                status_code=503,
            )
        writer = service.writer
        return JSONResponse(
            {
                "status": "ok",
                "model_loaded": True,
                "model_version": service.predictor.version,
                "prediction_log": writer
                and {"not_logged": writer.not_logged, "queued": writer.queued},
            }
        )

    @app.get("/model")
    async def model_card(request: Request) -> dict[str, Any]:
        """The model card (models/model.json) of the loaded model."""
        card = service_of(request).predictor.card
        if show_versions:
            return card
        return {k: v for k, v in card.items() if k not in VERSION_FIELDS}


def _json(content: Any, logged: str) -> Response:
    return Response(
        orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY),
        media_type="application/json",
        headers={LOGGED_HEADER: logged},
    )


def _check_backend(service: Service, backend: str | None) -> None:
    """A request may name the tier it expects; this server runs one."""
    served = backend_of(service.predictor)
    if backend is not None and backend != served:
        raise HTTPException(
            409,
            f"This server runs the {served} tier, not {backend}. Send "
            f'"backend": "{served}" (or no backend), or start a server with '
            f"{config.BACKEND_ENV}={backend}.",
        )


def service_of(request: Request) -> Service:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "The model is not loaded yet; retry shortly.")
    return service
