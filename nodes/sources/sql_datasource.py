"""A Ray Data datasource streaming SQL query results as Arrow blocks.

One read task per partition (see :mod:`nodes.sources.sql_query`); each opens its own
read-only connection, runs its slice of the query with a server-side cursor
(``yield_per``) and turns every ``fetchSize`` rows into one Arrow block, so a task
holds at most one chunk of rows at a time whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from engine.errors import NodeError
from nodes.sources.sql_connect import ConnectionInfo
from nodes.sources.sql_query import Partition


class RowsToArrow:
    """Turns chunks of DB-API rows into Arrow tables with one stable schema.

    The schema is inferred from the first chunk; later chunks are built with it, and a
    column first seen as all-NULL (or as ints, then floats) is widened when needed.
    """

    def __init__(self, node_id: str, columns: Sequence[str]) -> None:
        self.node_id = node_id
        self.columns = list(columns)
        self.types: list[pa.DataType | None] = [None] * len(self.columns)

    def convert(self, rows: Sequence[Sequence[Any]]) -> pa.Table:
        values = list(zip(*rows, strict=True)) if rows else [()] * len(self.columns)
        arrays = []
        for i, column in enumerate(values):
            arrays.append(self._array(i, list(column)))
        return pa.Table.from_arrays(arrays, names=self.columns)

    def _array(self, i: int, column: list[Any]) -> pa.Array:
        known = self.types[i]
        if known is not None and not pa.types.is_null(known):
            try:
                return pa.array(column, type=known)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                pass  # widened below
        try:
            arr = pa.array(column)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            sample = next((v for v in column if v is not None), None)
            raise NodeError(
                self.node_id,
                f"column '{self.columns[i]}' mixes value types (e.g. {sample!r}) that do not "
                f"fit one Arrow type: {exc}; cast it in the query's SQL",
            ) from None
        if known is not None and not pa.types.is_null(known) and arr.type != known:
            widened = (
                pa.unify_schemas(
                    [pa.schema([("c", known)]), pa.schema([("c", arr.type)])],
                    promote_options="permissive",
                )
                .field("c")
                .type
            )
            arr = arr.cast(widened)
        self.types[i] = arr.type
        return arr


def stream_partition(
    conn_info: ConnectionInfo,
    partition: Partition,
    params: dict[str, Any],
    fetch_size: int,
    limit: int | None = None,
    on_empty: Callable[[pa.Schema], None] | None = None,
) -> Iterator[pa.Table]:
    """Yield the rows of one partition as Arrow tables of at most ``fetch_size`` rows.

    Args:
        conn_info: Where to connect (read-only).
        partition: SQL and range bounds of the slice.
        params: The template's bound values.
        fetch_size: Rows per server round trip and per block.
        limit: Stop after this many rows (previews).

    Raises:
        NodeError: connecting or querying failed (message without secrets).
    """
    from sqlalchemy import text

    stmt = text(partition.sql)
    with conn_info.connect() as conn:
        try:
            result = conn.execution_options(yield_per=fetch_size).execute(
                stmt, {**params, **partition.bounds}
            )
            converter = RowsToArrow(conn_info.node_id, list(result.keys()))
            produced = 0
            emitted = False
            for chunk in result.partitions(fetch_size):
                if limit is not None:
                    chunk = chunk[: limit - produced]
                produced += len(chunk)
                table = converter.convert(chunk)
                emitted = True
                yield table
                if limit is not None and produced >= limit:
                    break
            if not emitted:
                empty = converter.convert([])
                if on_empty is not None:  # Ray drops empty blocks with their schema
                    on_empty(empty.schema)
                yield empty
            result.close()
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(
                conn_info.node_id,
                f"query on {conn_info.display_url} ({partition.label}) failed: "
                f"{conn_info.scrub_error(exc)}",
            ) from None


class SqlDatasource:
    """Factory of the Ray Datasource; kept apart so this module imports without Ray."""

    @staticmethod
    def create(
        conn_info: ConnectionInfo,
        partitions: list[Partition],
        params: dict[str, Any],
        fetch_size: int,
        on_empty: Callable[[pa.Schema], None] | None = None,
    ) -> Any:
        from ray.data import Datasource, ReadTask
        from ray.data.block import BlockMetadata

        class _SqlDatasource(Datasource):
            def estimate_inmemory_data_size(self) -> int | None:
                return None

            def get_name(self) -> str:
                return "SQL"

            def get_read_tasks(
                self,
                parallelism: int,
                per_task_row_limit: int | None = None,
                data_context: Any = None,
            ) -> list[ReadTask]:
                tasks = []
                for part in partitions:

                    def read(part: Partition = part) -> Iterator[pa.Table]:
                        yield from stream_partition(
                            conn_info, part, params, fetch_size, on_empty=on_empty
                        )

                    tasks.append(
                        ReadTask(
                            read,
                            BlockMetadata(None, None, None, None),
                            per_task_row_limit=per_task_row_limit,
                        )
                    )
                return tasks

        return _SqlDatasource()
