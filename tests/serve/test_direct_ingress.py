"""``pipeline-builder serve --direct-port``: the replica serves the API itself.

The slow test starts the real command in a fresh process (its own local Ray), then talks
HTTP to both the proxy's port and the replica's direct port: the same app answers on both
(auth, problem documents, a pipeline stored through one read through the other), and
every socket of the command's processes, the direct port included, is on loopback. The
fast tests check the command's refusals, which come before any Ray starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from engine.cli import main as cli
from tests.security.sockets import is_loopback, listening

REPO = Path(__file__).resolve().parents[2]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def test_direct_port_is_refused_with_a_cluster_address(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["serve", "--address", "auto", "--direct-port", str(_free_ports(1)[0])])
    assert code == 2
    assert "--direct-port needs the local Ray" in capsys.readouterr().err


def test_direct_port_in_use_is_refused_before_ray_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli(["serve", "--port", str(_free_ports(1)[0]), "--direct-port", str(port)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"port {port} on 127.0.0.1 is not free" in err
    assert "RAY_SERVE_ENABLE_DIRECT_INGRESS" not in os.environ


def test_direct_port_overlapping_the_http_port_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    port = _free_ports(1)[0]
    code = cli(["serve", "--port", str(port + 1), "--direct-port", str(port), "--replicas", "2"])
    assert code == 2
    assert f"overlaps the HTTP port {port + 1}" in capsys.readouterr().err


def test_no_replicas_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    port = _free_ports(1)[0]
    assert cli(["serve", "--direct-port", str(port), "--replicas", "0"]) == 2
    assert "--replicas 0: at least one replica" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_with_a_direct_port_answers_on_both_ports_on_loopback_only() -> None:
    from engine.store import open_store
    from serve.client import Client
    from tests.serve.serve_helpers import PIPELINE_ID, create_example_resources, example_pipeline

    home = Path(tempfile.mkdtemp(prefix="pbdirect-", dir="/tmp"))
    db_url = f"sqlite:///{home}/metadata.db"
    _, key = open_store(db_url).create_api_key("admin", name="direct-ingress test")
    proxy_port, direct_port = _free_ports(2)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(
        PIPELINE_BUILDER_HOME=str(home),
        PIPELINE_BUILDER_DATA_ROOTS=str(home),
        RAY_AUTH_MODE="disabled",
        RAY_TMPDIR=str(home),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--db-url", db_url,
         "--port", str(proxy_port), "--direct-port", str(direct_port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proxy = f"http://127.0.0.1:{proxy_port}"
    direct = f"http://127.0.0.1:{direct_port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            try:
                if all(
                    httpx.get(f"{u}/health", timeout=5).status_code == 200 for u in (proxy, direct)
                ):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not answer on both ports in 240 s"
            time.sleep(1)
        auth = {"Authorization": f"Bearer {key}"}

        anonymous = httpx.get(f"{direct}/api/pipelines", timeout=30)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")

        with Client(direct, key, timeout=60) as api:  # stored through the replica's port
            create_example_resources(api)
            api.create_pipeline(example_pipeline())
        via_proxy = httpx.get(f"{proxy}/api/pipelines/{PIPELINE_ID}", headers=auth, timeout=30)
        via_direct = httpx.get(f"{direct}/api/pipelines/{PIPELINE_ID}", headers=auth, timeout=30)
        assert via_proxy.status_code == via_direct.status_code == 200
        assert via_proxy.json() == via_direct.json()

        missing = httpx.get(
            f"{direct}/api/pipelines/{PIPELINE_ID}/execution/nope", headers=auth, timeout=30
        )
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")

        pids = {proc.pid} | {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        sockets = listening(pids)
        ports = {int(s["local"].rsplit(":", 1)[1]) for s in sockets}
        assert {proxy_port, direct_port} <= ports, sockets
        assert [s for s in sockets if not is_loopback(s["local"])] == []
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        # Serve's replicas drain for 30 s by default on direct ingress; the API sets 2 s
        assert time.monotonic() - stopping < 25
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
