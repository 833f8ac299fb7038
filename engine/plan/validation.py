"""Validate a parsed spec: node types, configs, graph shape, resource references
(each referenced resource exists and carries only known keys), compliance.

Every problem is collected and reported at once (:class:`ValidationFailed`), each with
its node id and path. A pipeline subject to a compliance framework must not let any
output be reached from a source without a redaction that satisfies the framework
(:mod:`engine.plan.compliance`); each such output is one problem, pinned to the output
node and the input the data enters through. Imports no Ray.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.catalog import Catalog, empty_catalog, unknown_keys
from engine.errors import Problem, ResourceNotFound, ValidationFailed
from engine.plan import compliance
from engine.registry import Registry, ResourceRef, default_registry
from engine.spec.loader import problems_from_pydantic
from engine.spec.models import PipelineSpec


@dataclass(frozen=True)
class Checked:
    """What one pass of validation found: every problem, and each node config parsed
    once (the configs of valid nodes; all of them when ``problems`` is empty)."""

    problems: list[Problem]
    configs: dict[str, BaseModel]


def check(
    spec: PipelineSpec,
    catalog: Catalog | None = None,
    registry: Registry | None = None,
) -> list[Problem]:
    """Return every problem of ``spec`` (empty when valid)."""
    return inspect_spec(spec, catalog, registry).problems


def inspect_spec(
    spec: PipelineSpec,
    catalog: Catalog | None = None,
    registry: Registry | None = None,
) -> Checked:
    """Every problem of ``spec`` and its node configs, each parsed once."""
    registry = registry or default_registry()
    catalog = catalog if catalog is not None else empty_catalog()
    problems: list[Problem] = []
    ids = [n.id for n in spec.nodes]
    seen: set[str] = set()
    for n in spec.nodes:
        if n.id in seen:
            problems.append(Problem(n.id, "id", "duplicate node id"))
        seen.add(n.id)
    known = set(ids)
    configs: dict[str, BaseModel] = {}
    for n in spec.nodes:
        nt = registry.get(n.type_key)
        if nt is None:
            close = registry.closest(n.type_key)
            hint = f"; closest known types: {', '.join(close)}" if close else ""
            problems.append(
                Problem(n.id, "nodeType/category", f"unknown node type {n.type_key!r}{hint}")
            )
        else:
            try:
                configs[n.id] = nt.config_model.model_validate(n.config)
            except ValidationError as exc:
                problems += problems_from_pydantic(exc, prefix="config", node_id=n.id)
            count = len(n.inputs)
            if count < nt.min_inputs or (nt.max_inputs is not None and count > nt.max_inputs):
                want = (
                    f"exactly {nt.min_inputs}"
                    if nt.min_inputs == nt.max_inputs
                    else f"at least {nt.min_inputs}"
                    if nt.max_inputs is None
                    else f"{nt.min_inputs} to {nt.max_inputs}"
                )
                problems.append(
                    Problem(n.id, "inputs", f"{n.type_key} takes {want} input(s), got {count}")
                )
        for i, up in enumerate(n.inputs):
            if up not in known:
                problems.append(Problem(n.id, f"inputs.{i}", f"unknown input node {up!r}"))
            elif up == n.id:
                problems.append(Problem(n.id, f"inputs.{i}", "a node cannot read its own output"))
            else:
                upstream = registry.get(spec.node(up).type_key)
                if upstream is not None and upstream.kind == "output":
                    problems.append(
                        Problem(n.id, f"inputs.{i}", f"{up!r} is an output node and has no data")
                    )
        if n.fallback is not None:
            if n.fallback not in known:
                problems.append(Problem(n.id, "fallback", f"unknown fallback node {n.fallback!r}"))
            elif n.fallback == n.id:
                problems.append(Problem(n.id, "fallback", "a node cannot be its own fallback"))
    cycle = find_cycle(spec)
    if cycle:
        problems.append(Problem(None, "nodes", "cycle: " + " -> ".join(cycle)))
    for n in spec.nodes:
        cfg = configs.get(n.id)
        nt = registry.get(n.type_key)
        if cfg is None or nt is None:
            continue
        refs = list(resource_refs(cfg))
        if nt.extra_refs is not None:
            refs += nt.extra_refs(cfg)
        for kind, rid, path in refs:
            try:
                resource = catalog.get(kind, rid)
            except ResourceNotFound as exc:
                problems.append(Problem(n.id, f"config.{path}", str(exc)))
                continue
            problems += [
                Problem(n.id, f"config.{path}", f"{kind} {rid!r}: {message}")
                for _key, message in unknown_keys(kind, resource)
            ]
        for fn in nt.checks:
            problems += [Problem(n.id, "", m) for m in fn(spec=spec, node=n, config=cfg)]
    if not cycle and not any(p.path.startswith("inputs.") for p in problems):
        problems += compliance_problems(spec, catalog, registry, configs)
    return Checked(problems, configs)


def compliance_problems(
    spec: PipelineSpec,
    catalog: Catalog,
    registry: Registry,
    configs: dict[str, BaseModel] | None = None,
) -> list[Problem]:
    """One problem per output (and framework) reachable without a satisfying redaction."""
    configs = configs or {}

    def refs(node: Any) -> list[tuple[str, str]]:
        cfg, nt = configs.get(node.id), registry.get(node.type_key)
        if cfg is None or nt is None:
            return []
        found = list(resource_refs(cfg)) + (list(nt.extra_refs(cfg)) if nt.extra_refs else [])
        return [(kind, rid) for kind, rid, _path in found]

    resources = compliance.lookup_resources(spec, refs, catalog.get, registry)
    report = compliance.check(spec, registry, resources)
    out = []
    for v in report.violations:
        node_id = v.get("output")
        path = ""
        if node_id is not None and v.get("input") is not None:
            path = f"inputs.{spec.node(node_id).inputs.index(v['input'])}"
        out.append(Problem(node_id, path, v["message"]))
    return out


def validate(
    spec: PipelineSpec, catalog: Catalog | None = None, registry: Registry | None = None
) -> dict[str, BaseModel]:
    """Raise :class:`ValidationFailed` listing every problem; return the node configs
    (parsed once, by :func:`inspect_spec`)."""
    checked = inspect_spec(spec, catalog, registry)
    if checked.problems:
        raise ValidationFailed(checked.problems, pipeline_id=spec.id)
    return checked.configs


def find_cycle(spec: PipelineSpec) -> list[str] | None:
    """A list of node ids forming a cycle (first repeated at the end), or None."""
    graph = {n.id: [i for i in n.inputs if i != n.id] for n in spec.nodes}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for u in graph.get(v, []):
            if u not in graph:
                continue
            if state.get(u) == 1:
                return [*stack[stack.index(u) :], u][::-1]
            if u not in state:
                found = visit(u)
                if found:
                    return found
        stack.pop()
        state[v] = 2
        return None

    for v in graph:
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def resource_refs(cfg: BaseModel, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """Yield ``(kind, id, path)`` for every ResourceRef-annotated field of a config."""
    for name, info in type(cfg).model_fields.items():
        value = getattr(cfg, name)
        path = f"{prefix}{name}"
        ref = next((m for m in info.metadata if isinstance(m, ResourceRef)), None)
        if ref is None:
            ref = _ref_in_annotation(info.annotation)
        if ref is not None and value is not None:
            if isinstance(value, str):
                yield ref.kind, value, path
            elif isinstance(value, list | tuple):
                for i, v in enumerate(value):
                    if isinstance(v, str):
                        yield ref.kind, v, f"{path}.{i}"
        elif isinstance(value, BaseModel):
            yield from resource_refs(value, f"{path}.")
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                if isinstance(v, BaseModel):
                    yield from resource_refs(v, f"{path}.{i}.")


def _ref_in_annotation(ann: Any) -> ResourceRef | None:
    """Find a ResourceRef inside ``list[Annotated[str, ResourceRef(...)]]`` or Optional."""
    for arg in typing.get_args(ann):
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, ResourceRef):
                return meta
        found = _ref_in_annotation(arg)
        if found:
            return found
    return None
