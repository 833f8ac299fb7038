"""Retries of transient failures and fallbacks, on a real Ray session."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.run.failures import is_transient
from engine.run.recovery import delays
from engine.run.runner import run_pipeline
from engine.spec.models import RetryPolicy
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv
from tests.engine.reliability.testnodes import REGISTRY

FAST_RETRY = {"maxAttempts": 3, "initialDelaySeconds": 0.05, "jitter": False}


def test_backoff_is_exponential_capped_and_jittered() -> None:
    p = RetryPolicy(maxAttempts=5, initialDelaySeconds=1, maxDelaySeconds=3, jitter=False)
    assert list(delays(p)) == [1, 2, 3, 3]
    jittered = list(delays(p.model_copy(update={"jitter": True}), rng=random.Random(1)))
    assert len(jittered) == 4 and all(
        d / 2 <= j <= d for j, d in zip(jittered, [1, 2, 3, 3], strict=True)
    )


def test_transient_classification() -> None:
    assert is_transient(ConnectionError("reset"), ["transient"])
    assert is_transient(RuntimeError("HTTP 503 from upstream"), ["transient"])
    assert not is_transient(ValueError("bad value"), ["transient"])
    assert is_transient(ValueError("bad value"), ["any"])
    assert is_transient(ValueError("bad value"), ["ValueError"])


@pytest.mark.usefixtures("ray_session")
def test_source_failing_twice_then_succeeding_passes_with_retries_recorded(
    tmp_path: Path, home: Path
) -> None:
    spec = pipeline(
        node(
            "src",
            "source/test_flaky",
            {"rows": 400, "failFirst": 2, "stateFile": str(tmp_path / "attempts")},
            retry=FAST_RETRY,
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["src"]),
    )
    events = []
    result = run_pipeline(
        spec, options=RunOptions(home=home), on_event=events.append, registry=REGISTRY
    )
    assert result.ok, result.error
    assert (tmp_path / "attempts").read_text() == "3"
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(400))  # no loss, no duplicates
    assert result.to_dict()["nodes"]["src"]["counters"]["retries"] == 2
    assert result.nodes["src"].rowsOut == 400  # failed attempts' rows are not counted
    retries = [e for e in events if e.kind == "retry"]
    assert [e.data["retry"] for e in retries] == [1, 2]
    assert all(e.data["nodeId"] == "src" and "attempt" in e.data["error"] for e in retries)


@pytest.mark.usefixtures("ray_session")
def test_retries_stop_at_max_attempts_and_non_transient_errors_are_not_retried(
    tmp_path: Path, home: Path
) -> None:
    spec = pipeline(
        node(
            "src",
            "source/test_flaky",
            {"rows": 100, "failFirst": 9, "stateFile": str(tmp_path / "a")},
            retry=FAST_RETRY,
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["src"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.status == "failed" and "simulated failure of attempt 3" in result.error
    assert result.nodes["src"].counters["retries"] == 2
    assert not (tmp_path / "out").exists()

    spec = pipeline(
        node(
            "src",
            "source/test_flaky",
            {"rows": 100, "failFirst": 9, "error": "ValueError", "stateFile": str(tmp_path / "b")},
            retry=FAST_RETRY,
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["src"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.status == "failed"
    assert (tmp_path / "b").read_text() == "1"  # ValueError is not transient: one attempt
    assert "retries" not in result.nodes["src"].counters


@pytest.mark.usefixtures("ray_session")
def test_primary_failing_for_good_at_run_time_switches_to_its_fallback(
    tmp_path: Path, home: Path
) -> None:
    write_csv(tmp_path / "replica.csv", 250)
    spec = pipeline(
        node(
            "primary",
            "source/test_flaky",
            {"rows": 100, "failFirst": 99, "stateFile": str(tmp_path / "a")},
            retry=FAST_RETRY,
            fallback="replica",
        ),
        node("replica", "source/file", {"uri": str(tmp_path / "replica.csv")}),
        node("keep", "transform/field_mapper", {"select": ["id"]}, ["primary"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["keep"]),
    )
    events = []
    result = run_pipeline(
        spec, options=RunOptions(home=home), on_event=events.append, registry=REGISTRY
    )
    assert result.ok, result.error
    assert (tmp_path / "a").read_text() == "3"  # its retries first, then the fallback
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(250))
    d = result.to_dict()["nodes"]
    assert d["primary"]["facts"]["fallbackUsed"]["node"] == "replica"
    assert "simulated failure" in d["primary"]["facts"]["fallbackUsed"]["reason"]
    assert d["primary"]["counters"]["retries"] == 2
    assert d["primary"]["rowsOut"] == 250 and d["out"]["rowsIn"] == 250
    assert [e.data["fallback"] for e in events if e.kind == "fallback"] == ["replica"]


@pytest.mark.usefixtures("ray_session")
def test_primary_failing_at_build_time_switches_to_its_fallback(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "replica.csv", 30)
    spec = pipeline(
        node("primary", "source/file", {"uri": str(tmp_path / "missing.csv")}, fallback="replica"),
        node("replica", "source/file", {"uri": str(tmp_path / "replica.csv")}),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["primary"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    assert len(read_parquet_rows(tmp_path / "out")) == 30
    assert result.nodes["primary"].facts["fallbackUsed"]["node"] == "replica"


@pytest.mark.usefixtures("ray_session")
def test_node_error_declared_transient_is_retried_from_its_field(
    tmp_path: Path, home: Path
) -> None:
    """``NodeError.transient`` decides, across Ray's pickling: the message ("backend
    refused") holds none of the words the text fallback reads."""
    spec = pipeline(
        node("src", "source/test_declared", {"stateFile": str(tmp_path / "a")}, retry=FAST_RETRY),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["src"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    assert (tmp_path / "a").read_text() == "3"
    assert result.nodes["src"].counters["retries"] == 2
    assert sorted(r["id"] for r in read_parquet_rows(tmp_path / "out")) == list(range(50))

    spec = pipeline(
        node(
            "src",
            "source/test_declared",
            {"stateFile": str(tmp_path / "b"), "transient": False},
            retry=FAST_RETRY,
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out2")}, ["src"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.status == "failed" and result.error_node == "src"
    assert (tmp_path / "b").read_text() == "1"  # declared not transient: one attempt
    assert "backend refused attempt 1" in result.error
