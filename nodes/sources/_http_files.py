"""Stream files over HTTP(S) (or any smart-open URI) into Arrow blocks.

One read task per file; each task opens the file as a stream (smart-open decompresses
``.gz``/``.bz2``/``.zst`` by extension) and yields blocks of about ``block_bytes``, so a
large remote file never sits whole in memory. Parquet needs random access, so it is
spooled to a local temp file first and read row group by row group.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from engine import egress

BLOCK_BYTES = 16 * 1024 * 1024


def _open(uri: str, allow: egress.Allowlist | None = None):
    """The file as a stream; http(s) through the egress guard (every redirect hop is
    checked and pinned again), decompressed by extension."""
    from smart_open.compression import compression_wrapper

    if uri.split(":", 1)[0].lower() in ("http", "https"):
        raw = egress.open_stream(uri, what="file source", allow=allow)
        return compression_wrapper(raw, "rb", filename=uri.split("?", 1)[0])
    import smart_open

    return smart_open.open(uri, "rb", compression="infer_from_extension")


def _read_csv(
    uri: str, delimiter: str | None, allow: egress.Allowlist | None = None
) -> Iterator[pa.Table]:
    with _open(uri, allow) as f:
        parse = pacsv.ParseOptions(delimiter=delimiter) if delimiter else None
        reader = pacsv.open_csv(
            f, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES), parse_options=parse
        )
        for batch in reader:
            yield pa.Table.from_batches([batch])


def _read_jsonl(uri: str, allow: egress.Allowlist | None = None) -> Iterator[pa.Table]:
    with _open(uri, allow) as f:
        while True:
            chunk = f.read(BLOCK_BYTES)
            if not chunk:
                return
            rest = f.readline()  # finish the last line so every chunk parses alone
            data = chunk + rest
            if data.strip():
                yield pajson.read_json(io.BytesIO(data))


def _read_parquet(uri: str, allow: egress.Allowlist | None = None) -> Iterator[pa.Table]:
    with tempfile.TemporaryFile() as tmp:
        with _open(uri, allow) as f:
            while buf := f.read(BLOCK_BYTES):
                tmp.write(buf)
        tmp.seek(0)
        pf = pq.ParquetFile(tmp)
        for i in range(pf.num_row_groups):
            yield pf.read_row_group(i)


def _probe(uri: str, fmt: str, policy: Any, allow: egress.Allowlist | None) -> Any:
    from nodes.sources._tabular import probe_csv, probe_jsonl

    try:
        with _open(uri, allow) as f:
            return probe_csv(f, policy) if fmt == "csv" else probe_jsonl(f, policy)
    except OSError:
        return None  # the read itself reports what is wrong


def _read_tabular(
    uri: str, fmt: str, policy: Any, allow: egress.Allowlist | None
) -> Iterator[pa.Table]:
    from nodes.sources._tabular import read_csv, read_jsonl

    with _open(uri, allow) as f:
        if fmt == "csv":
            yield from read_csv(f, uri, policy, reopen=lambda u: _open(u, allow))
        else:
            yield from read_jsonl(f, uri, policy)


class HttpFileDatasource(Datasource):
    """Files read through smart-open, one read task per file."""

    def __init__(
        self,
        uris: list[str],
        fmt: str,
        *,
        delimiter: str | None = None,
        allow: egress.Allowlist | None = None,
        policy: Any = None,
    ) -> None:
        super().__init__()
        # CSV / JSON Lines read row-exactly (nodes.sources._tabular) when a policy is given
        self.policy = policy
        # the operator's egress allow-list as the driver saw it (workers may lack the env)
        self.allow = allow if allow is not None else egress.allowlist()
        self.uris = uris
        self.fmt = fmt
        self.delimiter = delimiter

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None):
        tasks = []
        fmt, delim, allow, policy = self.fmt, self.delimiter, self.allow, self.policy
        if policy is not None and fmt in ("csv", "jsonl") and policy.schema is None:
            from nodes.sources._tabular import plan_schema

            policy.schema = plan_schema(policy, self.uris, lambda u: _probe(u, fmt, policy, allow))
            policy.record_schema(policy.schema)
        for uri in self.uris:

            def read(uri: str = uri) -> Iterator[pa.Table]:
                if policy is not None and fmt in ("csv", "jsonl"):
                    yield from _read_tabular(uri, fmt, policy, allow)
                elif fmt == "csv":
                    yield from _read_csv(uri, delim, allow)
                elif fmt == "jsonl":
                    yield from _read_jsonl(uri, allow)
                else:
                    yield from _read_parquet(uri, allow)

            meta = BlockMetadata(
                num_rows=None, size_bytes=None, input_files=(uri,), exec_stats=None
            )
            tasks.append(ReadTask(read, meta, per_task_row_limit=per_task_row_limit))
        return tasks
