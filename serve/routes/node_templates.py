"""Node templates (configured nodes saved for reuse) and pipeline templates.

``/api/node-templates``: CRUD of templates such as "PII detector — HIPAA, healthcare
patterns, 0.8". The integration design's four examples are built in (ids ``builtin.*``,
read-only). A template's config is checked against its node type's config model on
write (422 lists each problem); catalog references are checked when a pipeline using it
is validated, since the resources may be created later. ``/api/pipeline-templates``
lists the built-in starting points of the design's workflow. Reads need ``read``;
writes need ``admin``. Templates live in their own table on the metadata database.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Response
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from engine.registry import default_registry
from engine.store import ApiKey, now_iso
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import settings
from serve.errors import Conflict, NotFound, Unprocessable
from serve.routes._builtin_templates import BUILTIN_PREFIX, NODE_TEMPLATES, PIPELINE_TEMPLATES
from serve.routes.resources import plain_secrets

router = APIRouter(tags=["node library"])

metadata = sa.MetaData()
templates_table = sa.Table(
    "node_templates",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("node_type", sa.String(64), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_create_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _db(url: str) -> sa.Engine:
    from engine.store import get_engine

    eng = get_engine(url)
    with _create_lock:
        metadata.create_all(eng)
    return eng


def _engine() -> sa.Engine:
    return _db(settings().db_url)


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


def _row_out(row: Any) -> NodeTemplateOut:
    return NodeTemplateOut(
        id=row.id,
        name=row.name,
        description=row.description or "",
        nodeType=row.node_type,
        category=row.category,
        config=row.config,
        createdBy=row.created_by,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


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
def list_node_templates(_: ApiKey = Depends(require_scope("read"))) -> list[NodeTemplateOut]:
    with _engine().connect() as conn:
        rows = conn.execute(
            sa.select(templates_table).order_by(templates_table.c.name).limit(1000)
        ).all()
    return [*_BUILTINS.values(), *(_row_out(r) for r in rows)]


@router.get(
    "/api/node-templates/{template_id}", response_model=NodeTemplateOut, summary="A node template"
)
def get_node_template(
    template_id: str, _: ApiKey = Depends(require_scope("read"))
) -> NodeTemplateOut:
    return _get(template_id)


def _get(template_id: str) -> NodeTemplateOut:
    if template_id in _BUILTINS:
        return _BUILTINS[template_id]
    with _engine().connect() as conn:
        row = conn.execute(
            sa.select(templates_table).where(templates_table.c.id == template_id)
        ).first()
    if row is None:
        raise NotFound(f"node template '{template_id}' not found")
    return _row_out(row)


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
) -> NodeTemplateOut:
    tid = body.id or _slug(body.name)
    with audited(req_id, key.id, "node_template.create", "nodeTemplate", tid):
        _checked(body, tid)
        now = now_iso()
        try:
            with _engine().begin() as conn:
                conn.execute(
                    templates_table.insert().values(
                        id=tid,
                        name=body.name,
                        description=body.description,
                        node_type=body.nodeType,
                        category=body.category,
                        config=body.config,
                        created_by=key.id,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            raise Conflict(f"node template '{tid}' already exists") from None
    return _get(tid)


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
) -> NodeTemplateOut:
    with audited(req_id, key.id, "node_template.update", "nodeTemplate", template_id):
        if body.id not in (None, template_id):
            raise Unprocessable(
                f"the body's id {body.id!r} differs from the URL's {template_id!r}",
                problems=[{"nodeId": None, "path": "id", "message": "must equal the URL's id"}],
            )
        _checked(body, template_id)
        with _engine().begin() as conn:
            done = conn.execute(
                templates_table.update()
                .where(templates_table.c.id == template_id)
                .values(
                    name=body.name,
                    description=body.description,
                    node_type=body.nodeType,
                    category=body.category,
                    config=body.config,
                    updated_at=now_iso(),
                )
            )
        if done.rowcount == 0:
            raise NotFound(f"node template '{template_id}' not found")
    return _get(template_id)


@router.delete(
    "/api/node-templates/{template_id}", status_code=204, summary="Delete a saved node template"
)
def delete_node_template(
    template_id: str,
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("admin")),
) -> Response:
    with audited(req_id, key.id, "node_template.delete", "nodeTemplate", template_id):
        if template_id in _BUILTINS:
            raise Conflict(f"node template '{template_id}' is built in and cannot be deleted")
        with _engine().begin() as conn:
            done = conn.execute(templates_table.delete().where(templates_table.c.id == template_id))
        if done.rowcount == 0:
            raise NotFound(f"node template '{template_id}' not found")
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
