"""The local multi-node Ray cluster the ``cluster`` tests run against.

``cluster/local_cluster.sh`` starts a head and two workers (``worker_a``, ``worker_b``)
on 127.0.0.1, one CPU and a 100 MB object store each; this driver joins it with
``ray.init(address=...)``. The tests run in their own pytest invocation
(``python -m pytest -m cluster``): the shared ``ray_session`` fixture would start a
single-node Ray instead. At the end the cluster is stopped, process by process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "cluster" / "local_cluster.sh"
NODE_NAMES = ("head", "worker_a", "worker_b")


def cluster_env(state_dir: Path) -> dict[str, str]:
    """Environment for the script and for processes that talk to the cluster."""
    env = dict(os.environ)
    env["PB_CLUSTER_DIR"] = str(state_dir)
    env["PYTHON"] = sys.executable
    # `ray`, `python` and `pipeline-builder` of this interpreter come first on PATH, also
    # for job drivers the head starts.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["RAY_AUTH_MODE"] = "disabled"
    # Every node listens on 127.0.0.1 only; this driver and the job drivers keep that
    # address (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, set by tests/conftest.py and written to
    # the cluster's env file).
    env["PB_CLUSTER_LOOPBACK_ONLY"] = "1"
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    env.pop("RAY_ADDRESS", None)
    return env


@dataclass
class LocalCluster:
    """A running local cluster: its addresses and a way to kill one of its nodes."""

    address: str
    dashboard_url: str
    state_dir: Path
    env: dict[str, str]

    def node_names(self) -> dict[str, str]:
        """Node id -> node name (head / worker_a / worker_b) of the alive nodes."""
        import ray

        names = {}
        for n in ray.nodes():
            if n["Alive"]:
                named = [k for k in n["Resources"] if k in NODE_NAMES]
                names[n["NodeID"]] = named[0] if named else n["NodeID"]
        return names

    def kill_node(self, name: str) -> None:
        """SIGKILL every process of node ``name`` (as if the machine died)."""
        subprocess.run([str(SCRIPT), "stop-node", name, "0"], env=self.env, check=True, timeout=60)


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    """Start the 3-node cluster, join it, and stop it after the session."""
    import ray

    if ray.is_initialized():
        pytest.skip("cluster tests need their own pytest run: python -m pytest -m cluster")
    # Short folder: Ray's unix socket paths (limit ~107 bytes) live below it.
    state_dir = Path(tempfile.mkdtemp(prefix="pbc-", dir="/tmp"))
    env = cluster_env(state_dir)
    try:
        subprocess.run(
            [str(SCRIPT), "start"], env=env, check=True, timeout=400, stdout=subprocess.DEVNULL
        )
        address = (state_dir / "address").read_text().strip()
        dashboard_url = (state_dir / "dashboard_url").read_text().strip()
        os.environ["RAY_AUTH_MODE"] = "disabled"
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        yield LocalCluster(
            address=address, dashboard_url=dashboard_url, state_dir=state_dir, env=env
        )
    finally:
        if ray.is_initialized():
            ray.shutdown()
        from engine.run.metrics import reset_metrics_actor

        reset_metrics_actor()
        subprocess.run([str(SCRIPT), "stop"], env=env, timeout=180, check=False)
        shutil.rmtree(state_dir, ignore_errors=True)
