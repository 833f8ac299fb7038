"""OpenLineage RunEvents of a run: dataset naming, facets, START/RUNNING/terminal events.

Built from a run result (``RunResult.to_dict()``) and the pipeline spec. Ray-free.
Dataset namespaces and names follow the OpenLineage naming conventions
(``file://host`` + path, ``s3://bucket`` + key, ``gs://bucket``, ``postgres://host:port``).
Output datasets carry ``schema``, ``columnLineage`` and, when the output node ran quality
gates, ``dataQualityAssertions`` facets; inputs carry ``dataQualityMetrics``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlparse

PRODUCER = "https://github.com/pipeline-builder/pipeline-builder/tree/0.1.0"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
JOB_NAMESPACE = "pipeline-builder"
# The published version of every standard facet this module emits (the facet's schema
# at https://openlineage.io/spec/facets/<version>/<Facet>.json): each ``_schemaURL``
# names the version whose structure the facet follows.
FACET_VERSIONS = {
    "ColumnLineageDatasetFacet": "1-2-0",
    "DataQualityAssertionsDatasetFacet": "1-1-0",
    "DataQualityMetricsInputDatasetFacet": "1-0-3",
    "DatasetVersionDatasetFacet": "1-0-1",
    "DatasourceDatasetFacet": "1-0-1",
    "ErrorMessageRunFacet": "1-0-1",
    "JobTypeJobFacet": "2-0-4",
    "OutputStatisticsOutputDatasetFacet": "1-0-2",
    "ProcessingEngineRunFacet": "1-1-1",
    "SchemaDatasetFacet": "1-2-0",
}
_FACET = "https://openlineage.io/spec/facets/{version}/{name}.json#/$defs/{name}"
_EVENT_TYPES = {"completed": "COMPLETE", "failed": "FAIL", "cancelled": "ABORT"}


def run_id(execution_id: str) -> str:
    """The OpenLineage runId (a UUID) of an execution; stable for a given id."""
    try:
        return str(uuid.UUID(execution_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pipeline-builder:{execution_id}"))


def dataset_name(location: str | None) -> tuple[str, str]:
    """``(namespace, name)`` of a dataset location per the OpenLineage naming conventions.

    Local files: namespace ``file``, name the absolute path; object stores: namespace
    ``s3://bucket`` (``gs://``, ``abfss://``...), name the key; databases:
    ``postgres://host:port`` and the table or query name.
    """
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
        return "file", unquote(parsed.path)
    if "://" in location:
        return f"{scheme}://{parsed.netloc}", parsed.path or "/"
    return "file", str(PurePosixPath(location)) if location.startswith("/") else location


def datasource_uri(location: str) -> str:
    """A real URI for a location (``file:///abs/path``, ``s3://bucket``...), no credentials."""
    parsed = urlparse(location)
    if parsed.scheme and len(parsed.scheme) > 1:
        host = parsed.hostname or ""
        if parsed.port:
            host = f"{host}:{parsed.port}"
        if parsed.scheme == "file":
            return "file://" + quote(unquote(parsed.path))
        return f"{parsed.scheme}://{host}{quote(parsed.path)}"
    path = location if location.startswith("/") else "/" + location
    return "file://" + quote(path)


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
    url = _FACET.format(version=FACET_VERSIONS[facet_type], name=facet_type)
    return {"_producer": PRODUCER, "_schemaURL": url, **body}


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
            facets["dataSource"] = _facet(
                "DatasourceDatasetFacet", name=ns, uri=datasource_uri(src["location"])
            )
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


def output_dataset_name(output: dict[str, Any]) -> tuple[str, str]:
    """``(namespace, name)`` of an output: stable across runs.

    An environment output writes each run to a new version folder; the dataset is the
    environment (its ``environmentUri``), the version goes in a ``version`` facet.
    """
    return dataset_name(output.get("environmentUri") or output.get("location"))


def _output_datasets(
    result: dict[str, Any], spec: dict[str, Any] | None, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    spec_nodes = _nodes_by_id(spec)
    by_source = {i["_nodeId"]: i for i in inputs}
    out = []
    for o in result.get("outputs", []):
        ns, name = output_dataset_name(o)
        fields = _fields(o.get("schema"))
        upstream_ids = _upstream_sources(o["nodeId"], spec_nodes, set(by_source))
        upstream = [by_source[s] for s in upstream_ids]
        facets: dict[str, Any] = {}
        location = o.get("environmentUri") or o.get("location")
        if location:
            facets["dataSource"] = _facet(
                "DatasourceDatasetFacet", name=ns, uri=datasource_uri(location)
            )
        if o.get("version") is not None:
            facets["version"] = _facet(
                "DatasetVersionDatasetFacet", datasetVersion=str(o["version"])
            )
        if fields:
            facets["schema"] = _facet("SchemaDatasetFacet", fields=fields)
            facets["columnLineage"] = _facet(
                "ColumnLineageDatasetFacet",
                fields=_column_lineage(fields, upstream, result, o["nodeId"], spec_nodes),
            )
        node_facts = result.get("nodes", {}).get(o["nodeId"], {}).get("facts", {})
        assertions = node_facts.get("dataQualityAssertions")
        if isinstance(assertions, dict) and assertions.get("assertions"):
            # written by the output's quality gates, already in the facet's shape
            facets["dataQualityAssertions"] = _facet(
                "DataQualityAssertionsDatasetFacet", assertions=list(assertions["assertions"])
            )
        out.append(
            {
                "namespace": ns,
                "name": name,
                "facets": facets,
                "outputFacets": {
                    "outputStatistics": _facet(
                        "OutputStatisticsOutputDatasetFacet", **output_statistics(o, result)
                    )
                },
            }
        )
    return out


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def output_statistics(o: dict[str, Any], result: dict[str, Any]) -> dict[str, int]:
    """rowCount, size (bytes committed) and fileCount of one output, as far as known."""
    node = result.get("nodes", {}).get(o["nodeId"], {})
    stats = {"rowCount": _int(o.get("rows")) or _int(node.get("rowsOut")) or 0}
    size = _int(o.get("size"))
    if size is None:
        size = _int(node.get("bytesOut"))
    if size is not None:
        stats["size"] = size
    files = o.get("fileCount", o.get("files"))
    if isinstance(files, list):
        stats["fileCount"] = len(files)
    elif (count := _int(files)) is not None:
        stats["fileCount"] = count
    return stats


def _between(node_id: str, sources: set[str], spec_nodes: dict[str, dict[str, Any]]) -> list[str]:
    """Nodes on the paths from ``sources`` to ``node_id`` (its ancestors), any order."""
    seen, stack = set(), [node_id]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(spec_nodes.get(n, {}).get("inputs", []))
    return [n for n in seen if n not in sources]


def masked_columns(result: dict[str, Any], node_ids: list[str]) -> dict[str, str]:
    """Columns a redaction among ``node_ids`` rewrote: ``{column: "<node>: <how>"}``.

    From the redaction's recorded treatments (column rules other than ``keep``) and the
    findings its detection recorded (columns where PII was found and an entity
    operator other than ``keep`` applies).
    """
    nodes = result.get("nodes", {})
    out: dict[str, str] = {}
    for nid in node_ids:
        facts = nodes.get(nid, {}).get("facts", {}) or {}
        treat = facts.get("treatments")
        if not isinstance(treat, dict):
            continue
        for col, op in (treat.get("columns") or {}).items():
            if op not in (None, "keep"):
                out[str(col)] = f"{nid}: {op}"
        entity_ops = {e: op for e, op in (treat.get("entities") or {}).items() if op != "keep"}
        for other in nodes.values():
            findings = (other.get("states") or {}).get("privacyFindings")
            if not isinstance(findings, dict):
                continue
            for col, ents in (findings.get("columns") or {}).items():
                hit = sorted(e for e in ents if e in entity_ops)
                if hit and str(col) not in out:
                    ops = sorted({str(entity_ops[e]) for e in hit})
                    out[str(col)] = f"{nid}: {'/'.join(ops)} of {', '.join(hit)}"
    return out


def _column_lineage(
    fields: list[dict[str, str]],
    upstream: list[dict[str, Any]],
    result: dict[str, Any],
    output_id: str = "",
    spec_nodes: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Map each output column to the input columns it comes from (facet 1-2-0 shape).

    Columns keep their name through most nodes (``DIRECT``/``IDENTITY``); renames
    recorded by nodes as a fact ``columnLineage: {outputColumn: [inputColumn, ...]}``
    are ``DIRECT``/``TRANSFORMATION``; columns a redaction rewrote are
    ``DIRECT``/``TRANSFORMATION`` with ``masking: true``.
    """
    spec_nodes = spec_nodes or {}
    sources = {ds["_nodeId"] for ds in upstream if "_nodeId" in ds}
    path = (
        _between(output_id, sources, spec_nodes)
        if output_id and spec_nodes
        else list(result.get("nodes", {}))
    )
    renames: dict[str, list[str]] = {}
    for nid in path:
        got = result.get("nodes", {}).get(nid, {}).get("facts", {}).get("columnLineage")
        if isinstance(got, dict):
            for out_col, in_cols in got.items():
                renames[str(out_col)] = [
                    str(c) for c in (in_cols if isinstance(in_cols, list) else [in_cols])
                ]
    masked = masked_columns(result, path)
    lineage: dict[str, Any] = {}
    for f in fields:
        col = f["name"]
        wanted = renames.get(col, [col])
        refs = []
        for ds in upstream:
            names = {x["name"] for x in ds["facets"].get("schema", {}).get("fields", [])}
            for w in wanted:
                if w not in names:
                    continue
                how: dict[str, Any] = {"type": "DIRECT", "subtype": "IDENTITY"}
                if col in masked or w in masked:
                    how = {
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                        "description": f"redacted ({masked.get(col) or masked[w]})",
                        "masking": True,
                    }
                elif w != col:
                    how = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "renamed"}
                refs.append(
                    {
                        "namespace": ds["namespace"],
                        "name": ds["name"],
                        "field": w,
                        "transformations": [how],
                    }
                )
        if refs:
            lineage[col] = {"inputFields": refs}
    return lineage


def _engine_facet() -> dict[str, Any]:
    """ProcessingEngineRunFacet: Ray runs the pipeline."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ray_version = version("ray")
    except PackageNotFoundError:
        ray_version = "unknown"
    return _facet("ProcessingEngineRunFacet", name="Ray", version=ray_version)


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
        "run": {
            "runId": run_id(result["executionId"]),
            "facets": {"processing_engine": _engine_facet(), **(extra_run or {})},
        },
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
