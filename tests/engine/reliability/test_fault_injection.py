"""Fault injection: a killed Ray worker, a killed runner (driver) process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.context import RunOptions
from engine.registry import default_registry
from engine.run.checkpoint import load_record
from engine.run.runner import run_pipeline
from engine.service.resume import reap_stale
from tests.engine import sleepy
from tests.engine.helpers import add_node_types, node, pipeline, read_parquet_rows, write_csv
from tests.engine.reliability.testnodes import REGISTRY

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]
ROOT = Path(__file__).resolve().parents[3]


def _wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killing_a_ray_worker_mid_stage_loses_and_duplicates_nothing(
    tmp_path: Path, home: Path
) -> None:
    for i in range(4):
        write_csv(tmp_path / "in" / f"p{i}.csv", 500, start=i * 500)
    pids = tmp_path / "pids"
    spec = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "work", "transform/test_pid", {"pidFile": str(pids), "secondsPerBatch": 0.15}, ["src"]
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["work"]),
    )
    box: dict = {}
    t = threading.Thread(
        target=lambda: box.update(
            r=run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
        )
    )
    t.start()
    _wait_for(lambda: pids.exists() and pids.read_text().strip(), 60, "a worker pid")
    victim = int(pids.read_text().split()[0])
    assert victim != os.getpid()
    os.kill(victim, signal.SIGKILL)
    t.join(timeout=180)
    result = box["r"]
    assert result.ok, result.error
    assert victim in {int(p) for p in pids.read_text().split()}
    assert len({int(p) for p in pids.read_text().split()}) >= 2  # the work moved on
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(2000))  # exactly the expected rows


def test_killed_runner_is_marked_failed_and_resume_completes_row_for_row(
    tmp_path: Path, home: Path, ray_session
) -> None:
    files = 8
    for i in range(files):
        write_csv(tmp_path / "in" / f"part{i}.csv", 300, start=i * 300)
    spec = {
        "id": "killme",
        "nodes": [
            {
                "id": "src",
                "nodeType": "source",
                "category": "file",
                "config": {"uri": "in", "format": "csv"},
            },
            {
                "id": "slow",
                "nodeType": "transform",
                "category": "test_sleep",
                "config": {"secondsPerBatch": 0.4},
                "inputs": ["src"],
            },
            {
                "id": "out",
                "nodeType": "output",
                "category": "archive",
                "config": {"uri": "out"},
                "inputs": ["slow"],
            },
        ],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    address = ray_session.get_runtime_context().gcs_address
    code = (  # a CLI subprocess takes no registry: test_sleep joins the default one there
        "import sys; from engine.registry import default_registry; "
        "from tests.engine import sleepy; from tests.engine.helpers import add_node_types; "
        "add_node_types(default_registry(), sleepy.REGISTRY); "
        "from engine.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {**os.environ, "PIPELINE_BUILDER_HOME": str(home)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "run",
            str(tmp_path / "spec.json"),
            "--address",
            address,
            "--execution-id",
            "exec_killed",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = tmp_path / ".out.staging-exec_killed"

    def committed() -> list[str]:
        if not staging.exists():
            return []
        return sorted(p.name for p in staging.iterdir() if (p / "_SHARD.json").exists())

    try:
        _wait_for(lambda: len(committed()) >= 2, 150, "two committed shards")
    finally:
        proc.send_signal(signal.SIGKILL)  # the runner dies without any cleanup
        proc.wait(timeout=30)
    before = {s: (staging / s / "_SHARD.json").read_text() for s in committed()}
    assert 2 <= len(before) < files
    assert load_record("exec_killed", home)["status"] == "running"  # nobody said otherwise
    assert reap_stale(max_age_s=60, home=home) == ["exec_killed"]  # its pid is gone
    rec = load_record("exec_killed", home)
    assert rec["status"] == "failed" and rec["resumable"]

    add_node_types(default_registry(), sleepy.REGISTRY)  # the CLI's main() takes no registry
    assert main(["resume", "exec_killed", "--quiet", "--json"]) == 0
    rec = load_record("exec_killed", home)
    assert rec["status"] == "completed" and rec["attempts"] == 2
    facts = rec["terminals"]["out"]["facts"]
    assert facts["shardsSkipped"] >= len(before)  # at most the in-flight shards re-ran
    assert facts["shardsWritten"] == files - facts["shardsSkipped"]
    out = tmp_path / "out"
    for s, marker in before.items():
        assert (out / s / "_SHARD.json").read_text() == marker
    rows = sorted(read_parquet_rows(out), key=lambda r: r["id"])

    plain = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("out", "output/archive", {"uri": str(tmp_path / "plain")}, ["src"]),
    )
    assert run_pipeline(plain, options=RunOptions(home=home)).ok
    assert rows == sorted(read_parquet_rows(tmp_path / "plain"), key=lambda r: r["id"])
    assert len(rows) == files * 300


def test_cli_runs_are_audited(
    tmp_path: Path, home: Path, ray_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.audit import list_entries, verify

    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", f"sqlite:///{home / 'meta.db'}")
    write_csv(tmp_path / "a.csv", 20)
    (tmp_path / "spec.json").write_text(
        json.dumps(
            {
                "id": "audited",
                "nodes": [
                    {
                        "id": "src",
                        "nodeType": "source",
                        "category": "file",
                        "config": {"uri": "a.csv"},
                    },
                    {
                        "id": "out",
                        "nodeType": "output",
                        "category": "archive",
                        "config": {"uri": "o"},
                        "inputs": ["src"],
                    },
                ],
            }
        )
    )
    assert main(["run", str(tmp_path / "spec.json"), "--quiet", "--execution-id", "exec_aud"]) == 0
    actions = [e.action for e in list_entries(resource_id="exec_aud", newest_first=False)]
    assert actions == ["execution.started", "execution.completed"]
    assert list_entries(resource_id="exec_aud")[0].actor.startswith("cli:")
    assert verify().ok
