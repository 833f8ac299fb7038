"""A test-only node type that records which Ray node processed each row.

``transform/test_node_probe`` adds a ``ray_node`` column holding the id of the Ray node
whose worker ran the batch (``ray.get_runtime_context().get_node_id()``), and can sleep
per batch so a run lasts long enough to lose a node in the middle of it.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import pyarrow as pa

from engine.registry import NodeConfig, Registry, default_registry

# A private copy of the default registry: tests pass it to run_pipeline(registry=...).
REGISTRY: Registry = default_registry().copy()


class NodeProbeConfig(NodeConfig):
    secondsPerBatch: float = 0.0
    batchSize: int = 500


def _probe(batch: pa.Table, *, seconds: float) -> pa.Table:
    import ray

    if seconds:
        time.sleep(seconds)
    node_id = ray.get_runtime_context().get_node_id()
    return batch.append_column("ray_node", pa.array([node_id] * batch.num_rows, pa.string()))


@REGISTRY.register(
    "transform",
    "test_node_probe",
    config=NodeProbeConfig,
    description="test only: add the Ray node id that processed each row",
)
def build(*, ctx: Any, inputs: list[Any], config: NodeProbeConfig) -> Any:
    return inputs[0].map_batches(
        functools.partial(_probe, seconds=config.secondsPerBatch),
        batch_format="pyarrow",
        batch_size=config.batchSize,
    )
