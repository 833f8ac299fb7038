"""Shared fixtures: one Ray session per test session, temp homes, a real S3 server."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

# Small, fixed Ray session: 2 CPUs, 256 MB object store, no dashboard.
RAY_NUM_CPUS = 2
RAY_OBJECT_STORE = 256 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The S3-compatible test server's address is fixed before Ray starts, so Ray workers
# inherit the same AWS_* environment as the driver.
# (Guarded so that importing this module twice keeps one port.)
S3_PORT = int(os.environ.setdefault("PIPELINE_BUILDER_TEST_S3_PORT", str(free_port())))
os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{S3_PORT}"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
# The session's Ray listens on 127.0.0.1 only, like the embedded Ray the product starts:
# Ray keeps a loopback node address (and binds its servers to it) when cluster mode is
# off. Every process that joins it (CLI subprocesses, job drivers) inherits the setting,
# or Ray would send it to the host's routable address, where nothing listens.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


@pytest.fixture(scope="session")
def ray_session():
    """Start (or join) the one Ray session the test run shares."""
    import ray

    from nodes.privacy.gazetteer import gazetteer

    gazetteer()  # the names table, built once per machine (~25 s) before any worker needs it
    if not ray.is_initialized():
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        from serve.app import set_serve_process_env

        set_serve_process_env()  # the Serve settings pipeline-builder serve gives its Ray
        ray.init(
            # always a private local instance: never join a cluster another process
            # started on this machine (``ray start`` records itself for ``ray.init()``)
            address="local",
            _node_ip_address="127.0.0.1",
            num_cpus=RAY_NUM_CPUS,
            object_store_memory=RAY_OBJECT_STORE,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
    yield ray
    # Ray is shut down at interpreter exit; tests keep sharing it until then.


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PIPELINE_BUILDER_HOME for one test."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("PIPELINE_BUILDER_HOME", str(h))
    return h


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto in server mode) on loopback for the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=S3_PORT, verbose=False)
    server.start()
    deadline = time.time() + 20
    while True:  # start() returns before the socket listens
        try:
            socket.create_connection(("127.0.0.1", S3_PORT), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    yield os.environ["AWS_ENDPOINT_URL"]
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, monkeypatch: pytest.MonkeyPatch):
    """A new, empty bucket on the test S3 server; yields its name.

    The bucket is a data root of the test (``PIPELINE_BUILDER_DATA_ROOTS``): object-store
    locations are refused unless the operator names them.
    """
    import uuid

    import boto3

    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    roots = [r for r in os.environ.get("PIPELINE_BUILDER_DATA_ROOTS", "").split(",") if r]
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", ",".join([*roots, f"s3://{name}/"]))
    return name


@pytest.fixture(autouse=True)
def tmp_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the test's own temp folder a data root (``PIPELINE_BUILDER_DATA_ROOTS``), as
    an operator names the folders pipelines may use. (The security tests' servers set
    their own roots.)"""
    roots = [r for r in os.environ.get("PIPELINE_BUILDER_DATA_ROOTS", "").split(",") if r]
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", ",".join([*roots, str(tmp_path)]))
    return tmp_path


@pytest.fixture
def loopback_egress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow outbound connections to 127.0.0.1 (test servers run on loopback); the
    product refuses loopback targets unless the operator allows them."""
    monkeypatch.setenv("PIPELINE_BUILDER_EGRESS_ALLOW", "127.0.0.1")
