"""Throughput scaling: the same pipeline with 1 CPU, 2 CPUs, ... and on a cluster.

Pipeline (through ``engine.run.runner.run_pipeline``): read CSV -> rename/cast ->
validate (not-null, range; bad rows dropped) -> write Parquet. Each setting runs in a
fresh child process with its own local Ray (``ray.init(num_cpus=N)``), so no worker,
cache or object store carries over. When the local multi-node cluster is up
(``cluster/local_cluster.sh start``; its address file is found automatically, or pass
``--cluster-address``), the pipeline also runs there. Each setting first runs a small
warm-up (worker start-up is not throughput), then ``--repeats`` timed runs; the median's
rows/s and its ratio to the 1-CPU figure are printed.

    python -m benchmarks scaling [--rows 600000] [--files 12] [--cpus 1,2] [--repeats 3]
        [--cluster-address 127.0.0.1:PORT | --no-cluster]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import machine_info, prep_pipeline_spec, write_people_csv

DEFAULT_CLUSTER_ADDRESS_FILE = Path(os.environ.get("PB_CLUSTER_DIR", "/tmp/pb-cluster")) / "address"


def pipeline_spec(src: Path, out: Path) -> Any:
    """CSV -> field_mapper -> validator -> Parquet archive (the engine_overhead pipeline)."""
    return prep_pipeline_spec(src, out, "scaling")


def _run_once(src: Path, out: Path, home: Path) -> tuple[float, int]:
    from engine.context import RunOptions
    from engine.run.runner import run_pipeline

    start = time.perf_counter()
    result = run_pipeline(pipeline_spec(src, out), options=RunOptions(home=home))
    seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"run failed: {result.error}")
    return seconds, int(result.nodes["load"].rowsOut)


def child(args: argparse.Namespace) -> int:
    """One setting: start (or join) Ray, warm up, time one run, print JSON."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if args.address:
        ray.init(address=args.address, log_to_driver=False, configure_logging=False)
    else:
        ray.init(
            num_cpus=args.child_cpus,
            object_store_memory=256 * 1024 * 1024,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    cpus = int(ray.cluster_resources().get("CPU", 0))
    nodes = len([n for n in ray.nodes() if n["Alive"]])
    work = Path(args.work)
    warmup, _ = _run_once(work / "warmup", work / f"out-warmup-{os.getpid()}", work / "home")
    runs = [
        _run_once(work / "in", work / f"out-{os.getpid()}-{i}", work / "home")
        for i in range(args.repeats)
    ]
    ray.shutdown()
    seconds = statistics.median(s for s, _ in runs)
    print(
        json.dumps(
            {
                "cpus": cpus,
                "nodes": nodes,
                "seconds": seconds,
                "rows": runs[0][1],
                "all": [round(s, 2) for s, _ in runs],
                "warmup": warmup,
            }
        )
    )
    return 0


def _setting(label: str, work: Path, repeats: int, extra: list[str]) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "scaling",
        "--child",
        "--work",
        str(work),
        "--repeats",
        str(repeats),
        *extra,
    ]
    env = dict(os.environ, RAY_DATA_DISABLE_PROGRESS_BARS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{label} failed:\n{proc.stderr[-2000:]}")
    fig = json.loads(lines[-1])
    fig["label"] = label
    fig["rowsPerSecond"] = fig["rows"] / fig["seconds"]
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--cpus", default="1,2", help="comma-separated CPU counts")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting")
    parser.add_argument("--cluster-address", help="Ray address of a running cluster")
    parser.add_argument("--no-cluster", action="store_true", help="skip the cluster setting")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-cpus", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pb-scaling-"))
    write_people_csv(work / "in", args.rows, args.files)
    write_people_csv(work / "warmup", 2000, 2)
    print(f"machine: {machine_info()}")
    print(
        f"pipeline: CSV ({args.rows:,} rows, {args.files} files) -> field_mapper -> "
        f"validator -> Parquet; per setting a warm-up run, then the median of "
        f"{args.repeats} timed runs"
    )
    figures = []
    for n in (int(c) for c in args.cpus.split(",")):
        figures.append(
            _setting(f"local Ray, {n} CPU", work, args.repeats, ["--child-cpus", str(n)])
        )
        print(_line(figures[-1], figures[0]), flush=True)
    address = args.cluster_address
    if address is None and not args.no_cluster and DEFAULT_CLUSTER_ADDRESS_FILE.exists():
        address = DEFAULT_CLUSTER_ADDRESS_FILE.read_text().strip()
    if address and not args.no_cluster:
        figures.append(_setting(f"cluster {address}", work, args.repeats, ["--address", address]))
        print(_line(figures[-1], figures[0]), flush=True)
    else:
        print("cluster: not running (start it with cluster/local_cluster.sh start)")
    base = figures[0]["rowsPerSecond"]
    summary = ", ".join(
        f"{f['cpus']} CPU/{f['nodes']} node(s) {f['rowsPerSecond'] / base:.2f}x" for f in figures
    )
    print(f"scaling vs 1 CPU: {summary}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _line(fig: dict[str, Any], base: dict[str, Any]) -> str:
    ratio = fig["rowsPerSecond"] / base["rowsPerSecond"]
    return (
        f"{fig['label']:<34} {fig['cpus']} CPU, {fig['nodes']} node(s): "
        f"{fig['rows']:,} rows in {fig['seconds']:.1f} s = {fig['rowsPerSecond']:,.0f} rows/s "
        f"({ratio:.2f}x; warm-up {fig['warmup']:.1f} s, runs {fig['all']})"
    )


if __name__ == "__main__":
    sys.exit(main())
