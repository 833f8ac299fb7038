"""Helpers shared by the benchmarks: machine info, memory sampling, data generation."""

from __future__ import annotations

import csv
import os
import platform
import random
import threading
import time
from pathlib import Path
from typing import Any

import psutil


def machine_info() -> str:
    mem = psutil.virtual_memory().total / 2**30
    load = os.getloadavg()[0]
    import ray

    return (
        f"{platform.node()} | {platform.processor() or platform.machine()} | "
        f"{psutil.cpu_count()} CPUs | {mem:.0f} GiB | Python {platform.python_version()} | "
        f"Ray {ray.__version__} | load avg {load:.1f}"
    )


def tree_memory(pid: int) -> int:
    """Proportional set size (PSS) summed over a process and all its descendants.

    PSS divides shared pages (the object store's shared memory) among the processes
    that map them, so the sum counts every byte once.
    """
    total = 0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
            continue
    return total


class PeakSampler:
    """Samples :func:`tree_memory` of ``pid`` in a thread and keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_memory(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def write_people_csv(folder: Path, rows: int, files: int, seed: int = 1) -> Path:
    """``files`` CSV files of people-like rows (no downloads, fast to make)."""
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    per = rows // files
    cities = ["Oslo", "Lima", "Pune", "Austin", "Porto", "Accra"]
    for f in range(files):
        path = folder / f"part-{f:04d}.csv"
        if path.exists():
            continue
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "name", "email", "age", "city", "score", "joined"])
            base = f * per
            for i in range(base, base + per):
                w.writerow(
                    [
                        i,
                        f"name{i}",
                        f"user{i}@example.com",
                        rnd.randint(1, 99),
                        cities[i % 6],
                        f"{rnd.random() * 100:.3f}",
                        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    ]
                )
    return folder


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def prep_pipeline_spec(src: Path, out: Path, pipeline_id: str) -> Any:
    """The benchmarks' standard pipeline: CSV -> rename/cast -> validate -> Parquet."""
    from engine.spec import parse_spec

    return parse_spec(standard_pipeline({"uri": str(src), "format": "csv"}, str(out), pipeline_id))


def standard_pipeline(source: dict[str, Any], out: str, pipeline_id: str) -> dict[str, Any]:
    """The standard pipeline as a spec document; ``source`` is the file source's config."""
    return {
        "id": pipeline_id,
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": source,
            },
            {
                "id": "map",
                "nodeType": "transform",
                "category": "field_mapper",
                "inputs": ["load"],
                "config": {
                    "rename": {"name": "full_name"},
                    "cast": {"age": "int32", "score": "float64"},
                    "keepUnmapped": True,
                },
            },
            {
                "id": "check",
                "nodeType": "transform",
                "category": "validator",
                "inputs": ["map"],
                "onError": "drop",
                "config": {
                    "rules": [
                        {"rule": "not_null", "column": "email"},
                        {"rule": "range", "column": "age", "min": 0, "max": 120},
                    ]
                },
            },
            {
                "id": "out",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["check"],
                "config": {"uri": out},
            },
        ],
    }
