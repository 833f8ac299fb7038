"""Compliance of a pipeline's graph: every path to an output is redacted. Ray-free.

A pipeline is subject to the frameworks its nodes name (``config.complianceFramework``
on any node, e.g. ``HIPAA``, or a ``compliance:<FRAMEWORK>`` tag on the pipeline). The
entity types each framework requires treated are declared in the registry
(``Registry.frameworks``, filled by the plug-ins); node roles are the registered
``privacy_role`` trait (``detect``, ``redact``, ``synthesize``), never node type names.

For each framework F, :func:`check` requires that no output can be reached from any
source without passing a node that *satisfies* F:

* a ``synthesize`` node (it emits generated rows instead of the real ones), or
* a ``redact`` node with a ``detect`` node before it on the path, whose treatments cover
  every entity F requires. A redaction covers the entities of the framework it applies
  (its own ``complianceFramework``, else the one of the nearest detection upstream),
  plus the entities its rules treat (inline ``rules`` and the ``rules``/``default`` of
  the catalog resources it references; ``entity: "*"`` or a resource ``default`` covers
  every entity), minus the entities a ``keep`` rule leaves as they are.

A node with a ``fallback`` counts only when its fallback would count too (the fallback
runs in its place). The search runs over (node, progress) states, so it is linear in the
graph's size however many paths there are; for each output and framework it reports the
shortest offending path.

The GDPR Article 30 record of processing lives in :mod:`engine.audit.article30`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.registry import Registry, default_registry
from engine.spec.models import NodeSpec, PipelineSpec

DETECT, REDACT, SYNTHETIC = "detect", "redact", "synthesize"  # NodeType.privacy_role values
_ALL = "*"
_ALIASES = {"PCI": "PCI-DSS", "PCIDSS": "PCI-DSS"}

# progress along a path, for one framework
_NONE, _DETECTED, _SATISFIED = 0, 1, 2


@dataclass
class ComplianceReport:
    """Frameworks found and violations (empty = the pipeline passes)."""

    pipeline_id: str
    frameworks: list[str]
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipelineId": self.pipeline_id,
            "frameworks": self.frameworks,
            "ok": self.ok,
            "violations": self.violations,
        }

    def __str__(self) -> str:
        if not self.frameworks:
            return f"pipeline '{self.pipeline_id}': no compliance framework named; nothing to check"
        head = f"pipeline '{self.pipeline_id}' ({', '.join(self.frameworks)}): "
        if self.ok:
            return head + "compliant"
        return (
            head
            + f"{len(self.violations)} violation(s)\n"
            + "\n".join(f"  - {v['message']}" for v in self.violations)
        )


def framework_key(name: str) -> str:
    """The registry's name of a framework (``pci`` -> ``PCI-DSS``, ``hipaa`` -> ``HIPAA``)."""
    key = str(name).strip().upper().replace("_", "-")
    return _ALIASES.get(key, key)


def frameworks(spec: PipelineSpec) -> list[str]:
    """Frameworks the pipeline is subject to (node configs and ``compliance:`` tags)."""
    found = {
        framework_key(n.config["complianceFramework"])
        for n in spec.nodes
        if n.config.get("complianceFramework")
    }
    found |= {
        framework_key(t.split(":", 1)[1]) for t in spec.tags if t.lower().startswith("compliance:")
    }
    return sorted(found)


def roles(spec: PipelineSpec, registry: Registry | None = None) -> dict[str, str | None]:
    """Each node's declared privacy role (``detect``/``redact``/``synthesize`` or None)."""
    registry = registry or default_registry()
    out: dict[str, str | None] = {}
    for n in spec.nodes:
        nt = registry.get(n.type_key)
        out[n.id] = nt.privacy_role if nt is not None else None
    return out


def required_entities(registry: Registry, framework: str) -> tuple[str, ...]:
    """Entity types ``framework`` requires treated (empty when the registry lacks it)."""
    return tuple(registry.frameworks.get(framework_key(framework), ()))


def _rules_of(node: NodeSpec, resources: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """``(covered, kept)`` entity types of a redaction's rules (``*`` = every entity)."""
    covered: set[str] = set()
    kept: set[str] = set()
    rules: list[Any] = list(node.config.get("rules") or [])
    for res in resources:
        rules += list(res.get("rules") or [])
        default = res.get("default")
        if isinstance(default, Mapping) and default.get("operator", "keep") != "keep":
            covered.add(_ALL)
    for r in rules:
        if not isinstance(r, Mapping) or r.get("column"):
            continue  # a column rule treats one column, not an entity everywhere
        ent = r.get("entity") or r.get("entityType")
        if not ent:
            continue
        (kept if r.get("operator") == "keep" else covered).add(str(ent))
    return covered, kept


class _Graph:
    """The pipeline as the compliance search sees it."""

    def __init__(
        self,
        spec: PipelineSpec,
        registry: Registry,
        resources: Mapping[str, list[Mapping[str, Any]]],
    ) -> None:
        self.spec = spec
        self.registry = registry
        self.ids = {n.id for n in spec.nodes}
        self.role = roles(spec, registry)
        self.resources = resources
        self.consumers: dict[str, list[str]] = {n.id: [] for n in spec.nodes}
        for n in spec.nodes:
            for up in dict.fromkeys(n.inputs):
                if up in self.consumers and up != n.id:
                    self.consumers[up].append(n.id)
        fallback_only = {n.fallback for n in spec.nodes if n.fallback} - {
            i for n in spec.nodes for i in n.inputs
        }
        self.sources = [n.id for n in spec.nodes if not n.inputs and n.id not in fallback_only]
        self.outputs = [n.id for n in spec.nodes if self._is_output(n)]

    def _is_output(self, n: NodeSpec) -> bool:
        nt = self.registry.get(n.type_key)
        return nt.kind == "output" if nt is not None else n.nodeType == "output"

    def node(self, nid: str) -> NodeSpec:
        return self.spec.node(nid)

    def applied_framework(self, nid: str) -> str | None:
        """The framework a redaction applies: its own, else the nearest detection's."""
        own = self.node(nid).config.get("complianceFramework")
        if own:
            return framework_key(own)
        queue, seen = deque(self.node(nid).inputs), set()
        while queue:
            up = queue.popleft()
            if up in seen or up not in self.ids:
                continue
            seen.add(up)
            if self.role[up] == DETECT:
                fw = self.node(up).config.get("complianceFramework")
                return framework_key(fw) if fw else None
            queue.extend(self.node(up).inputs)
        return None

    def untreated(self, nid: str, framework: str) -> list[str]:
        """Entities of ``framework`` redaction ``nid`` leaves untreated (empty = satisfies)."""
        required = required_entities(self.registry, framework)
        applied = self.applied_framework(nid)
        covered, kept = _rules_of(self.node(nid), self.resources.get(nid, ()))
        if applied == framework_key(framework):
            covered.add(_ALL)
        elif applied:
            covered |= set(required_entities(self.registry, applied))
        if _ALL in covered:
            return sorted(set(required) & kept)
        missing = [e for e in required if e not in covered or e in kept]
        if not required and applied != framework_key(framework):
            return [f"(the entities {framework} requires are not declared)"]
        return sorted(missing)

    def _own(self, nid: str, framework: str) -> tuple[bool, bool]:
        """``(detects, satisfies)`` of node ``nid`` itself."""
        role = self.role.get(nid)
        if role == SYNTHETIC:
            return True, True
        if role == REDACT:
            return False, not self.untreated(nid, framework)
        return role == DETECT, False

    def effective(self, nid: str, framework: str) -> tuple[bool, bool]:
        """As :meth:`_own`, and true only if the node's fallback would be too."""
        det, sat = self._own(nid, framework)
        fb = self.node(nid).fallback
        if fb and fb in self.ids and fb != nid:
            fdet, fsat = self._own(fb, framework)
            det, sat = det and (fdet or fsat), sat and fsat
        return det, sat


def _offending_paths(graph: _Graph, framework: str) -> dict[str, list[str]]:
    """Output id -> shortest source-to-output path that never satisfies ``framework``."""
    memo: dict[str, tuple[bool, bool]] = {}

    def traits(nid: str) -> tuple[bool, bool]:
        if nid not in memo:
            memo[nid] = graph.effective(nid, framework)
        return memo[nid]

    def step(nid: str, progress: int) -> int:
        det, sat = traits(nid)
        if graph.role.get(nid) == SYNTHETIC and sat:
            return _SATISFIED
        if sat and progress >= _DETECTED:
            return _SATISFIED
        if det:
            return max(progress, _DETECTED)
        return progress

    parent: dict[tuple[str, int], tuple[str, int] | None] = {}
    queue: deque[tuple[str, int]] = deque()
    for s in graph.sources:
        state = (s, step(s, _NONE))
        if state[1] != _SATISFIED and state not in parent:
            parent[state] = None
            queue.append(state)
    while queue:
        nid, progress = queue.popleft()
        for c in graph.consumers.get(nid, []):
            state = (c, step(c, progress))
            if state[1] == _SATISFIED or state in parent:
                continue
            parent[state] = (nid, progress)
            queue.append(state)
    found: dict[str, list[str]] = {}
    outputs = set(graph.outputs)
    for state in parent:  # BFS order: the first state reaching an output is the shortest
        if state[0] in outputs and state[0] not in found:
            path: list[str] = []
            cur: tuple[str, int] | None = state
            while cur is not None:
                path.append(cur[0])
                cur = parent[cur]
            found[state[0]] = path[::-1]
    return found


def _why(graph: _Graph, path: list[str], framework: str) -> str:
    """Why ``path`` does not satisfy ``framework`` (one clause)."""
    reasons = []
    seen_detect = False
    for nid in path:
        role = graph.role.get(nid)
        det, sat = graph.effective(nid, framework)
        fb = graph.node(nid).fallback
        if role == REDACT:
            missing = graph.untreated(nid, framework)
            if missing:
                reasons.append(f"redaction '{nid}' leaves {', '.join(missing)} untreated")
            elif not sat and fb:
                reasons.append(f"redaction '{nid}' falls back to '{fb}', which does not redact")
            elif not seen_detect:
                reasons.append(f"redaction '{nid}' has no detection before it")
        elif role == SYNTHETIC and not sat and fb:
            reasons.append(f"synthetic node '{nid}' falls back to '{fb}', which emits real rows")
        seen_detect = seen_detect or det
    if not reasons:
        return "no redaction on this path"
    return "; ".join(reasons)


def check(
    spec: PipelineSpec,
    registry: Registry | None = None,
    resources: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> ComplianceReport:
    """Check ``spec`` against every framework it names (see module docs).

    Args:
        spec: The pipeline.
        registry: Node types and frameworks (the default registry when None).
        resources: Node id -> the catalog resources its config references (redaction
            rule sets); without it only inline rules count.
    """
    registry = registry or default_registry()
    fws = frameworks(spec)
    report = ComplianceReport(spec.id, fws)
    if not fws:
        return report
    graph = _Graph(spec, registry, resources or {})
    for fw in fws:
        if registry.frameworks and fw not in registry.frameworks:
            report.violations.append(
                {
                    "framework": fw,
                    "message": f"unknown compliance framework {fw!r}; known: "
                    + ", ".join(sorted(registry.frameworks)),
                }
            )
            continue
        for out, path in sorted(_offending_paths(graph, fw).items()):
            report.violations.append(
                {
                    "framework": fw,
                    "source": path[0],
                    "output": out,
                    "input": path[-2] if len(path) > 1 else None,
                    "path": path,
                    "message": f"{fw}: output '{out}' is reachable from source '{path[0]}' "
                    f"without a redaction that satisfies {fw}: {' -> '.join(path)} "
                    f"({_why(graph, path, fw)})",
                }
            )
    return report


def entities(spec: PipelineSpec, registry: Registry | None = None) -> list[str]:
    """Entity types the pipeline handles: detected, named in rules, or framework-required."""
    registry = registry or default_registry()
    types = roles(spec, registry)
    found: set[str] = set()
    for n in spec.nodes:
        if types[n.id] == DETECT and n.config.get("entities"):
            found |= set(n.config["entities"])
        for r in n.config.get("rules") or []:
            if isinstance(r, dict) and (r.get("entity") or r.get("entityType")):
                ent = str(r.get("entity") or r.get("entityType"))
                if ent != _ALL:
                    found.add(ent)
    for fw in frameworks(spec):
        found |= set(required_entities(registry, fw))
    return sorted(found)


def lookup_resources(
    spec: PipelineSpec,
    refs: Callable[[NodeSpec], list[tuple[str, str]]],
    get: Callable[[str, str], Mapping[str, Any]],
    registry: Registry | None = None,
) -> dict[str, list[Mapping[str, Any]]]:
    """The catalog resources each redaction node references, for :func:`check`.

    Args:
        refs: Node -> its ``(kind, id)`` resource references.
        get: ``catalog.get``; references it cannot resolve are skipped (validation
            reports them).
    """
    types = roles(spec, registry)
    out: dict[str, list[Mapping[str, Any]]] = {}
    for n in spec.nodes:
        if types[n.id] != REDACT:
            continue
        found = []
        for kind, rid in refs(n):
            try:
                res = get(kind, rid)
            except Exception:
                continue
            if isinstance(res, Mapping):
                found.append(res)
        out[n.id] = found
    return out
