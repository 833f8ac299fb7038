"""Live progress: rows from the first events, completion estimated early, nodes finishing.

A deliberately slow node (``transform/test_sleep``) makes a ~60 s run out of a small
input; the progress events are read as a caller of ``run_pipeline`` sees them.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline, write_csv
from tests.engine.sleepy import REGISTRY

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]

FILES, PER_FILE, SLEEP = 32, 150, 3.5  # one 150-row batch per file: 32 x 3.5 s over 2 CPUs


def test_rows_and_estimate_within_the_first_quarter(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(tmp_path))
    for i in range(FILES):
        write_csv(tmp_path / "in" / f"part{i:02d}.csv", PER_FILE, start=i * PER_FILE)
    spec = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("slow", "transform/test_sleep", {"secondsPerBatch": SLEEP}, ["src"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["slow"]),
    )
    # Ray's worker processes are started (and import the node modules) before the
    # measured run, as in a service that has run pipelines before
    write_csv(tmp_path / "warm" / "w.csv", 10)
    warm = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "warm"), "format": "csv"}),
        node("slow", "transform/test_sleep", {"secondsPerBatch": 0.0}, ["src"]),
        node("out", "output/archive", {"uri": str(tmp_path / "warm_out")}, ["slow"]),
    )
    assert run_pipeline(warm, options=RunOptions(home=home), registry=REGISTRY).ok
    events: list[tuple[float, str, dict]] = []
    result = run_pipeline(
        spec,
        options=RunOptions(home=home, progress_interval=0.5),
        on_event=lambda e: events.append((time.time(), e.kind, e.data)),
        registry=REGISTRY,
    )
    assert result.ok, result.error
    start = next(t for t, k, _ in events if k == "started")
    end = result.finished_at
    assert end is not None
    duration = end - start
    progress = [(t - start, d) for t, k, d in events if k == "progress"]
    rows_at = next(t for t, d in progress if d["recordsProcessed"] > 0)
    eta_at, first_eta = next((t, d) for t, d in progress if d["estimatedCompletion"])
    assert rows_at <= duration / 4, (rows_at, duration)
    assert eta_at <= duration / 4, (eta_at, duration)
    assert first_eta["expectedRecords"] == FILES * PER_FILE  # known before any row was read
    assert first_eta["currentStep"] in ("src", "slow")
    # the estimate is refined as the run goes: the last one is closer to the real end
    # than the first (and within half the run's length of it)
    etas = [d["estimatedCompletion"] for _t, d in progress if d["estimatedCompletion"]]
    first, last = (datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() for x in
                   (etas[0], etas[-1]))  # fmt: skip
    assert abs(last - end) <= abs(first - end) or abs(last - end) <= 2.0, (first, last, end)
    assert abs(last - end) <= duration / 2, (last - end, duration)
    # per-node state moves while the run goes, and every node finishes
    assert any(d["nodes"]["slow"]["status"] == "running" for _t, d in progress)
    assert max(d["completedSteps"] for _t, d in progress) <= 3
    finished = [d["nodeId"] for _t, k, d in events if k == "node_finished"]
    assert sorted(finished) == ["out", "slow", "src"]
    assert result.records_processed == FILES * PER_FILE
