"""The API's request and response bodies (pydantic), with the limits they enforce."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sentiment import config
from sentiment.model.predictor import prepare_text


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

    texts: list[Text] = Field(min_length=1, max_length=config.MAX_BATCH_TEXTS)
    threshold: Threshold = None


class Probabilities(BaseModel):
    negative: float
    neutral: float
    positive: float


class PredictionOut(BaseModel):
    """One prediction (see sentiment.model.predictor.Prediction) and model version."""

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


class LogHealthOut(BaseModel):
    not_logged: int = Field(
        description="predictions answered without a log row since start-up"
    )
    queued: int = Field(description="log writes waiting for the writer thread")


class HealthOut(BaseModel):
    status: Literal["ok", "starting"]
    model_loaded: bool
    model_version: str | None
    prediction_log: LogHealthOut | None = Field(
        description="null while starting, or when logging is off"
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or invalid API key"},
    413: {
        "model": ErrorOut,
        "description": f"Body over {config.MAX_BODY_BYTES:,} bytes",
    },
    422: {"model": ErrorOut, "description": "Invalid request: which field and why"},
}
