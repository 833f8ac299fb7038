"""OpenLineage from a driver script: ``run_pipeline`` with the default observers and the
standard ``OPENLINEAGE_URL`` (http transport) reaches a real HTTP receiver; every event
and facet passes the spec's schemas; an environment output is named by its environment,
not by the version folder each run writes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from engine.service.observers import default_observers
from tests.engine.helpers import node, pipeline, write_csv
from tests.lineage.olschema import problems


class _Lineage:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.posts.append((self.path, self.headers.get("Authorization"), body))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch):
    b = _Lineage()
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.setenv("OPENLINEAGE_URL", b.url)
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "ol-key")
    yield b
    b.server.shutdown()


def test_driver_run_sends_valid_events_with_stable_environment_names(
    tmp_path: Path, home: Path, ray_session, backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no openlineage.yml here: the URL decides
    write_csv(tmp_path / "people.csv", 400)
    catalog = DictCatalog(
        {"environments": {"staging": {"id": "staging", "uri": str(tmp_path / "env")}}},
        base_dir=tmp_path,
    )
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "people.csv")}),
        node("deploy", "output/environment", {"environmentId": "staging"}, ["load"]),
        pid="driver_lineage",
    )
    names = set()
    for _ in range(2):  # two runs: two versions of one dataset
        before = len(backend.posts)
        result = run_pipeline(
            spec, catalog, options=RunOptions(home=home), observers=default_observers()
        )
        assert result.ok, result.error
        events = [body for _path, _auth, body in backend.posts[before:]]
        assert events[0]["eventType"] == "START"
        assert events[-1]["eventType"] == "COMPLETE"
        for event in events:
            assert problems(event) == [], event["eventType"]
        (out,) = events[-1]["outputs"]
        names.add((out["namespace"], out["name"]))
        assert out["facets"]["version"]["datasetVersion"] == str(result.outputs[0]["version"])
        assert out["outputFacets"]["outputStatistics"]["rowCount"] == 400
    assert names == {("file", str(tmp_path / "env"))}
    assert {(p, a) for p, a, _ in backend.posts} == {("/api/v1/lineage", "Bearer ol-key")}
