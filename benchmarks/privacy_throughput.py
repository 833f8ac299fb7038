"""Privacy throughput: this engine's detection + redaction vs Presidio, same data.

Data: the labeled evaluation table (:mod:`nodes.privacy.evaluation`: 15 columns, 11 of
them PII, one free-text column with planted entities, 3 decoy columns). Entity set: the
entities both sides know (email, phone, card, SSN, IBAN, IP, URL, dates, NPI, person).

* Engine: ``source/file -> privacy/detection (patterns_healthcare, NER on) ->
  privacy/redaction (replace) -> output/archive`` through ``engine.runner.run_pipeline``,
  in a fresh Ray session limited to 1 and then 2 CPUs (one subprocess each; a warm-up
  run over other rows loads spaCy in the workers first). Wall time of the timed run, end to end.
* Presidio: ``BatchAnalyzerEngine.analyze_dict`` (spaCy ``en_core_web_sm``) +
  ``AnonymizerEngine`` (replace), one process = one CPU, on the first ``--presidio-rows``.
* F1 of both on the Presidio rows (span overlap, same gold labels).

Wall-clock rows/s move with whatever else runs on the machine; rows per CPU-second
(CPU time of the process tree: driver, raylet, GCS, workers) do not, so the benchmark
prints both ratios.

    python -m benchmarks.privacy_throughput [--rows 16000] [--presidio-rows 150]
        [--ner-only-names]   # names by spaCy NER only (no gazetteer): NER runs per row
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

ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
            "IP_ADDRESS", "URL", "DATE_TIME", "NPI", "PERSON"]  # fmt: skip


NO_GAZETTEER = {
    "id": "patterns_bench_ner_names",
    "extends": ["patterns_healthcare"],
    "patterns": [{"name": "person_gazetteer", "entity": "PERSON", "regex": "x", "enabled": False}],
}


def _library(ner_only_names: bool) -> str:
    return NO_GAZETTEER["id"] if ner_only_names else "patterns_healthcare"


def _catalog() -> Any:
    from engine.catalog import DictCatalog

    return DictCatalog({"patternLibraries": {NO_GAZETTEER["id"]: NO_GAZETTEER}})


def _spec(src: Path, out: Path, library: str = "patterns_healthcare") -> Any:
    from engine.spec import parse_spec

    return parse_spec({"id": "privacy_bench", "nodes": [
        {"id": "load", "nodeType": "source", "category": "file",
         "config": {"uri": str(src), "format": "parquet"}},
        {"id": "detect", "nodeType": "privacy", "category": "detection", "inputs": ["load"],
         "config": {"patternLibraryId": library, "entities": ENTITIES}},
        {"id": "redact", "nodeType": "privacy", "category": "redaction", "inputs": ["detect"],
         "config": {"rules": [{"entity": "*", "operator": "replace"}]}},
        {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["redact"],
         "config": {"uri": str(out)}},
    ]})  # fmt: skip


def engine_run(
    src: Path, warm: Path, cpus: int, workdir: Path, library: str = "patterns_healthcare"
) -> dict[str, Any]:
    """Run in this process with a fresh Ray session of ``cpus`` CPUs (subprocess side)."""
    import ray

    from engine.context import RunOptions
    from engine.runner import run_pipeline

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024 * 1024)  # fmt: skip
    opts = RunOptions(home=workdir / f"home{cpus}")
    # Warm-up on other rows: every worker loads spaCy and compiles the patterns once.
    res = run_pipeline(_spec(warm, workdir / f"warm{cpus}", library), _catalog(), options=opts)
    assert res.ok, res.error
    cpu0 = tree_cpu_seconds()
    t = time.perf_counter()
    res = run_pipeline(_spec(src, workdir / f"out{cpus}", library), _catalog(), options=opts)
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


def presidio_run(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list]:
    """Presidio batch analyze + anonymize; returns timing and predictions."""
    from presidio_analyzer import BatchAnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    from nodes.privacy.presidio_bridge import PRESIDIO_ENTITY_MAP, presidio_analyzer

    analyzer = presidio_analyzer("en_core_web_sm")
    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    anonymizer = AnonymizerEngine()
    wanted = [PRESIDIO_ENTITY_MAP[e] for e in ENTITIES]
    back = {v: k for k, v in PRESIDIO_ENTITY_MAP.items()}
    columns = {c: [str(r[c]) for r in rows] for c in rows[0]}
    analyzer.analyze(text="warm up John Smith", language="en")
    cpu0 = time.process_time()
    t = time.perf_counter()
    results = list(batch.analyze_dict(columns, language="en", entities=wanted, batch_size=64))
    preds = []
    ops = {"DEFAULT": OperatorConfig("replace")}
    for res in results:
        for r, (text, found) in enumerate(zip(res.value, res.recognizer_results, strict=True)):
            anonymizer.anonymize(text=text, analyzer_results=found, operators=ops)
            preds += [(r, res.key, back.get(f.entity_type, f.entity_type), f.start, f.end)
                      for f in found if f.score >= 0.5]  # fmt: skip
    secs = time.perf_counter() - t
    cpu = time.process_time() - cpu0
    return {"rows": len(rows), "seconds": round(secs, 2), "rows_per_s": len(rows) / secs,
            "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": len(rows) / cpu}, preds  # fmt: skip


def f1_table(gold: list, preds: list) -> dict[str, float]:
    from nodes.privacy.evaluation import score

    s = score(gold, preds, set(ENTITIES))
    return {e: round(s.f1(e), 3) for e in ENTITIES if s.gold[e]}


def engine_predictions(rows: list[dict[str, Any]], library: str) -> list:
    import pyarrow as pa

    from nodes.privacy.evaluation import predict_engine
    from nodes.privacy.library import resolve_library, scanner_for, scanner_spec

    lib = resolve_library(_catalog().get, library)
    spec = scanner_spec(lib, threshold=0.5, contextual=True, entities=ENTITIES,
                        ner_model="en_core_web_sm")  # fmt: skip
    hints = [h for h in lib["columnHints"] if h["entity"] in ENTITIES]
    return predict_engine(pa.Table.from_pylist(rows), scanner_for(spec), hints)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=16000, help="engine rows")
    ap.add_argument("--presidio-rows", type=int, default=150)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--ner-only-names",
        action="store_true",
        help="switch the name gazetteer off: names found by spaCy NER only",
    )
    ap.add_argument("--engine-child", nargs=5, metavar=("SRC", "WARM", "CPUS", "DIR", "LIB"),
                    help=argparse.SUPPRESS)  # fmt: skip
    args = ap.parse_args(argv)
    if args.engine_child:
        src, warm, cpus, d, lib = args.engine_child
        print(json.dumps(engine_run(Path(src), Path(warm), int(cpus), Path(d), lib)))
        return 0

    import pyarrow.parquet as pq

    from nodes.privacy.evaluation import generate

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ev = generate(args.rows, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        d = Path(tmp)
        # Several files, so Ray Data has several read tasks to spread over the CPUs
        # (read and the fused detection/redaction stages run per file).
        table = ev.to_arrow()
        (d / "data").mkdir()
        step = -(-table.num_rows // 8)
        for i in range(0, table.num_rows, step):
            pq.write_table(table.slice(i, step), d / "data" / f"part-{i // step}.parquet",
                           row_group_size=500)  # fmt: skip
        # Warm-up data differs from the timed data: the per-process memo of scanned
        # values must not turn the timed run into cache hits.
        warm = generate(1000, seed=args.seed + 1).to_arrow()
        (d / "warm").mkdir()
        for i in range(4):  # one file per worker at least, so every worker warms up
            pq.write_table(warm.slice(i * 250, 250), d / "warm" / f"part-{i}.parquet")
        library = _library(args.ner_only_names)
        print(f"pattern library: {library}")
        engine = {}
        for cpus in (1, 2):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.privacy_throughput", "--engine-child",
                 str(d / "data"), str(d / "warm"), str(cpus), str(d), library],
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
        sub = ev.rows[: args.presidio_rows]
        gold = [g for g in ev.gold if g[0] < args.presidio_rows]
        pres, pres_preds = presidio_run(sub)
        print(f"presidio 1 CPU: {pres['rows']} rows in {pres['seconds']} s = "
              f"{pres['rows_per_s']:.2f} rows/s; {pres['cpu_seconds']} CPU-s = "
              f"{pres['rows_per_cpu_s']:.2f} rows per CPU-second")  # fmt: skip
        ratio = engine[1]["rows_per_s"] / pres["rows_per_s"]
        cpu_ratio = engine[1]["rows_per_cpu_s"] / pres["rows_per_cpu_s"]
        print(
            f"ratio (engine 1 CPU / presidio 1 CPU): {ratio:.0f}x wall, "
            f"{cpu_ratio:.0f}x per CPU-second (robust to other load on the machine)"
        )
        print(f"scaling 1 -> 2 CPUs: {engine[2]['rows_per_s'] / engine[1]['rows_per_s']:.2f}x")
        ours = f1_table(gold, engine_predictions(sub, library))
        theirs = f1_table(gold, pres_preds)
        print(f"{'entity':<15} {'engine F1':>9} {'presidio F1':>11}")
        for e in ENTITIES:
            if e in ours:
                print(f"{e:<15} {ours[e]:>9.3f} {theirs.get(e, 0.0):>11.3f}")
        mean = lambda t: sum(t.values()) / len(t)  # noqa: E731
        print(f"{'mean':<15} {mean(ours):>9.3f} {mean(theirs):>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
