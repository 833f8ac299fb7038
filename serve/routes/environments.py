"""Environment deployments: versions, the CURRENT pointer and rollback.

The environment resources themselves are CRUD under ``/api/environments`` (resources
router); this router adds what a deployment target needs on top.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from engine.store import ApiKey
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import get_catalog
from serve.errors import Conflict, NotFound

router = APIRouter(prefix="/api/environments", tags=["environments"])


def _uri(catalog: Any, environment_id: str) -> str:
    from engine.errors import ResourceNotFound
    from nodes.outputs.environment import load_environment

    try:
        return load_environment(catalog, environment_id).uri
    except ResourceNotFound as exc:
        raise NotFound(str(exc)) from None


@router.get("/{environment_id}/versions", summary="Versions of an environment, oldest first")
def list_versions(
    environment_id: str,
    _: ApiKey = Depends(require_scope("read")),
    catalog: Any = Depends(get_catalog),
) -> dict[str, Any]:
    from nodes.outputs import versions

    uri = _uri(catalog, environment_id)
    return {
        "environmentId": environment_id,
        "current": versions.read_pointer(uri),
        "versions": versions.list_versions(uri),
    }


@router.post("/{environment_id}/rollback", summary="Point CURRENT back at the previous version")
def rollback(
    environment_id: str,
    req_id: str | None = Depends(request_id),
    body: dict[str, Any] | None = Body(
        None, examples=[{"toVersion": "20260101T120000000000Z-abcd1234"}]
    ),
    key: ApiKey = Depends(require_scope("admin")),
    catalog: Any = Depends(get_catalog),
) -> dict[str, Any]:
    from nodes.outputs import versions

    to_version = (body or {}).get("toVersion")
    with audited(req_id, key.id, "environment.rollback", "environment", environment_id) as details:
        uri = _uri(catalog, environment_id)
        try:
            pointer = versions.rollback(uri, to_version=to_version)
        except versions.DeploymentError as exc:
            raise Conflict(str(exc)) from None
        details.update(version=pointer["version"], rolledBackFrom=pointer.get("rolledBackFrom"))
    return {
        "environmentId": environment_id,
        "version": pointer["version"],
        "previous": pointer.get("previous"),
        "rolledBackFrom": pointer.get("rolledBackFrom"),
        "updatedAt": pointer.get("updatedAt"),
        "location": versions.resolve_current(uri),
    }
