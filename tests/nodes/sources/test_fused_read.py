"""A file source with as many files as CPUs is read in one fused stage with the row-local
work after it (Ray Data's own statistics say which stages ran); every row arrives once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa


def _files(folder: Path, n: int, rows: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        lines = ["id,v"] + [f"{i * rows + r},{r % 7}" for r in range(rows)]
        (folder / f"part-{i}.csv").write_text("\n".join(lines) + "\n")
    return folder


def _plan(kit, folder: Path) -> tuple[str, pa.Table]:  # type: ignore[no-untyped-def]
    ctx = kit.ctx(
        {"id": "load", "nodeType": "source", "category": "file",
         "config": {"uri": str(folder), "format": "csv"}},
        {},
    )  # fmt: skip
    ds = kit.build(ctx).map_batches(lambda t: t, batch_format="pyarrow", batch_size=None)
    table = kit.read_all(ds)
    return ds.stats(), table


def test_as_many_files_as_cpus_fuse_the_read_with_the_map(
    ray_session, kit, tmp_data_root: Path
) -> None:
    cpus = int(ray_session.cluster_resources()["CPU"])
    stats, table = _plan(kit, _files(tmp_data_root / "many", cpus * 2, 500))
    assert "ReadTabularFile->MapBatches" in stats, stats
    assert sorted(table.column("id").to_pylist()) == list(range(cpus * 2 * 500))


def test_fewer_files_than_cpus_keep_ray_datas_separate_stages(
    ray_session, kit, tmp_data_root: Path
) -> None:
    stats, table = _plan(kit, _files(tmp_data_root / "one", 1, 2000))
    assert "ReadTabularFile->MapBatches" not in stats, stats
    assert sorted(table.column("id").to_pylist()) == list(range(2000))
