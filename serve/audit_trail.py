"""Request ids and audit entries for API actions.

:class:`RequestId` gives every request an id, kept in the request's state and returned as
``X-Request-Id``. :func:`audited` records an action in the hash-chained
audit trail (:mod:`engine.audit`) with the API key as actor, the request id, and the
outcome: ``success`` when the block finishes, ``failure`` (with the error) when it raises.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from serve.deps import settings

log = logging.getLogger(__name__)
HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


class RequestId:
    """ASGI middleware: one request id per HTTP request, returned as ``X-Request-Id``.

    Behind the Ray Serve proxy every request already carries ``x-request-id`` (the
    client's own, or one the proxy generated) and the proxy returns it in the response;
    that id is used so the header, Serve's logs and the audit trail agree. Without the
    proxy (plain ASGI servers, tests) a ``req_<hex>`` id is made and returned here.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"")
        rid = given.decode("latin-1").strip()
        if rid and _VALID_ID.match(rid):
            scope.setdefault("state", {})["request_id"] = rid
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((HEADER.lower().encode(), rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


async def request_id(request: Request) -> str | None:
    """The id :class:`RequestId` gave this request (FastAPI dependency)."""
    return getattr(request.state, "request_id", None)


async def endpoint(request: Request) -> str:
    """``METHOD /path`` of this request (FastAPI dependency)."""
    return f"{request.method} {request.url.path}"


def record(
    action: str,
    resource_type: str,
    resource_id: str,
    *,
    actor: str,
    request_id: str | None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the API's audit trail; a failure to audit is logged only."""
    try:
        from engine.audit.log import _log_for

        _log_for(settings().db_url).record(
            action,
            resource_type,
            resource_id,
            actor=actor,
            outcome=outcome,
            request_id=request_id,
            details=details or {},
        )
    except Exception:
        log.exception("could not audit %s %s/%s", action, resource_type, resource_id)


@contextlib.contextmanager
def audited(
    req_id: str | None,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str,
    **details: Any,
) -> Iterator[dict[str, Any]]:
    """Audit the block as ``action``; the yielded dict adds details before it is written.

    Route functions get ``req_id`` with ``Depends(request_id)`` rather than taking the
    ``Request`` itself: Serve pickles nested route functions by value, and a bare
    ``request: Request`` annotation would not resolve there.

    Example::

        with audited(req_id, key.id, "pipeline.create", "pipeline", spec_id) as details:
            out = store.create_pipeline(...)
            details["version"] = out.version
    """
    extra: dict[str, Any] = dict(details)
    try:
        yield extra
    except Exception as exc:
        status = _http_status(exc)
        extra.update(error=str(exc)[:500], errorType=type(exc).__name__)
        if status:
            extra["status"] = status
        record(
            action,
            resource_type,
            resource_id,
            actor=actor,
            request_id=req_id,
            outcome="failure",
            details=extra,
        )
        raise
    record(
        action,
        resource_type,
        resource_id,
        actor=actor,
        request_id=req_id,
        details=extra,
    )


def _http_status(exc: Exception) -> int | None:
    """The status the API answers for ``exc`` (as :mod:`serve.problems` maps it)."""
    from engine.errors import CatalogError, SpecError, ValidationFailed
    from engine.store.errors import ConflictError, NotFoundError
    from serve.errors import ApiError

    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, ValidationFailed | SpecError | CatalogError):
        return 422
    return None
