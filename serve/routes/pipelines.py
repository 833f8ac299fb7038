"""Pipelines: immutable versions, validated on write; ``POST /api/pipelines/validate``.

``POST /api/pipelines`` stores version 1; ``PUT /api/pipelines/{id}`` stores the next
version (earlier versions stay readable with ``?version=`` and executions pin theirs).
A spec with problems (bad shape, unknown node type, missing resource...) is rejected
with 422 and the list of problems. A location written inline in a node (``uri``,
``quarantineUri``, ``modelUri``...) is checked like a stored resource's, from the spec
alone (nothing is read): outside the data roots it is refused (422 ``data-root`` /
``metadata-store``), an ``http(s)://`` one must pass the egress guard (``egress``); the
problem names the node and the field. Reads need ``read``; writes need ``admin``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Response

from engine.errors import Problem, SpecError, ValidationFailed
from engine.plan.validation import check
from engine.spec.loader import parse_spec
from engine.spec.models import PipelineSpec
from engine.store import ApiKey, Store, StoreCatalog
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import Pagination, get_catalog, pagination, request_store
from serve.errors import Unprocessable
from serve.models import Page, PipelineOut, PipelineVersionOut, ProblemItem, ValidationReport
from serve.routes.resources import plain_secrets

router = APIRouter(prefix="/api/pipelines", tags=["pipelines"])

_SPEC_BODY = Body(
    ...,
    description="A pipeline spec (see the spec format): id, name, nodes[{id, nodeType, "
    "category, config, inputs}]",
    examples=[
        {
            "id": "customer_features",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"dataSourceId": "ds_customers"},
                },
                {
                    "id": "archive",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["load"],
                    "config": {"uri": "out/customers", "format": "parquet"},
                },
            ],
        }
    ],
)


_LOCATION_KEY = re.compile(r"(^uri$|Uri$|URI$)")


def _inline_locations(obj: Any, path: str) -> list[tuple[str, str]]:
    """``(path, value)`` of every location-valued field (``uri``, ``...Uri``) in a config."""
    out: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{path}.{k}"
            if isinstance(k, str) and _LOCATION_KEY.search(k) and isinstance(v, str) and v:
                out.append((p, v))
            else:
                out += _inline_locations(v, p)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _inline_locations(v, f"{path}.{i}")
    return out


def location_problems(spec: PipelineSpec) -> list[tuple[str, Problem]]:
    """``(rule, problem)`` for every inline location the API may not use: the data roots
    for paths and ``s3://`` (the API's roots: the operator's only), the egress guard for
    ``http(s)://``. Only names are resolved; no file is opened or listed."""
    from engine import egress, roots
    from engine.secrets import is_secret_ref
    from serve.deps import settings

    home = settings().home
    root_set = roots.roots_for(home, api=True)
    found: list[tuple[str, Problem]] = []
    for node in spec.nodes:
        for path, value in _inline_locations(node.config, "config"):
            if is_secret_ref(value) and not value.lower().startswith("file:"):
                continue  # env:/secret: references resolve at run time (``file:`` is a path)
            what = f"node '{node.id}' {path}"
            try:
                if value.split(":", 1)[0].lower() in ("http", "https"):
                    egress.check_url(value, what=what, unresolved_ok=True)
                else:
                    roots.check(value, base_dir=home, roots=root_set, what=what)
            except roots.OutsideDataRoots as exc:
                found.append((exc.rule, Problem(node.id, path, str(exc))))
            except egress.EgressRefused as exc:
                found.append((egress.RULE, Problem(node.id, path, str(exc))))
    return found


class LocationRefused(Unprocessable):
    """A spec whose inline locations break a security rule (422; ``rule`` names it)."""

    def __init__(self, rule: str, first: Problem, problems: list[Problem]) -> None:
        message = first.message if first.message.startswith(rule) else f"{rule}: {first.message}"
        super().__init__(
            message,
            rule=rule,
            problems=[p.to_dict() for p in problems],
        )
        self.type_slug = rule


def problems_of(body: Any, catalog: StoreCatalog) -> tuple[PipelineSpec | None, list[Problem]]:
    """Parse and validate a spec against the stored catalog; every problem at once."""
    try:
        spec = parse_spec(body)
    except ValidationFailed as exc:
        return None, exc.problems
    except SpecError as exc:
        return None, [Problem(None, "", str(exc))]
    problems = check(spec, catalog)
    # Secrets belong in env:/file: references, never in a stored spec.
    for node in spec.nodes:
        for found in plain_secrets(node.config, "config"):
            problems.append(Problem(node.id, found["path"], found["message"]))
    problems += [p for _rule, p in location_problems(spec)]
    return spec, problems


def valid_spec(body: Any, catalog: StoreCatalog) -> PipelineSpec:
    spec, problems = problems_of(body, catalog)
    if spec is not None:
        refused = location_problems(spec)
        if refused:
            raise LocationRefused(refused[0][0], refused[0][1], problems)
    if problems or spec is None:
        raise ValidationFailed(
            problems, pipeline_id=body.get("id") if isinstance(body, dict) else None
        )
    return spec


@router.post(
    "/validate", response_model=ValidationReport, summary="Validate a spec without saving it"
)
def validate_spec(
    body: Any = _SPEC_BODY,
    _: ApiKey = Depends(require_scope("read")),
    catalog: StoreCatalog = Depends(get_catalog),
) -> ValidationReport:
    _spec, problems = problems_of(body, catalog)
    return ValidationReport(
        valid=not problems, problems=[ProblemItem(**p.to_dict()) for p in problems]
    )


@router.post(
    "", status_code=201, response_model=PipelineOut, summary="Create a pipeline (version 1)"
)
def create_pipeline(
    req_id: str | None = Depends(request_id),
    body: Any = _SPEC_BODY,
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
    catalog: StoreCatalog = Depends(get_catalog),
) -> PipelineOut:
    spec_id = str(body.get("id")) if isinstance(body, dict) else "?"
    with audited(req_id, key.id, "pipeline.create", "pipeline", spec_id) as details:
        spec = valid_spec(body, catalog)
        out = PipelineOut.of(store.create_pipeline(_stored(spec), created_by=key.id))
        details["version"] = out.version
    return out


@router.get("", response_model=Page[PipelineOut], summary="List pipelines (latest versions)")
def list_pipelines(
    page: Pagination = Depends(pagination),
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(request_store),
) -> Page[PipelineOut]:
    items, total = store.list_pipelines(offset=page.offset, limit=page.limit)
    return Page[PipelineOut](
        items=[PipelineOut.of(p) for p in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
        nextOffset=page.next_offset(len(items), total),
    )


@router.get(
    "/{pipeline_id}", response_model=PipelineOut, summary="Get a pipeline (latest or ?version=)"
)
def get_pipeline(
    pipeline_id: str,
    version: int | None = Query(None, ge=1),
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(request_store),
) -> PipelineOut:
    return PipelineOut.of(store.get_pipeline(pipeline_id, version))


@router.get(
    "/{pipeline_id}/versions",
    response_model=list[PipelineVersionOut],
    summary="List a pipeline's versions",
)
def list_versions(
    pipeline_id: str,
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(request_store),
) -> list[PipelineVersionOut]:
    return [PipelineVersionOut(**v) for v in store.list_pipeline_versions(pipeline_id)]


@router.put(
    "/{pipeline_id}", response_model=PipelineOut, summary="Store a new version of a pipeline"
)
def update_pipeline(
    pipeline_id: str,
    req_id: str | None = Depends(request_id),
    body: Any = _SPEC_BODY,
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
    catalog: StoreCatalog = Depends(get_catalog),
) -> PipelineOut:
    with audited(req_id, key.id, "pipeline.update", "pipeline", pipeline_id) as details:
        if isinstance(body, dict) and body.get("id", pipeline_id) != pipeline_id:
            raise Unprocessable(
                f"the spec's id {body.get('id')!r} differs from the URL's {pipeline_id!r}",
                problems=[
                    {"nodeId": None, "path": "id", "message": "must equal the id in the URL"}
                ],
            )
        if isinstance(body, dict):
            body = {**body, "id": pipeline_id}
        store.get_pipeline(pipeline_id)  # 404 before validation noise
        spec = valid_spec(body, catalog)
        out = PipelineOut.of(store.add_pipeline_version(_stored(spec), created_by=key.id))
        details["version"] = out.version
    return out


@router.delete("/{pipeline_id}", status_code=204, summary="Delete a pipeline (its history stays)")
def delete_pipeline(
    pipeline_id: str,
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> Response:
    with audited(req_id, key.id, "pipeline.delete", "pipeline", pipeline_id):
        store.delete_pipeline(pipeline_id)
    return Response(status_code=204)


def _stored(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as stored: normalized JSON, defaults omitted, exactly what will run."""
    return spec.model_dump(mode="json", exclude_defaults=True)
