"""A real HTTP receiver on 127.0.0.1 and a webhook store on a temp SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.webhooks import WebhookStore


class Receiver:
    """Answers POSTs with the next scripted status (the last one repeats) and records them."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.statuses = list(statuses or [200])
        self.location = location
        self.headers = dict(headers or {})  # sent with every answer that is not a 2xx
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                idx = min(len(receiver.requests), len(receiver.statuses) - 1)
                status = receiver.statuses[idx]
                receiver.requests.append(
                    {"headers": dict(self.headers.items()), "body": body, "status": status}
                )
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                if not 200 <= status < 300:
                    for name, value in receiver.headers.items():
                        self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if 200 <= r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("PIPELINE_BUILDER_WEBHOOK_ALLOW", "127.0.0.1")
    made: list[Receiver] = []

    def make(
        statuses: list[int] | None = None,
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Receiver:
        r = Receiver(statuses, location, headers)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'webhooks.db'}"


@pytest.fixture
def store(db_url: str) -> WebhookStore:
    return WebhookStore(sa.create_engine(db_url))


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A real PostgreSQL: $PIPELINE_BUILDER_TEST_PG_URL or the server .ci/postgres.sh starts."""
    import os
    import subprocess

    url = os.environ.get("PIPELINE_BUILDER_TEST_PG_URL")
    if url:
        return url
    script = Path(__file__).resolve().parents[3] / ".ci" / "postgres.sh"
    try:
        out = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=300, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"no PostgreSQL for the outbox test: {getattr(exc, 'stderr', '') or exc}")
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` with connections on a fresh private schema (dropped afterwards)."""
    import secrets

    schema = f"pbhooks_{secrets.token_hex(4)}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
