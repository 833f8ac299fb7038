"""CRUD for every catalog kind: ``/api/data-sources``, ``/api/pattern-libraries``, ...

A resource is a JSON object with an ``id``. Secrets are never stored in plain text:
a value under a secret-looking key (password, token, apiKey...) must be a reference
(``env:NAME`` / ``file:/path``), and URLs must not embed a password; otherwise 422.
Responses mask secret values. Reads need ``read``; writes need ``admin``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from engine.secrets import SECRET_KEYS, is_secret_ref
from engine.store import ApiKey, Store
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import Pagination, get_store, pagination
from serve.errors import Unprocessable
from serve.models import Page, ResourceOut

router = APIRouter(tags=["resources"])

KIND_SLUGS: dict[str, str] = {
    "data-sources": "dataSources",
    "field-mappings": "fieldMappings",
    "quality-rules": "qualityRules",
    "pattern-libraries": "patternLibraries",
    "redaction-rules": "redactionRules",
    "synthetic-templates": "syntheticTemplates",
    "environments": "environments",
    "notification-channels": "notificationChannels",
}
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_URL_PASSWORD = re.compile(r"://[^/@:\s]+:[^/@\s]+@")


def plain_secrets(obj: Any, path: str = "") -> list[dict[str, Any]]:
    """Problems for every plain-text secret inside a resource body."""
    found: list[dict[str, Any]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and SECRET_KEYS.search(k) and isinstance(v, str) and v:
                if not is_secret_ref(v):
                    found.append(
                        {
                            "nodeId": None,
                            "path": p,
                            "message": "secrets are not stored in plain text; use a reference such "
                            "as 'env:NAME' or 'file:/path'",
                        }
                    )
            else:
                found += plain_secrets(v, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found += plain_secrets(v, f"{path}.{i}" if path else str(i))
    elif isinstance(obj, str) and _URL_PASSWORD.search(obj):
        found.append(
            {
                "nodeId": None,
                "path": path,
                "message": "a URL must not embed a password; put it in an env:NAME reference",
            }
        )
    return found


def check_body(body: Any, resource_id: str | None = None) -> dict[str, Any]:
    """Raise 422 listing every problem of a resource body; return it."""
    problems: list[dict[str, Any]] = []
    if not isinstance(body, dict):
        raise Unprocessable(
            "a resource must be a JSON object",
            problems=[{"nodeId": None, "path": "", "message": "expected an object"}],
        )
    rid = body.get("id", resource_id)
    if not isinstance(rid, str) or not _ID.match(rid):
        problems.append(
            {
                "nodeId": None,
                "path": "id",
                "message": f"id {rid!r} must start with a letter or '_' and use only "
                "letters, digits, '_', '.', '-'",
            }
        )
    elif resource_id is not None and rid != resource_id:
        problems.append(
            {
                "nodeId": None,
                "path": "id",
                "message": f"body id {rid!r} differs from the URL's {resource_id!r}",
            }
        )
    problems += plain_secrets(body)
    if problems:
        raise Unprocessable(f"{len(problems)} problem(s) in the resource", problems=problems)
    return {**body, "id": rid}


def _add_routes(slug: str, kind: str) -> None:
    name = slug.replace("-", "_")

    def create(
        req_id: str | None = Depends(request_id),
        body: dict[str, Any] = Body(...),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(get_store),
    ) -> ResourceOut:
        rid = str(body.get("id")) if isinstance(body, dict) else "?"
        with audited(req_id, key.id, "resource.create", kind, rid) as details:
            out = ResourceOut.of(store.create_resource(kind, check_body(body)))
            details["version"] = out.version
        return out

    def list_(
        page: Pagination = Depends(pagination),
        _: ApiKey = Depends(require_scope("read")),
        store: Store = Depends(get_store),
    ) -> Page[ResourceOut]:
        items, total = store.list_resources(kind, offset=page.offset, limit=page.limit)
        return Page[ResourceOut](
            items=[ResourceOut.of(r) for r in items],
            total=total,
            limit=page.limit,
            offset=page.offset,
            nextOffset=page.next_offset(len(items), total),
        )

    def get(
        resource_id: str,
        _: ApiKey = Depends(require_scope("read")),
        store: Store = Depends(get_store),
    ) -> ResourceOut:
        return ResourceOut.of(store.get_resource(kind, resource_id))

    def replace(
        resource_id: str,
        req_id: str | None = Depends(request_id),
        body: dict[str, Any] = Body(...),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(get_store),
    ) -> ResourceOut:
        with audited(req_id, key.id, "resource.update", kind, resource_id) as details:
            out = ResourceOut.of(store.replace_resource(kind, check_body(body, resource_id)))
            details["version"] = out.version
        return out

    def delete(
        resource_id: str,
        req_id: str | None = Depends(request_id),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(get_store),
    ) -> Response:
        with audited(req_id, key.id, "resource.delete", kind, resource_id):
            store.delete_resource(kind, resource_id)
        return Response(status_code=204)

    base = f"/api/{slug}"
    routes: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        ("POST", base, create, {"status_code": 201, "response_model": ResourceOut}),
        ("GET", base, list_, {"response_model": Page[ResourceOut]}),
        ("GET", base + "/{resource_id}", get, {"response_model": ResourceOut}),
        ("PUT", base + "/{resource_id}", replace, {"response_model": ResourceOut}),
        ("DELETE", base + "/{resource_id}", delete, {"status_code": 204}),
    ]
    for method, path, fn, extra in routes:
        verb = {"POST": "create", "GET": "get", "PUT": "replace", "DELETE": "delete"}[method]
        if fn is list_:
            verb = "list"
        router.add_api_route(
            path,
            fn,
            methods=[method],
            name=f"{verb}_{name}",
            tags=[f"resources: {slug}"],
            summary=f"{verb.capitalize()} {kind}",
            **extra,
        )


for _slug, _kind in KIND_SLUGS.items():
    _add_routes(_slug, _kind)
