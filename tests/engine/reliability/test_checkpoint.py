"""Checkpoints: shard commits, resume after a failure, reuse of finished outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.errors import ResumeError
from engine.run.checkpoint import load_record
from engine.run.runner import run_pipeline
from engine.service.resume import reap_stale, resume
from tests.engine import sleepy
from tests.engine.helpers import add_node_types, node, pipeline, read_parquet_rows, write_csv
from tests.engine.reliability.testnodes import REGISTRY

pytestmark = pytest.mark.usefixtures("ray_session")


def _inputs(folder: Path, files: int, rows: int) -> None:
    for i in range(files):
        write_csv(folder / f"part{i}.csv", rows, start=i * rows)


def _spec(tmp_path: Path, out: str, fail_id: int = -1) -> object:
    return pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "maybe",
            "transform/test_fail_until",
            {"failId": fail_id, "untilFile": str(tmp_path / "fixed")},
            ["src"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / out)}, ["maybe"]),
    )


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["id"])


def test_failed_run_resumes_from_committed_shards_and_matches_an_uninterrupted_run(
    tmp_path: Path, home: Path
) -> None:
    _inputs(tmp_path / "in", 5, 200)
    opts = RunOptions(home=home, extra={"checkpoint": True, "shardConcurrency": 1})
    spec = _spec(tmp_path, "out", fail_id=850)  # fails in the last file (part4)
    first = run_pipeline(spec, options=opts, execution_id="exec_resume1", registry=REGISTRY)
    assert first.status == "failed" and "row 850" in first.error
    rec = load_record("exec_resume1", home)
    assert rec["status"] == "failed" and rec["resumable"] is True
    staging = tmp_path / ".out.staging-exec_resume1"
    committed = sorted(p.name for p in staging.iterdir() if (p / "_SHARD.json").exists())
    assert committed == [f"shard-{i:05d}" for i in range(4)]  # part0..part3 are in
    marks = {s: json.loads((staging / s / "_SHARD.json").read_text()) for s in committed}
    assert not (tmp_path / "out").exists()  # nothing visible before the final commit

    (tmp_path / "fixed").touch()
    events = []
    second = resume("exec_resume1", home=home, on_event=events.append, registry=REGISTRY)
    assert second.ok, second.error
    out = second.outputs[0]
    assert (out["shards"], out["shardsSkipped"], out["shardsWritten"]) == (5, 4, 1)
    assert out["rows"] == 1000  # the whole output, not only this attempt's rows
    assert [e.data["shard"] for e in events if e.kind == "shard_committed"] == ["shard-00004"]
    resumed_rows = _by_id(read_parquet_rows(tmp_path / "out"))
    for s, m in marks.items():  # committed shards were kept, not rewritten
        assert json.loads((tmp_path / "out" / s / "_SHARD.json").read_text()) == m

    plain = run_pipeline(_spec(tmp_path, "plain"), options=RunOptions(home=home), registry=REGISTRY)
    assert plain.ok
    assert resumed_rows == _by_id(read_parquet_rows(tmp_path / "plain"))  # row for row
    assert len(resumed_rows) == 1000 and len({r["id"] for r in resumed_rows}) == 1000
    assert load_record("exec_resume1", home)["status"] == "completed"
    with pytest.raises(ResumeError, match="already completed"):
        resume("exec_resume1", home=home)


def test_finished_outputs_are_reused_and_changed_inputs_are_recomputed(
    tmp_path: Path, home: Path
) -> None:
    write_csv(tmp_path / "a.csv", 100)
    _inputs(tmp_path / "in", 2, 50)
    spec = pipeline(
        node("a", "source/file", {"uri": str(tmp_path / "a.csv")}),
        node("out_a", "output/archive", {"uri": str(tmp_path / "oa")}, ["a"]),
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("slow", "transform/test_sleep", {"secondsPerBatch": 1.5}, ["src"]),
        node(
            "maybe",
            "transform/test_fail_until",
            {"failId": 99, "untilFile": str(tmp_path / "fixed")},
            ["slow"],
        ),
        node("out_b", "output/archive", {"uri": str(tmp_path / "ob")}, ["maybe"]),
    )
    with_sleep = add_node_types(REGISTRY.copy(), sleepy.REGISTRY)
    opts = RunOptions(home=home, extra={"checkpoint": True})
    first = run_pipeline(spec, options=opts, execution_id="exec_reuse", registry=with_sleep)
    assert first.status == "failed"
    assert "out_a" in load_record("exec_reuse", home)["terminals"]
    (tmp_path / "fixed").touch()
    second = resume("exec_reuse", home=home, registry=with_sleep)
    assert second.ok, second.error
    by_node = {o["nodeId"]: o for o in second.outputs}
    assert by_node["out_a"].get("reused") is True
    assert not by_node["out_b"].get("reused")
    assert len(read_parquet_rows(tmp_path / "ob")) == 100


def test_reap_stale_marks_dead_runners_failed(home: Path) -> None:
    import socket
    import time

    from engine.run.checkpoint import _write_json, record_path

    _write_json(
        record_path("exec_dead", home),
        {
            "executionId": "exec_dead",
            "status": "running",
            "pid": 2**22 + 12345,
            "host": socket.gethostname(),
            "heartbeatAt": time.time(),
        },
    )
    _write_json(
        record_path("exec_old", home),
        {
            "executionId": "exec_old",
            "status": "running",
            "pid": 1,
            "host": "elsewhere",
            "heartbeatAt": time.time() - 120,
        },
    )
    _write_json(
        record_path("exec_live", home),
        {
            "executionId": "exec_live",
            "status": "running",
            "pid": 1,
            "host": "elsewhere",
            "heartbeatAt": time.time(),
        },
    )
    assert sorted(reap_stale(60, home)) == ["exec_dead", "exec_old"]
    assert load_record("exec_dead", home)["status"] == "failed"
    assert "resume" in load_record("exec_old", home)["error"]
    assert load_record("exec_live", home)["status"] == "running"
    from engine.audit import list_entries

    lost = list_entries(actor="system:reaper")
    assert sorted(e.resource_id for e in lost) == ["exec_dead", "exec_old"]
    with pytest.raises(ResumeError, match="still running"):
        resume("exec_live", home=home)
    with pytest.raises(ResumeError, match="no checkpoint"):
        resume("exec_nope", home=home)


def test_a_starved_runner_is_not_reaped_while_its_process_or_actor_lives(home: Path) -> None:
    """A late heartbeat is not a death: at its low priority a busy machine can hold a
    runner off the CPU for longer than the heartbeat age the API reaps at."""
    import os
    import socket
    import time

    from engine.run.checkpoint import _write_json, record_path
    from engine.service.resume import LIVE_MAX_AGE_S

    def write(execution_id: str, host: str, age: float) -> None:
        _write_json(
            record_path(execution_id, home),
            {
                "executionId": execution_id,
                "status": "running",
                "pid": os.getpid(),  # a process that exists
                "host": host,
                "heartbeatAt": time.time() - age,
            },
        )

    here = socket.gethostname()
    write("exec_slow_here", here, 120)
    write("exec_hung_here", here, LIVE_MAX_AGE_S + 60)
    write("exec_slow_there", "elsewhere", 120)
    write("exec_lost_there", "elsewhere", 120)
    alive = {"exec_slow_there"}.__contains__  # its actor still exists
    assert sorted(reap_stale(15, home, alive=alive)) == ["exec_hung_here", "exec_lost_there"]
    assert load_record("exec_slow_here", home)["status"] == "running"
    assert load_record("exec_slow_there", home)["status"] == "running"
    assert "last heartbeat 120s ago" in load_record("exec_lost_there", home)["error"]
