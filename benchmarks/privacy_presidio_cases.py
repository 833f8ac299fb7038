"""Presidio's own recognizer test cases, end to end through a pipeline, vs Presidio.

Data: ``../shared/benchmarks/presidio_recognizer_cases.json`` (the parametrized cases of
Presidio's predefined-recognizer tests, with the spans its tests expect; the README beside
it). One case per row in a free-text column ``text``, written as Parquet.

* Engine: ``source/file -> privacy/detection (patterns_default, spaCy en_core_web_sm) ->
  privacy/redaction (every finding replaced by its <ENTITY> tag) -> output/archive``
  through ``run_pipeline``. The spans that were redacted are recovered from the written
  text (the output must be the input with tagged replacements).
* Presidio: ``AnalyzerEngine`` with its default recognizers on each case, no score
  threshold (its tests assert on every result).

Per entity type of the case (Presidio's names): recall = expected spans with no letter or
digit left in clear; false positives = redacted spans that overlap no expected span (any
entity type: what the redaction destroys without need). Default-config cases only (the
others use non-default Presidio settings, e.g. phone regions); the unmerged DEA fork
cases are left out, as the README says.

    python -m benchmarks privacy_presidio_cases [--every 1] [--no-presidio] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

CASES = (
    Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "presidio_recognizer_cases.json"
)
if not CASES.exists():  # the checkout may sit elsewhere: fall back to the shared folder
    CASES = Path("/work/shared/benchmarks/presidio_recognizer_cases.json")


def pipeline_spans(cases: list[dict[str, Any]], workdir: Path, *, ner: bool = True) -> list[Any]:
    """Run the cases through the pipeline; redacted spans per case (None: malformed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from engine.context import RunOptions
    from engine.run.runner import run_pipeline
    from engine.spec import parse_spec
    from nodes.privacy.evaluation import redacted_spans

    src = workdir / "cases.parquet"
    pq.write_table(pa.table({"case_id": [c["id"] for c in cases],
                             "text": [c["text"] for c in cases]}), src)  # fmt: skip
    out = workdir / "out"
    spec = parse_spec({"id": "presidio_cases", "nodes": [
        {"id": "load", "nodeType": "source", "category": "file",
         "config": {"uri": str(src), "format": "parquet"}},
        {"id": "detect", "nodeType": "privacy", "category": "detection", "inputs": ["load"],
         "config": {"patternLibraryId": "patterns_default",
                    "nerModel": "en_core_web_sm" if ner else None}},
        {"id": "redact", "nodeType": "privacy", "category": "redaction", "inputs": ["detect"],
         "config": {"rules": [{"entity": "*", "operator": "replace"}]}},
        {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["redact"],
         "config": {"uri": str(out)}},
    ]})  # fmt: skip
    res = run_pipeline(spec, options=RunOptions(home=workdir / "home", base_dir=workdir))
    if not res.ok:
        raise RuntimeError(f"pipeline failed: {res.error}")
    written: dict[int, str] = {}
    for f in sorted(out.rglob("*.parquet")):
        t = pq.read_table(f)
        for cid, text in zip(t.column("case_id").to_pylist(), t.column("text").to_pylist(),
                             strict=True):  # fmt: skip
            written[cid] = text if text is not None else ""
    if len(written) != len(cases):
        raise RuntimeError(f"rows in {len(cases)} != rows out {len(written)}")
    return [redacted_spans(c["text"], written[c["id"]]) for c in cases]


def score(cases: list[dict[str, Any]], spans: list[Any]) -> Any:
    from nodes.privacy.evaluation import CaseScore

    sc = CaseScore()
    for c, sp in zip(cases, spans, strict=True):
        if sp is None:
            raise RuntimeError(f"case {c['id']}: output is not the input with tags")
        sc.add(c, sp)
    return sc


def presidio_spans(cases: list[dict[str, Any]]) -> tuple[list[Any], float]:
    from nodes.privacy.evaluation import presidio_case_spans
    from nodes.privacy.presidio_bridge import presidio_analyzer

    analyzer = presidio_analyzer("en_core_web_sm")
    t = time.perf_counter()
    out = [presidio_case_spans(analyzer, c["text"]) for c in cases]
    return out, time.perf_counter() - t


def run(every: int = 1, presidio: bool = True, ner: bool = True) -> dict[str, Any]:
    """Both sides on every ``every``-th default-config case; scores and tables."""
    import ray

    from nodes.privacy.evaluation import load_presidio_cases

    cases = load_presidio_cases(CASES)[::every]
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            ours = score(cases, pipeline_spans(cases, Path(d), ner=ner))
            ours_s = time.perf_counter() - t
    finally:
        if started:
            ray.shutdown()
    result: dict[str, Any] = {"cases": len(cases), "ours": ours, "ours_seconds": ours_s}
    if presidio:
        spans, secs = presidio_spans(cases)
        result["presidio"] = score(cases, spans)
        result["presidio_seconds"] = secs
        result["presidio_raw"] = spans
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks privacy_presidio_cases")
    ap.add_argument("--every", type=int, default=1, help="use every N-th case")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the tables here")
    args = ap.parse_args(argv)
    r = run(args.every, presidio=not args.no_presidio)
    ours = r["ours"]
    theirs = r.get("presidio")
    print(f"Presidio recognizer cases (default config): {r['cases']} cases")
    print(f"{'entity':22} {'expected':>8} {'ours found':>10} {'ours FP':>8} "
          f"{'Presidio found':>14} {'Presidio FP':>11}")  # fmt: skip
    ot = ours.table()
    tt = theirs.table() if theirs else {}
    for ent in sorted(set(ot) | set(tt)):
        o = ot.get(ent, {"expected": 0, "found": 0, "fp": 0})
        p = tt.get(ent, {"found": "-", "fp": "-"})
        print(f"{ent:22} {o['expected']:>8} {o['found']:>10} {o['fp']:>8} "
              f"{p['found']:>14} {p['fp']:>11}")  # fmt: skip
    tot = ours.totals()
    print(
        f"ours:     recall {tot['recall']:.4f} ({tot['found']}/{tot['expected']}), "
        f"false positives {tot['false_positives']}, {r['ours_seconds']:.1f} s end to end"
    )
    if theirs:
        pt = theirs.totals()
        print(
            f"Presidio: recall {pt['recall']:.4f} ({pt['found']}/{pt['expected']}), "
            f"false positives {pt['false_positives']}, {r['presidio_seconds']:.1f} s analyze"
        )
    if args.json:
        args.json.write_text(json.dumps({"ours": ot, "presidio": tt}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
