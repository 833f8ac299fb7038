"""Leak rate on a free-text-heavy set whose names, addresses and phones are not Faker's
English data (:mod:`nodes.privacy.freetext_eval`), this engine vs Presidio.

* Engine: ``source/file -> privacy/detection (patterns_default, spaCy en_core_web_sm,
  complianceFramework HIPAA) -> privacy/redaction -> output/archive`` through
  ``run_pipeline``. Typed columns (int64 cards, SSNs, ZIPs, MRNs) go through as typed.
* Presidio: ``BatchAnalyzerEngine.analyze_dict`` + ``AnonymizerEngine`` (replace) on the
  same rows, every column as text, default recognizers, default threshold.

Figures: leak rate of planted identifiers (the value, or a 4+ character piece of it,
still readable in the output row; a year left by HIPAA's date generalization is not a
leak), decoy survival (order numbers, product codes, ICD-10, UUIDs, versions, amounts,
log timestamps unchanged), rows in = rows out.

    python -m benchmarks privacy_freetext [--rows 2000] [--seed 13] [--presidio-rows 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def engine_spec(src: Path, out: Path, framework: str | None = "HIPAA") -> Any:
    from engine.spec import parse_spec

    det: dict[str, Any] = {"patternLibraryId": "patterns_default", "nerModel": "en_core_web_sm"}
    red: dict[str, Any] = {}
    if framework:
        det["complianceFramework"] = framework
    else:
        red = {"rules": [{"entity": "*", "operator": "replace"}]}
    return parse_spec({"id": "privacy_freetext", "nodes": [
        {"id": "load", "nodeType": "source", "category": "file",
         "config": {"uri": str(src), "format": "parquet"}},
        {"id": "detect", "nodeType": "privacy", "category": "detection", "inputs": ["load"],
         "config": det},
        {"id": "redact", "nodeType": "privacy", "category": "redaction", "inputs": ["detect"],
         "config": red},
        {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["redact"],
         "config": {"uri": str(out)}},
    ]})  # fmt: skip


def write_input(data: Any, folder: Path, files: int = 4) -> Path:
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = data.to_arrow()
    step = max(1, -(-table.num_rows // files))
    for i in range(0, table.num_rows, step):
        pq.write_table(table.slice(i, step), folder / f"part-{i // step:03d}.parquet")
    return folder


def read_output(folder: Path) -> dict[int, dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: dict[int, dict[str, Any]] = {}
    for f in sorted(folder.rglob("*.parquet")):
        for r in pq.read_table(f).to_pylist():
            rows[r["row_id"]] = r
    return rows


def run_engine(data: Any, workdir: Path, framework: str | None = "HIPAA") -> tuple[dict, float]:
    from engine.context import RunOptions
    from engine.run.runner import run_pipeline

    src = write_input(data, workdir / "in")
    out = workdir / "out"
    t = time.perf_counter()
    res = run_pipeline(engine_spec(src, out, framework),
                       options=RunOptions(home=workdir / "home", base_dir=workdir))  # fmt: skip
    secs = time.perf_counter() - t
    if not res.ok:
        raise RuntimeError(f"pipeline failed: {res.error}")
    return read_output(out), secs


def presidio_redact(rows: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], float]:
    """Presidio batch analyze + anonymize (replace) over every column as text."""
    from presidio_analyzer import BatchAnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

    from nodes.privacy.presidio_bridge import presidio_analyzer

    batch = BatchAnalyzerEngine(presidio_analyzer("en_core_web_sm"))
    anon = AnonymizerEngine()
    cols = [c for c in rows[0] if c != "row_id"]
    as_text = {c: [None if r[c] is None else str(r[c]) for r in rows] for c in cols}
    t = time.perf_counter()
    results = list(batch.analyze_dict(as_text, language="en"))  # type: ignore[arg-type]
    out: dict[int, dict[str, Any]] = {r["row_id"]: {"row_id": r["row_id"]} for r in rows}
    for res in results:
        for i, (value, found) in enumerate(zip(as_text[res.key], res.recognizer_results,
                                               strict=True)):  # fmt: skip
            rid = rows[i]["row_id"]
            if value is None or not found:
                out[rid][res.key] = value
            else:
                out[rid][res.key] = anon.anonymize(text=value, analyzer_results=found).text  # type: ignore[arg-type]
    return out, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    import ray

    from nodes.privacy.freetext_eval import FreeTextSet, evaluate, generate

    ap = argparse.ArgumentParser(prog="python -m benchmarks privacy_freetext")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--presidio-rows", type=int, default=300)
    ap.add_argument("--framework", default="HIPAA", help="or 'none': replace every finding")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    data = generate(args.rows, args.seed)
    fw = None if args.framework.lower() == "none" else args.framework
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as d:
            out, secs = run_engine(data, Path(d), fw)
    finally:
        ray.shutdown()
    ours = evaluate(data, out)
    print(f"free-text set: {args.rows} rows, seed {args.seed}, {len(data.planted)} planted "
          f"identifiers, {len(data.decoys)} decoys")  # fmt: skip
    print(f"engine ({fw or 'replace all'}): {json.dumps(ours)} ({secs:.1f} s end to end)")
    result = {"engine": ours}
    if args.presidio_rows:
        n = min(args.presidio_rows, args.rows)
        sub = FreeTextSet(data.rows[:n], [p for p in data.planted if p[0] < n],
                          [x for x in data.decoys if x[0] < n])  # fmt: skip
        p_out, p_secs = presidio_redact(sub.rows)
        theirs = evaluate(sub, p_out)
        ours_sub = evaluate(sub, {k: v for k, v in out.items() if k < n})
        print(f"same first {n} rows -- engine: leak {ours_sub['leak_rate']:.4f}, decoys "
              f"{ours_sub['decoy_survival']:.4f}; Presidio: leak {theirs['leak_rate']:.4f}, "
              f"decoys {theirs['decoy_survival']:.4f} ({p_secs:.1f} s)")  # fmt: skip
        print(f"Presidio detail: {json.dumps(theirs)}")
        result |= {"engine_subset": ours_sub, "presidio": theirs}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
