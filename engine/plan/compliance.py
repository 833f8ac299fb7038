"""Pre-run compliance validation and the GDPR Article 30 record of processing. Ray-free.

A pipeline is subject to the frameworks its nodes name (``config.complianceFramework``
on any node, e.g. ``HIPAA``, or a ``compliance:<FRAMEWORK>`` tag on the pipeline). For
each such framework, :func:`check` requires that on EVERY path from a source to an
output the data passes through a ``privacy/detection`` node and then a
``privacy/redaction`` node (a ``privacy/synthetic`` node, which emits generated rows
instead of the real ones, also satisfies the rule). A redaction node configured for a
different framework than the one the pipeline is subject to is reported too.

The GDPR Article 30 record of processing lives in :mod:`engine.audit.article30`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.registry import Registry, default_registry
from engine.spec.models import PipelineSpec

DETECT, REDACT, SYNTHETIC = "detect", "redact", "synthesize"  # NodeType.privacy_role values
MAX_PATHS = 10_000  # DAGs with more source->output paths are checked per node pair


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
            + "\n".join(f"  - [{v['framework']}] {v['message']}" for v in self.violations)
        )


def frameworks(spec: PipelineSpec) -> list[str]:
    """Frameworks the pipeline is subject to (node configs and ``compliance:`` tags)."""
    found = {
        str(n.config["complianceFramework"]).upper()
        for n in spec.nodes
        if n.config.get("complianceFramework")
    }
    found |= {t.split(":", 1)[1].upper() for t in spec.tags if t.lower().startswith("compliance:")}
    return sorted(found)


def _paths(spec: PipelineSpec) -> list[list[str]]:
    sources = [n.id for n in spec.nodes if not n.inputs and n.nodeType == "source"]
    out: list[list[str]] = []

    def walk(nid: str, path: list[str]) -> None:
        if len(out) >= MAX_PATHS:
            return
        path = [*path, nid]
        node = spec.node(nid)
        if node.nodeType == "output":
            out.append(path)
            return
        for c in spec.consumers(nid):
            walk(c, path)

    for s in sources:
        walk(s, [])
    return out


def roles(spec: PipelineSpec, registry: Registry | None = None) -> dict[str, str | None]:
    """Each node's declared privacy role (``detect``/``redact``/``synthesize`` or None)."""
    registry = registry or default_registry()
    out: dict[str, str | None] = {}
    for n in spec.nodes:
        nt = registry.get(n.type_key)
        out[n.id] = nt.privacy_role if nt is not None else None
    return out


def check(spec: PipelineSpec, registry: Registry | None = None) -> ComplianceReport:
    """Check ``spec`` against every framework it names (see module docs)."""
    fws = frameworks(spec)
    report = ComplianceReport(spec.id, fws)
    if not fws:
        return report
    types = roles(spec, registry)
    fallback_only = {n.fallback for n in spec.nodes if n.fallback}
    for path in _paths(spec):
        if path[0] in fallback_only:
            continue
        kinds = [types[n] for n in path]
        if SYNTHETIC in kinds:
            continue
        detect = kinds.index(DETECT) if DETECT in kinds else None
        redact = max((i for i, k in enumerate(kinds) if k == REDACT), default=None)
        problem = None
        if detect is None and redact is None:
            problem = "passes through neither privacy/detection nor privacy/redaction"
        elif detect is None:
            problem = "is redacted without a privacy/detection step before it"
        elif redact is None:
            problem = "is detected but never passes through privacy/redaction"
        elif redact < detect:
            problem = "is redacted before it is detected (privacy/detection must come first)"
        if problem:
            for fw in fws:
                report.violations.append(
                    {
                        "framework": fw,
                        "source": path[0],
                        "output": path[-1],
                        "path": path,
                        "message": f"data from source '{path[0]}' reaches output '{path[-1]}' "
                        f"({' -> '.join(path)}) but {problem}; {fw} requires detection "
                        "and redaction of identifiers before any output",
                    }
                )
    for n in spec.nodes:
        named: Any = n.config.get("complianceFramework")
        if types[n.id] == REDACT and named and str(named).upper() not in fws:
            report.violations.append(
                {
                    "framework": str(named).upper(),
                    "node": n.id,
                    "message": f"redaction node '{n.id}' applies {named}",
                }
            )
        if types[n.id] == REDACT and len(fws) > 1 and named and str(named).upper() in fws:
            for other in fws:
                if other != str(named).upper():
                    report.violations.append(
                        {
                            "framework": other,
                            "node": n.id,
                            "message": f"redaction node '{n.id}' applies {named} only; "
                            f"the pipeline is also subject to {other}: name its treatments "
                            "in rules",
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
            if isinstance(r, dict) and r.get("entityType"):
                found.add(str(r["entityType"]))
    for fw in frameworks(spec):
        key = fw.replace("_", "-")
        key = {"PCI": "PCI-DSS", "PCIDSS": "PCI-DSS"}.get(key, key)
        found |= set(registry.frameworks.get(key, ()))
    return sorted(found)
