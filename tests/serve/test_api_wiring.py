"""What the API wires together: webhooks of API runs, the audit trail, resume, the reaper.

Real Serve app on loopback (fixture ``api_server``), real execution actors, a real HTTP
webhook receiver on 127.0.0.1 (allowed through ``PIPELINE_BUILDER_WEBHOOK_ALLOW``, set on
the replicas by the fixture). The tests run in order and share what earlier ones made.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from serve.client import ApiRequestError, Client
from tests.serve.serve_helpers import write_customer_files

ROWS_PER_FILE = 50
FILES = 2
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Receiver:
    """A webhook receiver on loopback that keeps every request it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        got = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event: str, execution_id: str, timeout: float = 90) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in list(self.received):
                payload = json.loads(body)
                if payload.get("event") == event and payload.get("executionId") == execution_id:
                    return headers, body
            time.sleep(0.2)
        seen = [json.loads(b).get("event") for _, b in self.received]
        raise AssertionError(f"no {event} for {execution_id} within {timeout}s; got {seen}")


def standard_webhooks_verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    """The Standard Webhooks check, written out: HMAC-SHA256 over ``id.timestamp.body``
    with the base64-decoded part of ``whsec_...``; the header holds ``v1,<base64>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    assert any(hmac.compare_digest(expected, s) for s in offered), "signature does not verify"
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.server.shutdown()


@pytest.fixture(scope="module")
def api(api_server) -> Iterator[Client]:
    write_customer_files(
        api_server.home / "data" / "wired", files=FILES, rows_per_file=ROWS_PER_FILE
    )
    with api_server.client() as client:
        yield client


def _wait(api: Client, pipeline_id: str, execution_id: str) -> dict[str, Any]:
    return api.wait(pipeline_id, execution_id, timeout=240, interval=0.25)


def _delivery_pipeline() -> dict[str, Any]:
    """source -> mapping -> (environment deploy with gates, model-training output)."""
    return {
        "id": "wired_features",
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_wired", "autoProfile": True},
            },
            {
                "id": "map",
                "nodeType": "transform",
                "category": "field_mapper",
                "inputs": ["load"],
                "config": {"fieldMappings": "mapping_wired"},
            },
            {
                "id": "deploy",
                "nodeType": "output",
                "category": "environment",
                "inputs": ["map"],
                "config": {
                    "environmentId": "env_wired",
                    "deploymentStrategy": "blue_green",
                    "qualityGates": ["completeness"],
                },
            },
            {
                "id": "train",
                "nodeType": "output",
                "category": "model_training",
                "inputs": ["map"],
                "config": {
                    "location": "out/wired_training",
                    "keyColumn": "customer_id",
                    "format": "parquet",
                    "modelCompatibility": {"frameworks": ["pytorch"], "version": "2.13"},
                },
            },
        ],
    }


def test_api_execution_sends_signed_webhooks_in_the_seed_shape(
    api: Client, receiver: Receiver
) -> None:
    endpoint = api.request(
        "POST",
        "/api/webhooks",
        json={"url": receiver.url, "secret": SECRET, "eventTypes": []},
    )
    assert endpoint["url"] == receiver.url
    api.create_resource("data-sources", {"id": "ds_wired", "uri": "data/wired", "format": "csv"})
    api.create_resource(
        "field-mappings",
        {"id": "mapping_wired", "keepUnmapped": True, "rename": {"full_name": "name"}},
    )
    api.create_resource(
        "environments", {"id": "env_wired", "uri": "envs/wired", "format": "parquet"}
    )
    spec = _delivery_pipeline()
    api.create_pipeline(spec)
    run = api.execute(spec["id"], triggered_by="aiops_system")
    final = _wait(api, spec["id"], run["executionId"])
    assert final["status"] == "completed", final["error"]

    headers, body = receiver.wait_for("execution_completed", run["executionId"])
    standard_webhooks_verify(SECRET, headers, body)
    payload = json.loads(body)
    assert payload["pipelineId"] == "wired_features"
    assert payload["event"] == "execution_completed"
    locations = {o["location"] for o in final["outputs"]}
    assert payload["datasetLocation"] in locations
    qm = payload["qualityMetrics"]
    assert set(qm) == {"recordCount", "completenessScore", "accuracy", "privacyCompliance"}
    assert qm["recordCount"] == FILES * ROWS_PER_FILE
    assert 0.99 <= qm["completenessScore"] <= 1.0
    assert payload["modelCompatibility"]["frameworks"] == ["pytorch"]
    assert payload["modelCompatibility"]["version"] == "2.13"
    # The run's start and its deployment were announced as well, each signed.
    for event in ("execution_started", "deployment_completed"):
        h, b = receiver.wait_for(event, run["executionId"])
        standard_webhooks_verify(SECRET, h, b)

    # The deploy's gate results reach the lineage: facet in OpenLineage, certification.
    events = api.lineage(spec["id"], openlineage=True)["events"]
    (deployed,) = [o for o in events[-1]["outputs"] if "envs/wired" in o["name"]]
    assertions = deployed["facets"]["dataQualityAssertions"]["assertions"]
    assert {"assertion": "completeness", "success": True} in assertions
    lin = api.lineage(spec["id"])
    assert "completeness_passed" in lin["outputData"]["certifications"]
    assert lin["sourceData"]["qualityMetrics"]["qualityGates"][0]["status"] == "passed"


def test_resume_a_failed_execution_over_http(api_server, api: Client) -> None:
    api.create_resource("data-sources", {"id": "ds_late", "uri": "data/late", "format": "csv"})
    spec = {
        "id": "late_arrivals",
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_late"},
            },
            {
                "id": "archive",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["load"],
                "config": {"uri": "out/late", "format": "parquet"},
            },
        ],
    }
    api.create_pipeline(spec)
    run = api.execute("late_arrivals", triggered_by="nightly")
    first = _wait(api, "late_arrivals", run["executionId"])
    assert first["status"] == "failed" and first["error"], first
    path = f"/api/pipelines/late_arrivals/execution/{run['executionId']}/resume"

    write_customer_files(api_server.home / "data" / "late", files=3, rows_per_file=40)
    resumed = api.request("POST", path)
    assert resumed["executionId"] == run["executionId"]
    assert resumed["status"] in ("queued", "running")
    final = _wait(api, "late_arrivals", run["executionId"])
    assert final["status"] == "completed", final["error"]
    assert [o["rows"] for o in final["outputs"]] == [120]
    assert final["error"] is None

    with pytest.raises(ApiRequestError) as exc:  # completed: nothing to resume
        api.request("POST", path)
    assert exc.value.status == 409 and "completed" in exc.value.problem["detail"]
    with pytest.raises(ApiRequestError) as exc:
        api.request("POST", "/api/pipelines/late_arrivals/execution/exec_nope/resume")
    assert exc.value.status == 404


def test_a_killed_runner_is_marked_failed_and_resumes(
    api_server, api: Client, receiver: Receiver
) -> None:
    import ray

    from engine.service.executions import NAMESPACE, actor_name

    write_customer_files(api_server.home / "data" / "slow", files=30, rows_per_file=5000)
    api.create_resource("data-sources", {"id": "ds_slow", "uri": "data/slow", "format": "csv"})
    spec = {
        "id": "slow_copy",
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_slow"},
            },
            {
                "id": "map",
                "nodeType": "transform",
                "category": "field_mapper",
                "inputs": ["load"],
                "config": {"fieldMappings": "mapping_wired"},
            },
            {
                "id": "archive",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["map"],
                "config": {"uri": "out/slow", "format": "parquet"},
            },
        ],
    }
    api.create_pipeline(spec)
    run = api.execute("slow_copy", triggered_by="fault-injection")
    deadline = time.monotonic() + 120
    # kill as soon as the run's checkpoint record (with the runner's pid) says running
    record = api_server.home / "executions" / run["executionId"] / "run.json"
    while not (record.exists() and '"running"' in record.read_text()):
        assert time.monotonic() < deadline, "the execution never started"
        time.sleep(0.05)
    ray.kill(ray.get_actor(actor_name(run["executionId"]), namespace=NAMESPACE))
    killed_at = time.monotonic()
    while (st := api.status("slow_copy", run["executionId"]))["status"] == "running":
        assert time.monotonic() - killed_at < 45, "a lost runner was not detected in time"
        time.sleep(0.5)
    assert st["status"] == "failed" and "resume" in st["error"], st
    # the failure webhook still fires for a run whose runner died
    headers, body = receiver.wait_for("execution_failed", run["executionId"])
    standard_webhooks_verify(SECRET, headers, body)
    assert json.loads(body)["pipelineId"] == "slow_copy"

    api.request("POST", f"/api/pipelines/slow_copy/execution/{run['executionId']}/resume")
    final = _wait(api, "slow_copy", run["executionId"])
    assert final["status"] == "completed", final["error"]
    assert [o["rows"] for o in final["outputs"]] == [30 * 5000]


def test_api_actions_are_audited_with_key_and_request_id(api_server, api: Client) -> None:
    base = api_server.base_url
    admin = {"Authorization": f"Bearer {api_server.admin_key}"}
    # key creation / use beyond scope / revocation
    made = api.request("POST", "/api/keys", json={"scope": "read", "name": "auditor"})
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {made['key']}"}) as ro:
        denied = ro.delete("/api/pipelines/late_arrivals")
        assert denied.status_code == 403 and denied.headers["X-Request-Id"]
    api.request("DELETE", f"/api/keys/{made['id']}")
    # pipeline update / delete, resource update / delete
    spec = api.get_pipeline("late_arrivals")["spec"]
    api.update_pipeline({**spec, "name": "Late arrivals"})
    # a caller's own X-Request-Id is kept (and echoed) so it can be traced end to end
    deleted = httpx.delete(
        f"{base}/api/pipelines/late_arrivals",
        headers={**admin, "X-Request-Id": "aiops-7f3a.delete-1"},
    )
    assert deleted.status_code == 204
    assert deleted.headers.get_list("X-Request-Id") == ["aiops-7f3a.delete-1"]
    update = httpx.get(f"{base}/api/pipelines", headers=admin)
    assert len(update.headers.get_list("X-Request-Id")) == 1
    api.put_resource("data-sources", {"id": "ds_late", "uri": "data/late2", "format": "csv"})
    api.delete_resource("data-sources", "ds_late")
    # cancel of a finished run (409) and a rollback without a previous version (409)
    done = api.executions("wired_features")[0]["executionId"]
    with pytest.raises(ApiRequestError):
        api.cancel("wired_features", done)
    with pytest.raises(ApiRequestError):
        api.request("POST", "/api/environments/env_wired/rollback")

    key_id = _admin_key_id(api)
    entries = api.request("GET", "/api/audit", params={"limit": 500})["entries"]
    by_action: dict[str, list[dict]] = {}
    for e in entries:
        by_action.setdefault(e["action"], []).append(e)
    for action in (
        "resource.create",
        "resource.update",
        "resource.delete",
        "pipeline.create",
        "pipeline.update",
        "pipeline.delete",
        "pipeline.execute",
        "execution.started",
        "execution.completed",
        "execution.failed",
        "execution.resume",
        "execution.cancel",
        "key.create",
        "key.revoke",
        "environment.rollback",
        "auth.denied",
    ):
        assert action in by_action, f"{action} not audited; got {sorted(by_action)}"
    (delete_entry,) = [e for e in by_action["pipeline.delete"] if e["outcome"] == "success"]
    assert delete_entry["actor"] == key_id
    assert delete_entry["requestId"] == "aiops-7f3a.delete-1"
    execute = next(e for e in by_action["pipeline.execute"] if e["resourceId"] == "wired_features")
    assert execute["details"]["triggeredBy"] == "aiops_system" and execute["requestId"]
    started = [e for e in by_action["execution.started"] if e["actor"] == key_id]
    assert any(e["resourceId"] == execute["details"]["executionId"] for e in started)
    assert {e["outcome"] for e in by_action["execution.cancel"]} == {"failure"}
    assert by_action["execution.cancel"][0]["details"]["status"] == 409
    assert {e["outcome"] for e in by_action["environment.rollback"]} == {"failure"}
    assert {e["outcome"] for e in by_action["auth.denied"]} == {"denied"}
    assert by_action["auth.denied"][0]["actor"] == made["id"]
    assert any(e["details"].get("runnerLost") for e in by_action["execution.failed"])

    assert api.request("GET", "/api/audit/verify")["ok"] is True
    assert _cli(["audit", "verify"], api_server.db_url) == 0


def _admin_key_id(api: Client) -> str:
    keys = api.request("GET", "/api/keys")
    return next(k["id"] for k in keys if k["scope"] == "admin" and not k["revokedAt"])


def _cli(argv: list[str], db_url: str) -> int:
    import os

    from engine.cli import main

    old = os.environ.get("PIPELINE_BUILDER_DB_URL")
    os.environ["PIPELINE_BUILDER_DB_URL"] = db_url
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return main(argv)
    finally:
        if old is None:
            os.environ.pop("PIPELINE_BUILDER_DB_URL", None)
        else:
            os.environ["PIPELINE_BUILDER_DB_URL"] = old
