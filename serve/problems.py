"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import CatalogError, SpecError, ValidationFailed
from engine.store.errors import ConflictError, NotFoundError
from serve.errors import ApiError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://pipeline-builder.dev/problems/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


# The OpenAPI schema of every error body (RFC 9457; extension members are allowed).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; extension members may follow.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "problems": {
            "type": "array",
            "description": "Each problem of an invalid request, spec or resource (422).",
            "items": {
                "type": "object",
                "properties": {
                    "nodeId": {"type": ["string", "null"]},
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["path", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_slug or f"http-{status}"),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": 'Bearer realm="pipeline-builder"'} if exc.status == 401 else None
        )
        return problem(
            exc.status,
            exc.detail,
            title=exc.title,
            type_slug=exc.type_slug,
            instance=request.url.path,
            headers=headers,
            **exc.extra,
        )

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem(404, str(exc), type_slug="not-found", instance=request.url.path)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return problem(409, str(exc), type_slug="conflict", instance=request.url.path)

    @app.exception_handler(ValidationFailed)
    async def _invalid(request: Request, exc: ValidationFailed) -> JSONResponse:
        return problem(
            422,
            f"{len(exc.problems)} problem(s) found",
            type_slug="validation-failed",
            instance=request.url.path,
            problems=[p.to_dict() for p in exc.problems],
        )

    @app.exception_handler(SpecError)
    @app.exception_handler(CatalogError)
    async def _spec(request: Request, exc: Exception) -> JSONResponse:
        return problem(
            422,
            str(exc),
            type_slug="validation-failed",
            instance=request.url.path,
            problems=[{"nodeId": None, "path": "", "message": str(exc)}],
        )

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "nodeId": None,
                "path": ".".join(str(x) for x in e.get("loc", ())),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        return problem(
            422,
            "the request is not valid",
            type_slug="request-invalid",
            instance=request.url.path,
            problems=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Details stay in the server log: they may name files or internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, "an unexpected error occurred; see the server log", instance=request.url.path
        )
