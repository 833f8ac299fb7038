"""Parallel branches and shared results.

1. Two independent branches (source -> slow transform -> output), run alone and then
   together in one pipeline: together they should take about as long as the longer
   one, not the sum. Each branch's slow stage is one serial stream (``concurrency=1``,
   half a CPU), so the figure measures the runner's branch concurrency.
2. One source feeding two outputs: with shared results (the default: the source is
   materialized once into the object store, spilling to disk) versus without
   (``shareResults: False``: each output re-executes the source). Rows read are counted
   by the source itself.

Run: ``python -m benchmarks.parallel_branches [--rows 8000] [--sleep 0.4] [--repeat 2]``
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.context import RunOptions
from engine.registry import NodeConfig, register
from engine.run.runner import ensure_ray, run_pipeline
from engine.spec import parse_spec


class BenchSleepConfig(NodeConfig):
    secondsPerBatch: float = 0.4
    batchSize: int = 1000


def _sleep(batch: pa.Table, *, seconds: float) -> pa.Table:
    time.sleep(seconds)
    return batch


@register(
    "transform",
    "bench_sleep",
    config=BenchSleepConfig,
    description="benchmark only: one serial stream sleeping per batch",
)
def _build_sleep(*, ctx: Any, inputs: list[Any], config: BenchSleepConfig) -> Any:
    return inputs[0].map_batches(
        functools.partial(_sleep, seconds=config.secondsPerBatch),
        batch_format="pyarrow",
        batch_size=config.batchSize,
        concurrency=1,
        num_cpus=0.5,
    )


class CountingReadConfig(NodeConfig):
    uri: str
    countFile: str


def _count(batch: pa.Table, *, count_file: str) -> pa.Table:
    with open(count_file, "a") as f:
        f.write(f"{batch.num_rows}\n")
    return batch


@register(
    "source",
    "bench_counting",
    config=CountingReadConfig,
    inputs=(0, 0),
    description="benchmark only: a CSV read that counts the rows it reads",
)
def _build_counting(*, ctx: Any, inputs: list[Any], config: CountingReadConfig) -> Any:
    import ray.data

    return ray.data.read_csv(config.uri).map_batches(
        functools.partial(_count, count_file=config.countFile),
        batch_format="pyarrow",
        batch_size=None,
    )


def _csv(path: Path, rows: int, start: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "value"])
        for i in range(start, start + rows):
            w.writerow([i, f"name{i}", i * 7 % 1000])
    return path


def _node(nid: str, kind: str, config: dict[str, Any], inputs: list[str] | None = None) -> dict:
    t, c = kind.split("/")
    return {"id": nid, "nodeType": t, "category": c, "config": config, "inputs": inputs or []}


def _branch(prefix: str, src: Path, out: Path, sleep: float) -> list[dict]:
    return [
        _node(f"{prefix}_src", "source/file", {"uri": str(src)}),
        _node(
            f"{prefix}_slow", "transform/bench_sleep", {"secondsPerBatch": sleep}, [f"{prefix}_src"]
        ),
        _node(f"{prefix}_out", "output/archive", {"uri": str(out)}, [f"{prefix}_slow"]),
    ]


def _timed(nodes: list[dict], home: Path, extra: dict | None = None) -> tuple[float, Any]:
    spec = parse_spec({"id": "bench", "nodes": nodes})
    t0 = time.perf_counter()
    result = run_pipeline(spec, options=RunOptions(home=home, extra=extra or {}))
    assert result.ok, result.error
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=8000, help="rows of branch A (B gets half)")
    ap.add_argument("--sleep", type=float, default=0.4, help="seconds per 1000-row batch")
    ap.add_argument("--shared-rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure (best is kept)")
    args = ap.parse_args()
    ensure_ray(num_cpus=int(os.environ.get("BENCH_CPUS", "2")))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        home = d / "home"
        a_src = _csv(d / "a.csv", args.rows)
        b_src = _csv(d / "b.csv", args.rows // 2, start=args.rows)
        # Warm up the worker processes both branches need; then best of --repeat runs.
        _timed(_branch("a", a_src, d / "wa", 0) + _branch("b", b_src, d / "wb", 0), home)

        def best(nodes: list[dict]) -> float:
            return min(_timed(nodes, home)[0] for _ in range(args.repeat))

        t_a = best(_branch("a", a_src, d / "oa", args.sleep))
        t_b = best(_branch("b", b_src, d / "ob", args.sleep))
        t_ab = best(
            _branch("a", a_src, d / "oa2", args.sleep) + _branch("b", b_src, d / "ob2", args.sleep)
        )
        print("== independent branches ==")
        print(f"branch A alone:        {t_a:6.2f} s")
        print(f"branch B alone:        {t_b:6.2f} s")
        print(f"A + B in one pipeline: {t_ab:6.2f} s")
        print(f"ratio to the sum:      {t_ab / (t_a + t_b):6.2f}  (1.0 = sequential)")
        print(f"ratio to the longer:   {t_ab / max(t_a, t_b):6.2f}  (1.0 = fully parallel)")

        big = _csv(d / "shared" / "s.csv", args.shared_rows)
        print("== shared upstream node (1 source, 2 outputs) ==")
        for label, extra in (
            ("shared (materialize once)", {}),
            ("not shared (re-execute)", {"shareResults": False}),
        ):
            count = d / f"count-{len(extra)}"
            nodes = [
                _node("src", "source/bench_counting", {"uri": str(big), "countFile": str(count)}),
                _node("ids", "transform/field_mapper", {"select": ["id"]}, ["src"]),
                _node("vals", "transform/field_mapper", {"select": ["id", "value"]}, ["src"]),
                _node("o1", "output/archive", {"uri": str(d / f"s1-{len(extra)}")}, ["ids"]),
                _node(
                    "o2",
                    "output/archive",
                    {"uri": str(d / f"s2-{len(extra)}"), "format": "jsonl"},
                    ["vals"],
                ),
            ]
            t, result = _timed(nodes, home, extra)
            read = sum(int(x) for x in count.read_text().split())
            print(
                f"{label:27} {t:6.2f} s, source rows read {read:,} "
                f"({read / args.shared_rows:.1f}x the input), "
                f"src rowsOut {result.nodes['src'].rowsOut:,}"
            )


if __name__ == "__main__":
    main()
