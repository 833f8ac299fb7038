"""CRUD for every catalog kind: ``/api/data-sources``, ``/api/pattern-libraries``, ...

A resource is a JSON object with an ``id``. Secrets are never stored in plain text:
a value under a secret-looking key (password, token, apiKey...) must be a reference
(``env:NAME`` / ``secret:NAME`` / ``file:NAME``) inside the operator's namespace, and URLs
must not embed a password, and every key must be one the kind declares (422 naming
the key and the closest known one). Locations must lie inside the data roots and
hosts must pass the egress guard (:func:`check_security`; 422 naming the rule). A
resource with secrets remembers the origin they go to (``boundOrigin``); moving it
elsewhere needs new references (409 ``secret-origin``). The binding also belongs to each
secret reference, kept in the store apart from the resources (kind
``secretBindings``): deleting a resource and creating another one with the same
reference, or naming it from a second resource, cannot send that secret to another
origin. Responses mask secret values.
Reads need ``read``; writes need ``admin``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Response

from engine.catalog import unknown_keys
from engine.registry import default_registry
from engine.secrets import SECRET_KEYS, is_secret_ref
from engine.store import ApiKey, Store
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import Pagination, pagination, request_store
from serve.errors import Conflict, Unprocessable
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


def check_body(kind: str, body: Any, resource_id: str | None = None) -> dict[str, Any]:
    """Raise 422 listing every problem of a resource body; return it.

    Besides the id and secrets, every key must be one the kind declares
    (:func:`engine.catalog.unknown_keys`, as ``validate`` checks a catalog file): an
    unknown key is named with the closest known one.
    """
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
    default_registry()  # node modules declare their resources' keys
    problems += [
        {"nodeId": None, "path": key, "message": message}
        for key, message in unknown_keys(kind, body)
    ]
    if problems:
        raise Unprocessable(f"{len(problems)} problem(s) in the resource", problems=problems)
    return {**body, "id": rid}


class Refused(Unprocessable):
    """A resource refused by a security rule; ``rule`` names it (also in the type URI)."""

    def __init__(self, rule: str, detail: str, path: str) -> None:
        super().__init__(
            detail, rule=rule, problems=[{"nodeId": None, "path": path, "message": detail}]
        )
        self.type_slug = rule


class SecretOriginChanged(Conflict):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, rule="secret-origin")
        self.type_slug = "secret-origin"


def origin_of(kind: str, body: dict[str, Any]) -> str | None:
    """Where a resource's secrets may be sent: the origin of its API, database or store."""
    from urllib.parse import urlsplit

    if kind == "dataSources":
        t = body.get("type", "file")
        if t == "api" and isinstance(body.get("baseUrl"), str):
            u = urlsplit(body["baseUrl"])
            port = u.port or (443 if u.scheme == "https" else 80)
            return f"{u.scheme}://{(u.hostname or '').lower()}:{port}"
        if t == "database" and isinstance(body.get("url"), str):
            try:
                from sqlalchemy.engine import make_url

                u = make_url(body["url"])
            except Exception:
                return None
            where = f"{(u.host or '').lower()}:{u.port or ''}/{u.database or ''}"
            return f"{u.get_backend_name()}://{where}"
        storage = body.get("storage") or {}
        if isinstance(storage, dict) and storage.get("endpointUrl"):
            u = urlsplit(str(storage["endpointUrl"]))
            return f"{u.scheme}://{(u.hostname or '').lower()}:{u.port or ''}"
    if kind == "notificationChannels":
        url = body.get("url") or body.get("webhookUrl")
        if isinstance(url, str) and "://" in url:
            u = urlsplit(url)
            return f"{u.scheme}://{(u.hostname or '').lower()}:{u.port or ''}"
    return None


BINDINGS_KIND = "secretBindings"  # not a catalog kind: never listed, never in a run


def _binding_id(ref: str) -> str:
    import hashlib

    return hashlib.sha256(ref.encode()).hexdigest()


def bind_secret_refs(store: Store, kind: str, rid: Any, refs: set[str], origin: str) -> None:
    """Bind every reference in ``refs`` to ``origin`` for good, or refuse (409
    ``secret-origin``) when one is already bound to another origin.

    A reference is bound to the origin of the first resource stored with it; the
    binding outlives that resource. Sending the secret elsewhere needs a new reference
    (the operator provides the secret again under another name)."""
    from engine.store.errors import ConflictError, NotFoundError

    def bound(ref: str) -> dict[str, Any] | None:
        try:
            return store.get_resource(BINDINGS_KIND, _binding_id(ref)).body
        except NotFoundError:
            return None

    def refuse(ref: str, b: dict[str, Any]) -> None:
        raise SecretOriginChanged(
            f"secret-origin: secret {ref} is bound to {b['origin']} (where "
            f"{b.get('firstResource', 'a resource')} was created to send it); {kind} '{rid}' "
            f"may not send it to {origin}. Re-enter the secret under a new reference to "
            "use it with another origin"
        )

    missing = []
    for ref in sorted(refs):
        b = bound(ref)
        if b is None:
            missing.append(ref)
        elif b.get("origin") != origin:
            refuse(ref, b)
    for ref in missing:
        body = {
            "id": _binding_id(ref),
            "ref": ref,
            "origin": origin,
            "firstResource": f"{kind} '{rid}'",
        }
        try:
            store.create_resource(BINDINGS_KIND, body)
        except ConflictError:  # bound meanwhile by a concurrent request
            b = bound(ref)
            if b is not None and b.get("origin") != origin:
                refuse(ref, b)


def check_security(
    kind: str,
    body: dict[str, Any],
    previous: dict[str, Any] | None = None,
    store: Store | None = None,
) -> dict[str, Any]:
    """Refuse a resource that breaks a security rule; return it with its secret origin.

    Rules: ``data-root`` / ``metadata-store`` (file locations, SQLite files,
    environments), ``egress`` (API base URLs, http(s) files, storage endpoints, database
    hosts, notification channels), ``secret-namespace`` (every secret reference), and
    ``secret-origin`` (changing where a stored secret goes needs new references; with
    ``store``, every reference stays bound to its first origin, see
    :func:`bind_secret_refs`).
    """
    from engine import egress, roots
    from engine.errors import SecretError
    from engine.secrets import check_ref, refs_in
    from serve.deps import settings

    home = settings().home
    root_set = roots.roots_for(home, api=True)

    def place(uri: Any, path: str, what: str) -> None:
        if not isinstance(uri, str) or not uri:
            return
        try:
            if uri.split(":", 1)[0].lower() in ("http", "https"):
                egress.check_url(uri, what=what, unresolved_ok=True)
            else:
                roots.check(uri, base_dir=home, roots=root_set, what=what, scan_links=True)
        except roots.OutsideDataRoots as exc:
            raise Refused(exc.rule, str(exc), path) from None
        except egress.EgressRefused as exc:
            raise Refused(egress.RULE, str(exc), path) from None

    def host(url: Any, path: str, what: str, extra: tuple[str, ...] = ()) -> None:
        if not isinstance(url, str) or not url or is_secret_ref(url):
            return
        try:
            egress.check_url(url, what=what, extra_allow_envs=extra, unresolved_ok=True)
        except egress.EgressRefused as exc:
            raise Refused(egress.RULE, str(exc), path) from None

    for path, ref in refs_in(body):
        try:
            check_ref(ref, what=path, api=True)
        except SecretError as exc:
            raise Refused("secret-namespace", str(exc), path) from None

    rid = body.get("id")
    if kind == "dataSources":
        t = body.get("type", "file")
        raw_storage = body.get("storage")
        storage: dict[str, Any] = raw_storage if isinstance(raw_storage, dict) else {}
        host(storage.get("endpointUrl"), "storage.endpointUrl", f"data source '{rid}' storage")
        if t == "file":
            place(body.get("uri"), "uri", f"data source '{rid}'")
        elif t == "api":
            host(body.get("baseUrl"), "baseUrl", f"data source '{rid}'")
        elif t == "database" and isinstance(body.get("url"), str):
            url = body["url"]
            if url.startswith("sqlite"):
                db = url.split("///", 1)[1] if "///" in url else ""
                db = db[len("file:") :] if db.startswith("file:") else db
                db = db.split("?", 1)[0]
                if db and db != ":memory:":
                    place(db, "url", f"data source '{rid}' database file")
            else:
                try:
                    egress.check_database_url(
                        url, what=f"data source '{rid}' database", unresolved_ok=True
                    )
                except egress.EgressRefused as exc:
                    raise Refused(egress.RULE, str(exc), "url") from None
                _refuse_metadata_db(url, rid)
    elif kind == "environments":
        place(body.get("uri"), "uri", f"environment '{rid}'")
    elif kind == "notificationChannels":
        for key in ("url", "webhookUrl"):
            host(
                body.get(key),
                key,
                f"notification channel '{rid}'",
                ("PIPELINE_BUILDER_WEBHOOK_ALLOW",),
            )

    out = {k: v for k, v in body.items() if k != "boundOrigin"}
    refs = {r for _, r in refs_in(out)}
    origin = origin_of(kind, out)
    if refs and origin:
        if previous is not None:
            old_origin = previous.get("boundOrigin") or origin_of(kind, previous)
            old_refs = {r for _, r in refs_in(previous)}
            kept = refs & old_refs
            if old_origin and old_origin != origin and kept:
                raise SecretOriginChanged(
                    f"secret-origin: {kind} '{rid}' sends its secrets to {old_origin}; "
                    f"moving it to {origin} requires re-entering the secrets (new "
                    f"references for {', '.join(sorted(kept))})"
                )
        if store is not None:
            bind_secret_refs(store, kind, rid, refs, origin)
        out["boundOrigin"] = origin
    return out


def _refuse_metadata_db(url: str, rid: Any) -> None:
    from sqlalchemy.engine import make_url

    from engine.store import database_url

    meta = database_url()
    if meta.startswith("sqlite"):
        return
    try:
        m, u = make_url(meta), make_url(url)
    except Exception:
        return
    if (
        (m.host or "").lower() == (u.host or "").lower()
        and (m.port or 5432) == (u.port or 5432)
        and m.database == u.database
    ):
        raise Refused(
            "metadata-store",
            f"metadata-store: data source '{rid}' points at the product's metadata "
            "database, which is never a data source",
            "url",
        )


def _add_routes(slug: str, kind: str) -> None:
    name = slug.replace("-", "_")

    def create(
        req_id: str | None = Depends(request_id),
        body: dict[str, Any] = Body(...),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(request_store),
    ) -> ResourceOut:
        rid = str(body.get("id")) if isinstance(body, dict) else "?"
        with audited(req_id, key.id, "resource.create", kind, rid) as details:
            checked = check_security(kind, check_body(kind, body), store=store)
            out = ResourceOut.of(store.create_resource(kind, checked))
            details["version"] = out.version
        return out

    def list_(
        page: Pagination = Depends(pagination),
        _: ApiKey = Depends(require_scope("read")),
        store: Store = Depends(request_store),
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
        store: Store = Depends(request_store),
    ) -> ResourceOut:
        return ResourceOut.of(store.get_resource(kind, resource_id))

    def replace(
        resource_id: str,
        req_id: str | None = Depends(request_id),
        body: dict[str, Any] = Body(...),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(request_store),
    ) -> ResourceOut:
        with audited(req_id, key.id, "resource.update", kind, resource_id) as details:
            previous = store.get_resource(kind, resource_id).body
            checked = check_security(kind, check_body(kind, body, resource_id), previous, store)
            out = ResourceOut.of(store.replace_resource(kind, checked))
            details["version"] = out.version
        return out

    def delete(
        resource_id: str,
        req_id: str | None = Depends(request_id),
        key: ApiKey = Depends(require_scope("admin")),
        store: Store = Depends(request_store),
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
