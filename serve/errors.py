"""Errors of the HTTP API; each renders as an RFC 9457 ``application/problem+json`` body.

::

    ApiError                 (status, title, detail, extra members)
    ├── Unauthorized         401  no, malformed, unknown or revoked API key
    ├── Forbidden            403  the key lacks the scope the endpoint needs
    ├── NotFound             404  no such pipeline, version, resource or execution
    ├── Conflict             409  id taken, Idempotency-Key reused differently, run ended
    │   └── SecretOriginChanged   (serve.routes.resources) a resource's secrets would
    │                             be sent to another origin than before
    ├── PayloadTooLarge      413  request body above the configured limit
    ├── Unprocessable        422  invalid spec/resource; ``problems`` lists each one
    │   ├── Refused               (serve.routes.resources) a resource a security rule
    │   │                         refuses; ``rule`` names it
    │   ├── LocationRefused       (serve.routes.pipelines) a spec location a security
    │   │                         rule refuses; ``rule`` names it
    │   └── RequirementUnmet      (serve.routes._requirements) a dataRequirement that
    │                             cannot be honoured
    └── BadRequest           400  (serve.deps) malformed query parameters

    engine.errors.PipelineBuilderError
    └── ApiRequestError      (serve.client) the API answered with an error; carries
                             the status and the problem document

Store and engine errors are translated in :mod:`serve.problems`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every API error.

    Args:
        detail: Human-readable explanation specific to this occurrence.
        extra: Extension members added to the problem document (e.g. ``problems``).
    """

    status: int = 500
    title: str = "Internal Server Error"
    type_slug: str = "internal-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(ApiError):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"


class Forbidden(ApiError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFound(ApiError):
    status, title, type_slug = 404, "Not Found", "not-found"


class Conflict(ApiError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PayloadTooLarge(ApiError):
    status, title, type_slug = 413, "Content Too Large", "payload-too-large"


class Unprocessable(ApiError):
    status, title, type_slug = 422, "Unprocessable Content", "validation-failed"
