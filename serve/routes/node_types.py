"""The node library: ``GET /api/node-types``, ``GET /api/resource-kinds``, ``GET /api/whoami``.

``/api/node-types`` lists every registered node type (the same registry the engine and
``pipeline-builder nodes`` use) with its config's JSON schema and the config fields that
hold catalog references, so a client can build a config form with resource pickers.
``/api/resource-kinds`` names each catalog kind, its API path and its built-in ids.
``/api/whoami`` tells a client which scopes its key holds. All need ``read``.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from engine.catalog import KINDS, DictCatalog
from engine.registry import NodeType, ResourceRef, default_registry
from engine.store import ApiKey
from serve.auth import require_scope
from serve.routes.resources import KIND_SLUGS

router = APIRouter(tags=["node library"])

# Palette order of the node families (the design's workflow: sources first, outputs last).
FAMILIES: tuple[str, ...] = ("source", "transform", "privacy", "output")


class ResourceRefField(BaseModel):
    kind: str = Field(description="Catalog kind, e.g. dataSources")
    many: bool = Field(description="True when the field holds a list of ids")
    builtins: list[str] = Field(
        default_factory=list, description="Values accepted besides stored resource ids"
    )


class NodeTypeOut(BaseModel):
    key: str = Field(description="nodeType/category")
    nodeType: str
    category: str
    description: str = ""
    kind: str = Field(description="dataset (returns rows) or output (writes them)")
    minInputs: int
    maxInputs: int | None = Field(None, description="null: any number")
    configSchema: dict[str, Any] = Field(description="JSON schema of the node's config")
    resourceRefs: dict[str, ResourceRefField] = Field(
        default_factory=dict, description="Config fields that reference catalog resources"
    )


class ResourceKindOut(BaseModel):
    kind: str
    path: str = Field(description="API collection, e.g. /api/data-sources")
    builtinIds: list[str] = Field(default_factory=list)


class WhoAmI(BaseModel):
    id: str
    name: str | None = None
    scope: str
    scopes: list[str]


def _ref_of(info: Any) -> tuple[ResourceRef | None, bool]:
    """The ResourceRef of a field (directly or inside Optional/list) and whether it is a list."""
    for meta in info.metadata:
        if isinstance(meta, ResourceRef):
            return meta, False
    return _search(info.annotation, False)


def _search(ann: Any, many: bool) -> tuple[ResourceRef | None, bool]:
    for meta in getattr(ann, "__metadata__", ()):
        if isinstance(meta, ResourceRef):
            return meta, many
    origin = typing.get_origin(ann)
    is_list = origin in (list, tuple, set)
    for arg in typing.get_args(ann):
        found, m = _search(arg, many or is_list)
        if found is not None:
            return found, m
    return None, many


def _gate_builtins() -> list[str]:
    try:
        from nodes.outputs.gates import BUILTIN_GATES
    except ImportError:  # the gates module moved: gates are then typed by hand
        return []
    return list(BUILTIN_GATES)


def _refs(nt: NodeType) -> dict[str, ResourceRefField]:
    out: dict[str, ResourceRefField] = {}
    for name, info in nt.config_model.model_fields.items():
        ref, many = _ref_of(info)
        if ref is not None:
            out[info.alias or name] = ResourceRefField(kind=ref.kind, many=many)
    # Quality gates are built-in gate names or qualityRules ids (the node's extra_refs).
    fields = nt.config_model.model_fields
    if "qualityGates" in fields and "qualityGates" not in out and nt.extra_refs is not None:
        out["qualityGates"] = ResourceRefField(
            kind="qualityRules", many=True, builtins=_gate_builtins()
        )
    return out


@functools.lru_cache(maxsize=1)
def _node_types() -> tuple[NodeTypeOut, ...]:
    types = list(default_registry())
    order = {f: i for i, f in enumerate(FAMILIES)}
    types.sort(key=lambda t: (order.get(t.node_type, len(order)), t.category))
    return tuple(
        NodeTypeOut(
            key=nt.key,
            nodeType=nt.node_type,
            category=nt.category,
            description=nt.description,
            kind=nt.kind,
            minInputs=nt.min_inputs,
            maxInputs=nt.max_inputs,
            configSchema=nt.config_model.model_json_schema(),
            resourceRefs=_refs(nt),
        )
        for nt in types
    )


@router.get(
    "/api/node-types",
    response_model=list[NodeTypeOut],
    summary="Registered node types with their config JSON schemas",
    description="Sources first, then transforms, privacy and outputs; the registry that "
    "validation and execution use.",
)
def list_node_types(_: ApiKey = Depends(require_scope("read"))) -> list[NodeTypeOut]:
    return list(_node_types())


@router.get(
    "/api/resource-kinds",
    response_model=list[ResourceKindOut],
    summary="Catalog resource kinds, their API paths and built-in ids",
)
def list_resource_kinds(_: ApiKey = Depends(require_scope("read"))) -> list[ResourceKindOut]:
    default_registry()  # node modules register the built-in resources
    builtins = DictCatalog()
    by_kind = {kind: slug for slug, kind in KIND_SLUGS.items()}
    return [
        ResourceKindOut(kind=k, path=f"/api/{by_kind[k]}", builtinIds=builtins.ids(k))
        for k in KINDS
        if k in by_kind
    ]


@router.get("/api/whoami", response_model=WhoAmI, summary="The calling API key and its scopes")
def whoami(key: ApiKey = Depends(require_scope("read"))) -> WhoAmI:
    return WhoAmI(id=key.id, name=key.name, scope=key.scope, scopes=key.scopes)
