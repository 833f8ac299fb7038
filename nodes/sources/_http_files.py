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

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

BLOCK_BYTES = 16 * 1024 * 1024


def _open(uri: str):
    import smart_open

    return smart_open.open(uri, "rb", compression="infer_from_extension")


def _read_csv(uri: str, delimiter: str | None) -> Iterator[pa.Table]:
    with _open(uri) as f:
        parse = pacsv.ParseOptions(delimiter=delimiter) if delimiter else None
        reader = pacsv.open_csv(
            f, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES), parse_options=parse
        )
        for batch in reader:
            yield pa.Table.from_batches([batch])


def _read_jsonl(uri: str) -> Iterator[pa.Table]:
    with _open(uri) as f:
        while True:
            chunk = f.read(BLOCK_BYTES)
            if not chunk:
                return
            rest = f.readline()  # finish the last line so every chunk parses alone
            data = chunk + rest
            if data.strip():
                yield pajson.read_json(io.BytesIO(data))


def _read_parquet(uri: str) -> Iterator[pa.Table]:
    with tempfile.TemporaryFile() as tmp:
        with _open(uri) as f:
            while buf := f.read(BLOCK_BYTES):
                tmp.write(buf)
        tmp.seek(0)
        pf = pq.ParquetFile(tmp)
        for i in range(pf.num_row_groups):
            yield pf.read_row_group(i)


class HttpFileDatasource(Datasource):
    """Files read through smart-open, one read task per file."""

    def __init__(self, uris: list[str], fmt: str, *, delimiter: str | None = None) -> None:
        super().__init__()
        self.uris = uris
        self.fmt = fmt
        self.delimiter = delimiter

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None):
        tasks = []
        fmt, delim = self.fmt, self.delimiter
        for uri in self.uris:

            def read(uri: str = uri) -> Iterator[pa.Table]:
                if fmt == "csv":
                    yield from _read_csv(uri, delim)
                elif fmt == "jsonl":
                    yield from _read_jsonl(uri)
                else:
                    yield from _read_parquet(uri)

            meta = BlockMetadata(
                num_rows=None, size_bytes=None, input_files=(uri,), exec_stats=None
            )
            tasks.append(ReadTask(read, meta, per_task_row_limit=per_task_row_limit))
        return tasks
