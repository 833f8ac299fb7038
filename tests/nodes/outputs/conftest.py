"""Helpers for output-node tests: a BuildContext around one output node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.spec.models import NodeSpec, PipelineSpec


class RecordingMetrics:
    """Metrics that keep counters so tests can assert on them."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[str, float]] = {}

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        mine = self.counters.setdefault(node_id, {})
        for k, v in counters.items():
            mine[k] = mine.get(k, 0) + v

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        pass


def make_ctx(
    catalog: DictCatalog,
    category: str,
    config: dict[str, Any],
    *,
    home: Path,
    execution_id: str = "exec_test0001",
) -> BuildContext:
    node = NodeSpec(id="out", nodeType="output", category=category, config=config, inputs=["src"])
    src = NodeSpec(id="src", nodeType="source", category="file", config={})
    spec = PipelineSpec(id="pipe_test", nodes=[src, node])
    return BuildContext(
        spec=spec,
        node=node,
        catalog=catalog,
        execution_id=execution_id,
        options=RunOptions(home=home, base_dir=home),
        metrics=RecordingMetrics(),
    )


def customers(n: int = 50, offset: int = 0, *, null_every: int = 0) -> pa.Table:
    ids = list(range(offset, offset + n))
    emails = [None if null_every and i % null_every == 0 else f"user{i}@example.com" for i in ids]
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "email": pa.array(emails, pa.string()),
            "score": pa.array([i * 0.5 for i in ids], pa.float64()),
        }
    )


@pytest.fixture
def env_catalog(tmp_path: Path) -> DictCatalog:
    return DictCatalog(
        {
            "environments": {
                "env_test": {
                    "id": "env_test",
                    "uri": str(tmp_path / "env"),
                    "format": "parquet",
                    "retention": {"keepVersions": 3},
                    "defaultStrategy": "blue_green",
                    "expectedSchema": [
                        {"name": "id", "type": "int64", "nullable": False},
                        {"name": "email", "type": "string"},
                    ],
                }
            },
            "qualityRules": {
                "emails_complete": {
                    "id": "emails_complete",
                    "gate": "completeness",
                    "severity": "block",
                    "minRatio": 0.99,
                    "columns": ["email"],
                },
                "emails_complete_warn": {
                    "id": "emails_complete_warn",
                    "gate": "completeness",
                    "severity": "warn",
                    "minRatio": 0.99,
                    "columns": ["email"],
                },
            },
        }
    )
