"""Shared results (computed once), fan-in nodes (union, join)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv
from tests.engine.reliability.testnodes import REGISTRY, rows_read

pytestmark = pytest.mark.usefixtures("ray_session")


def test_a_shared_upstream_node_is_read_once(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "in" / "a.csv", 300)
    count = tmp_path / "reads"
    spec = pipeline(
        node("src", "source/test_counting", {"uri": str(tmp_path / "in"), "countFile": str(count)}),
        node("ids", "transform/field_mapper", {"select": ["id"]}, ["src"]),
        node("cities", "transform/field_mapper", {"select": ["id", "city"]}, ["src"]),
        node("out_ids", "output/archive", {"uri": str(tmp_path / "o1")}, ["ids"]),
        node(
            "out_cities",
            "output/archive",
            {"uri": str(tmp_path / "o2"), "format": "jsonl"},
            ["cities"],
        ),
    )
    events = []
    result = run_pipeline(
        spec, options=RunOptions(home=home), on_event=events.append, registry=REGISTRY
    )
    assert result.ok, result.error
    assert rows_read(count) == 300  # read once, not once per branch
    assert result.nodes["src"].rowsOut == 300
    assert len(read_parquet_rows(tmp_path / "o1")) == 300
    assert [e.data["nodeId"] for e in events if e.kind == "shared_materialized"] == ["src"]

    count.unlink()
    result = run_pipeline(
        spec, options=RunOptions(home=home, extra={"shareResults": False}), registry=REGISTRY
    )
    assert result.ok and rows_read(count) == 600  # without sharing each branch re-reads


def test_union_and_join_fan_in(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "a.csv", 50)
    write_csv(tmp_path / "b.csv", 30, start=50)
    spec = pipeline(
        node("a", "source/file", {"uri": str(tmp_path / "a.csv")}),
        node("b", "source/file", {"uri": str(tmp_path / "b.csv")}),
        node("ages", "transform/field_mapper", {"select": ["id", "age"]}, ["a"]),
        node(
            "all",
            "transform/union",
            {"columns": ["id", "name", "city"], "sourceColumn": "from"},
            ["a", "b"],
        ),
        node(
            "joined",
            "transform/join",
            {"on": ["id"], "how": "left", "numPartitions": 2},
            ["all", "ages"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["joined"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    rows = sorted(read_parquet_rows(tmp_path / "out"), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(80))
    assert {r["from"] for r in rows[:50]} == {"a"} and {r["from"] for r in rows[50:]} == {"b"}
    assert rows[3]["age"] == 21 and rows[60]["age"] is None  # left join: b rows lack ages
    assert result.nodes["all"].rowsOut == 80
