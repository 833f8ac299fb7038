"""The standard pipeline through what a user would pick instead, side by side in one run.

Pipeline (``benchmarks._common.prep_pipeline_spec``): read CSV -> rename ``name`` to
``full_name``, cast ``age`` to int32 and ``score`` to float64 -> keep rows whose email is
not null and whose age is in [0, 120] -> write Parquet. Variants:

- Polars: lazy ``scan_csv`` -> ``sink_parquet`` (streaming engine, all cores);
- DuckDB: one ``COPY (SELECT ...) TO ... (FORMAT parquet)`` (all cores; the ``bench`` extra);
- hand-written Ray Data (``benchmarks.engine_overhead.hand_written``);
- the engine (``run_pipeline`` on the spec).

Every size runs each variant ``--repeats`` times, alternating, in one process and one
Ray session (started before the first timing; Ray's idle workers stay up while the
others run). Each variant's output is checked: same row count as the others.

    python -m benchmarks peers [--sizes 2000000,10000000] [--files 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks._common import machine_info, timed, write_people_csv


def polars_run(src: Path, out: Path) -> None:
    import polars as pl

    out.mkdir(parents=True, exist_ok=True)
    (
        pl.scan_csv(str(src / "*.csv"))
        .rename({"name": "full_name"})
        .with_columns(pl.col("age").cast(pl.Int32), pl.col("score").cast(pl.Float64))
        .filter(pl.col("email").is_not_null() & pl.col("age").is_between(0, 120))
        .sink_parquet(str(out / "part-0.parquet"))
    )


def duckdb_run(src: Path, out: Path) -> None:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(
            f"""
            COPY (
                SELECT id, name AS full_name, email, CAST(age AS INTEGER) AS age, city,
                       CAST(score AS DOUBLE) AS score, joined
                FROM read_csv('{src}/*.csv', header = true)
                WHERE email IS NOT NULL AND age BETWEEN 0 AND 120
            ) TO '{out}/part-0.parquet' (FORMAT parquet)
            """
        )
    finally:
        con.close()


def rows_written(out: Path) -> int:
    import pyarrow.dataset as pads

    return int(pads.dataset(out, format="parquet").count_rows())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000000,10000000")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--only", default="polars,duckdb,ray_data,engine", help="comma-separated variants"
    )
    args = parser.parse_args(argv)
    import ray
    from ray.data import DataContext

    from benchmarks.engine_overhead import engine_run, hand_written

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pb-peers-"))
    ray.init(include_dashboard=False, configure_logging=False, log_to_driver=False)
    DataContext.get_current().enable_progress_bars = False
    print(machine_info())
    variants: dict[str, Callable[[Path, Path], None]] = {
        "polars": polars_run,
        "duckdb": duckdb_run,
        "ray_data": hand_written,
        "engine": lambda s, o: engine_run(s, o, work / "home"),
    }
    wanted = [v for v in args.only.split(",") if v in variants]
    summary = []
    for size in [int(x) for x in args.sizes.split(",")]:
        src = write_people_csv(work / f"in-{size}", size, args.files)
        # Warm the workers, the file cache and (engine) the run's shared metrics actor, as
        # engine_overhead does, so no variant's first timed run pays a start-up the others
        # do not.
        for warm in [v for v in ("ray_data", "engine") if v in wanted]:
            variants[warm](src, work / "warmup")
            shutil.rmtree(work / "warmup", ignore_errors=True)
        times: dict[str, list[float]] = {v: [] for v in wanted}
        counts: dict[str, int] = {}
        for i in range(args.repeats):
            for name in wanted:
                out = work / f"out-{name}-{size}-{i}"
                times[name].append(timed(lambda n=name, o=out, s=src: variants[n](s, o)))
                counts[name] = rows_written(out)
                print(f"  {size:>11,} rows  run {i + 1}  {name:9} {times[name][-1]:7.2f} s")
                shutil.rmtree(out, ignore_errors=True)
        if len(set(counts.values())) != 1:
            raise SystemExit(f"variants wrote different row counts: {counts}")
        med = {v: statistics.median(t) for v, t in times.items()}
        summary.append((size, med))
        print(f"rows={size:,} files={args.files} repeats={args.repeats} (medians)")
        for v, m in med.items():
            ratio = f"engine/{v} = {med['engine'] / m:.2f}x" if "engine" in med else ""
            print(f"  {v:9} {m:7.2f} s  {size / m:>12,.0f} rows/s  {ratio}")
    print("| rows | " + " | ".join(wanted) + " | engine / Ray Data | engine / Polars |")
    for size, med in summary:
        cells = " | ".join(f"{med[v]:.2f} s" for v in wanted)
        er = f"{med['engine'] / med['ray_data']:.3f}" if {"engine", "ray_data"} <= set(med) else "-"
        ep = f"{med['engine'] / med['polars']:.2f}" if {"engine", "polars"} <= set(med) else "-"
        print(f"| {size:,} | {cells} | {er} | {ep} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
