"""Bounded memory: peak memory of a run at 1x, 4x and 10x input under a fixed object store.

Each size runs in a fresh Ray instance started by a child process; the parent samples
the proportional set size (PSS) summed over that process and every Ray process it
started (GCS, raylet, workers, object store mappings) and keeps the peak.

    python -m benchmarks bounded_memory [--base-rows 500000] [--object-store-mb 256]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import PeakSampler, machine_info, write_people_csv

CHILD = r"""
import json, sys, time
from pathlib import Path
import ray
from ray.data import DataContext
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from engine.spec import parse_spec
src, out, home, store_mb = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ray.init(num_cpus=2, object_store_memory=store_mb * 2**20, include_dashboard=False,
         configure_logging=False, log_to_driver=False)
DataContext.get_current().enable_progress_bars = False
spec = parse_spec({"id": "memory", "nodes": [
    {"id": "load", "nodeType": "source", "category": "file",
     "config": {"uri": src, "format": "csv"}},
    {"id": "map", "nodeType": "transform", "category": "field_mapper", "inputs": ["load"],
     "config": {"cast": {"age": "int32"}, "derive": {"age2": "age * 2"}, "keepUnmapped": True}},
    {"id": "check", "nodeType": "transform", "category": "validator", "inputs": ["map"],
     "onError": "drop", "config": {"rules": [{"rule": "range", "column": "age", "min": 0}]}},
    {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["check"],
     "config": {"uri": out}},
]})
t = time.perf_counter()
# The input's folder is the run's base dir, so it is inside the data roots (as the spec's
# folder is for the CLI).
r = run_pipeline(spec, options=RunOptions(home=Path(home), base_dir=Path(src).parent,
                                          object_store_memory=store_mb * 2**20))
print(json.dumps({"ok": r.ok, "rows": r.records_processed, "seconds": time.perf_counter() - t,
                  "error": r.error}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-rows", type=int, default=500_000)
    parser.add_argument("--scales", default="1,4,10")
    parser.add_argument("--object-store-mb", type=int, default=256)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pb-memory-"))
    print(machine_info())
    peaks = {}
    for scale in [int(s) for s in args.scales.split(",")]:
        rows = args.base_rows * scale
        src = write_people_csv(work / f"in-{rows}", rows, files=4 * scale)
        size_mb = sum(p.stat().st_size for p in src.iterdir()) / 2**20
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(src),
                str(work / f"out-{rows}-{time.time()}"),
                str(work / "home"),
                str(args.object_store_mb),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        with PeakSampler(proc.pid) as sampler:
            stdout, _ = proc.communicate()
        res = json.loads(stdout.strip().splitlines()[-1])
        if not res["ok"]:
            raise SystemExit(f"run failed at {scale}x: {res['error']}")
        peaks[scale] = sampler.peak
        print(
            f"{scale:>3}x  rows={rows:>11,}  input={size_mb:8.1f} MiB  "
            f"time={res['seconds']:6.1f} s  peak PSS={sampler.peak / 2**20:8.1f} MiB"
        )
    first = min(peaks)
    for scale, peak in peaks.items():
        print(f"peak at {scale}x / peak at {first}x = {peak / peaks[first]:.3f}")
    last = max(peaks)
    print(
        f"result: peak at {last}x is {peaks[last] / peaks[first]:.3f}x the peak at {first}x "
        f"(target <= 1.2) with a {args.object_store_mb} MiB object store"
    )
    return 0
