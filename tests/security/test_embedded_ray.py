"""The embedded Ray that runs start: private, token-protected, and where it listens.

A fresh Python process starts the embedded Ray exactly as ``pipeline-builder run`` does
(:func:`engine.run.runner.ensure_ray`, ``RAY_AUTH_MODE`` unset), lists the sockets its
processes listen on with ``ss -ltnp`` (all on loopback, nothing answers on the host's
routable address), and a second process without the token tries to
join it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.sockets import is_loopback

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, subprocess, sys
import psutil
from engine.run.runner import ensure_ray
ensure_ray(num_cpus=1, object_store_memory=80 * 1024 * 1024)
import ray

@ray.remote
def pid():
    return os.getpid()

worker = ray.get(pid.remote())
node = ray._private.worker._global_node
session = os.path.basename(node.get_session_dir_path())
pids = {os.getpid(), worker}
for p in psutil.process_iter(["pid", "cmdline"]):
    try:
        if session in " ".join(p.info["cmdline"] or []):
            pids.add(p.info["pid"])
    except psutil.Error:
        pass
from tests.security.sockets import listening as listening_of
listening = listening_of(pids)
outsider_env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
# The outsider dials 127.0.0.1 itself: Ray would otherwise rewrite a loopback address to
# the host's routable one, where nothing of the embedded Ray listens.
outsider_env.update(RAY_AUTH_MODE="disabled", HOME=sys.argv[1],
                    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
code = (
    "import ray, sys\n"
    "try:\n"
    f"    ray.init(address={node.gcs_address!r}, log_to_driver=False)\n"
    "    print('JOINED')\n"
    "except Exception as exc:\n"
    "    print('REFUSED', type(exc).__name__, str(exc)[:300])\n"
)
import socket
from ray._common.network_utils import node_ip_address_from_perspective
routable = node_ip_address_from_perspective()
reached = []
for s in listening:
    port = int(s["local"].rsplit(":", 1)[1])
    try:
        socket.create_connection((routable, port), timeout=2).close()
        reached.append(port)
    except OSError:
        pass
out = subprocess.run([sys.executable, "-c", code], env=outsider_env, capture_output=True,
                     text=True, timeout=120)
print("RESULT " + json.dumps({"gcs": node.gcs_address, "auth": os.environ.get("RAY_AUTH_MODE"),
      "listening": listening, "routable": routable, "reached": reached,
      "outsider": out.stdout[-1000:],
      "outsider_log": out.stderr[-1000:]}))
ray.shutdown()
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("ss") is None:
        pytest.fail("ss (iproute2) is needed to list listening sockets")
    home = tmp_path_factory.mktemp("ray-home")
    outsider = tmp_path_factory.mktemp("outsider-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(outsider)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        pytest.fail("the probe did not start Ray: " + out.stdout[-2000:] + out.stderr[-3000:])
    result = json.loads(line[-1][len("RESULT ") :])
    result["token_file"] = (home / ".ray" / "auth_token").exists()
    return result


def test_embedded_ray_uses_token_auth_and_refuses_outsiders(probe: dict) -> None:
    assert probe["auth"] == "token" and probe["token_file"], probe
    assert "JOINED" not in probe["outsider"], probe["outsider"]
    assert "REFUSED" in probe["outsider"], probe["outsider"]
    assert "InvalidAuthToken" in probe["outsider"] + probe["outsider_log"], probe


def test_no_ray_port_listens_on_a_non_loopback_address(probe: dict) -> None:
    assert probe["listening"], probe  # we did find the embedded Ray's sockets
    # The GCS, the raylet's node manager and object manager, and the core workers.
    procs = {p for s in probe["listening"] for p in s["proc"]}
    assert {"gcs_server", "raylet"} <= procs, probe["listening"]
    exposed = [s for s in probe["listening"] if not is_loopback(s["local"])]
    assert exposed == [], exposed


def test_no_ray_port_is_reachable_on_the_hosts_routable_address(probe: dict) -> None:
    assert probe["routable"] and not probe["routable"].startswith("127."), probe
    assert probe["reached"] == [], probe


CLUSTER_PROBE = r"""
import json, os, subprocess, sys
import psutil
import ray

ray.init(address=os.environ["RAY_ADDRESS_GCS"], log_to_driver=False)

@ray.remote(resources={"worker_a": 0.01})
def where():
    return ray.util.get_node_ip_address()

ran_on = ray.get(where.remote())
roots = [p for p in psutil.process_iter(["cmdline"])
         if sys.argv[1] in " ".join(p.info["cmdline"] or [])]
pids = set()
for p in roots:
    pids.add(p.pid)
    try:
        pids |= {c.pid for c in p.children(recursive=True)}
    except psutil.Error:
        pass
from tests.security.sockets import listening as listening_of
listening = listening_of(pids)
print("RESULT " + json.dumps({"ran_on": ran_on, "nodes": len(ray.nodes()), "listening": listening}))
"""


def test_the_local_cluster_can_listen_on_loopback_only(tmp_path: Path) -> None:
    """``PB_CLUSTER_LOOPBACK_ONLY=1``: three nodes on 127.0.0.1 only, and a driver with the
    env file's settings runs a task on a worker node."""
    import tempfile

    state = Path(tempfile.mkdtemp(prefix="pbl-", dir="/tmp"))  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(
        PB_CLUSTER_DIR=str(state),
        PB_CLUSTER_LOOPBACK_ONLY="1",
        PB_CLUSTER_DASHBOARD="0",
        RAY_AUTH_MODE="disabled",
        PYTHON=sys.executable,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    script = REPO / "cluster" / "local_cluster.sh"
    try:
        subprocess.run([str(script), "start"], env=env, check=True, timeout=300,
                       capture_output=True)  # fmt: skip
        settings = dict(
            line.split("=", 1) for line in (state / "env").read_text().splitlines() if "=" in line
        )
        assert settings.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") == "0", settings
        out = subprocess.run(
            [sys.executable, "-c", CLUSTER_PROBE, f"{state}/nodes/"],
            env={**env, **settings, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=180,
        )
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        assert line, out.stdout[-2000:] + out.stderr[-3000:]
        result = json.loads(line[-1][len("RESULT ") :])
    finally:
        subprocess.run([str(script), "stop"], env=env, timeout=120, capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
    assert result["ran_on"] == "127.0.0.1" and result["nodes"] == 3, result
    procs = {p for s in result["listening"] for p in s["proc"]}
    assert {"gcs_server", "raylet"} <= procs, result
    exposed = [s for s in result["listening"] if not is_loopback(s["local"])]
    assert exposed == [], exposed
