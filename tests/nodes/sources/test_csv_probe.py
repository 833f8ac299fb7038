"""The run's schema planning reads only the head of each CSV file (nodes/sources/_tabular.py)."""

from __future__ import annotations

import io

import pyarrow as pa

from nodes.sources._tabular import PROBE_BLOCK, ReadPolicy, probe_csv


class _CountingFile(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.bytes_read += len(chunk)
        return chunk


def _policy() -> ReadPolicy:
    return ReadPolicy(node_id="load", fmt="csv")


def test_only_the_first_block_of_a_large_file_is_read() -> None:
    rows = "".join(f"{i},name {i},{i * 0.5},2024-01-{1 + i % 28:02d}\n" for i in range(400_000))
    f = _CountingFile(("id,name,score,joined\n" + rows).encode())
    schema = probe_csv(f, _policy())
    assert schema == pa.schema(
        [("id", pa.int64()), ("name", pa.string()), ("score", pa.float64()),
         ("joined", pa.date32())]
    )  # fmt: skip
    assert f.bytes_read == PROBE_BLOCK  # not Arrow's read-ahead of 8 blocks


def test_a_quoted_value_across_the_first_block_is_read_on() -> None:
    body = b'1,"' + b"a line of a long note\n" * (PROBE_BLOCK // 20) + b'"\n2,short\n'
    schema = probe_csv(io.BytesIO(b"id,note\n" + body), _policy())
    assert schema == pa.schema([("id", pa.int64()), ("note", pa.string())])


def test_small_and_empty_files() -> None:
    assert probe_csv(io.BytesIO(b"a,b\n1,x\n"), _policy()) == pa.schema(
        [("a", pa.int64()), ("b", pa.string())]
    )
    assert probe_csv(io.BytesIO(b""), _policy()) is None
