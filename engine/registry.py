"""The one registry of node types.

A node type is a config model (pydantic) plus a build function, with the traits the
engine needs declared where the type is registered (row-local, source kind and preview,
the config field that shards a source by file, privacy role, lineage name). No engine
table names node types.

Plug-ins are found through the ``pipeline_builder.nodes`` entry-point group: each entry
point names a module (imported: its ``@register`` decorators fill the default registry)
or a callable taking the registry. The engine never names the ``nodes`` package; the
distribution's own entry point does (see ``pyproject.toml``). A private registry for a
test or an embedding program is ``Registry()`` (or ``default_registry().copy()``) with
:meth:`Registry.register`.

Node modules must not import Ray (or other heavy libraries) at import time: validation
imports them to read config models, and validation is Ray-free. Import inside ``build``,
or keep Ray-bound helpers in private modules (``_name.py``), which are not auto-imported.

Build functions take keyword-only arguments::

    @register("transform", "field_mapper", config=FieldMapperConfig)
    def build(*, ctx: BuildContext, inputs: list[Dataset], config: FieldMapperConfig) -> Dataset:
        ...

Output nodes (``kind="output"``) return a :class:`engine.context.Sink` instead of a
Dataset; the runner streams the node's input into it.
"""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from engine.errors import RegistryError

NodeKind = Literal["dataset", "output"]
PrivacyRole = Literal["detect", "redact", "synthesize"]
ENTRY_POINT_GROUP = "pipeline_builder.nodes"


class NodeConfig(BaseModel):
    """Base of node config models: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class ResourceRef:
    """Marks a config field whose value is the id (or list of ids) of a catalog resource.

    Use as ``Annotated[str, ResourceRef("dataSources")]``.
    """

    kind: str


@dataclass(frozen=True)
class NodeType:
    """A registered node type."""

    node_type: str
    category: str
    config_model: type[BaseModel]
    build: Callable[..., Any]
    min_inputs: int = 1
    max_inputs: int | None = 1
    kind: NodeKind = "dataset"
    description: str = ""
    # Extra resource references a config carries that are not plain annotated fields,
    # e.g. quality-gate names that are either built-ins or quality-rule ids.
    extra_refs: Callable[[BaseModel], list[tuple[str, str, str]]] | None = None
    # Pipeline-aware checks (e.g. "redaction needs an upstream detection"): returns messages.
    checks: tuple[Callable[..., list[str]], ...] = field(default_factory=tuple)
    # Traits the engine reads instead of naming node types:
    # each row is transformed on its own (no cross-row state): checkpointed runs may
    # process such a chain one input file at a time.
    row_local: bool = False
    # for sources: the data-source ``type`` this node reads, and a preview function
    # ``preview(resource, catalog, limit, **options) -> pyarrow.Table`` (or
    # ``"module:function"``, imported on use) for ``pipeline-builder sources test``.
    source_kind: str | None = None
    preview: Callable[..., Any] | str | None = None
    # for sources that read every file under a location: the config field holding it.
    # A checkpointed run may then read the files one at a time (one shard each), giving
    # the source each file's path in that field.
    shard_field: str | None = None
    # what the node does for compliance: detects identifiers, redacts them, or emits
    # generated rows instead of the real ones.
    privacy_role: PrivacyRole | None = None
    # the transformation's name in lineage (``pii_redaction``); the category by default.
    lineage_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.node_type}/{self.category}"

    @property
    def transformation(self) -> str:
        return self.lineage_name or self.category

    def preview_function(self) -> Callable[..., Any] | None:
        """The source preview function, imported when given as ``module:function``."""
        if self.preview is None or callable(self.preview):
            return self.preview
        module, _, attr = self.preview.partition(":")
        return getattr(importlib.import_module(module), attr, None)


class Registry:
    """Node types by ``nodeType/category``."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}
        # compliance framework name -> entity types it requires (registered by plug-ins)
        self.frameworks: dict[str, tuple[str, ...]] = {}

    def add(self, nt: NodeType) -> None:
        if nt.key in self._types and self._types[nt.key].build is not nt.build:
            raise RegistryError(f"node type {nt.key} is registered twice")
        self._types[nt.key] = nt

    def copy(self) -> Registry:
        """A new registry with the same node types (add test or private types to it)."""
        out = Registry()
        out._types = dict(self._types)
        out.frameworks = dict(self.frameworks)
        return out

    def register(
        self, node_type: str, category: str, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register a build function in this registry (see :func:`register`)."""
        return _decorator(self, node_type, category, **options)

    def add_framework(self, name: str, required_entities: list[str] | tuple[str, ...]) -> None:
        """Declare a compliance framework and the entity types it requires redacted."""
        self.frameworks[name.upper()] = tuple(required_entities)

    def get(self, key: str) -> NodeType | None:
        return self._types.get(key)

    def source_for_kind(self, kind: str) -> NodeType | None:
        """The source node type that reads data sources of ``type: kind``."""
        for nt in self._types.values():
            if nt.source_kind == kind:
                return nt
        return None

    def source_kinds(self) -> list[str]:
        return sorted({nt.source_kind for nt in self._types.values() if nt.source_kind})

    def closest(self, key: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(key, list(self._types), n=n, cutoff=0.4)

    def __iter__(self) -> Iterator[NodeType]:
        return iter(sorted(self._types.values(), key=lambda t: t.key))

    def __contains__(self, key: object) -> bool:
        return key in self._types


_REGISTRY = Registry()
_LOADED = False
_LOCK = threading.Lock()


def register(
    node_type: str,
    category: str,
    *,
    config: type[BaseModel],
    inputs: tuple[int, int | None] = (1, 1),
    kind: NodeKind = "dataset",
    description: str = "",
    extra_refs: Callable[[BaseModel], list[tuple[str, str, str]]] | None = None,
    checks: tuple[Callable[..., list[str]], ...] = (),
    row_local: bool = False,
    source_kind: str | None = None,
    preview: Callable[..., Any] | str | None = None,
    shard_field: str | None = None,
    privacy_role: PrivacyRole | None = None,
    lineage_name: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a build function as node type ``node_type/category`` (default registry).

    Args:
        node_type: ``source``, ``transform``, ``privacy`` or ``output``.
        category: The node's category (``file``, ``field_mapper``, ...).
        config: The pydantic model of the node's ``config``.
        inputs: ``(min, max)`` number of upstream nodes; ``max=None`` means unbounded.
        kind: ``"dataset"`` (build returns a Dataset) or ``"output"`` (returns a Sink).
        description: One line shown by ``pipeline-builder nodes``.
        extra_refs: Returns ``(kind, id, path)`` resource references not expressed by
            :class:`ResourceRef` annotations.
        checks: Functions ``(*, spec, node, config) -> list[str]`` for pipeline-level rules.
        row_local: Each row is transformed on its own (see :class:`NodeType`).
        source_kind: For sources, the data-source ``type`` the node reads.
        preview: For sources, the preview function (or ``"module:function"``).
        shard_field: For sources reading the files under a location, the config field
            holding it: checkpointed runs may then read one file per shard.
        privacy_role: ``detect``, ``redact`` or ``synthesize`` for compliance checks.
        lineage_name: The transformation's name in lineage (default: the category).
    """
    return _decorator(
        _REGISTRY,
        node_type,
        category,
        config=config,
        inputs=inputs,
        kind=kind,
        description=description,
        extra_refs=extra_refs,
        checks=checks,
        row_local=row_local,
        source_kind=source_kind,
        preview=preview,
        shard_field=shard_field,
        privacy_role=privacy_role,
        lineage_name=lineage_name,
    )


def _decorator(
    registry: Registry,
    node_type: str,
    category: str,
    *,
    config: type[BaseModel],
    inputs: tuple[int, int | None] = (1, 1),
    description: str = "",
    checks: tuple[Callable[..., list[str]], ...] = (),
    **traits: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        doc = (fn.__doc__ or "").strip().splitlines()
        registry.add(
            NodeType(
                node_type=node_type,
                category=category,
                config_model=config,
                build=fn,
                min_inputs=inputs[0],
                max_inputs=inputs[1],
                description=description or (doc[0] if doc else ""),
                checks=tuple(checks),
                **traits,
            )
        )
        return fn

    return deco


def register_framework(name: str, required_entities: list[str] | tuple[str, ...]) -> None:
    """Declare a compliance framework in the default registry."""
    _REGISTRY.add_framework(name, required_entities)


def default_registry() -> Registry:
    """The registry with every ``pipeline_builder.nodes`` entry point loaded once."""
    global _LOADED
    with _LOCK:
        if not _LOADED:
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                loaded = ep.load()
                if callable(loaded):
                    loaded(_REGISTRY)
            _LOADED = True
    return _REGISTRY


__all__ = [
    "ENTRY_POINT_GROUP",
    "NodeConfig",
    "NodeType",
    "Registry",
    "RegistryError",
    "ResourceRef",
    "default_registry",
    "register",
    "register_framework",
]
