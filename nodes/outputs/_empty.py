"""Zero-row outputs: the columns of an input that produced no rows.

Ray Data drops empty blocks together with their schema, so an output whose input has
no rows (a header-only CSV, a query that matches nothing, a validator that drops every
row) sees no block and no schema. The run's metrics know the columns: the schema of
the first block each node emitted, and the schema a source planned before reading
(``states.schema``, recorded by ``source/file`` and the database source). The nearest
upstream node that knows its columns gives the empty output its schema.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def _type(name: str) -> pa.DataType:
    try:
        return pa.type_for_alias(name)
    except ValueError:
        return pa.string()


def input_schema(ctx: Any) -> pa.Schema | None:
    """The columns of the output node's input, from the nearest upstream node that knows."""
    snapshot = getattr(ctx.metrics, "snapshot", None)
    if snapshot is None:
        return None
    import ray

    snap = snapshot(with_states=True)
    if isinstance(snap, ray.ObjectRef):
        snap = ray.get(snap)
    todo, seen = list(ctx.node.inputs), set()
    while todo:
        nid = todo.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        cols = snap.get("schemas", {}).get(nid) or snap.get("states", {}).get(nid, {}).get("schema")
        if cols:
            return pa.schema([(str(n), _type(str(t))) for n, t in cols])
        try:
            todo += list(ctx.spec.node(nid).inputs)
        except KeyError:
            continue
    return None


def empty_table(ctx: Any) -> pa.Table:
    """A zero-row table with the input's columns (no columns if nothing upstream knows)."""
    schema = input_schema(ctx)
    return (schema or pa.schema([])).empty_table()
