"""A test-only node type that sleeps per batch (cancellation, timing), in :data:`REGISTRY`."""

from __future__ import annotations

import functools
import time
from typing import Any

import pyarrow as pa

from engine.registry import NodeConfig, Registry, default_registry

# A private copy of the default registry: tests pass it to run_pipeline(registry=...).
REGISTRY: Registry = default_registry().copy()


class SleepConfig(NodeConfig):
    secondsPerBatch: float = 0.2


def _sleep(batch: pa.Table, *, seconds: float) -> pa.Table:
    time.sleep(seconds)
    return batch


@REGISTRY.register(
    "transform",
    "test_sleep",
    config=SleepConfig,
    description="test only: sleep per batch",
    row_local=True,
)
def build(*, ctx: Any, inputs: list[Any], config: SleepConfig) -> Any:
    return inputs[0].map_batches(
        functools.partial(_sleep, seconds=config.secondsPerBatch),
        batch_format="pyarrow",
        batch_size=200,
    )
