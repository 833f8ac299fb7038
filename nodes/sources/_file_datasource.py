"""The Ray Data datasource behind ``source/file`` for CSV and JSON Lines.

Ray Data's file machinery (listing, parallel read tasks, decompression by extension,
retries of transient I/O errors) with this package's per-file readers
(:mod:`nodes.sources._tabular`): errors that name the file and line, ``onError`` for
bad rows, null empty fields, and one schema across files, planned when the run asks
for its read tasks (on the driver, at the start of the run).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from ray.data.datasource.file_based_datasource import FileBasedDatasource

from nodes.sources._tabular import (
    ReadPolicy,
    plan_schema,
    probe_csv,
    probe_jsonl,
    read_csv,
    read_jsonl,
)


class TabularFileDatasource(FileBasedDatasource):
    """CSV / JSON Lines files read by :mod:`nodes.sources._tabular`."""

    def __init__(self, paths: str | list[str], policy: ReadPolicy, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.policy = policy
        self._planned = False

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: Any = None, data_context: Any = None
    ):  # type: ignore[no-untyped-def]
        if not self._planned:
            self.policy.schema = plan_schema(self.policy, self._paths(), self._probe)
            self.policy.record_schema(self.policy.schema)
            self._planned = True
        return super().get_read_tasks(parallelism, per_task_row_limit, data_context)

    def _open(self, path: str) -> Any:
        return self._open_input_source(self._filesystem, path, **dict(self._open_stream_args or {}))

    def _probe(self, path: str) -> pa.Schema | None:
        try:
            with self._open(path) as f:
                if self.policy.fmt == "csv":
                    return probe_csv(f, self.policy)
                return probe_jsonl(f, self.policy)
        except OSError:
            return None  # the read itself reports what is wrong with the file

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        if self.policy.fmt == "csv":
            yield from read_csv(f, path, self.policy, reopen=self._open)
        else:
            yield from read_jsonl(f, path, self.policy)
