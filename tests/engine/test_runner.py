"""End-to-end runs on a small Ray session: DAGs, metrics, progress, failures, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.errors import ValidationFailed
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv

pytestmark = pytest.mark.usefixtures("ray_session")


def test_csv_to_parquet_chain_records_rows_bytes_and_progress(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "in" / "a.csv", 3000)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in" / "a.csv"), "autoProfile": True}),
        node(
            "map",
            "transform/field_mapper",
            {"rename": {"name": "full_name"}, "cast": {"age": "int32"}, "keepUnmapped": True},
            ["load"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["map"]),
    )
    events = []
    result = run_pipeline(
        spec, options=RunOptions(home=home, progress_interval=0.05), on_event=events.append
    )
    assert result.ok, result.error
    rows = read_parquet_rows(tmp_path / "out")
    assert len(rows) == 3000
    assert sorted(r["id"] for r in rows) == list(range(3000))
    assert set(rows[0]) == {"id", "full_name", "age", "city"}
    d = result.to_dict()
    assert d["nodes"]["load"]["rowsOut"] == 3000
    assert d["nodes"]["map"]["rowsIn"] == 3000 and d["nodes"]["out"]["rowsIn"] == 3000
    assert d["nodes"]["load"]["bytesOut"] > 0
    assert d["metrics"]["recordsProcessed"] == 3000
    assert all(n["status"] == "completed" for n in d["nodes"].values())
    assert ["full_name", "int32"] not in (d["nodes"]["load"]["schema"] or [])
    assert ["age", "int32"] in d["nodes"]["map"]["schema"]
    profile = d["nodes"]["load"]["states"]["profile"]
    assert profile  # column profile recorded in the same pass
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert d["outputs"][0]["location"] == str(tmp_path / "out")
    assert d["outputs"][0]["rows"] == 3000
    assert d["sources"][0]["location"] == str(tmp_path / "in" / "a.csv")


def test_dag_with_branches_and_two_outputs(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "a.csv", 500)
    write_csv(tmp_path / "b.csv", 200, start=500)
    spec = pipeline(
        node("a", "source/file", {"uri": str(tmp_path / "a.csv")}),
        node("b", "source/file", {"uri": str(tmp_path / "b.csv")}),
        node("keep_a", "transform/field_mapper", {"select": ["id", "age"]}, ["a"]),
        node("keep_b", "transform/field_mapper", {"select": ["id", "city"]}, ["b"]),
        node("out_a", "output/archive", {"uri": str(tmp_path / "oa")}, ["keep_a"]),
        node(
            "out_b", "output/archive", {"uri": str(tmp_path / "ob"), "format": "jsonl"}, ["keep_b"]
        ),
        node(
            "out_a2", "output/archive", {"uri": str(tmp_path / "oa2"), "format": "csv"}, ["keep_a"]
        ),
    )
    result = run_pipeline(spec, options=RunOptions(home=home))
    assert result.ok, result.error
    assert len(read_parquet_rows(tmp_path / "oa")) == 500
    lines = sum(len(p.read_text().splitlines()) for p in (tmp_path / "ob").glob("[!_]*.json*"))
    assert lines == 200
    csv_rows = sum(len(p.read_text().splitlines()) - 1 for p in (tmp_path / "oa2").glob("*.csv"))
    assert csv_rows == 500
    assert {o["nodeId"] for o in result.outputs} == {"out_a", "out_b", "out_a2"}


def test_invalid_spec_raises_before_anything_runs(tmp_path: Path, home: Path) -> None:
    spec = pipeline(node("load", "source/file", {"dataSourceId": "missing"}))
    with pytest.raises(ValidationFailed, match="dataSources 'missing' not found"):
        run_pipeline(spec, options=RunOptions(home=home))


def test_node_failure_is_reported_with_node_id_and_keeps_previous_output(
    tmp_path: Path, home: Path
) -> None:
    for i in range(6):
        write_csv(tmp_path / "in" / f"part{i}.csv", 400, start=i * 400)
    out = tmp_path / "out"
    good = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("out", "output/archive", {"uri": str(out)}, ["load"]),
    )
    assert run_pipeline(good, options=RunOptions(home=home)).ok
    before = sorted(p.name for p in out.iterdir())
    # A later run fails after part of its output was staged: readers still see the old one.
    write_csv(tmp_path / "in" / "part5.csv", 400, start=2000, bad_at=2399)
    bad = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "check",
            "transform/validator",
            {"rules": [{"rule": "range", "column": "age", "min": 0, "max": 150}]},
            ["load"],
        ),
        node("out", "output/archive", {"uri": str(out)}, ["check"]),
    )
    result = run_pipeline(bad, options=RunOptions(home=home))
    assert result.status == "failed"
    assert result.error_node == "check"
    assert "-1" in result.error and "age" in result.error
    assert sorted(p.name for p in out.iterdir()) == before
    assert len(read_parquet_rows(out)) == 2400
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert leftovers == []


def test_cancel_stops_a_running_execution(tmp_path: Path, home: Path) -> None:
    from tests.engine.sleepy import REGISTRY

    for i in range(4):
        write_csv(tmp_path / "in" / f"p{i}.csv", 2000, start=i * 2000)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("slow", "transform/test_sleep", {"secondsPerBatch": 0.1}, ["load"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["slow"]),
    )
    cancel = threading.Event()

    def on_event(event) -> None:
        if event.kind == "progress" and event.data["recordsProcessed"] > 0:
            cancel.set()

    result = run_pipeline(
        spec,
        options=RunOptions(home=home, progress_interval=0.05),
        on_event=on_event,
        cancel=cancel,
        registry=REGISTRY,
    )
    assert result.status == "cancelled"
    assert result.nodes["load"].rowsOut < 8000
    assert not (tmp_path / "out").exists()


def test_a_cancel_set_before_start_runs_nothing(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "a.csv", 100)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "a.csv")}),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["load"]),
    )
    cancel = threading.Event()
    cancel.set()
    result = run_pipeline(spec, options=RunOptions(home=home), cancel=cancel)
    assert result.status == "cancelled"
    assert not (tmp_path / "out").exists()
