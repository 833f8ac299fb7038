"""Map a run result (``RunResult.to_dict()``) to webhook events with the design's payload."""

from __future__ import annotations

from typing import Any


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def quality_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """``{recordCount, completenessScore, privacyCompliance}`` gathered from node facts."""
    facts = [n.get("facts") or {} for n in (result.get("nodes") or {}).values()]
    qm = [f.get("qualityMetrics") or {} for f in facts]
    out_rows = [o.get("rows") for o in result.get("outputs") or []]
    record_count = _first([*out_rows, *(q.get("recordCount") for q in qm)])
    if record_count is None:
        record_count = (result.get("metrics") or {}).get("recordsProcessed")
    privacy = _first(
        [q.get("privacyCompliance") for q in qm]
        + [f.get("privacyCompliance") for f in facts]
        + [f.get("complianceFramework") and f"{f['complianceFramework']}_checked" for f in facts]
    )
    return {
        "recordCount": record_count,
        "completenessScore": _first([q.get("completenessScore") for q in qm]),
        "privacyCompliance": privacy,
    }


def model_compatibility(result: dict[str, Any]) -> dict[str, Any] | None:
    facts = [n.get("facts") or {} for n in (result.get("nodes") or {}).values()]
    return _first([f.get("modelCompatibility") for f in facts])


def base_payload(result: dict[str, Any], event: str) -> dict[str, Any]:
    outputs = result.get("outputs") or []
    return {
        "pipelineId": result.get("pipelineId"),
        "executionId": result.get("executionId"),
        "event": event,
        "datasetLocation": outputs[0].get("location") if outputs else None,
        "qualityMetrics": quality_metrics(result),
        "modelCompatibility": model_compatibility(result),
    }


def events_from_run(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Webhook events ``(type, payload)`` for a run result.

    ``pending``/``running`` gives ``execution.started``; ``completed`` gives one
    ``deployment.completed`` per deployed environment and ``execution.completed``;
    ``failed`` gives ``execution.failed``; any failed/warning quality gate also gives
    ``quality_gate.failed``.
    """
    status = result.get("status")
    events: list[tuple[str, dict[str, Any]]] = []
    if status in ("pending", "running", "started"):
        p = base_payload(result, "execution.started")
        p["startedAt"] = result.get("startedAt")
        return [("execution.started", p)]
    for node_id, node in (result.get("nodes") or {}).items():
        facts = node.get("facts") or {}
        bad = [
            g for g in facts.get("qualityGates") or [] if g.get("status") in ("failed", "warning")
        ]
        if bad:
            p = base_payload(result, "quality_gate.failed")
            p.update(nodeId=node_id, gates=bad, blocking=any(g["status"] == "failed" for g in bad))
            events.append(("quality_gate.failed", p))
        dep = facts.get("deployment")
        if dep and node.get("status", "completed") == "completed" and status == "completed":
            p = base_payload(result, "deployment.completed")
            p.update(nodeId=node_id, datasetLocation=dep.get("location"), deployment=dep)
            events.append(("deployment.completed", p))
    if status == "completed":
        p = base_payload(result, "execution.completed")
        p["finishedAt"] = result.get("finishedAt")
        events.append(("execution.completed", p))
    elif status in ("failed", "cancelled"):
        p = base_payload(result, "execution.failed")
        p.update(error=result.get("error"), status=status, finishedAt=result.get("finishedAt"))
        events.append(("execution.failed", p))
    return events
