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


def data_files(fs: Any, folder: str) -> list[str]:
    """Visible files under ``folder`` (names starting with ``.`` or ``_`` are not data)."""
    import pyarrow.fs as pafs

    sel = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
    return [
        i.path
        for i in fs.get_file_info(sel)
        if i.type == pafs.FileType.File and not i.base_name.startswith((".", "_"))
    ]


def write_empty(ctx: Any, fs: Any, folder: str, fmt: str) -> str | None:
    """If ``folder`` holds no data file, write one with the input's columns and no rows
    (Parquet: the schema; CSV: the header; JSON Lines: an empty file); returns its name.
    Formats without a schema-only file (tfrecord, npz) get none: their manifest carries
    the columns."""
    if data_files(fs, folder):
        return None
    ext = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "json": "jsonl"}.get(fmt)
    if ext is None:
        return None
    table = empty_table(ctx)
    fs.create_dir(folder, recursive=True)
    name = f"part-empty.{ext}"
    with fs.open_output_stream(f"{folder.rstrip('/')}/{name}") as f:
        if ext == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, f)
        elif ext == "csv":
            f.write((",".join(_csv_quote(n) for n in table.column_names) + "\n").encode())
    return name


def _csv_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name
