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


Backend = Annotated[
    Literal["classic", "transformer", "cascade"] | None,
    Field(
        default=None,
        description="the model tier expected (the server runs one: "
        f"${config.BACKEND_ENV}); 409 when it runs another",
    ),
]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    threshold: Threshold = None
    backend: Backend = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Text] = Field(min_length=1, max_length=config.MAX_BATCH_TEXTS)
    threshold: Threshold = None
    backend: Backend = None


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


class HealthOut(BaseModel):
    status: Literal["ok", "starting"]
    model_loaded: bool
    model_version: str | None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {
        "model": ErrorOut,
        "description": f"Body over {config.MAX_BODY_BYTES:,} bytes",
    },
    422: {"model": ErrorOut, "description": "Invalid request: which field and why"},
}
