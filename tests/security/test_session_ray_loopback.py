"""The test session's own Ray, with the API app and a Ray Data run on it, listens on
loopback only (``ss -ltnp`` lists every socket its processes listen on)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.security.conftest import Hostile
from tests.security.sockets import is_loopback, listening


def _session_pids() -> set[int]:
    """This process, and every process whose command line names the Ray session dir."""
    import psutil
    import ray

    session = os.path.basename(ray._private.worker._global_node.get_session_dir_path())
    pids = {os.getpid()}
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if session in " ".join(p.info["cmdline"] or []):
                pids.add(p.info["pid"])
                pids |= {c.pid for c in p.children(recursive=True)}
        except psutil.Error:
            pass
    return pids


def test_the_session_ray_and_the_api_listen_on_loopback_only(hostile: Hostile) -> None:
    import ray

    if shutil.which("ss") is None:
        pytest.fail("ss (iproute2) is needed to list listening sockets")
    # The API answers, and a Ray Data run starts its workers.
    assert hostile.client().health()
    assert ray.data.range(1000, override_num_blocks=4).map_batches(lambda b: b).count() == 1000
    sockets = listening(_session_pids())
    procs = {p for s in sockets for p in s["proc"]}
    assert {"gcs_server", "raylet"} <= procs, sockets
    exposed = [s for s in sockets if not is_loopback(s["local"])]
    assert exposed == [], exposed
