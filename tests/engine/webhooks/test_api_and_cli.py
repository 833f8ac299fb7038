"""The webhook and environment API routers, the rollback CLI and notification channels."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from engine.catalog import DictCatalog
from engine.cli import main as cli_main
from engine.webhooks.notifications import notify_channels
from nodes.outputs import versions


def _publish(uri: str, rows: int, execution_id: str) -> str:
    """A complete version with one Parquet file, made current (no Ray needed)."""
    loc = versions.locate(uri)
    version = versions.new_version_id(execution_id)
    folder = Path(loc.path(versions.VERSIONS, version))
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": list(range(rows))}), folder / "part-0.parquet")
    m = versions.build_manifest(
        loc, version, rows=rows, schema=[], fmt="parquet", execution_id=execution_id
    )
    versions.write_manifest(loc, version, m)
    versions.flip_current(uri, version, execution_id=execution_id)
    return version


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from fastapi.testclient import TestClient

    import serve.deps
    from engine.store import Store, get_engine
    from serve.app import create_app

    home = tmp_path / "api-home"
    db_url = f"sqlite:///{tmp_path / 'api.db'}"
    monkeypatch.setenv("PIPELINE_BUILDER_HOME", str(home))
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", db_url)
    monkeypatch.setenv("PIPELINE_BUILDER_WEBHOOK_ALLOW", "127.0.0.1")
    # the operator's data root: environments live in the test's folder
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(tmp_path))
    monkeypatch.setattr(serve.deps, "_settings", None)
    serve.deps.configure(db_url, home)
    _, admin = Store(get_engine(db_url)).create_api_key("admin", name="t-admin")
    _, reader = Store(get_engine(db_url)).create_api_key("read", name="t-read")
    client = TestClient(create_app())
    client.headers["Authorization"] = f"Bearer {admin}"
    client.reader_key = reader  # type: ignore[attr-defined]
    yield client
    client.close()


def test_webhook_endpoint_crud_log_and_redelivery(api, receiver_factory):
    from engine.webhooks import Dispatcher, RetryPolicy, WebhookStore, emit
    from engine.webhooks.outbox import get_db_engine

    rx = receiver_factory([500, 200])
    r = api.post("/api/webhooks", json={"url": rx.url, "eventTypes": ["deployment.completed"]})
    assert r.status_code == 201, r.text
    ep = r.json()
    assert ep["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/api/webhooks/{ep['id']}").json()
    assert [e["id"] for e in api.get("/api/webhooks").json()] == [ep["id"]]

    bad = api.post("/api/webhooks", json={"url": "http://169.254.169.254/latest"})
    assert bad.status_code == 422 and "non-public" in bad.json()["detail"]
    denied = api.get("/api/webhooks", headers={"Authorization": f"Bearer {api.reader_key}"})
    assert denied.status_code == 403

    store = WebhookStore(get_db_engine())
    emit("deployment.completed", {"pipelineId": "p"}, store=store)
    d = Dispatcher(store, policy=RetryPolicy(base_delay=0.01, max_delay=0.02))
    try:
        end = time.time() + 10
        while time.time() < end and not rx.delivered:
            d.deliver_pending()
            time.sleep(0.02)
    finally:
        d.stop()
    log = api.get(f"/api/webhooks/{ep['id']}/deliveries").json()
    assert log[0]["status"] == "delivered"
    assert [a["statusCode"] for a in log[0]["log"]] == [500, 200]

    again = api.post(f"/api/webhooks/{ep['id']}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert api.post(f"/api/webhooks/{ep['id']}/deliveries/dlv_nope/redeliver").status_code == 404

    patched = api.patch(f"/api/webhooks/{ep['id']}", json={"active": False})
    assert patched.json()["active"] is False
    assert api.delete(f"/api/webhooks/{ep['id']}").status_code == 204
    assert api.get(f"/api/webhooks/{ep['id']}").status_code == 404


def test_environment_rollback_endpoint(api, tmp_path: Path):
    uri = str(tmp_path / "env_api")
    r = api.post("/api/environments", json={"id": "env_api", "uri": uri, "format": "parquet"})
    assert r.status_code in (200, 201), r.text
    v1 = _publish(uri, 3, "exec_1")
    v2 = _publish(uri, 5, "exec_2")
    listed = api.get("/api/environments/env_api/versions").json()
    assert listed["current"]["version"] == v2 and len(listed["versions"]) == 2

    denied = api.post(
        "/api/environments/env_api/rollback", headers={"Authorization": f"Bearer {api.reader_key}"}
    )
    assert denied.status_code == 403
    r = api.post("/api/environments/env_api/rollback")
    assert r.status_code == 200, r.text
    assert r.json()["version"] == v1 and r.json()["rolledBackFrom"] == v2
    assert pq.read_table(versions.resolve_current(uri)).num_rows == 3
    again = api.post("/api/environments/env_api/rollback")
    assert again.status_code == 409 and "no previous version" in again.json()["detail"]
    assert api.post("/api/environments/env_nope/rollback").status_code in (404, 422)


def test_rollback_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    uri = str(tmp_path / "env_cli")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"environments": [{"id": "env_cli", "uri": "env_cli"}]}))
    v1 = _publish(uri, 2, "exec_1")
    v2 = _publish(uri, 4, "exec_2")
    assert cli_main(["versions", "env_cli", "--catalog", str(catalog)]) == 0
    out = capsys.readouterr().out
    assert f"* {v2}" in out and f"- {v1}" in out
    assert cli_main(["rollback", "env_cli", "--catalog", str(catalog), "--json"]) == 0
    pointer = json.loads(capsys.readouterr().out)
    assert pointer["version"] == v1 and pointer["rolledBackFrom"] == v2
    assert cli_main(["rollback", "env_cli", "--catalog", str(catalog)]) == 2
    assert "no previous version" in capsys.readouterr().err


def test_notification_channels_best_effort(receiver_factory, monkeypatch):
    slack = receiver_factory([200])
    hook = receiver_factory([200])
    monkeypatch.setenv("SLACK_HOOK_URL", slack.url)
    monkeypatch.setenv("OPS_SECRET", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
    catalog = DictCatalog(
        {
            "notificationChannels": {
                "slack_ml_team": {
                    "id": "slack_ml_team",
                    "type": "slack",
                    "url": "env:SLACK_HOOK_URL",
                },
                "ops": {
                    "id": "ops",
                    "type": "webhook",
                    "url": hook.url,
                    "secret": "env:OPS_SECRET",
                },
                "down": {"id": "down", "type": "webhook", "url": "http://127.0.0.1:9/nothing"},
                "internal": {"id": "internal", "type": "webhook", "url": "http://10.0.0.5/x"},
            }
        }
    )
    payload = {"pipelineId": "p1", "datasetLocation": "/d/v1", "qualityMetrics": {"recordCount": 5}}
    out = notify_channels(
        catalog,
        ["slack_ml_team", "ops", "down", "internal", "missing"],
        "deployment.completed",
        payload,
    )
    by = {o["channel"]: o for o in out}
    assert by["slack_ml_team"]["ok"] and by["ops"]["ok"]
    assert not by["down"]["ok"] and not by["internal"]["ok"] and not by["missing"]["ok"]
    assert "non-public" in by["internal"]["error"]
    text = json.loads(slack.requests[0]["body"])["text"]
    assert "deployment.completed" in text and "p1" in text and "5 records" in text
    from engine.webhooks import verify

    req = hook.requests[0]
    verify("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", req["headers"], req["body"])


def test_api_process_runs_a_dispatcher(api, receiver_factory):
    from fastapi.testclient import TestClient

    from engine.webhooks import WebhookStore, emit
    from engine.webhooks.outbox import get_db_engine
    from serve.app import create_app

    rx = receiver_factory([200])
    with TestClient(create_app()) as client:  # runs the app's lifespan (router lifespans merged)
        client.headers["Authorization"] = api.headers["Authorization"]
        assert client.post("/api/webhooks", json={"url": rx.url}).status_code == 201
        emit("execution.started", {"pipelineId": "p"}, store=WebhookStore(get_db_engine()))
        end = time.time() + 15
        while time.time() < end and not rx.delivered:
            time.sleep(0.1)
    assert len(rx.delivered) == 1
