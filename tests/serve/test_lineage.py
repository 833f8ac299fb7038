"""Lineage from a run result: dataset naming, the design's summary shape, OpenLineage events.

Ray-free."""

from __future__ import annotations

import uuid

from engine.lineage.summary import dataset_name, openlineage_events, run_id, seed_lineage

SPEC = {
    "id": "customer_features",
    "nodes": [
        {
            "id": "load",
            "nodeType": "source",
            "category": "file",
            "config": {"dataSourceId": "ds_customers"},
        },
        {
            "id": "detect",
            "nodeType": "privacy",
            "category": "detection",
            "inputs": ["load"],
            "config": {"complianceFramework": "HIPAA"},
        },
        {
            "id": "redact",
            "nodeType": "privacy",
            "category": "redaction",
            "inputs": ["detect"],
            "config": {},
        },
        {
            "id": "deploy",
            "nodeType": "output",
            "category": "environment",
            "inputs": ["redact"],
            "config": {"environmentId": "env", "qualityGates": ["schema_validation"]},
        },
    ],
}


def _result(status: str = "completed") -> dict:
    schema = [["id", "int64"], ["email", "string"]]
    return {
        "executionId": "exec_0123456789abcdef",
        "pipelineId": "customer_features",
        "status": status,
        "startedAt": "2026-01-15T14:00:00Z",
        "finishedAt": "2026-01-15T14:30:00Z",
        "error": None if status == "completed" else "node 'redact': boom",
        "nodes": {
            "load": {
                "type": "source/file",
                "rowsIn": 0,
                "rowsOut": 10,
                "bytesOut": 800,
                "status": "completed",
                "counters": {},
                "states": {},
                "facts": {"profile": {"columns": {"email": {"nullCount": 1, "distinct": 9}}}},
            },
            "detect": {
                "type": "privacy/detection",
                "rowsIn": 10,
                "rowsOut": 10,
                "status": "completed",
                "counters": {},
                "facts": {},
            },
            "redact": {
                "type": "privacy/redaction",
                "rowsIn": 10,
                "rowsOut": 10,
                "status": "completed",
                "counters": {"quality.passed": 9, "quality.failed": 1},
                "facts": {},
            },
            "deploy": {
                "type": "output/environment",
                "rowsIn": 10,
                "rowsOut": 10,
                "status": "completed",
                "counters": {},
                "facts": {},
            },
        },
        "sources": [
            {
                "nodeId": "load",
                "location": "s3://raw/customers/2026.csv",
                "format": "csv",
                "dataSourceId": "ds_customers",
                "schema": schema,
            }
        ],
        "outputs": [
            {
                "nodeId": "deploy",
                "location": "s3://ml-data/customer_features/v3",
                "format": "parquet",
                "rows": 10,
                "schema": schema,
                "files": 2,
                # the evidence a compliance certification needs: every row scanned, clean
                "residualScan": {"rowsScanned": 10, "findings": {}, "frameworks": ["HIPAA"]},
                "certifications": ["HIPAA_compliant"],
            }
        ],
        "metrics": {"recordsProcessed": 10, "dataSize": 800, "qualityScore": 0.9},
    }


def test_dataset_names_follow_openlineage_conventions() -> None:
    assert dataset_name("s3://bucket/a/b.parquet") == ("s3://bucket", "a/b.parquet")
    assert dataset_name("gs://bkt/x") == ("gs://bkt", "x")
    assert dataset_name("postgresql://db.internal:5432/app") == (
        "postgres://db.internal:5432",
        "app",
    )
    # local files: the naming spec's namespace ``file`` and the absolute path (as the
    # OpenLineage client's own naming helper says)
    from openlineage.client.naming.dataset import LocalFileSystem

    local = LocalFileSystem(path="/data/in.csv")
    assert dataset_name("/data/in.csv") == (local.get_namespace(), local.get_name())
    assert dataset_name("file:///data/in.csv") == ("file", "/data/in.csv")
    assert dataset_name("https://api.example.com/v1/items")[0] == "https://api.example.com"
    assert uuid.UUID(run_id("exec_0123456789abcdef"))
    assert run_id("exec_0123456789abcdef") == run_id("exec_0123456789abcdef")


def test_seed_shape() -> None:
    lin = seed_lineage(_result(), SPEC)
    src, out = lin["sourceData"], lin["outputData"]
    assert src["originalSources"] == ["ds_customers"]
    assert src["transformations"] == ["pii_detection", "pii_redaction"]
    assert src["qualityMetrics"]["accuracy"] == 0.9
    assert src["qualityMetrics"]["completeness"] == 0.9
    assert out["location"] == "s3://ml-data/customer_features/v3"
    assert out["schema"] == [{"name": "id", "type": "int64"}, {"name": "email", "type": "string"}]
    assert out["certifications"] == ["HIPAA_compliant", "schema_validation_passed"]
    assert seed_lineage(_result("failed"), SPEC)["outputData"]["certifications"] == []


def test_openlineage_events() -> None:
    start, complete = openlineage_events(_result(), SPEC)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert start["inputs"] == [{"namespace": "s3://raw", "name": "customers/2026.csv"}]
    (inp,) = complete["inputs"]
    dq = inp["inputFacets"]["dataQualityMetrics"]
    assert dq["rowCount"] == 10 and dq["columnMetrics"]["email"] == {
        "nullCount": 1,
        "distinctCount": 9,
    }
    (out,) = complete["outputs"]
    assert (out["namespace"], out["name"]) == ("s3://ml-data", "customer_features/v3")
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 10
    assert out["outputFacets"]["outputStatistics"]["fileCount"] == 2
    col = out["facets"]["columnLineage"]["fields"]["email"]["inputFields"][0]
    assert (col["namespace"], col["name"], col["field"]) == (
        "s3://raw",
        "customers/2026.csv",
        "email",
    )
    failed = openlineage_events(_result("failed"), SPEC)[-1]
    assert failed["eventType"] == "FAIL"
    assert failed["run"]["facets"]["errorMessage"]["message"] == "node 'redact': boom"
    assert openlineage_events(_result("cancelled"), SPEC)[-1]["eventType"] == "ABORT"


def test_forward_to_http_and_file_transports(tmp_path, monkeypatch) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from engine.lineage.summary import forward

    received: list[tuple[str, str | None, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers.get("Authorization"), body))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        event = openlineage_events(_result(), SPEC)[-1]
        assert forward(event) is False  # nothing configured
        monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("OPENLINEAGE_API_KEY", "ol-key")
        monkeypatch.setenv("PIPELINE_BUILDER_OPENLINEAGE_FILE", str(tmp_path / "events.jsonl"))
        assert forward(event) is True
    finally:
        server.shutdown()
    assert received == [("/api/v1/lineage", "Bearer ol-key", event)]
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(x)["eventType"] for x in lines] == ["COMPLETE"]


def _gated_result(*, completeness_ok: bool) -> dict:
    """A run whose output node ran quality gates (facts as output/environment writes them)."""
    result = _result()
    gates = [
        {"id": "schema_validation", "status": "passed", "severity": "block", "message": "ok"},
        {
            "id": "completeness",
            "status": "passed" if completeness_ok else "warning",
            "severity": "warn",
            "message": "email 0.9 non-null",
            "observed": {"columns": ["email"]},
        },
    ]
    result["nodes"]["deploy"]["facts"] = {
        "qualityGates": gates,
        "qualityMetrics": {
            "recordCount": 10,
            "completenessScore": 0.95,
            "privacyCompliance": "pii_free",
        },
        "completeness": 0.95,
        "dataQualityAssertions": {
            "assertions": [
                {"assertion": "schema_validation", "success": True},
                {"assertion": "completeness", "success": completeness_ok, "column": "email"},
            ]
        },
    }
    return result


def test_quality_gate_assertions_reach_the_output_dataset_facets() -> None:
    complete = openlineage_events(_gated_result(completeness_ok=False), SPEC)[-1]
    (out,) = complete["outputs"]
    facet = out["facets"]["dataQualityAssertions"]
    assert facet["_schemaURL"].endswith("DataQualityAssertionsDatasetFacet")
    assert facet["_producer"].startswith("https://")
    assert facet["assertions"] == [
        {"assertion": "schema_validation", "success": True},
        {"assertion": "completeness", "success": False, "column": "email"},
    ]
    # no gates ran: no facet (not an empty one)
    (plain,) = openlineage_events(_result(), SPEC)[-1]["outputs"]
    assert "dataQualityAssertions" not in plain["facets"]


def test_gate_results_drive_seed_certifications_and_quality_metrics() -> None:
    lin = seed_lineage(_gated_result(completeness_ok=False), SPEC)
    qm = lin["sourceData"]["qualityMetrics"]
    assert qm["completeness"] == 0.95 and qm["privacyCompliance"] == "pii_free"
    assert [(g["id"], g["status"]) for g in qm["qualityGates"]] == [
        ("schema_validation", "passed"),
        ("completeness", "warning"),
    ]
    # a warning gate does not certify; a passed one does
    assert lin["outputData"]["certifications"] == ["HIPAA_compliant", "schema_validation_passed"]
    ok = seed_lineage(_gated_result(completeness_ok=True), SPEC)["outputData"]["certifications"]
    assert ok == ["HIPAA_compliant", "completeness_passed", "schema_validation_passed"]
