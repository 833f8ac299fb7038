"""API-key authentication: ``Authorization: Bearer pbk_...`` with ordered scopes.

Scopes are ``read`` < ``execute`` < ``admin``; a key holds its scope and every lower one.
Keys are stored as SHA-256 hashes; the key itself is shown once, when it is created
(``pipeline-builder keys create --scope admin`` or ``POST /api/keys``). A missing or
unknown key is 401; a known key without the needed scope is 403. Keys are looked up on
every request, so a revocation takes effect on the next request on every replica.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.store import ApiKey, Store
from engine.store.records import SCOPES
from serve.audit_trail import endpoint, record, request_id
from serve.deps import request_store
from serve.errors import Forbidden, Unauthorized

__all__ = ["ApiKey", "require_scope"]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pbk_...`")


# Where the ``AuthFirst`` middleware leaves the key it looked up for this request.
API_KEY_STATE = "api_key"


async def _middleware_lookup(request: Request) -> tuple[str, ApiKey] | None:
    """The (token, key) the ``AuthFirst`` middleware looked up for this request, if any.

    Keys are read from the database on every request (no cache across requests): a
    revoked key fails on the very next request, on every replica. Within one request the
    middleware's lookup is reused. (A module-level dependency: Serve pickles the nested
    ``require_scope`` dependency by value, where a ``Request`` annotation would not
    resolve.)"""
    found = getattr(request.state, API_KEY_STATE, None)
    if isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], ApiKey):
        return found[0], found[1]
    return None


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A FastAPI dependency that authenticates the request and checks ``scope``.

    Args:
        scope: ``read``, ``execute`` or ``admin``.

    Returns:
        The dependency; it returns the authenticated :class:`ApiKey` (``.id``, ``.scopes``).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")

    async def dependency(
        looked_up: tuple[str, ApiKey] | None = Depends(_middleware_lookup),
        req_id: str | None = Depends(request_id),
        called: str = Depends(endpoint),
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
        store: Store = Depends(request_store),
    ) -> ApiKey:
        if (
            credentials is None
            or credentials.scheme.lower() != "bearer"
            or not credentials.credentials
        ):
            raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        # On the event loop when the middleware's lookup is reused (no I/O), else in a
        # worker thread, like every store access.
        key = looked_up[1] if looked_up and looked_up[0] == credentials.credentials else None
        if key is None:
            key = await anyio.to_thread.run_sync(store.authenticate, credentials.credentials)
        if key is None:
            raise Unauthorized("the API key is unknown or revoked")
        if not key.allows(scope):
            # a known key used beyond its scope is worth a trace; unknown keys (401) are
            # not recorded, so anonymous traffic cannot grow the audit trail
            await anyio.to_thread.run_sync(
                functools.partial(
                    record,
                    "auth.denied",
                    "endpoint",
                    called,
                    actor=key.id,
                    request_id=req_id,
                    outcome="denied",
                    details={"requiredScope": scope, "scopes": list(key.scopes)},
                )
            )
            raise Forbidden(
                f"this endpoint needs the '{scope}' scope; the key has {', '.join(key.scopes)}",
                requiredScope=scope,
            )
        return key

    dependency.__name__ = f"require_{scope}"
    return dependency
