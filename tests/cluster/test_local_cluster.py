"""The engine on a real multi-node Ray cluster (head + two workers on loopback).

Run with ``python -m pytest -m cluster`` (its own pytest invocation, see conftest).
The tests share one cluster and run in file order; the last one kills a worker node.
"""

from __future__ import annotations

import collections
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.cluster.conftest import REPO, LocalCluster
from tests.cluster.node_probe import REGISTRY
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv

pytestmark = pytest.mark.cluster


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_parts(folder: Path, parts: int, rows: int) -> int:
    for i in range(parts):
        write_csv(folder / f"part{i:03d}.csv", rows, start=i * rows)
    return parts * rows


def test_pipeline_tasks_run_on_more_than_one_node(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    total = _write_parts(tmp_path / "in", 6, 500)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "probe",
            "transform/test_node_probe",
            {"secondsPerBatch": 0.2, "batchSize": 250},
            ["load"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["probe"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=tmp_path / "home"), registry=REGISTRY)
    assert result.ok, result.error
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(total))
    names = local_cluster.node_names()
    per_node = collections.Counter(names.get(r["ray_node"], "unknown") for r in rows)
    assert "unknown" not in per_node, per_node
    assert len(per_node) >= 2, f"every batch ran on one node: {per_node}"
    assert result.nodes["probe"].rowsOut == total


def test_ray_job_submit_runs_a_pipeline(local_cluster: LocalCluster, tmp_path: Path) -> None:
    total = _write_parts(tmp_path / "in", 4, 250)
    catalog = {
        "dataSources": [
            {"id": "ds_people", "type": "file", "uri": str(tmp_path / "in"), "format": "csv"}
        ]
    }
    spec = {
        "id": "job_pipeline",
        "nodes": [
            node("load", "source/file", {"dataSourceId": "ds_people"}),
            node(
                "map",
                "transform/field_mapper",
                {"rename": {"name": "full_name"}, "keepUnmapped": True},
                ["load"],
            ),
            node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["map"]),
        ],
    }
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    env = dict(local_cluster.env, PIPELINE_BUILDER_HOME=str(tmp_path / "home"))
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ray"),
            "job",
            "submit",
            "--address",
            local_cluster.dashboard_url,
            "--working-dir",
            ".",
            "--runtime-env",
            "cluster/runtime_env.yaml",
            "--",
            "python",
            "-m",
            "engine",
            "run",
            str(tmp_path / "pipeline.yaml"),
            "--catalog",
            str(tmp_path / "catalog.yaml"),
            "--quiet",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "COMPLETED" in out and "succeeded" in out, out[-3000:]
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(total))
    assert "full_name" in rows[0]


def _readme_job_submit() -> str:
    """The README's ``ray job submit`` example for the local cluster, as written there
    (continuation lines joined)."""
    lines = (REPO / "README.md").read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("ray job submit --address"))
    command = []
    for ln in lines[start:]:
        command.append(ln.rstrip().removesuffix("\\").strip())
        if not ln.rstrip().endswith("\\"):
            break
    return " ".join(command)


def test_readme_ray_job_submit_runs_as_written(local_cluster: LocalCluster) -> None:
    command = _readme_job_submit()
    assert "--runtime-env cluster/runtime_env.yaml" in command, command
    # the README reads the dashboard address from the cluster's state folder
    assert '"$(cat /tmp/pb-cluster/dashboard_url)"' in command, command
    command = command.replace("/tmp/pb-cluster", str(local_cluster.state_dir))
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        env=local_cluster.env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "succeeded" in out, out[-3000:]
    # the quickstart's run summary, printed by the job's driver: every generated
    # customer (examples/generate_data.py's default 20,000) read once
    read = re.search(r"execution \S+ COMPLETED in [0-9.]+s: ([0-9,]+) records read", out)
    assert read is not None, out[-3000:]
    assert int(read.group(1).replace(",", "")) == 20_000, read.group(0)


def _wait_healthy(base_url: str, proc: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{proc.stdout.read()[-3000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(base_url + "/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"the API did not answer on {base_url} within {timeout:.0f} s")


def _create_admin_key(db_url: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "keys", "create", "--scope", "admin", "--db-url", db_url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout.strip()


def test_serve_api_on_the_cluster_runs_a_pipeline_over_http(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    from serve.client import Client

    home = tmp_path / "home"
    total = _write_parts(home / "data" / "people", 4, 250)
    db_url = f"sqlite:///{home}/metadata.db"
    # the operator names the API's data root (the API has none by default)
    env = dict(
        local_cluster.env, PIPELINE_BUILDER_HOME=str(home), PIPELINE_BUILDER_DATA_ROOTS=str(home)
    )
    key = _create_admin_key(db_url, env)
    port = _free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "serve",
            "--address",
            local_cluster.address,
            "--port",
            str(port),
            "--db-url",
            db_url,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, serve, timeout=240)
        with Client(base_url, key, timeout=60) as api:
            api.create_resource(
                "data-sources",
                {"id": "ds_people", "type": "file", "uri": "data/people", "format": "csv"},
            )
            api.create_pipeline(
                {
                    "id": "people",
                    "nodes": [
                        node("load", "source/file", {"dataSourceId": "ds_people"}),
                        node("archive", "output/archive", {"uri": "out/people"}, ["load"]),
                    ],
                }
            )
            run = api.execute("people", triggered_by="cluster_test")
            final = api.wait("people", run["executionId"], timeout=240, interval=0.5)
        assert final["status"] == "completed", final.get("error")
        assert final["metrics"]["recordsProcessed"] == total
        rows = read_parquet_rows(home / "out" / "people")
        assert sorted(r["id"] for r in rows) == list(range(total))
    finally:
        serve.send_signal(signal.SIGINT)  # the command shuts Serve down on Ctrl-C
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=10)


def _metrics_actor_node(cluster: LocalCluster) -> str | None:
    from ray.util.state import list_actors

    for actor in list_actors(
        address=cluster.dashboard_url, filters=[("class_name", "=", "MetricsActor")]
    ):
        if actor.state == "ALIVE":
            return str(actor.node_id)
    return None


def _nodes_running_tasks(cluster: LocalCluster) -> set[str]:
    from ray.util.state import list_tasks

    try:
        tasks = list_tasks(
            address=cluster.dashboard_url, filters=[("state", "=", "RUNNING")], timeout=10
        )
    except Exception:  # the state API is best effort: try again at the next event
        return set()
    return {str(t.node_id) for t in tasks if t.type == "NORMAL_TASK" and t.node_id}


def test_losing_a_worker_node_mid_run_still_completes_with_exact_rows(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    """SIGKILL a worker node (raylet, object store, its workers) while it runs a task.

    Ray Data retries the tasks that ran there and rebuilds the blocks stored there;
    the output holds every row exactly once. The node killed is a worker that does not
    host this driver's metrics actor (losing that actor loses the run's live counters).
    """
    from engine.run.metrics import metrics_actor

    total = _write_parts(tmp_path / "in", 12, 500)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "probe",
            "transform/test_node_probe",
            {"secondsPerBatch": 0.3, "batchSize": 250},
            ["load"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["probe"]),
    )
    metrics_actor()
    names = local_cluster.node_names()
    deadline = time.time() + 60
    actor_node = _metrics_actor_node(local_cluster)
    while actor_node is None and time.time() < deadline:
        time.sleep(0.5)
        actor_node = _metrics_actor_node(local_cluster)
    candidates = {
        nid: n for nid, n in names.items() if n.startswith("worker") and nid != actor_node
    }
    killed: dict[str, str] = {}

    def on_event(event: Any) -> None:
        # Once rows flow, kill a candidate worker while it runs one of this run's tasks.
        if killed or event.kind != "progress" or event.data["nodes"]["probe"]["rowsOut"] < 250:
            return
        busy = _nodes_running_tasks(local_cluster) & set(candidates)
        if busy:
            victim = candidates[sorted(busy)[0]]
            local_cluster.kill_node(victim)
            killed["victim"] = victim

    result = run_pipeline(
        spec,
        options=RunOptions(home=tmp_path / "home", progress_interval=0.2),
        on_event=on_event,
        registry=REGISTRY,
    )
    assert killed, "the run ended before a worker ran one of its tasks"
    victim = killed["victim"]
    assert result.ok, result.error
    # The run can finish before the GCS misses enough heartbeats to mark the node dead.
    deadline = time.time() + 90
    while victim in local_cluster.node_names().values() and time.time() < deadline:
        time.sleep(1)
    assert victim not in local_cluster.node_names().values()
    rows = read_parquet_rows(tmp_path / "out")
    ids = [r["id"] for r in rows]
    assert len(ids) == total and sorted(ids) == list(range(total))
    by_node = collections.Counter(names.get(r["ray_node"], r["ray_node"]) for r in rows)
    reported = {n: (r.rowsIn, r.rowsOut) for n, r in result.nodes.items()}
    print(json.dumps({"victim": victim, "rowsByNode": by_node, "reported": reported}))
    # The written data is exact (checked above). The run's counters are at least once
    # after a node loss: blocks lost with the node are rebuilt by re-running the tasks
    # that made them, and those tasks count their rows again.
    assert result.outputs[0]["rows"] >= total, reported
    assert reported["load"][0] == 0 and reported["load"][1] >= total, reported
    assert reported["probe"][0] == reported["load"][1] and reported["probe"][1] >= total
    assert reported["out"][0] == reported["probe"][1], reported
