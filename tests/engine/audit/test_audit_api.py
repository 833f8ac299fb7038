"""``GET /api/audit`` over real HTTP (uvicorn on loopback), with API-key auth."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    import serve.deps
    from engine.store import Store, get_engine
    from serve.app import create_app

    home = tmp_path / "api-home"
    db = tmp_path / "api.db"
    db_url = f"sqlite:///{db}"
    monkeypatch.setenv("PIPELINE_BUILDER_HOME", str(home))
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", db_url)
    monkeypatch.setattr(serve.deps, "_settings", None)
    serve.deps.configure(db_url, home)
    store = Store(get_engine(db_url))
    admin_key, admin = store.create_api_key("admin", name="t-admin")
    _, reader = store.create_api_key("read", name="t-read")
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.05)
    yield {
        "url": f"http://127.0.0.1:{port}",
        "admin": admin,
        "reader": reader,
        "db": db,
        "admin_id": admin_key.id,
    }
    srv.should_exit = True
    t.join(timeout=10)


def test_list_filters_verify_and_auth(server) -> None:
    from engine.audit import record

    for i in range(3):
        record("pipeline.create", "pipeline", f"p{i}", actor=server["admin_id"], request_id=f"r{i}")
    record("execution.failed", "execution", "exec_1", actor="cli:ann", outcome="failure")
    h = {"Authorization": f"Bearer {server['admin']}"}
    with httpx.Client(base_url=server["url"], headers=h, timeout=30) as c:
        body = c.get("/api/audit", params={"action": "pipeline.*", "limit": 2}).json()
        assert [e["resourceId"] for e in body["entries"]] == ["p2", "p1"]
        assert body["nextOffset"] == 2
        failed = c.get("/api/audit", params={"outcome": "failure"}).json()["entries"]
        assert [(e["actor"], e["resourceId"]) for e in failed] == [("cli:ann", "exec_1")]
        assert c.get("/api/audit", params={"since": "yesterday"}).status_code == 422
        assert c.get("/api/audit/verify").json()["ok"] is True
        with sqlite3.connect(server["db"]) as conn:
            conn.execute("UPDATE audit_log SET outcome='success' WHERE seq=4")
        v = c.get("/api/audit/verify").json()
        assert v["ok"] is False and v["firstBadSeq"] == 4
        r = c.get("/api/audit", headers={"Authorization": f"Bearer {server['reader']}"})
        assert r.status_code == 403
        assert c.get("/api/audit", headers={"Authorization": ""}).status_code == 401
