"""Lineage of a run: the integration design's summary shape and OpenLineage RunEvents. Ray-free.

Both are built from a run result (``RunResult.to_dict()``) and the pipeline spec, so
the CLI and the API produce the same lineage:

- :func:`seed_lineage` -> ``{sourceData{originalSources, transformations, qualityMetrics},
  outputData{location, schema, certifications}}`` (plus detail fields);
- :func:`openlineage_events` -> ``[START, COMPLETE|FAIL|ABORT]`` RunEvents, and
  :func:`start_event` / :func:`running_event` / :func:`terminal_event` one at a time,
  with ``schema``, ``columnLineage``, ``outputStatistics`` and ``dataQualityMetrics``
  facets. Dataset namespaces and names follow the OpenLineage naming conventions
  (``file://host`` + path, ``s3://bucket`` + key, ``gs://bucket``, ``postgres://host:port``).
"""

from __future__ import annotations

from typing import Any

from engine.lineage.openlineage import (
    JOB_NAMESPACE,
    PRODUCER,
    SCHEMA_URL,
    _column_metrics,
    _fields,
    _nodes_by_id,
    dataset_name,
    openlineage_events,
    run_id,
    running_event,
    start_event,
    terminal_event,
)

__all__ = [
    "JOB_NAMESPACE",
    "PRODUCER",
    "SCHEMA_URL",
    "certifications",
    "compliance_certifications",
    "dataset_name",
    "forward",
    "gate_results",
    "openlineage_events",
    "quality_metrics",
    "run_id",
    "running_event",
    "seed_lineage",
    "start_event",
    "terminal_event",
]



def seed_lineage(result: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The integration design's lineage shape for one run, with per-node detail added.

    ``originalSources`` names each source by its data-source id when it has one, else
    its location; ``transformations`` lists the non-source, non-output steps in order;
    ``certifications`` gathers what nodes certified (compliance frameworks applied,
    quality gates passed).
    """
    spec_nodes = _nodes_by_id(spec)
    nodes = result.get("nodes", {})
    sources = result.get("sources", [])
    original = []
    for s in sources:
        cfg = spec_nodes.get(s["nodeId"], {}).get("config", {})
        original.append(
            s.get("dataSourceId") or cfg.get("dataSourceId") or s.get("location") or s["nodeId"]
        )
    transformations, steps = [], []
    order = list(spec_nodes) or list(nodes)
    for nid in order:
        node = nodes.get(nid, {})
        type_key = node.get("type") or _type_key(spec_nodes.get(nid, {}))
        if type_key.startswith(("source/", "output/")):
            continue
        # the node type's declared lineage name, recorded in the run result
        name = node.get("transformation") or _transformation(type_key)
        if name not in transformations:
            transformations.append(name)
        steps.append(
            {
                "nodeId": nid,
                "type": type_key,
                "rowsIn": node.get("rowsIn", 0),
                "rowsOut": node.get("rowsOut", 0),
                "status": node.get("status"),
            }
        )
    outputs = result.get("outputs", [])
    first = outputs[0] if outputs else {}
    return {
        "executionId": result.get("executionId"),
        "pipelineId": result.get("pipelineId"),
        "status": result.get("status"),
        "sourceData": {
            "originalSources": original,
            "transformations": transformations,
            "qualityMetrics": quality_metrics(result),
            "sources": [{k: v for k, v in s.items() if k != "schema"} for s in sources],
            "steps": steps,
        },
        "outputData": {
            **_output_entry(first),
            "certifications": certifications(result, spec),
            # one entry per output, each with its own location and schema
            "outputs": [{**o, **_output_entry(o)} for o in outputs],
        },
    }


def _output_entry(o: dict[str, Any]) -> dict[str, Any]:
    """``location``, ``schema`` (a URI when one is known, else inline), both forms."""
    inline = _fields(o.get("schema"))
    uri = o.get("schemaLocation") or o.get("schemaUri")
    return {
        "location": o.get("location"),
        "schema": uri or inline,
        "schemaUri": uri,
        "schemaFields": inline,
    }


def _type_key(node: dict[str, Any]) -> str:
    return f"{node.get('nodeType', '')}/{node.get('category', '')}"


def quality_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """completeness (non-null share), accuracy (rows passing checks), qualityScore, records."""
    metrics: dict[str, Any] = {}
    passed = failed = 0.0
    for node in result.get("nodes", {}).values():
        counters = node.get("counters", {})
        passed += float(counters.get("quality.passed", 0))
        failed += float(counters.get("quality.failed", 0))
        if isinstance(node.get("facts", {}).get("completeness"), int | float):
            metrics["completeness"] = node["facts"]["completeness"]
    if passed + failed > 0:
        metrics["accuracy"] = round(passed / (passed + failed), 4)
    if "completeness" not in metrics:
        completeness = _completeness(result)
        if completeness is not None:
            metrics["completeness"] = completeness
    gates = gate_results(result)
    if gates:
        metrics["qualityGates"] = gates
        for node in result.get("nodes", {}).values():
            seed = node.get("facts", {}).get("qualityMetrics")
            if isinstance(seed, dict) and seed.get("privacyCompliance"):
                metrics["privacyCompliance"] = seed["privacyCompliance"]
    run_metrics = result.get("metrics", {})
    if run_metrics.get("qualityScore") is not None:
        metrics["qualityScore"] = run_metrics["qualityScore"]
    metrics["recordsProcessed"] = run_metrics.get("recordsProcessed", 0)
    return metrics


def _completeness(result: dict[str, Any]) -> float | None:
    """1 - null fraction averaged over source columns, from source profiles when present."""
    fractions = []
    for src in result.get("sources", []):
        node = result.get("nodes", {}).get(src["nodeId"], {})
        rows = node.get("rowsOut") or 0
        for col in _column_metrics(node).values():
            if "nullCount" in col and rows:
                fractions.append(col["nullCount"] / rows)
    if not fractions:
        return None
    return round(1 - sum(fractions) / len(fractions), 4)


def gate_results(result: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{nodeId, id, status, severity}]`` of every quality gate the output nodes ran."""
    out = []
    for node_id, node in result.get("nodes", {}).items():
        for gate in node.get("facts", {}).get("qualityGates") or []:
            if isinstance(gate, dict) and "id" in gate:
                out.append(
                    {
                        "nodeId": node_id,
                        "id": gate["id"],
                        "status": gate.get("status"),
                        "severity": gate.get("severity"),
                    }
                )
    return out


def certifications(result: dict[str, Any], spec: dict[str, Any] | None) -> list[str]:
    """Certifications a completed run earned: gates passed, compliance proven by evidence.

    A quality gate certifies (``<gate>_passed``) only when its recorded result passed; a
    node that recorded no gate results falls back to the gates its config names (a
    completed run passed every blocking gate). A compliance certification
    (``<FRAMEWORK>_compliant``) comes only from the outputs' residual scans: every
    output of the run must have scanned at least the rows it wrote, found no residue it
    wrote and no column it could not scan, and claimed that framework
    (:func:`compliance_certifications`); a framework named in a node's config certifies
    nothing by itself.
    """
    if result.get("status") != "completed":
        return []
    found: list[str] = []
    gated: set[str] = set()
    for gate in gate_results(result):
        gated.add(gate["nodeId"])
        if gate["status"] == "passed":
            found.append(f"{gate['id']}_passed")
    proven = compliance_certifications(result)
    claimed: list[str] = []
    for node in result.get("nodes", {}).values():
        got = node.get("facts", {}).get("certifications")
        if isinstance(got, list):
            claimed += [str(c) for c in got]
    for o in result.get("outputs", []):
        if isinstance(o.get("certifications"), list):
            claimed += [str(c) for c in o["certifications"]]
    found += [c for c in claimed if not c.endswith("_compliant") or c in proven]
    for node_id, node in _nodes_by_id(spec).items():
        if node_id in gated:
            continue
        for gate in node.get("config", {}).get("qualityGates", []) or []:
            if isinstance(gate, str):
                found.append(f"{gate}_passed")
    return sorted(dict.fromkeys(found))


def compliance_certifications(result: dict[str, Any]) -> list[str]:
    """``<FRAMEWORK>_compliant`` backed by every output's residual scan (see above)."""
    outputs = result.get("outputs") or []
    if result.get("status") != "completed" or not outputs:
        return []
    common: set[str] | None = None
    for o in outputs:
        ev = o.get("residualScan")
        if not isinstance(ev, dict) or not _clean(ev, o.get("rows")):
            return []
        certs = {str(c) for c in o.get("certifications") or [] if str(c).endswith("_compliant")}
        certs &= {f"{fw}_compliant" for fw in ev.get("frameworks") or []}
        common = certs if common is None else common & certs
    return sorted(common or ())


def _clean(ev: dict[str, Any], rows: Any) -> bool:
    """Residual evidence that every written row was scanned and none held a residue."""
    scanned = ev.get("rowsScanned")
    if not isinstance(scanned, int) or ev.get("unscannedColumns") or ev.get("unscannedShards"):
        return False
    if isinstance(rows, int) and scanned < rows:
        return False
    found = sum(n for ents in (ev.get("findings") or {}).values() for n in ents.values())
    quarantined = ev.get("onResidue") == "quarantine" and bool(ev.get("quarantinedRows"))
    return not found or quarantined


def forward(event: dict[str, Any]) -> bool:
    """Send a RunEvent to an OpenLineage backend when one is configured; never raises.

    Uses the standard ``OPENLINEAGE_URL`` (HTTP transport: ``POST {url}/api/v1/lineage``,
    with ``OPENLINEAGE_API_KEY`` as a Bearer token when set) or
    ``PIPELINE_BUILDER_OPENLINEAGE_FILE`` (file transport: one JSON event per line).
    Returns whether the event was delivered somewhere.
    """
    import json
    import logging
    import os

    log = logging.getLogger(__name__)
    delivered = False
    path = os.environ.get("PIPELINE_BUILDER_OPENLINEAGE_FILE")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, separators=(",", ":")) + "\n")
            delivered = True
        except OSError as exc:
            log.warning("could not append lineage event to %s: %s", path, exc)
    url = os.environ.get("OPENLINEAGE_URL")
    if url:
        import httpx

        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get("OPENLINEAGE_API_KEY")
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        try:
            resp = httpx.post(
                url.rstrip("/") + "/api/v1/lineage", json=event, headers=headers, timeout=5.0
            )
            delivered = resp.status_code < 300 or delivered
            if resp.status_code >= 300:
                log.warning("OpenLineage backend answered %s", resp.status_code)
        except httpx.HTTPError as exc:
            log.warning("could not send lineage event to %s: %s", url, type(exc).__name__)
    return delivered


def _transformation(type_key: str) -> str:
    """The registered lineage name of a node type (its category when unknown)."""
    from engine.registry import default_registry

    nt = default_registry().get(type_key)
    return nt.transformation if nt is not None else type_key.split("/", 1)[-1]
