"""One execution record whichever entry point runs or resumes it.

An execution started the way the API starts it (store record, the API's runner body)
fails on a planted row; ``pipeline-builder resume`` on the command line completes it.
The store then says ``completed`` with the resumed counts (row counts checked against
the written Parquet files), the lineage ends with COMPLETE, and the webhook receiver got
exactly one execution-completed event.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from engine.registry import default_registry
from tests.engine.helpers import add_node_types, write_csv
from tests.engine.reliability.testnodes import REGISTRY

FILES, PER_FILE = 4, 300


class _Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(
                    json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, suffix: str) -> list[dict[str, Any]]:
        return [
            b for b in self.bodies
            if str(b.get("event", "")).replace(".", "_") == f"execution_{suffix}"
        ]  # fmt: skip


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.server.shutdown()


def test_cli_resume_of_an_api_execution_updates_the_api_record(
    tmp_path: Path, home: Path, ray_session, monkeypatch: pytest.MonkeyPatch, receiver
) -> None:
    from engine.cli import main
    from engine.service.executions import ExecutionRunner
    from engine.store import DB_URL_ENV, Store, get_engine
    from engine.webhooks import WebhookStore, deliver_pending

    db_url = f"sqlite:///{home / 'metadata.db'}"
    for k, v in {
        DB_URL_ENV: db_url,
        "PIPELINE_BUILDER_HOME": str(home),
        "PIPELINE_BUILDER_DATA_ROOTS": str(tmp_path),
        "PIPELINE_BUILDER_WEBHOOK_ALLOW": "127.0.0.1",
    }.items():
        monkeypatch.setenv(k, v)
    for i in range(FILES):
        write_csv(tmp_path / "in" / f"part{i}.csv", PER_FILE, start=i * PER_FILE)
    flag = tmp_path / "fixed"
    spec = {
        "id": "one_record",
        "nodes": [
            {"id": "src", "nodeType": "source", "category": "file",
             "config": {"uri": str(tmp_path / "in"), "format": "csv"}},
            {"id": "gate", "nodeType": "transform", "category": "test_fail_until",
             "inputs": ["src"], "config": {"failId": PER_FILE + 7, "untilFile": str(flag)}},
            {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["gate"],
             "config": {"uri": str(tmp_path / "out")}},
        ],
    }  # fmt: skip
    store = Store(get_engine(db_url))
    WebhookStore().create_endpoint(receiver.url)
    store.create_pipeline(spec)
    store.create_execution(
        execution_id="exec_api_then_cli",
        pipeline_id="one_record",
        pipeline_version=1,
        triggered_by="test",
        context={},
    )

    add_node_types(default_registry(), REGISTRY)  # ExecutionRunner and main() take no registry
    status = ExecutionRunner(db_url, str(home)).run("exec_api_then_cli", exit_when_done=False)
    assert status == "failed"
    assert store.get_execution("exec_api_then_cli").status == "failed"

    flag.write_text("ok")
    assert main(["resume", "exec_api_then_cli", "--quiet"]) == 0

    rec = store.get_execution("exec_api_then_cli")
    written = pads.dataset(tmp_path / "out", format="parquet").count_rows()
    assert written == FILES * PER_FILE
    assert rec.status == "completed" and rec.error is None
    assert rec.metrics["recordsProcessed"] == written
    assert rec.nodes["src"]["rowsOut"] == written
    assert rec.nodes["gate"]["rowsIn"] == rec.nodes["gate"]["rowsOut"] == written
    assert rec.nodes["out"]["rowsOut"] == written
    lineage = store.lineage_events("exec_api_then_cli")
    assert lineage[-1]["eventType"] == "COMPLETE"
    stats = lineage[-1]["outputs"][0]["outputFacets"]["outputStatistics"]
    assert stats["rowCount"] == written

    while deliver_pending():
        pass
    completed = receiver.events("completed")
    assert len(completed) == 1, receiver.bodies
    assert len(receiver.events("failed")) == 1
    assert completed[0].get("executionId") == "exec_api_then_cli"
