"""The OpenAPI docs of the lean routes, and the API key the docs can send."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from sentiment import config
from sentiment.serving.schemas import ERROR_RESPONSES


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that parses its body itself."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"content": {"application/json": schema}, "required": True}}


def add_lean_post(
    app: FastAPI,
    documented: list[APIRoute],
    path: str,
    endpoint: Callable[[Request], Awaitable[Response]],
    body: type[BaseModel],
    answer: type[BaseModel],
    **options: Any,
) -> None:
    """Serve ``POST path`` through Starlette's plain request/response wrapper.

    The endpoint parses its own body (``bodies.parse_body``) and returns
    bytes, so FastAPI's per-request dependency solving and response
    validation would be pure cost; the route is still described in the
    OpenAPI docs, from an :class:`APIRoute` that only the docs use.
    """
    app.add_route(path, endpoint, methods=["POST"], include_in_schema=False)
    documented.append(
        APIRoute(
            path,
            endpoint,
            methods=["POST"],
            response_model=None,
            responses={200: {"model": answer}, **ERROR_RESPONSES},
            openapi_extra=request_body(body),
            **options,
        )
    )


def openapi_with_keys(app: FastAPI, documented: list[APIRoute]) -> None:
    """The OpenAPI schema: every route, and the bearer key /docs can send."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=[*documented, *app.routes],
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "ApiKey": {"type": "http", "scheme": "bearer"}
            }
            for path, operations in schema["paths"].items():
                if path.startswith(config.PROTECTED_API_PREFIXES):
                    for operation in operations.values():
                        operation["security"] = [{"ApiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
