"""Node templates (configured nodes saved for reuse) and pipeline templates.

``/api/node-templates``: CRUD of templates such as "PII detector — HIPAA, healthcare
patterns, 0.8". The integration design's four examples are built in (ids ``builtin.*``,
read-only). A template's config is checked against its node type's config model on
write (422 lists each problem); catalog references are checked when a pipeline using it
is validated, since the resources may be created later. ``/api/pipeline-templates``
lists the built-in starting points of the design's workflow. Reads need ``read``;
writes need ``admin``. Saved templates live in the metadata store's ``node_templates``
table (:meth:`engine.store.Store.list_node_templates` and its siblings).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Response
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from engine.registry import default_registry
from engine.store import ApiKey, NodeTemplateRecord, Store
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import request_store
from serve.errors import Conflict, Unprocessable
from serve.routes._builtin_templates import BUILTIN_PREFIX, NODE_TEMPLATES, PIPELINE_TEMPLATES
from serve.routes.resources import plain_secrets

router = APIRouter(tags=["node library"])

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


class NodeTemplateIn(BaseModel):
    id: str | None = Field(None, description="Generated from the name when omitted")
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    nodeType: str
    category: str
    config: dict[str, Any] = Field(default_factory=dict)


class NodeTemplateOut(BaseModel):
    id: str
    name: str
    description: str = ""
    nodeType: str
    category: str
    config: dict[str, Any]
    builtin: bool = False
    createdBy: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class PipelineTemplateOut(BaseModel):
    id: str
    name: str
    description: str
    spec: dict[str, Any]


_BUILTINS = {t["id"]: NodeTemplateOut(**t, builtin=True) for t in NODE_TEMPLATES}


def _record_out(record: NodeTemplateRecord) -> NodeTemplateOut:
    return NodeTemplateOut(
        id=record.id,
        name=record.name,
        description=record.description,
        nodeType=record.node_type,
        category=record.category,
        config=record.config,
        createdBy=record.created_by,
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )


def _fields(body: NodeTemplateIn) -> dict[str, Any]:
    """The stored fields of a template body (the store's keyword arguments)."""
    return {
        "name": body.name,
        "description": body.description,
        "node_type": body.nodeType,
        "category": body.category,
        "config": body.config,
    }


def _checked(body: NodeTemplateIn, template_id: str) -> NodeTemplateIn:
    """422 with every problem of the template (bad id, unknown type, bad config, secrets)."""
    problems: list[dict[str, Any]] = []
    if not _ID.match(template_id) or template_id.startswith(BUILTIN_PREFIX):
        problems.append(
            {
                "nodeId": None,
                "path": "id",
                "message": f"id {template_id!r} must start with a letter or '_', use only "
                f"letters, digits, '_', '.', '-', and not start with '{BUILTIN_PREFIX}'",
            }
        )
    registry = default_registry()
    key = f"{body.nodeType}/{body.category}"
    nt = registry.get(key)
    if nt is None:
        near = registry.closest(key)
        hint = f"; closest: {', '.join(near)}" if near else ""
        problems.append(
            {"nodeId": None, "path": "category", "message": f"unknown node type {key}{hint}"}
        )
    else:
        try:
            nt.config_model.model_validate(body.config)
        except PydanticValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(
                    {
                        "nodeId": None,
                        "path": f"config.{loc}" if loc else "config",
                        "message": err["msg"],
                    }
                )
    problems += plain_secrets(body.config, "config")
    if problems:
        raise Unprocessable(
            f"{len(problems)} problem(s) in node template {template_id!r}: "
            + "; ".join(f"{p['path']}: {p['message']}" for p in problems[:3]),
            problems=problems,
        )
    return body


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:100]
    return s if s and (s[0].isalpha() or s[0] == "_") else f"t_{s}"


@router.get(
    "/api/node-templates",
    response_model=list[NodeTemplateOut],
    summary="Node templates: built-in first, then saved ones by name",
)
def list_node_templates(
    _: ApiKey = Depends(require_scope("read")), store: Store = Depends(request_store)
) -> list[NodeTemplateOut]:
    saved = store.list_node_templates(limit=1000)
    return [*_BUILTINS.values(), *(_record_out(r) for r in saved)]


@router.get(
    "/api/node-templates/{template_id}", response_model=NodeTemplateOut, summary="A node template"
)
def get_node_template(
    template_id: str,
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(request_store),
) -> NodeTemplateOut:
    if template_id in _BUILTINS:
        return _BUILTINS[template_id]
    return _record_out(store.get_node_template(template_id))


@router.post(
    "/api/node-templates",
    status_code=201,
    response_model=NodeTemplateOut,
    summary="Save a configured node as a template",
)
def create_node_template(
    body: NodeTemplateIn = Body(
        ...,
        examples=[
            {
                "name": "PII detector — HIPAA, healthcare patterns, 0.9",
                "nodeType": "privacy",
                "category": "detection",
                "config": {"patternLibraryId": "patterns_healthcare", "confidenceThreshold": 0.9},
            }
        ],
    ),
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> NodeTemplateOut:
    tid = body.id or _slug(body.name)
    with audited(req_id, key.id, "node_template.create", "nodeTemplate", tid):
        _checked(body, tid)
        saved = store.create_node_template(tid, **_fields(body), created_by=key.id)
    return _record_out(saved)


@router.put(
    "/api/node-templates/{template_id}",
    response_model=NodeTemplateOut,
    summary="Replace a saved node template",
)
def replace_node_template(
    template_id: str,
    body: NodeTemplateIn,
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> NodeTemplateOut:
    with audited(req_id, key.id, "node_template.update", "nodeTemplate", template_id):
        if body.id not in (None, template_id):
            raise Unprocessable(
                f"the body's id {body.id!r} differs from the URL's {template_id!r}",
                problems=[{"nodeId": None, "path": "id", "message": "must equal the URL's id"}],
            )
        _checked(body, template_id)
        saved = store.replace_node_template(template_id, **_fields(body))
    return _record_out(saved)


@router.delete(
    "/api/node-templates/{template_id}", status_code=204, summary="Delete a saved node template"
)
def delete_node_template(
    template_id: str,
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> Response:
    with audited(req_id, key.id, "node_template.delete", "nodeTemplate", template_id):
        if template_id in _BUILTINS:
            raise Conflict(f"node template '{template_id}' is built in and cannot be deleted")
        store.delete_node_template(template_id)
    return Response(status_code=204)


@router.get(
    "/api/pipeline-templates",
    response_model=list[PipelineTemplateOut],
    summary="Built-in pipelines of the design's workflow to start from",
)
def list_pipeline_templates(
    _: ApiKey = Depends(require_scope("read")),
) -> list[PipelineTemplateOut]:
    return [PipelineTemplateOut(**t) for t in PIPELINE_TEMPLATES]
