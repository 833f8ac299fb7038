"""Privacy throughput on free text: this engine's detection + redaction vs Presidio.

Data: the free-text-heavy set of :mod:`nodes.privacy.freetext_eval` (notes of 3-6
sentences with names, addresses and phones of a dozen non-English locales, a short
comment cell, typed identifier columns and decoys), 8 Parquet files.

* Engine: ``source/file -> privacy/detection (patterns_default, NER on, HIPAA) ->
  privacy/redaction -> output/archive`` through ``run_pipeline``, in a fresh Ray session
  limited to 1 and then 2 CPUs (one subprocess each; a warm-up run over other rows starts
  the scanner actors and loads spaCy first). Wall time of the timed run, end to end.
* Presidio: ``BatchAnalyzerEngine.analyze_dict`` (spaCy ``en_core_web_sm``, default
  recognizers) + ``AnonymizerEngine`` (replace) over every column of the first
  ``--presidio-rows`` rows, one process = one CPU.
* Where the time goes (``--breakdown``): one process, the same rows, split into the RE2
  prefilter + exact patterns/recognizers, NER, and applying the redaction.

Rows per CPU-second counts the CPU time of the whole process tree (driver, raylet, GCS,
workers), which other load on the machine does not change; wall-clock rows/s does.

    python -m benchmarks privacy_throughput [--rows 20000] [--presidio-rows 200] [--breakdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _spec(src: Path, out: Path) -> Any:
    from benchmarks.privacy_freetext import engine_spec

    return engine_spec(src, out, "HIPAA")


def engine_run(src: Path, warm: Path, cpus: int, workdir: Path) -> dict[str, Any]:
    """Run in this process with a fresh Ray session of ``cpus`` CPUs (subprocess side)."""
    import ray

    from engine.context import RunOptions
    from engine.run.runner import run_pipeline

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024 * 1024)  # fmt: skip
    opts = RunOptions(home=workdir / f"home{cpus}", base_dir=workdir)
    res = run_pipeline(_spec(warm, workdir / f"warm{cpus}"), options=opts)
    assert res.ok, res.error
    cpu0 = tree_cpu_seconds()
    t = time.perf_counter()
    res = run_pipeline(_spec(src, workdir / f"out{cpus}"), options=opts)
    secs = time.perf_counter() - t
    cpu = tree_cpu_seconds() - cpu0
    assert res.ok, res.error
    rows = res.records_processed
    return {"cpus": cpus, "rows": rows, "seconds": round(secs, 2), "rows_per_s": rows / secs,
            "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": rows / cpu}  # fmt: skip


def tree_cpu_seconds() -> float:
    """User + system CPU seconds of this process and its descendants (Ray's raylet,
    GCS and workers are children of a driver that started the local cluster)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def presidio_run(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Presidio batch analyze + anonymize over every column; timing only."""
    from presidio_analyzer import BatchAnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    from nodes.privacy.presidio_bridge import presidio_analyzer

    analyzer = presidio_analyzer("en_core_web_sm")
    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    anonymizer = AnonymizerEngine()
    columns = {c: [str(r[c]) for r in rows] for c in rows[0] if c != "row_id"}
    analyzer.analyze(text="warm up John Smith", language="en")
    cpu0 = time.process_time()
    t = time.perf_counter()
    results = list(batch.analyze_dict(columns, language="en", batch_size=64))  # type: ignore[arg-type]
    ops = {"DEFAULT": OperatorConfig("replace")}
    for res in results:
        for text, found in zip(res.value, res.recognizer_results, strict=True):
            anonymizer.anonymize(text=text, analyzer_results=found, operators=ops)  # type: ignore[arg-type]
    secs = time.perf_counter() - t
    cpu = time.process_time() - cpu0
    return {"rows": len(rows), "seconds": round(secs, 2), "rows_per_s": len(rows) / secs,
            "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": len(rows) / cpu}  # fmt: skip


def breakdown(rows: int, seed: int) -> dict[str, float]:
    """Seconds per stage, one process, NER model already loaded."""
    from engine.catalog import DictCatalog
    from nodes.privacy import patterns as _patterns  # noqa: F401
    from nodes.privacy.batch import Plan, redact, scan_batch
    from nodes.privacy.frameworks import HIPAA
    from nodes.privacy.freetext_eval import generate
    from nodes.privacy.library import resolve_library, scanner_for, scanner_spec
    from nodes.privacy.operators import Keys
    from nodes.privacy.presidio_bridge import load_spacy

    lib = resolve_library(DictCatalog().get, "patterns_default")
    table = generate(rows, seed).to_arrow()
    out: dict[str, float] = {}
    load_spacy("en_core_web_sm")
    for label, ner in (("patterns+recognizers", None), ("with NER", "en_core_web_sm")):
        spec = scanner_spec(lib, threshold=0.5, contextual=True, entities=None, ner_model=ner)
        sc = scanner_for(spec)
        sc._memo.clear()
        t = time.perf_counter()
        scanned, unscanned = scan_batch(table, sc)
        out[label] = time.perf_counter() - t
    plan = Plan({}, {}, dict(HIPAA.required), None, False, frozenset(HIPAA.required))
    t = time.perf_counter()
    redact(table, scanned, plan, Keys(), unscanned)
    out["apply redaction"] = time.perf_counter() - t
    out["NER"] = out["with NER"] - out["patterns+recognizers"]
    return {k: round(v, 2) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000, help="engine rows")
    ap.add_argument("--presidio-rows", type=int, default=200)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--cpus", default="1,2")
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--engine-child", nargs=4, metavar=("SRC", "WARM", "CPUS", "DIR"),
                    help=argparse.SUPPRESS)  # fmt: skip
    args = ap.parse_args(argv)
    if args.engine_child:
        src, warm, cpus, d = args.engine_child
        print(json.dumps(engine_run(Path(src), Path(warm), int(cpus), Path(d))))
        return 0

    from benchmarks.privacy_freetext import write_input
    from nodes.privacy.freetext_eval import generate

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    data = generate(args.rows, seed=args.seed)
    engine = {}
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        d = Path(tmp)
        write_input(data, d / "data", files=8)
        # Warm-up data differs from the timed data: the per-process memo of scanned
        # values must not turn the timed run into cache hits.
        write_input(generate(400, seed=args.seed + 1), d / "warm", files=4)
        for cpus in [int(c) for c in args.cpus.split(",")]:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.privacy_throughput", "--engine-child",
                 str(d / "data"), str(d / "warm"), str(cpus), str(d)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            engine[cpus] = json.loads(out.stdout.strip().splitlines()[-1])
            e = engine[cpus]
            print(f"engine  {cpus} CPU(s): {e['rows']} rows in {e['seconds']} s = "
                  f"{e['rows_per_s']:.1f} rows/s; {e['cpu_seconds']} CPU-s = "
                  f"{e['rows_per_cpu_s']:.1f} rows per CPU-second")  # fmt: skip
    pres = presidio_run(data.rows[: args.presidio_rows])
    print(f"presidio 1 CPU: {pres['rows']} rows in {pres['seconds']} s = "
          f"{pres['rows_per_s']:.2f} rows/s; {pres['cpu_seconds']} CPU-s = "
          f"{pres['rows_per_cpu_s']:.2f} rows per CPU-second")  # fmt: skip
    one = engine.get(1) or next(iter(engine.values()))
    print(f"ratio (engine {one['cpus']} CPU / presidio 1 CPU): "
          f"{one['rows_per_s'] / pres['rows_per_s']:.1f}x wall, "
          f"{one['rows_per_cpu_s'] / pres['rows_per_cpu_s']:.1f}x per CPU-second")  # fmt: skip
    if 1 in engine and 2 in engine:
        print(f"scaling 1 -> 2 CPUs: {engine[2]['rows_per_s'] / engine[1]['rows_per_s']:.2f}x")
    if args.breakdown:
        print(
            f"where the time goes (1 process, {min(args.rows, 2000)} rows, seconds): "
            f"{json.dumps(breakdown(min(args.rows, 2000), args.seed))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
