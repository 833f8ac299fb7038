"""Engine overhead: the same pipeline through the engine and as hand-written Ray Data.

Pipeline: read CSV -> rename/cast -> validate (not-null, range; bad rows dropped) ->
write Parquet. Both variants run in one Ray session, alternating, ``--repeats`` times
each; the ratio of the medians is the engine's overhead (target <= 1.05).

``--stats`` prints Ray Data's own execution statistics of one more run of each variant
(per operator: wall time, CPU time, blocks, rows; where the time goes).

Each run also reports the CPU seconds it used, summed over the driver and every Ray
process (GCS, raylet, workers, the engine's metrics actor): on a shared machine the wall
time follows the other users' load, the CPU seconds much less.

    python -m benchmarks engine_overhead [--rows 2000000] [--files 16] [--repeats 3] [--stats]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks._common import machine_info, prep_pipeline_spec, timed, write_people_csv


def hand_written(src: Path, out: Path) -> None:
    import ray.data

    def map_cast(t: pa.Table) -> pa.Table:
        t = t.rename_columns(["full_name" if c == "name" else c for c in t.column_names])
        i = t.column_names.index("age")
        t = t.set_column(i, "age", pc.cast(t["age"], pa.int32()))
        j = t.column_names.index("score")
        return t.set_column(j, "score", pc.cast(t["score"], pa.float64()))

    def validate(t: pa.Table) -> pa.Table:
        ok = pc.and_(
            pc.is_valid(t["email"]),
            pc.and_(pc.greater_equal(t["age"], 0), pc.less_equal(t["age"], 120)),
        )
        return t.filter(pc.fill_null(ok, False))

    ds = ray.data.read_csv(str(src))
    ds = ds.map_batches(map_cast, batch_format="pyarrow", batch_size=None, zero_copy_batch=True)
    ds = ds.map_batches(validate, batch_format="pyarrow", batch_size=None, zero_copy_batch=True)
    ds.write_parquet(str(out))


def engine_run(src: Path, out: Path, home: Path) -> None:
    from engine.context import RunOptions
    from engine.run.runner import run_pipeline

    spec = prep_pipeline_spec(src, out, "overhead")
    # the spec's folder is a data root of a run outside the API: input and output lie in it
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=src.parent))
    if not result.ok:
        raise SystemExit(f"engine run failed: {result.error}")


class _StatsCallback:
    """Keeps the statistics summary of every Ray Data execution in this process."""

    summaries: list[str] = []


def _stats_callback_class():  # type: ignore[no-untyped-def]
    from ray.data._internal.execution.execution_callback import ExecutionCallback

    class KeepStats(ExecutionCallback):  # type: ignore[misc]
        def after_execution_succeeds(self, executor) -> None:  # type: ignore[no-untyped-def]
            _StatsCallback.summaries.append(executor.get_stats().to_summary().to_string())

    return KeepStats


def print_stats(src: Path, work: Path) -> None:
    """One run of each variant with Ray Data's per-operator statistics printed."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.custom_execution_callback_classes = [
        *ctx.custom_execution_callback_classes,
        _stats_callback_class(),
    ]
    for label in ("hand-written", "engine"):
        out = work / f"stats-{label}"
        _StatsCallback.summaries.clear()
        if label == "hand-written":
            t = timed(lambda out=out: hand_written(src, out))
        else:
            t = timed(lambda out=out: engine_run(src, out, work / "home"))
        print(f"--- Ray Data stats, {label} ({t:.2f} s) ---")
        for summary in _StatsCallback.summaries:
            print(summary)
        shutil.rmtree(out, ignore_errors=True)


def tree_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of this process and every process below it (Ray's)."""
    import psutil

    me = psutil.Process()
    out: dict[int, float] = {}
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two :func:`tree_cpu` readings (new processes: all theirs)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stats", action="store_true", help="print Ray Data's statistics")
    args = parser.parse_args(argv)
    import ray
    from ray.data import DataContext

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pb-overhead-"))
    src = write_people_csv(work / f"in-{args.rows}", args.rows, args.files)
    ray.init(include_dashboard=False, configure_logging=False, log_to_driver=False)
    DataContext.get_current().enable_progress_bars = False
    print(machine_info())
    times: dict[str, list[float]] = {"hand-written": [], "engine": []}
    cpu: dict[str, list[float]] = {"hand-written": [], "engine": []}
    # Warm the worker pool and the file cache, and start the engine's metrics actor (one
    # per node, shared by every later run).
    hand_written(src, work / "warmup")
    engine_run(src, work / "warmup-engine", work / "home")
    for i in range(args.repeats):
        for label in ("hand-written", "engine"):
            out = work / f"out-{label}-{i}"
            before = tree_cpu()
            if label == "hand-written":
                t = timed(lambda out=out: hand_written(src, out))
            else:
                t = timed(lambda out=out: engine_run(src, out, work / "home"))
            c = cpu_used(before, tree_cpu())
            times[label].append(t)
            cpu[label].append(c)
            print(
                f"  run {i + 1} {label:12} {t:7.2f} s   {c:6.2f} CPU-s  "
                f"load {os.getloadavg()[0]:.1f}"
            )
            shutil.rmtree(out, ignore_errors=True)
    h, e = statistics.median(times["hand-written"]), statistics.median(times["engine"])
    hc, ec = statistics.median(cpu["hand-written"]), statistics.median(cpu["engine"])
    print(f"rows={args.rows:,} files={args.files} repeats={args.repeats}")
    print(f"hand-written Ray Data median {h:.2f} s ({args.rows / h:,.0f} rows/s), {hc:.2f} CPU-s")
    print(f"engine                median {e:.2f} s ({args.rows / e:,.0f} rows/s), {ec:.2f} CPU-s")
    print(f"overhead ratio engine/hand-written = {e / h:.3f} (target <= 1.05)")
    print(f"CPU ratio engine/hand-written      = {ec / hc:.3f}")
    if args.stats:
        print_stats(src, work)
    return 0
