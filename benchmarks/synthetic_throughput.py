"""Synthetic generation: this engine's parallel sampling vs SDV's single-process sample().

One fitted GaussianCopula model (a correlated customer table: 5 learned columns, plus
an id, a name and an email column that the engine generates itself) is sampled:

* SDV: ``synthesizer.sample(N)`` in this process (learned columns only, one CPU);
* engine: the node's whole run-time path (``stages.synthetic_dataset``: sample the
  input, gather, fit, score, then the actor pool) with 1 and 2 workers, drained through
  ``iter_batches`` (all 8 columns, chunks of ``--block-rows``). Wall time includes the
  fit stage and starting the actors (each imports SDV and unpickles the model), which
  dominate short runs on a loaded machine; ``busy`` (wall time inside the sampling
  calls, per worker) and ``cpu`` (CPU seconds of the sampling calls) are reported by
  the workers themselves through the metrics handle.

Then peak memory (PSS of the driver, Ray's processes and the object store) while the
engine generates ``--memory-rows`` and 10x that: it must stay flat, since only a few
chunks exist at any time.

    python -m benchmarks.synthetic_throughput [--rows 100000] [--memory-rows 50000]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import pyarrow as pa


def customers(rows: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.normal(45, 12, rows).clip(18, 90)
    income = age * 1200 + rng.normal(0, 6000, rows) + 10_000
    return pa.table(
        {
            "customer_id": np.arange(rows),
            "full_name": [f"Person {i}" for i in range(rows)],
            "email": [f"p{i}@corp.test" for i in range(rows)],
            "age": np.rint(age).astype(np.int64),
            "income": income.round(2),
            "spend": (income * 0.12 + rng.normal(0, 900, rows)).round(2),
            "segment": np.where(income > np.median(income), "premium", "standard").tolist(),
            "region": rng.choice(["north", "south", "east", "west"], rows).tolist(),
        }
    )


class Counters:
    """A picklable metrics handle that sums the counters workers send to one actor."""

    def __init__(self) -> None:
        import ray

        @ray.remote(num_cpus=0)
        class _Sums:
            def __init__(self) -> None:
                self.sums: dict[str, float] = {}

            def add(self, counters: dict[str, float]) -> None:
                for k, v in counters.items():
                    self.sums[k] = self.sums.get(k, 0.0) + v

            def get(self) -> dict[str, float]:
                return self.sums

        self.actor = _Sums.remote()  # type: ignore[attr-defined]

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        self.actor.add.remote(counters)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        pass

    def get(self) -> dict[str, float]:
        import ray

        return ray.get(self.actor.get.remote())

    def close(self) -> None:
        """Ends the sums actor, so runs measured later do not count its memory."""
        import ray

        ray.kill(self.actor)


def engine_run(real: pa.Table, rows: int, workers: int, block_rows: int) -> dict[str, float]:
    """Wall seconds (fit stage and actor start-up included) and the workers' own time."""
    import tempfile

    import ray

    from nodes.privacy.synthetic.stages import FitPlan, synthetic_dataset
    from nodes.privacy.synthetic.template import SyntheticTemplate

    counters = Counters()
    template = SyntheticTemplate(id="bench", seed=1, fitSampleSize=real.num_rows)
    plan = FitPlan(
        node_id="synth", template=template, location=tempfile.mkdtemp(prefix="synth-bench-"),
        preserve_distribution=True, refit=True, seed=1, record_count=rows,
        block_rows=block_rows, metrics=counters,
    )  # fmt: skip
    source = ray.data.from_arrow(real)
    ds = synthetic_dataset(source, plan, locale="en_US", workers=workers, actor_cpus=0.5)
    start = time.perf_counter()
    got = 0
    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        got += batch.num_rows
    seconds = time.perf_counter() - start
    time.sleep(0.5)  # counters are fire-and-forget
    sums = counters.get()
    counters.close()
    return {"rows": got, "seconds": seconds,
            "busy": sums.get("synthetic.generateSeconds", 0.0) / workers,
            "cpu": sums.get("synthetic.generateCpuSeconds", 0.0)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per throughput run")
    parser.add_argument("--memory-rows", type=int, default=50_000, help="small memory run")
    parser.add_argument("--block-rows", type=int, default=25_000)
    parser.add_argument("--fit-rows", type=int, default=2_000)
    args = parser.parse_args(argv)

    import ray

    from benchmarks._common import PeakSampler, machine_info, tree_memory
    from nodes.privacy.synthetic.model import build_model
    from nodes.privacy.synthetic.template import SyntheticTemplate

    # address="local": a Ray of its own, even where other Ray clusters run on the machine.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024 * 1024)  # fmt: skip
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    print(machine_info())

    real = customers(args.fit_rows)
    template = SyntheticTemplate(id="bench", seed=1)
    t = time.perf_counter()
    model = build_model(template, real.schema, real)
    print(f"fit gaussian_copula on {real.num_rows} rows: {time.perf_counter() - t:.2f}s")
    roles = {c.name: c.role for c in model.columns}
    print(f"column roles: {roles}")

    n = args.rows
    t, cpu = time.perf_counter(), time.process_time()
    assert model.synthesizer is not None
    sdv_rows = len(next(iter(model.synthesizer.sample(n).values())))
    sdv_s, sdv_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"\nthroughput, N={n:,} rows (busy = wall time inside the workers' sampling calls,")
    print("per worker; cpu = CPU seconds of all sampling calls; wall includes the run-time")
    print("sample/fit/score stage and actor start-up)")
    print(f"  SDV sample(), 1 process, 5 learned cols: wall {sdv_rows / sdv_s:9,.0f} rows/s  "
          f"cpu {sdv_rows / sdv_cpu:9,.0f} rows/cpu-s")  # fmt: skip
    for workers in (1, 2):
        r = engine_run(real, n, workers, args.block_rows)
        assert r["rows"] == n, (r["rows"], n)
        print(f"  engine, {workers} worker(s), all 8 cols:   busy {n / r['busy']:9,.0f} rows/s  "
              f"cpu {n / r['cpu']:9,.0f} rows/cpu-s  wall {n / r['seconds']:9,.0f} rows/s "
              f"({r['seconds']:.1f}s)")  # fmt: skip

    print("\npeak memory while generating (driver + Ray processes, PSS), 2 workers")
    base = tree_memory(os.getpid())
    print(f"  before: {base / 2**20:,.0f} MiB")
    for rows in (args.memory_rows, 10 * args.memory_rows):
        with PeakSampler(os.getpid()) as peak:
            r = engine_run(real, rows, 2, args.block_rows)
        assert r["rows"] == rows
        print(f"  N={rows:>12,}: peak {peak.peak / 2**20:8,.0f} MiB  ({r['seconds']:.1f}s wall, "
              f"busy {rows / r['busy']:,.0f} rows/s)")  # fmt: skip
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
