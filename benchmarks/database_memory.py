"""Peak memory of reading a database table with ``source/database``, by table size.

For each size a SQLite table of N rows is generated locally (no downloads), then a
fresh process with its own Ray session reads it through the node's build function
(range partitions over the key, server-side-cursor chunks) into a drain sink that
only counts rows. A sampler sums the proportional set size (PSS) of the process and
every descendant (Ray's raylet, GCS, workers, object store) every 0.2 s; the baseline
is taken after the Ray workers have started. Streaming holds if the peak above that
baseline does not grow with N.

Run::

    python -m benchmarks.database_memory                        # 200k vs 1M rows (short)
    python -m benchmarks.database_memory --rows 500000 5000000  # the figures in RESULTS
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def make_table(path: Path, rows: int) -> None:
    """A ``readings`` table of ``rows`` rows: id, sensor, value, day, note (about 60 B/row)."""
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE readings "
        "(id INTEGER PRIMARY KEY, sensor TEXT, value REAL, day TEXT, note TEXT)"
    )
    con.execute(
        """
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
        INSERT INTO readings
        SELECT x, 'sensor-' || (x % 1000), (x % 9973) * 0.37,
               date('2020-01-01', '+' || (x % 1500) || ' days'),
               'reading number ' || x || ' of the benchmark table'
        FROM n
        """,
        (rows,),
    )
    con.commit()
    con.close()


def child(db: Path, rows: int, partitions: int, fetch_size: int) -> dict[str, Any]:
    """Read the table in this process's own Ray session; return the figures."""
    import ray

    from benchmarks._common import PeakSampler, tree_memory

    ray.init(
        num_cpus=2,
        object_store_memory=256 * MB,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False
    DataContext.get_current().print_on_execution_start = False

    from engine.catalog import DictCatalog
    from engine.context import BuildContext, RunOptions
    from engine.spec.models import PipelineSpec
    from nodes.sources.database import DatabaseSourceConfig, build

    resource = {
        "id": "ds_bench",
        "type": "database",
        "url": f"sqlite:///{db}",
        "queries": {"all": "SELECT id, sensor, value, day, note FROM readings"},
        "partitionColumn": "id",
        "partitions": partitions,
        "fetchSize": fetch_size,
    }
    node = {
        "id": "load",
        "nodeType": "source",
        "category": "database",
        "config": {"dataSourceId": "ds_bench"},
    }
    spec = PipelineSpec.model_validate({"id": "bench", "nodes": [node]})
    home = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    ctx = BuildContext(
        spec=spec,
        node=spec.nodes[0],
        catalog=DictCatalog({"dataSources": {"ds_bench": resource}}),
        execution_id="bench",
        options=RunOptions(home=home, base_dir=home),
    )
    # Start the worker processes (and their pyarrow imports) before the baseline, so the
    # figure above it is what the read itself holds.
    for _ in ray.data.range(4, override_num_blocks=2).iter_batches(batch_format="pyarrow"):
        pass
    time.sleep(3)
    baseline = tree_memory(os.getpid())
    started = time.perf_counter()
    with PeakSampler(os.getpid()) as sampler:
        ds = build(ctx=ctx, inputs=[], config=DatabaseSourceConfig(dataSourceId="ds_bench"))
        seen = 0
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            seen += batch.num_rows  # the drain sink: count and drop
    seconds = time.perf_counter() - started
    peak = max(sampler.peak, baseline)
    ray.shutdown()
    if seen != rows:
        raise SystemExit(f"read {seen} rows, expected {rows}")
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rowsPerSecond": int(rows / seconds),
        "baselineMb": round(baseline / MB, 1),
        "peakMb": round(peak / MB, 1),
        "peakAboveBaselineMb": round((peak - baseline) / MB, 1),
        "tableMb": round(db.stat().st_size / MB, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--fetch-size", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        figures = child(args.child, args.rows[0], args.partitions, args.fetch_size)
        print("RESULT " + json.dumps(figures))
        return 0

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pb-dbmem-"))
    workdir.mkdir(parents=True, exist_ok=True)
    from benchmarks._common import machine_info

    print(f"machine: {machine_info()}", flush=True)
    results = []
    for rows in args.rows:
        db = workdir / f"readings_{rows}.db"
        t0 = time.perf_counter()
        make_table(db, rows)
        gen = time.perf_counter() - t0
        cmd = [
            sys.executable, "-m", "benchmarks.database_memory", "--child", str(db),
            "--rows", str(rows), "--partitions", str(args.partitions),
            "--fetch-size", str(args.fetch_size),
        ]  # fmt: skip
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "RAY_DEDUP_LOGS": "0"},
        )
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
            return 1
        figures = json.loads(line[len("RESULT ") :])
        figures["generateSeconds"] = round(gen, 1)
        results.append(figures)
        db.unlink()
        print(
            f"rows={rows:>9,}  table={figures['tableMb']:>7.1f} MB  "
            f"read={figures['seconds']:>6.1f} s "
            f"({figures['rowsPerSecond']:,} rows/s)  peak PSS={figures['peakMb']:.0f} MB  "
            f"above idle Ray={figures['peakAboveBaselineMb']:.0f} MB",
            flush=True,
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = large["peakAboveBaselineMb"] - small["peakAboveBaselineMb"]
        print(
            f"table grew x{large['rows'] / small['rows']:.0f}; peak above idle changed by "
            f"{growth:+.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
