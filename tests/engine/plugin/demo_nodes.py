"""A third-party node family in one module: a source of a new kind and a transform.

Nothing else in the project names these types: the registry, preview, checkpointing
and lineage learn everything from the traits declared here.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from engine.registry import NodeConfig, Registry, default_registry

REGISTRY: Registry = default_registry().copy()


class CounterConfig(NodeConfig):
    dataSourceId: str | None = None
    rows: int = 10


def _counter_table(start: int, stop: int) -> pa.Table:
    ids = list(range(start, stop))
    return pa.table({"id": ids, "word": [f"w{i:05d}" for i in ids]})


def preview(resource: dict[str, Any], catalog: Any, limit: int = 5) -> pa.Table:
    """The first ``limit`` rows a ``counter`` data source would produce."""
    return _counter_table(0, min(limit, int(resource.get("rows", 10))))


@REGISTRY.register(
    "source",
    "counter",
    config=CounterConfig,
    inputs=(0, 0),
    source_kind="counter",
    preview=preview,
    description="test plug-in: rows 0..n-1",
)
def build_counter(*, ctx: Any, inputs: list[Any], config: CounterConfig) -> Any:
    import ray.data

    rows = config.rows
    if config.dataSourceId:
        rows = int(ctx.catalog.get("dataSources", config.dataSourceId).get("rows", rows))
    ctx.report("location", f"counter://{rows}")
    return ray.data.range(rows, override_num_blocks=4).map_batches(
        lambda b: _counter_table(int(b["id"][0].as_py()), int(b["id"][-1].as_py()) + 1),
        batch_format="pyarrow",
    )


class UpperConfig(NodeConfig):
    column: str


def _upper(batch: pa.Table, *, column: str) -> pa.Table:
    i = batch.schema.get_field_index(column)
    return batch.set_column(i, column, pc.utf8_upper(batch[column]))


@REGISTRY.register(
    "transform",
    "upper",
    config=UpperConfig,
    row_local=True,
    lineage_name="uppercasing",
    description="test plug-in: upper-case one column",
)
def build_upper(*, ctx: Any, inputs: list[Any], config: UpperConfig) -> Any:
    import functools

    return inputs[0].map_batches(
        functools.partial(_upper, column=config.column), batch_format="pyarrow"
    )
