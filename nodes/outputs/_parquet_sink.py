"""Parquet files written block by block, in bounded memory.

Ray Data's own Parquet writer (``Dataset.write_parquet``) first collects every block of a
write task in a list, then writes them with ``pyarrow.dataset.write_dataset``. When the
read, the row-local transforms and the write are fused into one task (one task per input
file, ``nodes/sources/file.py``), that list is a whole input file in memory; and
``write_dataset`` makes one row group of every block it is given (blocks of a few MiB),
which costs about twice the encoding time of large row groups (benchmarks/RESULTS.md,
"Engine overhead").

:class:`StreamingParquetDatasink` keeps Ray Data's datasink (the output folder, its
save mode, the file names of each task) and writes each task's blocks as they arrive
into one Parquet file per task, through ``pyarrow.parquet.ParquetWriter``. Blocks are
gathered into row groups of up to :data:`ROW_GROUP_BYTES` (or Arrow's default of 1 Mi
rows), so a task holds at most one row group and one block, whatever the size of its
input. A block whose schema differs from the file's and cannot be cast to it (a column
that was all null in the first blocks, say) starts a new file.

Partitioned writes and ``rowsPerFile`` keep Ray Data's writer, which implements them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

ROW_GROUP_BYTES = 64 << 20  # bytes of Arrow data gathered before a row group is written
ROW_GROUP_ROWS = 1 << 20  # Arrow's default largest row group


def streaming_parquet_sink(path: str, *, filesystem: Any, compression: str | None) -> Any:
    """A Ray Data datasink writing Parquet under ``path`` (see the module docs)."""
    from ray.data._internal.datasource.parquet_datasink import ParquetDatasink
    from ray.data.block import BlockAccessor

    class StreamingParquetDatasink(ParquetDatasink):  # type: ignore[misc]
        def write(self, blocks: Iterable[Any], ctx: Any) -> None:
            from ray.data._internal.datasource.parquet_datasink import WRITE_UUID_KWARG_NAME

            write_uuid = ctx.kwargs[WRITE_UUID_KWARG_NAME]
            template = self._get_basename_template(
                self.filename_provider.get_filename_for_task(write_uuid, ctx.task_idx),
                write_uuid,
            )
            files = _TaskFiles(self.path, template, self.filesystem, compression)
            try:
                for block in blocks:
                    table = BlockAccessor.for_block(block).to_arrow()
                    if table.num_rows:
                        files.add(table)
                files.close()
            except BaseException:
                files.abort()
                raise

    return StreamingParquetDatasink(
        path,
        filesystem=filesystem,
        arrow_parquet_args={"compression": compression} if compression else {},
    )


class _TaskFiles:
    """The Parquet file(s) one write task produces, with the row group being gathered."""

    def __init__(self, root: str, template: str, fs: Any, compression: str | None) -> None:
        self.root = root.rstrip("/")
        self.template = template
        self.fs = fs
        self.compression = compression or "none"
        self.writer: Any = None
        self.schema: pa.Schema | None = None
        self.files = 0
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.pending_bytes = 0

    def add(self, table: pa.Table) -> None:
        if self.schema is not None and not table.schema.equals(self.schema):
            table = self._conform(table)
        if self.writer is None:
            self._open(table.schema)
        self.pending.append(table)
        self.pending_rows += table.num_rows
        self.pending_bytes += table.nbytes
        if self.pending_bytes >= ROW_GROUP_BYTES or self.pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _conform(self, table: pa.Table) -> pa.Table:
        assert self.schema is not None
        if set(table.column_names) == set(self.schema.names):
            try:
                return table.select(self.schema.names).cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
        self.close()  # another schema: a file of its own
        return table

    def _open(self, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        name = self.template.format(i=self.files)
        self.files += 1
        self.schema = schema
        self.writer = pq.ParquetWriter(
            f"{self.root}/{name}", schema, filesystem=self.fs, compression=self.compression
        )

    def _flush(self) -> None:
        if self.pending:
            group = self.pending[0] if len(self.pending) == 1 else pa.concat_tables(self.pending)
            self.writer.write_table(group, row_group_size=max(group.num_rows, 1))
        self.pending, self.pending_rows, self.pending_bytes = [], 0, 0

    def close(self) -> None:
        if self.writer is not None:
            self._flush()
            self.writer.close()
        self.writer, self.schema = None, None

    def abort(self) -> None:
        """Close what is open after a failure (the run's staging folder is discarded)."""
        self.pending = []
        if self.writer is not None:
            with contextlib.suppress(Exception):  # the original failure is what is raised
                self.writer.close()
        self.writer = None
