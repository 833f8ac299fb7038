"""OpenLineage RunEvents of a run: dataset naming, facets, START/RUNNING/terminal events.

Built from a run result (``RunResult.to_dict()``) and the pipeline spec. Ray-free.
Dataset namespaces and names follow the OpenLineage naming conventions
(``file://host`` + path, ``s3://bucket`` + key, ``gs://bucket``, ``postgres://host:port``).
Output datasets carry ``schema``, ``columnLineage`` and, when the output node ran quality
gates, ``dataQualityAssertions`` facets; inputs carry ``dataQualityMetrics``.
"""

from __future__ import annotations

import socket
import uuid
from typing import Any
from urllib.parse import urlparse

PRODUCER = "https://github.com/pipeline-builder/pipeline-builder/tree/0.1.0"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
JOB_NAMESPACE = "pipeline-builder"
_FACET = "https://openlineage.io/spec/facets/1-0-1/{}.json#/$defs/{}"
_EVENT_TYPES = {"completed": "COMPLETE", "failed": "FAIL", "cancelled": "ABORT"}


def run_id(execution_id: str) -> str:
    """The OpenLineage runId (a UUID) of an execution; stable for a given id."""
    try:
        return str(uuid.UUID(execution_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pipeline-builder:{execution_id}"))


def dataset_name(location: str | None) -> tuple[str, str]:
    """``(namespace, name)`` of a dataset location per the OpenLineage naming conventions."""
    if not location:
        return "pipeline-builder", "unknown"
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    if scheme in ("s3", "s3a", "gs", "gcs", "abfss", "wasbs"):
        ns_scheme = "gs" if scheme == "gcs" else ("s3" if scheme == "s3a" else scheme)
        return f"{ns_scheme}://{parsed.netloc}", parsed.path.lstrip("/") or "/"
    if scheme in ("http", "https"):
        return f"{scheme}://{parsed.netloc}", parsed.path or "/"
    if scheme in ("postgresql", "postgres", "mysql", "sqlite", "mssql", "oracle"):
        ns = "postgres" if scheme.startswith("postgres") else scheme
        host = parsed.hostname or "localhost"
        port = f":{parsed.port}" if parsed.port else ""
        return f"{ns}://{host}{port}", parsed.path.lstrip("/") or "default"
    if scheme == "file":
        return f"file://{parsed.netloc or _host()}", parsed.path
    if "://" in location:
        return f"{scheme}://{parsed.netloc}", parsed.path or "/"
    return f"file://{_host()}", location


def _host() -> str:
    return socket.gethostname() or "localhost"


def _fields(schema: Any) -> list[dict[str, str]]:
    """OpenLineage schema fields from ``[[name, type], ...]`` or ``{name: type}``."""
    if isinstance(schema, dict):
        return [{"name": str(k), "type": str(v)} for k, v in schema.items()]
    out = []
    for item in schema or []:
        if isinstance(item, list | tuple) and len(item) >= 2:
            out.append({"name": str(item[0]), "type": str(item[1])})
        elif isinstance(item, dict) and "name" in item:
            out.append({"name": str(item["name"]), "type": str(item.get("type", ""))})
    return out


def _facet(facet_type: str, **body: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": _FACET.format(facet_type, facet_type), **body}


def _nodes_by_id(spec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in (spec or {}).get("nodes", []) if isinstance(n, dict) and "id" in n}


def _upstream_sources(
    node_id: str, spec_nodes: dict[str, dict[str, Any]], sources: set[str]
) -> list[str]:
    seen, stack, found = set(), [node_id], []
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in sources:
            found.append(n)
        stack.extend(spec_nodes.get(n, {}).get("inputs", []))
    return sorted(found)


def _input_datasets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for src in result.get("sources", []):
        ns, name = dataset_name(src.get("location"))
        node = result.get("nodes", {}).get(src["nodeId"], {})
        facets: dict[str, Any] = {}
        if src.get("schema"):
            facets["schema"] = _facet("SchemaDatasetFacet", fields=_fields(src["schema"]))
        if src.get("location"):
            facets["dataSource"] = _facet("DatasourceDatasetFacet", name=ns, uri=src["location"])
        quality = _facet(
            "DataQualityMetricsInputDatasetFacet",
            rowCount=int(node.get("rowsOut", 0)),
            bytes=int(node.get("bytesOut", 0)),
            columnMetrics=_column_metrics(node),
        )
        out.append(
            {
                "namespace": ns,
                "name": name,
                "facets": facets,
                "inputFacets": {"dataQualityMetrics": quality},
                "_nodeId": src["nodeId"],
            }
        )
    return out


def _column_metrics(node: dict[str, Any]) -> dict[str, Any]:
    """Per-column nulls/distinct/min/max from a profile a source node recorded, if any."""
    profile = None
    for holder in (node.get("states", {}), node.get("facts", {})):
        for key in ("profile", "columnProfile", "autoProfile"):
            if isinstance(holder.get(key), dict):
                profile = holder[key]
                break
    columns = (profile or {}).get("columns", profile) or {}
    metrics: dict[str, Any] = {}
    if not isinstance(columns, dict):
        return metrics
    for col, st in columns.items():
        if not isinstance(st, dict):
            continue
        m = {}
        for src_key, ol_key in (
            ("nullCount", "nullCount"),
            ("nulls", "nullCount"),
            ("distinct", "distinctCount"),
            ("distinctCount", "distinctCount"),
            ("distinctEstimate", "distinctCount"),
            ("min", "min"),
            ("max", "max"),
        ):
            if src_key in st and isinstance(st[src_key], int | float):
                m[ol_key] = st[src_key]
        if m:
            metrics[str(col)] = m
    return metrics


def _output_datasets(
    result: dict[str, Any], spec: dict[str, Any] | None, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    spec_nodes = _nodes_by_id(spec)
    by_source = {i["_nodeId"]: i for i in inputs}
    out = []
    for o in result.get("outputs", []):
        ns, name = dataset_name(o.get("location"))
        fields = _fields(o.get("schema"))
        upstream = [
            by_source[s] for s in _upstream_sources(o["nodeId"], spec_nodes, set(by_source))
        ]
        facets: dict[str, Any] = {}
        if fields:
            facets["schema"] = _facet("SchemaDatasetFacet", fields=fields)
            facets["columnLineage"] = _facet(
                "ColumnLineageDatasetFacet", fields=_column_lineage(fields, upstream, result)
            )
        node_facts = result.get("nodes", {}).get(o["nodeId"], {}).get("facts", {})
        assertions = node_facts.get("dataQualityAssertions")
        if isinstance(assertions, dict) and assertions.get("assertions"):
            # written by the output's quality gates, already in the facet's shape
            facets["dataQualityAssertions"] = _facet(
                "DataQualityAssertionsDatasetFacet", assertions=list(assertions["assertions"])
            )
        stats = {"rowCount": int(o.get("rows") or 0)}
        for k_src, k_ol in (("bytes", "size"), ("size", "size"), ("fileCount", "fileCount")):
            if isinstance(o.get(k_src), int):
                stats[k_ol] = o[k_src]
        if "size" not in stats:
            stats["size"] = int(result.get("nodes", {}).get(o["nodeId"], {}).get("bytesOut", 0))
        files = o.get("files")
        if isinstance(files, list | int) and not isinstance(files, bool):
            stats["fileCount"] = len(files) if isinstance(files, list) else files
        out.append(
            {
                "namespace": ns,
                "name": name,
                "facets": facets,
                "outputFacets": {
                    "outputStatistics": _facet("OutputStatisticsOutputDatasetFacet", **stats)
                },
            }
        )
    return out


def _column_lineage(
    fields: list[dict[str, str]], upstream: list[dict[str, Any]], result: dict[str, Any]
) -> dict[str, Any]:
    """Map each output column to the input columns it comes from.

    Columns keep their name through most nodes; renames recorded by nodes as a fact
    ``columnLineage: {outputColumn: [inputColumn, ...]}`` are followed as well.
    """
    renames: dict[str, list[str]] = {}
    for node in result.get("nodes", {}).values():
        got = node.get("facts", {}).get("columnLineage")
        if isinstance(got, dict):
            for out_col, in_cols in got.items():
                renames[str(out_col)] = [
                    str(c) for c in (in_cols if isinstance(in_cols, list) else [in_cols])
                ]
    lineage: dict[str, Any] = {}
    for f in fields:
        col = f["name"]
        wanted = renames.get(col, [col])
        refs = []
        for ds in upstream:
            names = {x["name"] for x in ds["facets"].get("schema", {}).get("fields", [])}
            for w in wanted:
                if w in names:
                    subtype = "IDENTITY" if w == col else "TRANSFORMATION"
                    refs.append(
                        {
                            "namespace": ds["namespace"],
                            "name": ds["name"],
                            "field": w,
                            "transformations": [{"type": "DIRECT", "subtype": subtype}],
                        }
                    )
        if refs:
            lineage[col] = {"inputFields": refs}
    return lineage


def _base_event(
    event_type: str,
    time_iso: str | None,
    result: dict[str, Any],
    spec: dict[str, Any] | None,
    extra_run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pipeline_id = result.get("pipelineId") or (spec or {}).get("id", "unknown")
    return {
        "eventType": event_type,
        "eventTime": time_iso,
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id(result["executionId"]), "facets": extra_run or {}},
        "job": {
            "namespace": JOB_NAMESPACE,
            "name": pipeline_id,
            "facets": {
                "jobType": _facet(
                    "JobTypeJobFacet",
                    processingType="BATCH",
                    integration="PIPELINE_BUILDER",
                    jobType="PIPELINE",
                ),
            },
        },
        "inputs": [],
        "outputs": [],
    }


def start_event(
    *,
    execution_id: str,
    pipeline_id: str,
    at: str,
    spec: dict[str, Any] | None = None,
    inputs: list[str] | None = None,
) -> dict[str, Any]:
    """The START RunEvent of an execution (inputs by location when already known)."""
    ev = _base_event("START", at, {"executionId": execution_id, "pipelineId": pipeline_id}, spec)
    ev["inputs"] = [
        dict(zip(("namespace", "name"), dataset_name(loc), strict=True)) for loc in inputs or []
    ]
    return ev


def running_event(
    *, execution_id: str, pipeline_id: str, at: str, progress: dict[str, Any]
) -> dict[str, Any]:
    """A RUNNING RunEvent carrying progress figures in a custom run facet."""
    facet = {
        "_producer": PRODUCER,
        "_schemaURL": PRODUCER + "#ProgressRunFacet",
        **{
            k: progress.get(k)
            for k in ("recordsProcessed", "dataSize", "completedSteps", "totalSteps", "currentStep")
        },
    }
    return _base_event(
        "RUNNING",
        at,
        {"executionId": execution_id, "pipelineId": pipeline_id},
        None,
        {"pipelineBuilder_progress": facet},
    )


def terminal_event(result: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """COMPLETE, FAIL or ABORT (cancelled) with inputs, outputs and their facets."""
    event_type = _EVENT_TYPES.get(result.get("status", ""), "FAIL")
    run_facets: dict[str, Any] = {}
    if event_type == "FAIL" and result.get("error"):
        run_facets["errorMessage"] = _facet(
            "ErrorMessageRunFacet", message=str(result["error"]), programmingLanguage="python"
        )
    ev = _base_event(
        event_type, result.get("finishedAt") or result.get("startedAt"), result, spec, run_facets
    )
    inputs = _input_datasets(result)
    ev["outputs"] = _output_datasets(result, spec, inputs)
    ev["inputs"] = [{k: v for k, v in i.items() if k != "_nodeId"} for i in inputs]
    return ev


def openlineage_events(
    result: dict[str, Any], spec: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """START and the terminal event of a finished run (what the CLI records)."""
    start = start_event(
        execution_id=result["executionId"],
        pipeline_id=result.get("pipelineId", ""),
        at=result.get("startedAt") or "",
        spec=spec,
        inputs=[s.get("location") for s in result.get("sources", []) if s.get("location")],
    )
    return [start, terminal_event(result, spec)]
