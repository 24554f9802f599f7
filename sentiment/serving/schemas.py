"""The API's request and response bodies (pydantic), with the limits they enforce."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sentiment import config
from sentiment.files.timestamps import parse_one_time
from sentiment.model.inputs import prepare_text


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


# --- brand monitoring (issue 12): optional posting time, brand, languages ---
# A text in a batch may be empty: it gets status "no_text", as in the CLI,
# instead of failing the whole batch.
BatchText = Annotated[str, Field(max_length=config.MAX_TEXT_CHARS)]
CreatedAt = Annotated[
    str | None,
    Field(
        max_length=64,
        description="when the post was posted: ISO 8601 or epoch seconds",
    ),
]
BrandName = Annotated[str | None, Field(max_length=200)]
ScoreAll = Annotated[
    bool,
    Field(description="score posts in every language (the model reads English)"),
]


PostedAt = Annotated[CreatedAt, AfterValidator(parse_one_time)]
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
    created_at: PostedAt = None
    brand: BrandName = None
    score_all_languages: ScoreAll = False
    backend: Backend = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[BatchText] = Field(min_length=1, max_length=config.MAX_BATCH_TEXTS)
    threshold: Threshold = None
    created_at: list[PostedAt] | None = Field(
        default=None, description="one per text, in the same order"
    )
    brand: list[BrandName] | None = Field(
        default=None, description="one per text ('|' between several brands)"
    )
    score_all_languages: ScoreAll = False

    @model_validator(mode="after")
    def _one_per_text(self) -> BatchRequest:
        for name in ("created_at", "brand"):
            values = getattr(self, name)
            if values is not None and len(values) != len(self.texts):
                raise ValueError(
                    f"{name} has {len(values)} values for {len(self.texts)} texts: "
                    "give one per text (null where unknown)"
                )
        return self

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
    status: Literal["ok", "no_text", "no_signal", "unsupported_language"]
    truncated: bool
    language: str | None = None  # ISO 639 code; "" when there was no text
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
