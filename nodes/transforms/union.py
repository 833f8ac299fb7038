"""``transform/union``: concatenate the rows of several upstream nodes (fan-in).

Streams: blocks of every input flow through unchanged, nothing is collected. With
``columns`` each input is first projected onto that column list (a column an input
lacks becomes nulls), so inputs with different schemas can be combined; without it the
inputs must have the same columns. ``sourceColumn`` adds a column naming the input node
each row came from (useful for lineage after the union).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import Field

from engine.context import BuildContext
from engine.registry import NodeConfig, register

if TYPE_CHECKING:
    from ray.data import Dataset


class UnionConfig(NodeConfig):
    """Config of ``transform/union``."""

    columns: list[str] | None = Field(
        None, description="Project every input onto these columns (missing ones are null)."
    )
    sourceColumn: str | None = Field(None, description="Add a column with the input node id.")


def _shape(
    batch: pa.Table, *, columns: list[str] | None, source: str | None, source_id: str
) -> pa.Table:
    if columns is not None:
        arrays = [
            batch.column(c) if c in batch.column_names else pa.nulls(batch.num_rows)
            for c in columns
        ]
        batch = pa.table(arrays, names=columns)
    if source:
        batch = batch.append_column(source, pa.array([source_id] * batch.num_rows, pa.string()))
    return batch


@register(
    "transform",
    "union",
    config=UnionConfig,
    inputs=(2, None),
    description="Concatenate the rows of several inputs (fan-in)",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: UnionConfig) -> Dataset:
    shaped: list[Any] = []
    for source_id, ds in zip(ctx.node.inputs, inputs, strict=True):
        if config.columns is not None or config.sourceColumn:
            ds = ds.map_batches(
                functools.partial(
                    _shape, columns=config.columns, source=config.sourceColumn, source_id=source_id
                ),
                batch_format="pyarrow",
                batch_size=None,
                zero_copy_batch=True,
            )
        shaped.append(ds)
    return shaped[0].union(*shaped[1:])
