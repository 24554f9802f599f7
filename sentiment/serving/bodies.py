"""Request bodies in, client mistakes out: parsing a body against its model,
and the JSON 422 / 4xx answers that name the field and the reason."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sentiment.serving.middleware import error_response

Body = TypeVar("Body", bound=BaseModel)


async def parse_body(request: Request, model: type[Body]) -> Body:
    """The request body as ``model``, or a 422 naming the field and the reason.

    pydantic parses and checks the JSON bytes in one pass (no dict in between).
    """
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": "not JSON"}]
        )
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in e.errors()]
        ) from None


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(error) for error in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


def field_error(error: dict[str, Any]) -> dict[str, str]:
    where = [str(part) for part in error.get("loc", ()) if part != "body"]
    if error.get("type") == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return {
            "field": "body",
            "message": f"not valid JSON ({reason})",
            "type": "json_invalid",
        }
    if error.get("type") in ("model_attributes_type", "model_type") and not where:
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


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc)
