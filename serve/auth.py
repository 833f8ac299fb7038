"""API-key authentication: ``Authorization: Bearer pbk_...`` with ordered scopes.

Scopes are ``read`` < ``execute`` < ``admin``; a key holds its scope and every lower one.
Keys are stored as SHA-256 hashes; the key itself is shown once, when it is created
(``pipeline-builder keys create --scope admin`` or ``POST /api/keys``). A missing or
unknown key is 401; a known key without the needed scope is 403. Keys are looked up on
every request, so a revocation takes effect on the next request on every replica.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.store import ApiKey, Store
from engine.store.records import SCOPES
from serve.audit_trail import endpoint, record, request_id
from serve.deps import get_store
from serve.errors import Forbidden, Unauthorized

__all__ = ["ApiKey", "require_scope"]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer pbk_...`")


def _lookup(store: Store, token: str) -> ApiKey | None:
    # Read from the database on every request (no cache): a revoked key fails on the
    # very next request, on every replica.
    return store.authenticate(token)


def require_scope(scope: str) -> Callable[..., ApiKey]:
    """A FastAPI dependency that authenticates the request and checks ``scope``.

    Args:
        scope: ``read``, ``execute`` or ``admin``.

    Returns:
        The dependency; it returns the authenticated :class:`ApiKey` (``.id``, ``.scopes``).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")

    def dependency(
        req_id: str | None = Depends(request_id),
        called: str = Depends(endpoint),
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
        store: Store = Depends(get_store),
    ) -> ApiKey:
        if (
            credentials is None
            or credentials.scheme.lower() != "bearer"
            or not credentials.credentials
        ):
            raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        key = _lookup(store, credentials.credentials)
        if key is None:
            raise Unauthorized("the API key is unknown or revoked")
        if not key.allows(scope):
            # a known key used beyond its scope is worth a trace; unknown keys (401) are
            # not recorded, so anonymous traffic cannot grow the audit trail
            record(
                "auth.denied",
                "endpoint",
                called,
                actor=key.id,
                request_id=req_id,
                outcome="denied",
                details={"requiredScope": scope, "scopes": list(key.scopes)},
            )
            raise Forbidden(
                f"this endpoint needs the '{scope}' scope; the key has {', '.join(key.scopes)}",
                requiredScope=scope,
            )
        return key

    dependency.__name__ = f"require_{scope}"
    return dependency
