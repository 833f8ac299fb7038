"""The one registry of node types.

A node type is a config model (pydantic) plus a build function. Node modules under the
``nodes`` package register themselves with :func:`register`; :func:`default_registry`
imports every module of that package once, so adding a node type touches one module.

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
import pkgutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from engine.errors import PipelineBuilderError

NodeKind = Literal["dataset", "output"]


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

    @property
    def key(self) -> str:
        return f"{self.node_type}/{self.category}"


class RegistryError(PipelineBuilderError):
    """A node type is registered twice or looked up wrongly."""


class Registry:
    """Node types by ``nodeType/category``."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}

    def add(self, nt: NodeType) -> None:
        if nt.key in self._types and self._types[nt.key].build is not nt.build:
            raise RegistryError(f"node type {nt.key} is registered twice")
        self._types[nt.key] = nt

    def get(self, key: str) -> NodeType | None:
        return self._types.get(key)

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
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a build function as node type ``node_type/category``.

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
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY.add(
            NodeType(
                node_type=node_type,
                category=category,
                config_model=config,
                build=fn,
                min_inputs=inputs[0],
                max_inputs=inputs[1],
                kind=kind,
                description=description or (fn.__doc__ or "").strip().splitlines()[0:1][0]
                if (description or fn.__doc__)
                else "",
                extra_refs=extra_refs,
                checks=tuple(checks),
            )
        )
        return fn

    return deco


def default_registry() -> Registry:
    """The registry with every module of the ``nodes`` package imported."""
    global _LOADED
    with _LOCK:
        if not _LOADED:
            import nodes

            for mod in pkgutil.walk_packages(nodes.__path__, prefix="nodes."):
                # Private helper modules (``_name``) may import Ray; they are imported
                # by build functions when needed, never at registry load.
                if any(part.startswith("_") for part in mod.name.split(".")):
                    continue
                importlib.import_module(mod.name)
            _LOADED = True
    return _REGISTRY
