"""Fixtures of the API tests: the real Serve app on loopback, sample data, API keys."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from serve.client import Client
from tests.serve.serve_helpers import create_key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Set on the Serve replicas (and passed on to execution actors) rather than in this
# process: the shared Ray session may have started before this module was imported, and
# other test modules check that loopback webhook targets are refused by default.
# The API's security rules are the defaults; what the tests' operator configures is named
# here: webhook receivers on loopback, the secret names the tests reference, and (per
# server, below) the server's home as its data root.
API_ENV = {
    "PIPELINE_BUILDER_WEBHOOK_ALLOW": "127.0.0.1",
    "PIPELINE_BUILDER_SECRET_ENV": "PB_SECRET_*,DB_PASSWORD,SLACK_*,OPS_*",
}


def api_env(home: Path) -> dict[str, str]:
    """The replicas' environment for a server whose data lives in ``home``."""
    return {**API_ENV, "PIPELINE_BUILDER_DATA_ROOTS": str(home)}


@dataclass
class ApiServer:
    base_url: str
    home: Path
    db_url: str
    admin_key: str

    def client(self, key: str | None = None) -> Client:
        return Client(self.base_url, key if key is not None else self.admin_key, timeout=60)

    def restart(self) -> None:
        """Delete the Serve application and deploy it again (new replica, same database)."""
        from ray import serve

        from serve.app import APP_NAME, build_app

        serve.delete(APP_NAME)
        serve.run(
            build_app(self.db_url, str(self.home), env=api_env(self.home)),
            name=APP_NAME,
            route_prefix="/",
        )


@pytest.fixture(scope="module")
def api_server(ray_session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The real Serve app on 127.0.0.1 with a fresh SQLite store, for one test module."""
    from ray import serve

    from serve.app import APP_NAME, build_app

    home = tmp_path_factory.mktemp("api-home")
    db_url = f"sqlite:///{home}/metadata.db"
    admin = create_key(db_url, "admin")
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(db_url, str(home), env=api_env(home)), name=APP_NAME, route_prefix="/")
    server = ApiServer(
        base_url=f"http://127.0.0.1:{port}", home=home, db_url=db_url, admin_key=admin
    )
    try:
        yield server
    finally:
        serve.shutdown()


PG_ENV = "PIPELINE_BUILDER_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of a real PostgreSQL server: $PIPELINE_BUILDER_TEST_PG_URL or .ci/postgres.sh."""
    import os
    import subprocess

    url = os.environ.get(PG_ENV)
    if url:
        return url
    script = Path(__file__).resolve().parents[2] / ".ci" / "postgres.sh"
    try:
        out = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=300, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        pytest.skip(f"{PG_ENV} is unset and .ci/postgres.sh could not start PostgreSQL: {detail}")
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture
def pg_store_url(pg_server_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh, private schema (dropped after)."""
    import secrets

    from sqlalchemy import create_engine, text

    schema = f"pbtest_{secrets.token_hex(4)}"
    admin = create_engine(pg_server_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in pg_server_url else "?"
    try:
        yield f"{pg_server_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
