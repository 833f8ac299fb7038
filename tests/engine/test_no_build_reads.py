"""Nothing reads data while the graph is built; data-dependent steps are run stages.

A source that logs every block it reads feeds privacy/detection, privacy/redaction and
privacy/synthetic. Compiling the pipeline must read nothing; running it must read the
file exactly once, report exactly its row count for the source, and show rows in
progress early in the run.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.plan.planner import plan
from engine.plan.validation import validate
from engine.run.compiler import compile_plan
from engine.run.metrics import RayMetrics, metrics_actor
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline
from tests.engine.reliability.testnodes import REGISTRY, rows_read

pytestmark = pytest.mark.usefixtures("ray_session")

ROWS = 20_000
FIRST = ["Ana", "Bjorn", "Chidi", "Dagny", "Emeka", "Farah", "Goran", "Hiroko"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Quispe", "Berg"]


FILES = 8  # a folder of files, as users land data: one read task (and block) each


def _write(folder: Path) -> None:
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    per = ROWS // FILES
    for k in range(FILES):
        with (folder / f"part-{k}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "age", "score", "note"])
            for i in range(k * per, (k + 1) * per):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                note = f"call {name} at 555-01{i % 100:02d}" if i % 3 == 0 else "no contact"
                w.writerow([i, 20 + i % 60, round(rng.random(), 4), note])


def _spec(tmp_path: Path):
    return pipeline(
        node(
            "load",
            "source/test_counting",
            {"uri": str(tmp_path / "in"), "countFile": str(tmp_path / "reads.log")},
        ),
        node("detect", "privacy/detection", {"patternLibraryId": "patterns_default"}, ["load"]),
        node("redact", "privacy/redaction", {"redactionRuleId": "rules_default"}, ["detect"]),
        node(
            "synth",
            "privacy/synthetic",
            {"syntheticTemplateId": "tpl", "recordCount": 5000},
            ["redact"],
        ),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["synth"]),
    )


def _catalog(tmp_path: Path) -> DictCatalog:
    tpl = {"id": "tpl", "seed": 3, "fitSampleSize": 2000, "blockRows": 1000}
    return DictCatalog({"syntheticTemplates": {"tpl": tpl}}, base_dir=tmp_path)


def test_compiling_reads_no_data(tmp_path: Path, home: Path) -> None:
    _write(tmp_path / "in")
    spec, catalog, registry = _spec(tmp_path), _catalog(tmp_path), REGISTRY
    the_plan = plan(spec, validate(spec, catalog, registry), registry)
    compiled = compile_plan(
        the_plan,
        spec,
        catalog,
        registry,
        execution_id="build-only",
        options=RunOptions(home=home, base_dir=tmp_path),
        metrics=RayMetrics(metrics_actor(), "build-only"),
    )
    assert set(compiled.sinks) == {"out"}
    assert rows_read(tmp_path / "reads.log") == 0


def test_source_counted_exactly_and_progress_is_early(tmp_path: Path, home: Path) -> None:
    _write(tmp_path / "in")
    events = []
    result = run_pipeline(
        _spec(tmp_path),
        _catalog(tmp_path),
        options=RunOptions(home=home, base_dir=tmp_path, progress_interval=0.1),
        on_event=events.append,
        registry=REGISTRY,
    )
    assert result.ok, result.error
    d = result.to_dict()
    assert rows_read(tmp_path / "reads.log") == ROWS  # the file was read once
    assert d["nodes"]["load"]["rowsOut"] == ROWS
    assert d["nodes"]["detect"]["rowsIn"] == ROWS
    assert d["metrics"]["recordsProcessed"] == ROWS
    start = next(e.at for e in events if e.kind == "started")
    end = next(e.at for e in events if e.kind == "completed")
    first_rows = next(
        e.at for e in events if e.kind == "progress" and e.data.get("recordsProcessed", 0) > 0
    )
    assert first_rows - start <= (end - start) / 4, (first_rows - start, end - start)
