"""Pre-run compliance validation and the GDPR Article 30 record of processing. Ray-free.

A pipeline is subject to the frameworks its nodes name (``config.complianceFramework``
on any node, e.g. ``HIPAA``, or a ``compliance:<FRAMEWORK>`` tag on the pipeline). For
each such framework, :func:`check` requires that on EVERY path from a source to an
output the data passes through a ``privacy/detection`` node and then a
``privacy/redaction`` node (a ``privacy/synthetic`` node, which emits generated rows
instead of the real ones, also satisfies the rule). A redaction node configured for a
different framework than the one the pipeline is subject to is reported too.

:func:`article30_record` builds the record of processing activities GDPR Art. 30(1)
asks controllers to keep, from what the pipeline itself says: purposes (name,
description, tags), categories of personal data (the entity types detected or required
by the frameworks), sources, recipients (outputs and their locations), safeguards
(detection, redaction operators), retention and transfers. Fields the pipeline cannot
know (the controller's name and contact, the DPO) come from ``controller`` or are
marked ``"to be completed"`` so the record is never silently incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.spec.models import PipelineSpec

DETECT = "privacy/detection"
REDACT = "privacy/redaction"
SYNTHETIC = "privacy/synthetic"
TO_COMPLETE = "to be completed"
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


def check(spec: PipelineSpec) -> ComplianceReport:
    """Check ``spec`` against every framework it names (see module docs)."""
    fws = frameworks(spec)
    report = ComplianceReport(spec.id, fws)
    if not fws:
        return report
    types = {n.id: n.type_key for n in spec.nodes}
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
        if n.type_key == REDACT and named and str(named).upper() not in fws:
            report.violations.append(
                {
                    "framework": str(named).upper(),
                    "node": n.id,
                    "message": f"redaction node '{n.id}' applies {named}",
                }
            )
        if n.type_key == REDACT and len(fws) > 1 and named and str(named).upper() in fws:
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


def _entities(spec: PipelineSpec) -> list[str]:
    found: set[str] = set()
    for n in spec.nodes:
        if n.type_key == DETECT and n.config.get("entities"):
            found |= set(n.config["entities"])
        for r in n.config.get("rules") or []:
            if isinstance(r, dict) and r.get("entityType"):
                found.add(str(r["entityType"]))
    for fw in frameworks(spec):
        try:
            from nodes.privacy.frameworks import get_framework

            f = get_framework(fw)
        except Exception:
            f = None
        if f is not None:
            found |= set(f.required)
    return sorted(found)


def article30_record(
    spec: PipelineSpec, *, controller: dict[str, Any] | None = None, retention: str | None = None
) -> dict[str, Any]:
    """The GDPR Art. 30(1) record of processing for ``spec`` (JSON-serializable)."""
    from engine.audit.log import retention_days

    controller = controller or {}
    sources = [
        {
            "nodeId": n.id,
            "type": n.type_key,
            "location": n.config.get("uri")
            or n.config.get("dataSourceId")
            or n.config.get("url")
            or TO_COMPLETE,
        }
        for n in spec.nodes
        if n.nodeType == "source"
    ]
    recipients = [
        {
            "nodeId": n.id,
            "type": n.type_key,
            "location": n.config.get("uri")
            or n.config.get("url")
            or n.config.get("environmentId")
            or TO_COMPLETE,
        }
        for n in spec.nodes
        if n.nodeType == "output"
    ]
    safeguards = []
    for n in spec.nodes:
        if n.type_key == DETECT:
            safeguards.append(
                f"PII detection '{n.id}' (threshold {n.config.get('confidenceThreshold', 0.5)})"
            )
        if n.type_key == REDACT:
            ops = sorted(
                {
                    str(r.get("operator"))
                    for r in n.config.get("rules") or []
                    if isinstance(r, dict) and r.get("operator")
                }
            )
            what = (
                f"operators {', '.join(ops)}"
                if ops
                else (
                    f"{n.config.get('complianceFramework')} defaults"
                    if n.config.get("complianceFramework")
                    else "configured rules"
                )
            )
            safeguards.append(f"redaction '{n.id}' ({what})")
        if n.type_key == SYNTHETIC:
            safeguards.append(f"synthetic data generation '{n.id}' (no real records leave)")
    transfers = [
        r["location"]
        for r in recipients
        if isinstance(r["location"], str)
        and "://" in r["location"]
        and not r["location"].startswith("file://")
    ]
    days = retention_days("GDPR")
    report = check(spec)
    return {
        "record": "GDPR Article 30(1) record of processing activities",
        "processingActivity": spec.name or spec.id,
        "pipelineId": spec.id,
        "pipelineVersion": spec.version,
        "controller": {
            "name": controller.get("name", TO_COMPLETE),
            "contact": controller.get("contact", TO_COMPLETE),
            "dataProtectionOfficer": controller.get("dpo", TO_COMPLETE),
        },
        "purposes": [p for p in [spec.description] if p] or [TO_COMPLETE],
        "tags": spec.tags,
        "categoriesOfDataSubjects": controller.get("dataSubjects", TO_COMPLETE),
        "categoriesOfPersonalData": _entities(spec) or [TO_COMPLETE],
        "sources": sources,
        "recipients": recipients,
        "transfersToThirdCountries": {
            "destinations": transfers,
            "note": "remote destinations listed; confirm their countries and safeguards"
            if transfers
            else "none: every output is local",
        },
        "retention": retention or (f"audit trail kept {days} days" if days else TO_COMPLETE),
        "securityMeasures": safeguards or ["none declared in the pipeline"],
        "complianceFrameworks": report.frameworks,
        "complianceCheck": "pass" if report.ok else [v["message"] for v in report.violations],
    }
