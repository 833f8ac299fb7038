"""Fixtures for database and API source tests: a real PostgreSQL server, a real
paginating HTTP server on 127.0.0.1, build contexts and a live metrics actor."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.spec.models import PipelineSpec

REPO = Path(__file__).resolve().parents[3]
PG_ENV = "PIPELINE_BUILDER_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL (with password) of a real PostgreSQL server.

    Taken from PIPELINE_BUILDER_TEST_PG_URL (CI sets it); otherwise .ci/postgres.sh
    starts a throwaway server. Skips only when neither works.
    """
    url = os.environ.get(PG_ENV)
    if url:
        return url
    script = REPO / ".ci" / "postgres.sh"
    try:
        out = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=300, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        pytest.skip(f"{PG_ENV} is unset and .ci/postgres.sh could not start PostgreSQL: {detail}")
    return out.stdout.strip().splitlines()[-1]


class _CounterStore:
    """Counters per node, summed (the state of the probe's actor)."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[str, float]] = {}

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        mine = self.counters.setdefault(node_id, {})
        for name, value in counters.items():
            mine[name] = mine.get(name, 0.0) + value

    def get(self, node_id: str) -> dict[str, float]:
        return dict(self.counters.get(node_id, {}))


class _ProbeHandle:
    """Picklable metrics handle (engine.context.Metrics) sending counters to the actor."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        self.actor.add.remote(node_id, counters)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        pass


class MetricsProbe:
    """A Ray actor collecting the counters nodes record from inside Ray tasks."""

    def __init__(self) -> None:
        import ray

        self.actor = ray.remote(num_cpus=0)(_CounterStore).remote()
        self.handle = _ProbeHandle(self.actor)

    def counters(self, node_id: str) -> dict[str, float]:
        import ray

        return ray.get(self.actor.get.remote(node_id))

    def wait_for(self, node_id: str, name: str, value: float, timeout: float = 10.0) -> float:
        """The counter once it reached ``value`` (fire-and-forget adds may lag a little)."""
        deadline = time.time() + timeout
        got = 0.0
        while time.time() < deadline:
            got = self.counters(node_id).get(name, 0.0)
            if got >= value:
                time.sleep(0.2)
                return self.counters(node_id).get(name, 0.0)
            time.sleep(0.05)
        return got


@pytest.fixture
def metrics(ray_session) -> Iterator[MetricsProbe]:
    import ray

    probe = MetricsProbe()
    yield probe
    ray.kill(probe.actor, no_restart=True)


def make_ctx(
    node: dict[str, Any],
    resources: dict[str, dict[str, dict[str, Any]]],
    *,
    home: Path,
    metrics: Any = None,
) -> BuildContext:
    """A BuildContext for a one-node pipeline holding ``node``."""
    spec = PipelineSpec.model_validate({"id": "sources_test", "nodes": [node]})
    ctx = BuildContext(
        spec=spec,
        node=spec.nodes[0],
        catalog=DictCatalog(resources),
        execution_id="exec_test",
        options=RunOptions(home=home, base_dir=home),
    )
    if metrics is not None:
        ctx.metrics = metrics
    return ctx


def build_node(ctx: BuildContext) -> Any:
    """Validate the node's config and call its build function."""
    from engine.registry import default_registry

    nt = default_registry().get(ctx.node.type_key)
    assert nt is not None
    config = nt.config_model.model_validate(ctx.node.config)
    return nt.build(ctx=ctx, inputs=[], config=config)


def read_all(ds: Any) -> pa.Table:
    """Every row of a (small, test-sized) dataset as one table."""
    tables = list(ds.iter_batches(batch_format="pyarrow", batch_size=None))
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


# --------------------------------------------------------------------------- HTTP server


@dataclass
class ApiBehaviour:
    """What the test server does; tests change it before reading.

    Attributes:
        total: Records the collection holds (ids 0..total-1).
        token: Bearer token required (None: no auth).
        failures: Status codes returned, in order, before serving normally (429, 503...).
        retry_after: ``Retry-After`` value sent with 429s.
        malformed: ``{page_number: "html" | "no_records"}`` pages served broken (1-based).
        slow_first_seconds: Delay of the first request (to provoke a client timeout).
    """

    total: int = 23
    token: str | None = None
    failures: list[int] = field(default_factory=list)
    retry_after: str = "0"
    malformed: dict[int, str] = field(default_factory=dict)
    slow_first_seconds: float = 0.0
    requests: list[str] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)


class ApiServer:
    """A threaded HTTP server on 127.0.0.1 exposing one collection four ways.

    ``/page?page=N&per_page=S``, ``/offset?offset=O&limit=L``,
    ``/cursor?cursor=C&limit=L`` (``meta.next``), ``/link?page=N`` (``Link`` header).
    Records are ``{"id": i, "name": "item-i", "score": i / 2}`` under ``data.items``.
    """

    def __init__(self) -> None:
        self.behaviour = ApiBehaviour()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        b = self.behaviour
        with self.lock:
            b.requests.append(req.path)
            b.auth_headers.append(req.headers.get("Authorization"))
            first = len(b.requests) == 1
            failure = b.failures.pop(0) if b.failures else None
        if first and b.slow_first_seconds:
            time.sleep(b.slow_first_seconds)
        if b.token is not None and req.headers.get("Authorization") != f"Bearer {b.token}":
            return self._send(req, 401, {"error": "unauthorized"})
        if failure is not None:
            headers = {"Retry-After": b.retry_after} if failure == 429 else {}
            return self._send(req, failure, {"error": "try later"}, headers)
        parts = urlsplit(req.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        style = parts.path.strip("/")
        if style == "moved":
            return self._send(req, 301, {}, {"Location": "http://elsewhere.example/page"})
        if style == "page":
            size = int(q.get("per_page", 10))
            number = int(q.get("page", 1))
            start = (number - 1) * size
        elif style == "offset":
            size = int(q.get("limit", 10))
            start = int(q.get("offset", 0))
            number = start // size + 1
        elif style == "cursor":
            size = int(q.get("limit", 10))
            start = int(q["cursor"]) if "cursor" in q else 0
            number = start // size + 1
        elif style == "link":
            size = 10
            number = int(q.get("page", 1))
            start = (number - 1) * size
        else:
            return self._send(req, 404, {"error": "no such collection"})
        if b.malformed.get(number) == "html":
            return self._raw(req, 200, b"<html>maintenance</html>", "text/html")
        items = [
            {"id": i, "name": f"item-{i}", "score": i / 2}
            for i in range(start, min(start + size, b.total))
        ]
        body: dict[str, Any] = {"data": {"items": items}}
        if b.malformed.get(number) == "no_records":
            body = {"data": {"message": "nothing here"}}
        headers: dict[str, str] = {}
        if style == "cursor" and start + size < b.total:
            body["meta"] = {"next": str(start + size)}
        if style == "link" and start + size < b.total:
            headers["Link"] = f'</link?page={number + 1}>; rel="next"'
        return self._send(req, 200, body, headers)

    def _send(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._raw(req, status, json.dumps(body).encode(), "application/json", headers)

    def _raw(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    server = ApiServer()
    yield server
    server.close()


@pytest.fixture
def api_resource(api_server: ApiServer) -> Callable[..., dict[str, Any]]:
    """Factory of an API data-source resource pointing at the test server."""

    def make(style: str, **extra: Any) -> dict[str, Any]:
        pagination: dict[str, Any] = {"style": style}
        if style in ("page", "offset"):
            pagination.update(pageSize=5)
        elif style == "cursor":
            pagination.update(cursorPath="meta.next", sizeParam="limit", pageSize=5)
        resource = {
            "id": "ds_api",
            "type": "api",
            "baseUrl": api_server.url,
            "path": f"/{style}",
            "pagination": pagination,
            "recordsPath": "data.items",
            "timeoutSeconds": 5,
            "retry": {"maxAttempts": 5, "initialDelaySeconds": 0.01, "jitter": False},
        }
        resource.update(extra)
        return resource

    return make


class SourceKit:
    """Helpers handed to tests as one fixture (conftest modules are not importable)."""

    def __init__(self, home: Path, metrics: MetricsProbe | None) -> None:
        self.home = home
        self.metrics = metrics

    def ctx(self, node: dict[str, Any], resources: dict[str, Any]) -> BuildContext:
        handle = self.metrics.handle if self.metrics is not None else None
        return make_ctx(node, resources, home=self.home, metrics=handle)

    build = staticmethod(build_node)
    read_all = staticmethod(read_all)


@pytest.fixture
def kit(home: Path, metrics: MetricsProbe) -> SourceKit:
    return SourceKit(home, metrics)


@pytest.fixture(autouse=True)
def _sources_reach_loopback(loopback_egress: None, tmp_data_root: Path) -> None:
    """The test HTTP and PostgreSQL servers listen on 127.0.0.1 and test files live in the
    test's temp folder: both allowed here, as an operator would (the product refuses
    loopback and locations outside the data roots by default)."""
