"""The GDPR Article 30 record of processing activities for a pipeline. Ray-free.

:func:`article30_record` builds the record GDPR Art. 30(1) asks controllers to keep,
from what the pipeline itself says: purposes (name, description, tags), categories of
personal data (the entity types detected or required by the frameworks), sources,
recipients (outputs and their locations), safeguards (detection, redaction operators,
the outputs' residual scans),
retention and transfers. Fields the pipeline cannot know (the controller's name and
contact, the DPO) come from ``controller`` or are marked ``"to be completed"`` so the
record is never silently incomplete.
"""

from __future__ import annotations

from typing import Any

from engine.plan.compliance import DETECT, REDACT, SYNTHETIC, check, entities, roles
from engine.spec.models import PipelineSpec

TO_COMPLETE = "to be completed"


def article30_record(
    spec: PipelineSpec, *, controller: dict[str, Any] | None = None, retention: str | None = None
) -> dict[str, Any]:
    """The GDPR Art. 30(1) record of processing for ``spec`` (JSON-serializable)."""
    from engine.audit.log import retention_days

    types = roles(spec)

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
        if types[n.id] == DETECT:
            safeguards.append(
                f"PII detection '{n.id}' (threshold {n.config.get('confidenceThreshold', 0.5)})"
            )
        if types[n.id] == REDACT:
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
        if types[n.id] == SYNTHETIC:
            safeguards.append(f"synthetic data generation '{n.id}' (no real records leave)")
    report = check(spec)
    if report.frameworks:
        for r in recipients:
            on_residue = spec.node(r["nodeId"]).config.get("onResidue", "fail")
            safeguards.append(
                f"residual scan of every row written to '{r['nodeId']}' for the identifiers "
                f"{', '.join(report.frameworks)} requires removed (on residue: {on_residue})"
            )
    transfers = [
        r["location"]
        for r in recipients
        if isinstance(r["location"], str)
        and "://" in r["location"]
        and not r["location"].startswith("file://")
    ]
    days = retention_days("GDPR")
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
        "categoriesOfPersonalData": entities(spec) or [TO_COMPLETE],
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
