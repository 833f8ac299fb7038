"""Small builders shared by the engine tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from engine.registry import Registry
from engine.spec import parse_spec
from engine.spec.models import PipelineSpec


def add_node_types(target: Registry, *sources: Registry) -> Registry:
    """``target`` with every node type of ``sources`` added to it (returns ``target``).

    Joins the private registries of test node modules into one, or, where a test reaches
    its nodes through a path that takes no registry, adds them to the default registry.
    """
    for source in sources:
        for node_type in source:
            target.add(node_type)
    return target


def write_csv(path: Path, rows: int, *, start: int = 0, bad_at: int | None = None) -> Path:
    """A CSV of ``rows`` people-like rows; ``bad_at`` puts an invalid age on that row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "age", "city"])
        for i in range(start, start + rows):
            age = -1 if i == bad_at else 18 + i % 70
            w.writerow([i, f"name{i}", age, ["Oslo", "Lima", "Pune"][i % 3]])
    return path


def pipeline(*nodes: dict[str, Any], pid: str = "t") -> PipelineSpec:
    return parse_spec({"id": pid, "nodes": list(nodes)})


def node(
    nid: str, kind: str, config: dict[str, Any], inputs: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    node_type, category = kind.split("/")
    return {
        "id": nid,
        "nodeType": node_type,
        "category": category,
        "config": config,
        "inputs": inputs or [],
        **extra,
    }


def read_parquet_rows(folder: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in folder.rglob("*.parquet"))
    rows: list[dict[str, Any]] = []
    for f in files:
        rows += pq.read_table(f).to_pylist()
    return rows
