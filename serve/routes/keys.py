"""API keys: create (shown once), list, revoke. Admin scope."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from engine.store import ApiKey, ConflictError, Store
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import request_store
from serve.errors import Conflict
from serve.models import ApiKeyCreate, ApiKeyOut

router = APIRouter(prefix="/api/keys", tags=["keys"])


def _out(key: ApiKey, token: str | None = None) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scope=key.scope,
        scopes=key.scopes,
        createdAt=key.created_at,
        revokedAt=key.revoked_at,
        key=token,
    )


@router.post("", status_code=201, response_model=ApiKeyOut, summary="Create an API key")
def create_key(
    body: ApiKeyCreate,
    req_id: str | None = Depends(request_id),
    admin: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> ApiKeyOut:
    # the new key's id is known only once it exists: record the entry after creating it
    key, token = store.create_api_key(body.scope, name=body.name, created_by=admin.id)
    with audited(req_id, admin.id, "key.create", "apiKey", key.id, scope=body.scope):
        pass
    return _out(key, token)


@router.get("", response_model=list[ApiKeyOut], summary="List API keys (never the keys themselves)")
def list_keys(
    _: ApiKey = Depends(require_scope("admin")), store: Store = Depends(request_store)
) -> list[ApiKeyOut]:
    return [_out(k) for k in store.list_api_keys()]


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(
    key_id: str,
    req_id: str | None = Depends(request_id),
    admin: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> Response:
    with audited(req_id, admin.id, "key.revoke", "apiKey", key_id) as details:
        try:
            details["revoked"] = store.revoke_api_key(key_id)
        except ConflictError as exc:
            refused = Conflict(str(exc), rule="last-admin")
            refused.type_slug = "last-admin"
            raise refused from None
    return Response(status_code=204)
