"""The block-by-block Parquet writer of output/archive and output/environment."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from nodes.outputs import _parquet_sink
from nodes.outputs._parquet_sink import _TaskFiles, streaming_parquet_sink

pytestmark = pytest.mark.usefixtures("ray_session")


def _blocks(n: int, rows: int) -> list[pa.Table]:
    return [
        pa.table({"id": pa.array(range(i * rows, (i + 1) * rows)), "v": [f"r{i}"] * rows})
        for i in range(n)
    ]


def test_a_dataset_of_many_blocks_is_written_whole(tmp_path: Path) -> None:
    import pyarrow.fs as pafs
    import ray.data

    ds = ray.data.from_arrow(_blocks(12, 1_000)).repartition(3)
    ds.write_datasink(
        streaming_parquet_sink(str(tmp_path), filesystem=pafs.LocalFileSystem(), compression=None)
    )
    files = sorted(tmp_path.glob("*.parquet"))
    assert 1 <= len(files) <= 3  # one file per write task
    table = pads.dataset(str(tmp_path), format="parquet").to_table()
    assert table.num_rows == 12_000
    assert sorted(table["id"].to_pylist()) == list(range(12_000))
    # the blocks of a task were gathered into large row groups, not one per block
    assert all(pq.read_metadata(f).num_row_groups == 1 for f in files)


def test_row_groups_are_bounded_and_nothing_is_lost(tmp_path: Path, monkeypatch) -> None:
    import pyarrow.fs as pafs

    blocks = _blocks(10, 500)
    monkeypatch.setattr(_parquet_sink, "ROW_GROUP_BYTES", blocks[0].nbytes * 3)
    files = _TaskFiles(str(tmp_path), "part-{i}.parquet", pafs.LocalFileSystem(), None)
    most_pending = 0
    for b in blocks:
        files.add(b)
        most_pending = max(most_pending, files.pending_bytes)
    files.close()
    assert most_pending < blocks[0].nbytes * 3  # a row group is written once it is full
    meta = pq.read_metadata(tmp_path / "part-0.parquet")
    assert meta.num_row_groups == 4  # 3 + 3 + 3 + 1 blocks
    assert pq.read_table(tmp_path / "part-0.parquet")["id"].to_pylist() == list(range(5_000))


def test_a_block_of_another_schema_is_cast_or_gets_a_file_of_its_own(tmp_path: Path) -> None:
    import pyarrow.fs as pafs

    files = _TaskFiles(str(tmp_path), "part-{i}.parquet", pafs.LocalFileSystem(), "snappy")
    files.add(pa.table({"id": [1, 2], "v": ["a", "b"]}))
    files.add(pa.table({"v": ["c"], "id": pa.array([3], pa.int32())}))  # reordered, narrower
    files.add(pa.table({"id": [4], "v": [1.5]}))  # a string column as float: castable
    files.add(pa.table({"id": [5], "w": [True]}))  # other columns: a new file
    files.close()
    first = pq.read_table(tmp_path / "part-0.parquet")
    assert first.schema == pa.schema([("id", pa.int64()), ("v", pa.string())])
    assert first["id"].to_pylist() == [1, 2, 3, 4]
    assert first["v"].to_pylist() == ["a", "b", "c", "1.5"]
    assert pq.read_table(tmp_path / "part-1.parquet").to_pylist() == [{"id": 5, "w": True}]


def test_a_failing_stream_closes_its_file_and_raises(tmp_path: Path) -> None:
    import pyarrow.fs as pafs
    import ray.data

    def broken(batch: pa.Table) -> pa.Table:
        if 7_000 in batch["id"].to_pylist():
            raise ValueError("block 7 is bad")
        return batch

    ds = ray.data.from_arrow(_blocks(12, 1_000)).map_batches(
        broken, batch_format="pyarrow", batch_size=None
    )
    with pytest.raises(Exception, match="block 7 is bad"):
        ds.write_datasink(
            streaming_parquet_sink(
                str(tmp_path), filesystem=pafs.LocalFileSystem(), compression="zstd"
            )
        )
