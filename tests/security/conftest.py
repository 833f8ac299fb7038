"""A hostile tenant's view: the real Serve app on loopback with the product's defaults.

The server's operator configures only what a careful operator would: the data root
``<home>/data`` and, for the redirect test, one allow-listed host (127.0.0.3). Loopback
(127.0.0.1), link-local and private ranges stay refused. ``Listener`` records anything a
refused request would have sent.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from serve.client import Client
from tests.serve.serve_helpers import create_key

ALLOWED_HOST = "127.0.0.3"  # the one internal host this operator allows


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Hostile:
    base_url: str
    home: Path
    data: Path
    db_url: str
    admin_key: str

    def client(self, key: str | None = None) -> Client:
        return Client(self.base_url, key if key is not None else self.admin_key, timeout=60)


def server_env(home: Path) -> dict[str, str]:
    return {
        "PIPELINE_BUILDER_DATA_ROOTS": str(home / "data"),
        "PIPELINE_BUILDER_EGRESS_ALLOW": ALLOWED_HOST,
        "PIPELINE_BUILDER_SECRET_ENV": "PB_SECRET_*",
        "PB_SECRET_SOURCE_TOKEN": "token-for-the-approved-api",
        "SECRET_DB_PW": "hunter2-not-for-pipelines",
    }


@pytest.fixture(scope="module")
def hostile(ray_session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    from ray import serve

    from serve.app import APP_NAME, build_app

    home = tmp_path_factory.mktemp("sec-home")
    (home / "data").mkdir()
    db_url = f"sqlite:///{home}/metadata.db"
    admin = create_key(db_url, "admin")
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(db_url, str(home), env=server_env(home)), name=APP_NAME, route_prefix="/")
    try:
        yield Hostile(f"http://127.0.0.1:{port}", home, home / "data", db_url, admin)
    finally:
        serve.shutdown()


@dataclass
class Listener:
    """An HTTP server that records every request it gets (and answers ``responses``)."""

    host: str
    port: int
    requests: list[dict[str, str]] = field(default_factory=list)
    redirect_to: str | None = None
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
def listener_factory() -> Iterator[object]:
    made: list[Listener] = []

    def make(host: str = "127.0.0.1", redirect_to: str | None = None) -> Listener:
        rec = Listener(host, _free_port(host), redirect_to=redirect_to)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                rec.requests.append({"path": self.path, **dict(self.headers)})
                if rec.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", rec.redirect_to)
                    self.end_headers()
                    return
                body = b"id,secret\n1,planted\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        rec.server = ThreadingHTTPServer((host, rec.port), Handler)
        threading.Thread(target=rec.server.serve_forever, daemon=True).start()
        made.append(rec)
        return rec

    yield make
    for rec in made:
        assert rec.server is not None
        rec.server.shutdown()
