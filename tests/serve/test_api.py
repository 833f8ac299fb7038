"""The HTTP API end to end: the real Serve app on loopback, real HTTP, real runs.

One Serve app per module (fixture ``api_server``); the tests run in order and share
what earlier ones created (resources, the pipeline, its executions).
"""

from __future__ import annotations

import time

import httpx
import pytest

from serve.client import ApiRequestError, Client
from tests.serve.serve_helpers import (
    CUSTOMER_FILES,
    CUSTOMER_ROWS,
    PIPELINE_ID,
    create_example_resources,
    create_key,
    create_seed_resources,
    example_pipeline,
    seed_pipeline,
    write_customer_files,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def api(api_server) -> Client:
    write_customer_files(
        api_server.home / "data" / "customers", files=CUSTOMER_FILES, rows_per_file=CUSTOMER_ROWS
    )
    write_customer_files(api_server.home / "data" / "big", files=60, rows_per_file=4000)
    with api_server.client() as client:
        yield client


def _problem(exc: pytest.ExceptionInfo[ApiRequestError], status: int) -> dict:
    assert exc.value.status == status, exc.value.problem
    body = exc.value.problem
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return body


def test_health_openapi_and_docs_need_no_key(api_server) -> None:
    r = httpx.get(api_server.base_url + "/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["schemaVersion"] >= 2
    doc = httpx.get(api_server.base_url + "/openapi.json").json()
    assert "/api/pipelines/{pipeline_id}/execute" in doc["paths"]
    assert "/api/pattern-libraries/{resource_id}" in doc["paths"]
    assert httpx.get(api_server.base_url + "/docs").status_code == 200


def test_401_without_or_with_unknown_key(api_server) -> None:
    r = httpx.get(api_server.base_url + "/api/pipelines")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    assert r.headers["www-authenticate"].startswith("Bearer")
    with api_server.client("pbk_not-a-real-key") as bad, pytest.raises(ApiRequestError) as exc:
        bad.list_pipelines()
    assert "unknown or revoked" in _problem(exc, 401)["detail"]


def test_resources_crud_and_secrets(api: Client) -> None:
    create_example_resources(api)
    got = api.get_resource("data-sources", "ds_customers")
    assert got["resource"]["uri"] == "data/customers" and got["version"] == 1
    # Plain-text secrets are refused with a hint; references are stored and shown as is.
    with pytest.raises(ApiRequestError) as exc:
        api.create_resource(
            "data-sources",
            {
                "id": "ds_db",
                "type": "database",
                "url": "postgresql://app:hunter2@db:5432/app",
                "password": "hunter2",
            },
        )
    body = _problem(exc, 422)
    paths = {p["path"] for p in body["problems"]}
    assert paths == {"url", "password"} and "env:NAME" in body["problems"][0]["message"]
    made = api.create_resource(
        "data-sources",
        {
            "id": "ds_db",
            "type": "database",
            "url": "postgresql://db:5432/app",
            "password": "env:DB_PASSWORD",
        },
    )
    assert made["resource"]["password"] == "env:DB_PASSWORD"
    db = {"id": "ds_db", "type": "database"}
    with pytest.raises(ApiRequestError) as exc:
        api.create_resource("data-sources", {**db, "url": "postgresql://db:5432/app"})
    _problem(exc, 409)
    replaced = api.put_resource("data-sources", {**db, "url": "postgresql://db2:5432/app"})
    assert replaced["version"] == 2
    # A key the kind does not declare is refused, named with the closest known key, on
    # create and on replace, as `validate` refuses it in a catalog file.
    with pytest.raises(ApiRequestError) as exc:
        api.put_resource("data-sources", {**db, "url": "postgresql://db2:5432/app", "user": "a"})
    (problem,) = _problem(exc, 422)["problems"]
    assert problem["path"] == "user" and "unknown key 'user'" in problem["message"]
    for slug, body, typo, closest in [
        ("environments", {"id": "env_typo", "uir": "data/envs/x"}, "uir", "uri"),
        ("redaction-rules", {"id": "rules_typo", "rulez": []}, "rulez", "rules"),
        ("quality-rules", {"id": "q_typo", "gate": "row_count", "mni": 1}, "mni", "min"),
    ]:
        with pytest.raises(ApiRequestError) as exc:
            api.create_resource(slug, body)
        (problem,) = _problem(exc, 422)["problems"]
        assert problem["path"] == typo
        assert problem["message"] == f"unknown key {typo!r}; did you mean {closest!r}?"
        with pytest.raises(ApiRequestError) as exc:
            api.get_resource(slug, body["id"])
        _problem(exc, 404)  # nothing stored
    api.delete_resource("data-sources", "ds_db")
    with pytest.raises(ApiRequestError) as exc:
        api.get_resource("data-sources", "ds_db")
    _problem(exc, 404)
    # Every catalog kind has its collection.
    for slug in (
        "field-mappings",
        "quality-rules",
        "pattern-libraries",
        "redaction-rules",
        "synthetic-templates",
        "environments",
        "notification-channels",
    ):
        assert isinstance(api.list_resources(slug), list)


def test_pipeline_validation_versions_and_conflicts(api: Client) -> None:
    spec = example_pipeline()
    report = api.validate(spec)
    assert report == {"valid": True, "problems": []}
    broken = example_pipeline()
    broken["nodes"][0]["config"] = {"dataSourceId": "ds_missing"}
    broken["nodes"].append(
        {
            "id": "x",
            "nodeType": "transform",
            "category": "fieldmapper",
            "inputs": ["load"],
            "config": {},
        }
    )
    report = api.validate(broken)
    assert not report["valid"]
    by_node = {p["nodeId"]: p["message"] for p in report["problems"]}
    assert "ds_missing" in by_node["load"] and "field_mapper" in by_node["x"]
    with pytest.raises(ApiRequestError) as exc:
        api.create_pipeline(broken)
    assert {p["nodeId"] for p in _problem(exc, 422)["problems"]} >= {"load", "x"}

    leaky = example_pipeline()
    leaky["nodes"][2]["config"]["storage"] = {"secretAccessKey": "plain-text"}
    with pytest.raises(ApiRequestError) as exc:
        api.create_pipeline(leaky)
    (problem,) = _problem(exc, 422)["problems"]
    assert problem["nodeId"] == "archive" and "env:NAME" in problem["message"]
    assert problem["path"] == "config.storage.secretAccessKey"

    created = api.create_pipeline(spec)
    assert created["version"] == 1 and created["id"] == PIPELINE_ID
    with pytest.raises(ApiRequestError) as exc:
        api.create_pipeline(spec)
    _problem(exc, 409)
    spec2 = {**spec, "name": "Customer features v2"}
    assert api.update_pipeline(spec2)["version"] == 2
    assert api.get_pipeline(PIPELINE_ID, version=1)["spec"].get("name") == spec.get("name")
    assert api.get_pipeline(PIPELINE_ID)["latestVersion"] == 2
    with pytest.raises(ApiRequestError) as exc:
        api.get_pipeline("no_such_pipeline")
    _problem(exc, 404)


def test_403_for_a_key_without_the_scope(api_server, api: Client) -> None:
    reader = create_key(api_server.db_url, "read")
    with api_server.client(reader) as client:
        assert client.get_pipeline(PIPELINE_ID)["id"] == PIPELINE_ID
        with pytest.raises(ApiRequestError) as exc:
            client.execute(PIPELINE_ID)
        body = _problem(exc, 403)
        assert body["requiredScope"] == "execute"
        with pytest.raises(ApiRequestError) as exc:
            client.create_resource("data-sources", {"id": "ds_x", "uri": "x.csv"})
        _problem(exc, 403)


def test_413_for_a_body_over_the_limit(api_server) -> None:
    big = b'{"id": "ds_big", "blob": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = httpx.post(
        api_server.base_url + "/api/data-sources",
        content=big,
        headers={
            "Authorization": f"Bearer {api_server.admin_key}",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["status"] == 413


def test_execute_poll_status_until_completed(api: Client, api_server) -> None:
    run = api.execute(
        PIPELINE_ID,
        triggered_by="aiops_system",
        idempotency_key="run-1",
        context={
            "modelTrainingJob": "job_98765",
            "dataRequirements": {"format": "parquet", "privacy_level": "low"},
        },
    )
    assert run["status"] in ("queued", "running") and run["pipelineVersion"] == 2
    assert run["replayed"] is False
    seen: list[tuple[str, int]] = []
    final = api.wait(
        PIPELINE_ID,
        run["executionId"],
        timeout=240,
        interval=0.1,
        on_status=lambda s: seen.append((s["status"], s["metrics"]["recordsProcessed"])),
    )
    assert final["status"] == "completed", final["error"]
    total = CUSTOMER_FILES * CUSTOMER_ROWS
    assert final["metrics"]["recordsProcessed"] == total
    assert final["metrics"]["dataSize"] > 0
    assert final["progress"]["completedSteps"] == final["progress"]["totalSteps"] == 3
    assert final["progress"]["estimatedCompletion"] == final["finishedAt"]
    assert final["nodes"]["archive"]["status"] == "completed"
    assert final["context"]["modelTrainingJob"] == "job_98765"
    counts = [n for _, n in seen]
    assert counts == sorted(counts), "recordsProcessed never goes back"
    in_flight = [n for st, n in seen if st == "running" and n > 0]
    assert in_flight, f"recordsProcessed never moved while running: {seen}"
    assert min(in_flight) < total, f"no partial progress seen: {seen}"

    # The run's detached actor ends itself once the run is recorded.
    from engine.service.executions import is_alive

    deadline = time.monotonic() + 30
    while is_alive(run["executionId"]):
        assert time.monotonic() < deadline, "the execution actor did not exit"
        time.sleep(0.2)

    # The same Idempotency-Key returns the same execution; with another body it is 409.
    again = api.execute(
        PIPELINE_ID,
        triggered_by="aiops_system",
        idempotency_key="run-1",
        context={
            "modelTrainingJob": "job_98765",
            "dataRequirements": {"format": "parquet", "privacy_level": "low"},
        },
    )
    assert again["executionId"] == run["executionId"] and again["replayed"] is True
    with pytest.raises(ApiRequestError) as exc:
        api.execute(PIPELINE_ID, triggered_by="someone_else", idempotency_key="run-1")
    _problem(exc, 409)
    listed = api.executions(PIPELINE_ID)
    assert [e["executionId"] for e in listed] == [run["executionId"]]


def test_lineage_in_seed_and_openlineage_shapes(api: Client) -> None:
    lin = api.lineage(PIPELINE_ID)
    assert lin["sourceData"]["originalSources"] == ["ds_customers"]
    assert "field_mapping" in lin["sourceData"]["transformations"]
    assert lin["sourceData"]["qualityMetrics"]["recordsProcessed"] == CUSTOMER_FILES * CUSTOMER_ROWS
    out = lin["outputData"]
    assert out["location"].endswith("out/customers")
    # the design's shape: ``schema`` is a schema URI; the fields are inline beside it
    assert out["schema"] == out["schemaUri"] and "://" in out["schemaUri"]
    assert {f["name"] for f in out["schemaFields"]} >= {"customer_id", "name", "email"}
    assert isinstance(out["certifications"], list)

    ol = api.lineage(PIPELINE_ID, openlineage=True)
    types = [e["eventType"] for e in ol["events"]]
    assert types[0] == "START" and types[-1] == "COMPLETE" and "RUNNING" in types
    complete = ol["events"][-1]
    assert complete["run"]["runId"] == ol["runId"]
    assert complete["job"] == {
        **complete["job"],
        "namespace": "pipeline-builder",
        "name": PIPELINE_ID,
    }
    (inp,) = complete["inputs"]
    # OpenLineage naming: local files are namespace "file", name the absolute path
    assert inp["namespace"] == "file" and inp["name"].endswith("data/customers")
    assert inp["inputFacets"]["dataQualityMetrics"]["rowCount"] == CUSTOMER_FILES * CUSTOMER_ROWS
    (outp,) = complete["outputs"]
    assert outp["outputFacets"]["outputStatistics"]["rowCount"] == CUSTOMER_FILES * CUSTOMER_ROWS
    assert {f["name"] for f in outp["facets"]["schema"]["fields"]} >= {"customer_id", "email"}
    email = outp["facets"]["columnLineage"]["fields"]["email"]["inputFields"][0]
    assert email["field"] == "email" and email["name"] == inp["name"]


def test_cancel_a_long_run(api: Client) -> None:
    big = example_pipeline(pipeline_id="big_customers", data_source="ds_big")
    api.create_resource("data-sources", {"id": "ds_big", "uri": "data/big", "format": "csv"})
    api.create_pipeline(big)
    run = api.execute("big_customers", triggered_by="test")
    deadline = time.monotonic() + 120
    while api.status("big_customers", run["executionId"])["status"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cancelled = api.cancel("big_customers", run["executionId"])
    assert cancelled["cancelRequested"] is True
    final = api.wait("big_customers", run["executionId"], timeout=120, interval=0.2)
    assert final["status"] == "cancelled", final
    assert final["metrics"]["recordsProcessed"] < 60 * 4000
    with pytest.raises(ApiRequestError) as exc:
        api.cancel("big_customers", run["executionId"])
    _problem(exc, 409)
    ol = api.lineage("big_customers", execution_id=run["executionId"], openlineage=True)
    assert ol["events"][-1]["eventType"] == "ABORT"


def test_seed_example_pipeline_end_to_end(api_server, api: Client) -> None:
    write_customer_files(api_server.home / "data" / "seed", files=1, rows_per_file=300)
    create_seed_resources(api)
    spec = seed_pipeline()
    assert api.create_pipeline(spec)["version"] == 1
    run = api.execute(
        spec["id"], triggered_by="aiops_system", context={"modelTrainingJob": "job_98765"}
    )
    final = api.wait(spec["id"], run["executionId"], timeout=300, interval=0.25)
    assert final["status"] == "completed", final["error"]
    # detection samples its input before streaming it, so the source may be counted twice
    assert final["metrics"]["recordsProcessed"] >= 300
    assert [o["rows"] for o in final["outputs"]] == [300]
    lin = api.lineage(spec["id"])
    assert lin["sourceData"]["originalSources"] == ["ds_12345"]
    assert lin["sourceData"]["transformations"] == ["pii_detection", "pii_redaction"]
    assert "HIPAA_compliant" in lin["outputData"]["certifications"]
    assert "envs/prod_ml" in lin["outputData"]["location"]
    events = api.lineage(spec["id"], openlineage=True)["events"]
    assert events[-1]["eventType"] == "COMPLETE" and events[-1]["outputs"]


def test_pagination_is_capped(api: Client) -> None:
    page = api.request("GET", "/api/executions", params={"limit": 10_000})
    assert page["limit"] == 200 and page["total"] >= 2
    first = api.request("GET", "/api/executions", params={"limit": 1})
    assert len(first["items"]) == 1 and first["nextOffset"] == 1
    with pytest.raises(ApiRequestError) as exc:
        api.request("GET", "/api/executions", params={"limit": 0})
    _problem(exc, 400)  # bounded list parameters: 400 with a problem document


def test_restart_keeps_state_and_running_executions_outlive_the_replica(
    api_server, api: Client
) -> None:
    before = api.executions(PIPELINE_ID)
    lineage_before = api.lineage(PIPELINE_ID)
    # An execution accepted by the old replica keeps running while the app is replaced.
    run = api.execute(PIPELINE_ID, triggered_by="restart-test")
    api_server.restart()
    with api_server.client() as fresh:
        assert fresh.get_pipeline(PIPELINE_ID)["latestVersion"] == 2
        after = fresh.executions(PIPELINE_ID)
        assert after[0]["executionId"] == run["executionId"]
        assert after[1:] == before
        assert fresh.lineage(PIPELINE_ID, execution_id=before[0]["executionId"]) == lineage_before
        events = fresh.lineage(PIPELINE_ID, execution_id=before[0]["executionId"], openlineage=True)
        assert events["events"][-1]["eventType"] == "COMPLETE"
        final = fresh.wait(PIPELINE_ID, run["executionId"], timeout=240, interval=0.25)
        assert final["status"] == "completed", final["error"]
        assert final["metrics"]["recordsProcessed"] == CUSTOMER_FILES * CUSTOMER_ROWS
        assert fresh.lineage(PIPELINE_ID)["executionId"] == run["executionId"]
