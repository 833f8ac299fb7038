"""Helpers of the synthetic-data tests: a correlated table with identifiers, contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.spec.models import PipelineSpec


def correlated_table(rows: int = 1500, seed: int = 11) -> pa.Table:
    """Customers with correlated age/income/spend, categories and real-looking identifiers."""
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, rows).clip(18, 90)
    income = age * 1200 + rng.normal(0, 6000, rows) + 10_000
    spend = income * 0.12 + rng.normal(0, 900, rows)
    segment = np.where(income > np.median(income), "premium", "standard")
    region = rng.choice(["north", "south", "east", "west"], rows, p=[0.4, 0.3, 0.2, 0.1])
    return pa.table(
        {
            "customer_id": pa.array(np.arange(100_000, 100_000 + rows), pa.int64()),
            "full_name": [f"Realperson Number{i}" for i in range(rows)],
            "email": [f"real.person{i}@realcorp.test" for i in range(rows)],
            "phone": [f"+1-202-{i:07d}" for i in range(rows)],
            "age": pa.array(np.rint(age).astype(np.int64)),
            "income": pa.array(income.round(2)),
            "spend": pa.array(spend.round(2)),
            "segment": segment.tolist(),
            "region": region.tolist(),
        }
    )


def make_ctx(
    home: Path,
    template: dict[str, Any],
    config: dict[str, Any],
    *,
    inputs: tuple[str, ...] = ("load",),
    execution_id: str = "exec-1",
    input_type: tuple[str, str] = ("source", "file"),
    metrics: Any = None,
) -> BuildContext:
    """A BuildContext for one ``privacy/synthetic`` node reading from node ``load``."""
    nodes: list[dict[str, Any]] = [
        {"id": i, "nodeType": input_type[0], "category": input_type[1], "config": {}}
        for i in inputs
    ]
    nodes.append(
        {
            "id": "synth",
            "nodeType": "privacy",
            "category": "synthetic",
            "inputs": list(inputs),
            "config": config,
        }
    )
    spec = PipelineSpec.model_validate({"id": "synthetic_test", "nodes": nodes})
    catalog = DictCatalog({"syntheticTemplates": {template["id"]: template}})
    return BuildContext(
        spec=spec,
        node=spec.node("synth"),
        catalog=catalog,
        execution_id=execution_id,
        options=RunOptions(home=home, base_dir=home),
        **({"metrics": metrics} if metrics is not None else {}),
    )


class RecordingMetrics:
    """A picklable metrics handle that keeps what Ray workers send (counters, states).

    Run-time facts of the synthetic node arrive as its ``synthetic`` state; tests that
    call ``build`` directly read them here.
    """

    def __init__(self) -> None:
        import ray

        @ray.remote(num_cpus=0)
        class _Store:
            def __init__(self) -> None:
                self.counters: dict[str, float] = {}
                self.states: dict[str, Any] = {}

            def add(self, counters: dict[str, float]) -> None:
                for k, v in counters.items():
                    self.counters[k] = self.counters.get(k, 0.0) + v

            def merge_state(self, name: str, state: Any) -> None:
                cur = self.states.get(name)
                self.states[name] = state if cur is None else cur.merge(state)

            def get(self) -> tuple[dict[str, float], dict[str, Any]]:
                return self.counters, {k: v.to_dict() for k, v in self.states.items()}

        self.actor = _Store.remote()  # type: ignore[attr-defined]

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        self.actor.add.remote(counters)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        self.actor.merge_state.remote(name, state)

    def counters(self) -> dict[str, float]:
        import ray

        return ray.get(self.actor.get.remote())[0]

    def states(self) -> dict[str, Any]:
        import ray

        return ray.get(self.actor.get.remote())[1]
