"""Map a run result (``RunResult.to_dict()``) to webhook events with the design's payload.

Event names follow the integration design (``execution_completed``); the dotted names
of earlier releases (``execution.completed``) are accepted wherever a name is given
(subscriptions, :func:`canonical`) and mean the same event. The payload::

    {pipelineId, executionId, event, datasetLocation,
     qualityMetrics: {recordCount, completenessScore, accuracy, privacyCompliance},
     modelCompatibility, outputs: [...]}

``datasetLocation`` and ``modelCompatibility`` describe the same output (the model
training output when there is one, else the first); with several outputs ``outputs``
lists each one (``nodeId, datasetLocation, format, recordCount, modelCompatibility``).
``privacyCompliance`` is always a string: ``<FRAMEWORK>_certified`` when residual scans
of every output found nothing, ``residue_found`` when one did, a node's own verdict
(a deployment's quality gates) when one gave it, ``not_assessed`` otherwise.
``accuracy`` is the share of checked rows that passed the validators, or,
without validators, the share of rows read that no node rejected.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES: tuple[str, ...] = (
    "execution_started",
    "execution_completed",
    "execution_failed",
    "deployment_completed",
    "quality_gate_failed",
)
LEGACY_NAMES: dict[str, str] = {
    "execution.started": "execution_started",
    "execution.completed": "execution_completed",
    "execution.failed": "execution_failed",
    "deployment.completed": "deployment_completed",
    "quality_gate.failed": "quality_gate_failed",
}


def canonical(event_type: str) -> str:
    """The design's name of an event (``execution.completed`` -> ``execution_completed``)."""
    return LEGACY_NAMES.get(event_type, event_type)


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def quality_metrics(result: dict[str, Any], output: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{recordCount, completenessScore, accuracy, privacyCompliance}`` of a run."""
    facts = [n.get("facts") or {} for n in (result.get("nodes") or {}).values()]
    qm = [f.get("qualityMetrics") or {} for f in facts]
    out_rows = [o.get("rows") for o in ([output] if output else result.get("outputs") or [])]
    record_count = _first([*out_rows, *(q.get("recordCount") for q in qm)])
    if record_count is None:
        record_count = (result.get("metrics") or {}).get("recordsProcessed")
    privacy = _first(
        [residual_compliance(result)]
        + [q.get("privacyCompliance") for q in qm]
        + [f.get("privacyCompliance") for f in facts]
    )
    return {
        "recordCount": record_count,
        "completenessScore": _first([q.get("completenessScore") for q in qm]),
        "accuracy": _first([q.get("accuracy") for q in qm] + [accuracy(result)]),
        "privacyCompliance": privacy or "not_assessed",
    }


def accuracy(result: dict[str, Any]) -> float | None:
    """Rows passing the validators' checks, or else rows read that no node rejected."""
    nodes = (result.get("nodes") or {}).values()
    passed = sum(float((n.get("counters") or {}).get("quality.passed", 0)) for n in nodes)
    failed = sum(float((n.get("counters") or {}).get("quality.failed", 0)) for n in nodes)
    if passed + failed > 0:
        return round(passed / (passed + failed), 4)
    rejected = sum(
        float((n.get("counters") or {}).get(k, 0))
        for n in nodes
        for k in ("droppedRows", "quarantinedRows", "malformedRows")
    )
    read = float((result.get("metrics") or {}).get("recordsProcessed") or 0)
    if read + rejected <= 0:
        return None
    return round(read / (read + rejected), 4)


def residual_compliance(result: dict[str, Any]) -> str | None:
    """``<FRAMEWORK>_certified`` from the outputs' residual scans, ``residue_found`` when one
    found identifiers it would have written, None when no output was scanned.

    Only that evidence counts: a framework named in a config certifies nothing.
    """
    nodes = result.get("nodes") or {}
    found = [(n.get("facts") or {}).get("residualScan") for n in nodes.values()]
    scans: list[dict[str, Any]] = [s for s in found if isinstance(s, dict)]
    if not scans:
        return None
    for s in scans:
        written = s.get("onResidue") != "quarantine" and any(
            n for ents in (s.get("findings") or {}).values() for n in ents.values()
        )
        if written or s.get("unscannedColumns") or s.get("unscannedShards"):
            return "residue_found"
    outputs = result.get("outputs") or []
    if result.get("status") != "completed" or not outputs:
        return None
    common: set[str] | None = None
    for o in outputs:
        scan = o.get("residualScan")
        if not isinstance(scan, dict):
            return None  # an output without evidence: nothing is certified
        certs = {str(c)[: -len("_compliant")] for c in o.get("certifications") or []
                 if str(c).endswith("_compliant")}  # fmt: skip
        common = certs if common is None else common & certs
    return ",".join(f"{fw}_certified" for fw in sorted(common or ())) or None


def model_compatibility(
    result: dict[str, Any], node_id: str | None = None
) -> dict[str, Any] | None:
    nodes = result.get("nodes") or {}
    if node_id is not None:
        return (nodes.get(node_id, {}).get("facts") or {}).get("modelCompatibility")
    return _first([(n.get("facts") or {}).get("modelCompatibility") for n in nodes.values()])


def primary_output(result: dict[str, Any]) -> dict[str, Any] | None:
    """The output the top-level fields describe: model training if any, else the first."""
    outputs = result.get("outputs") or []
    for o in outputs:
        if model_compatibility(result, o.get("nodeId")):
            return dict(o)
    return dict(outputs[0]) if outputs else None


def output_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "nodeId": o.get("nodeId"),
            "datasetLocation": o.get("location"),
            "format": o.get("format"),
            "recordCount": o.get("rows"),
            "modelCompatibility": model_compatibility(result, o.get("nodeId")),
        }
        for o in result.get("outputs") or []
    ]


def base_payload(result: dict[str, Any], event: str) -> dict[str, Any]:
    event = canonical(event)
    main = primary_output(result)
    payload = {
        "pipelineId": result.get("pipelineId"),
        "executionId": result.get("executionId"),
        "event": event,
        "datasetLocation": main.get("location") if main else None,
        "qualityMetrics": quality_metrics(result, main),
        "modelCompatibility": model_compatibility(result, main.get("nodeId")) if main else None,
    }
    if len(result.get("outputs") or []) > 1:
        payload["outputs"] = output_entries(result)
    return payload


def events_from_run(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Webhook events ``(type, payload)`` for a run result.

    ``pending``/``running`` gives ``execution_started``; ``completed`` gives one
    ``deployment_completed`` per deployed environment and ``execution_completed``;
    ``failed`` gives ``execution_failed`` (with the one-line ``error``); any failed or
    warning quality gate also gives ``quality_gate_failed``.
    """
    from engine.run.failures import sanitize

    status = result.get("status")
    events: list[tuple[str, dict[str, Any]]] = []
    if status in ("pending", "running", "started"):
        p = base_payload(result, "execution_started")
        p["startedAt"] = result.get("startedAt")
        return [("execution_started", p)]
    for node_id, node in (result.get("nodes") or {}).items():
        facts = node.get("facts") or {}
        bad = [
            g for g in facts.get("qualityGates") or [] if g.get("status") in ("failed", "warning")
        ]
        if bad:
            p = base_payload(result, "quality_gate_failed")
            p.update(nodeId=node_id, gates=bad, blocking=any(g["status"] == "failed" for g in bad))
            events.append(("quality_gate_failed", p))
        dep = facts.get("deployment")
        if dep and node.get("status", "completed") == "completed" and status == "completed":
            p = base_payload(result, "deployment_completed")
            p.update(nodeId=node_id, datasetLocation=dep.get("location"), deployment=dep)
            events.append(("deployment_completed", p))
    if status == "completed":
        p = base_payload(result, "execution_completed")
        p["finishedAt"] = result.get("finishedAt")
        events.append(("execution_completed", p))
    elif status in ("failed", "cancelled"):
        p = base_payload(result, "execution_failed")
        error = result.get("error")
        p.update(
            error=sanitize(error) if isinstance(error, str) else error,
            errorNode=result.get("errorNode"),
            status=status,
            finishedAt=result.get("finishedAt"),
        )
        events.append(("execution_failed", p))
    return events
