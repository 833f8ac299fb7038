"""Per-node ``resources`` hints reach Ray Data (CPUs, memory, batch size, concurrency)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.run.runner import run_pipeline
from engine.spec import parse_spec
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv


def _ctx(resources: dict | None) -> BuildContext:
    n = node("m", "transform/field_mapper", {"rename": {"a": "b"}}, ["x"])
    if resources is not None:
        n["resources"] = resources
    spec = parse_spec({"id": "p", "nodes": [node("x", "source/file", {"uri": "a.csv"}), n]})
    return BuildContext(
        spec=spec,
        node=spec.node("m"),
        catalog=DictCatalog(),
        execution_id="e",
        options=RunOptions(),
    )


def test_hints_become_map_batches_arguments() -> None:
    assert _ctx(None).map_options(batch_format="pyarrow") == {"batch_format": "pyarrow"}
    opts = _ctx({"cpus": 0.5, "memoryMb": 64, "batchSize": 100, "concurrency": 2}).map_options(
        batch_format="pyarrow", batch_size=None
    )
    assert opts == {
        "batch_format": "pyarrow",
        "batch_size": 100,
        "num_cpus": 0.5,
        "memory": 64 * 1024 * 1024,
        "concurrency": 2,
    }


def test_bad_hints_are_validation_errors() -> None:
    from engine.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="resources.cpus"):
        _ctx({"cpus": -1})


@pytest.mark.usefixtures("ray_session")
def test_a_run_with_hints_completes_with_every_row(tmp_path: Path, home: Path) -> None:
    for i in range(3):
        write_csv(tmp_path / "in" / f"p{i}.csv", 300, start=i * 300)
    spec = pipeline(
        node(
            "load",
            "source/file",
            {"uri": str(tmp_path / "in"), "format": "csv"},
            resources={"concurrency": 1, "cpus": 0.5},
        ),
        node(
            "map",
            "transform/field_mapper",
            {"cast": {"age": "int16"}, "keepUnmapped": True},
            ["load"],
            resources={"batchSize": 50, "concurrency": 1, "cpus": 0.5, "memoryMb": 64},
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["map"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home))
    assert result.ok, result.error
    rows = read_parquet_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(900))
    assert ["age", "int16"] in result.nodes["map"].schema
