"""OpenLineage from a command-line run: every event and facet passes the spec's schemas.

The run goes through the real CLI (``python -m engine run``), configured the way the
OpenLineage client is (``OPENLINEAGE_CONFIG`` naming an ``openlineage.yml`` with the file
transport). Expected figures come from the written files themselves (pyarrow, os.stat),
not from the engine's own counters.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from tests.lineage.olschema import problems

REPO = Path(__file__).resolve().parents[2]
ROWS = 1200


def _people(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "email", "age"])
        for i in range(rows):
            w.writerow([i, f"Person {i}", f"person{i}@example.org", 20 + i % 50])
    return path


def _spec(tmp: Path, src: Path) -> Path:
    spec = tmp / "pipeline.yaml"
    spec.write_text(
        "id: lineage_cli\nnodes:\n"
        f"  - {{id: load, nodeType: source, category: file, config: {{uri: '{src}'}}}}\n"
        "  - {id: detect, nodeType: privacy, category: detection, inputs: [load],\n"
        "     config: {patternLibraryId: patterns_default}}\n"
        "  - {id: redact, nodeType: privacy, category: redaction, inputs: [detect],\n"
        "     config: {redactionRuleId: rules_default}}\n"
        f"  - {{id: out, nodeType: output, category: archive, inputs: [redact], "
        f"config: {{uri: '{tmp / 'out_a'}'}}}}\n"
        f"  - {{id: copy, nodeType: output, category: archive, inputs: [redact], "
        f"config: {{uri: '{tmp / 'out_b'}'}}}}\n"
    )
    return spec


def _files_size(folder: Path) -> int:
    return sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and not any(x.startswith(("_", ".")) for x in p.relative_to(folder).parts)
    )


@pytest.fixture
def cli_events(tmp_path: Path, ray_session, home: Path) -> tuple[list[dict], Path, Path]:
    src = _people(tmp_path / "people.csv", ROWS)
    events_file = tmp_path / "ol" / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {events_file}\n  append: true\n")
    env = {
        **os.environ,
        "PIPELINE_BUILDER_HOME": str(home),
        "PIPELINE_BUILDER_DATA_ROOTS": str(tmp_path),
        "OPENLINEAGE_CONFIG": str(config),
    }
    env.pop("OPENLINEAGE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(_spec(tmp_path, src)), "--json",
         "--address", ray_session.get_runtime_context().gcs_address],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    return events, src, tmp_path


def test_every_cli_event_and_facet_validates(cli_events) -> None:
    events, _src, _tmp = cli_events
    kinds = [e["eventType"] for e in events]
    assert kinds[0] == "START" and kinds[-1] == "COMPLETE"
    assert set(kinds) <= {"START", "RUNNING", "COMPLETE"}
    assert len({e["run"]["runId"] for e in events}) == 1
    for event in events:
        assert problems(event) == [], event["eventType"]


def test_cli_lineage_names_statistics_and_masking(cli_events) -> None:
    events, src, tmp = cli_events
    complete = events[-1]
    (inp,) = complete["inputs"]
    assert (inp["namespace"], inp["name"]) == ("file", str(src))
    assert inp["facets"]["dataSource"]["uri"] == src.resolve().as_uri()
    assert inp["inputFacets"]["dataQualityMetrics"]["rowCount"] == ROWS
    outs = {o["name"]: o for o in complete["outputs"]}
    assert set(outs) == {str(tmp / "out_a"), str(tmp / "out_b")}  # one entry per output
    for name, out in outs.items():
        folder = Path(name)
        stats = out["outputFacets"]["outputStatistics"]
        assert stats["rowCount"] == pads.dataset(folder, format="parquet").count_rows() == ROWS
        assert stats["size"] == _files_size(folder) > 0
        lineage = out["facets"]["columnLineage"]["fields"]
        (email,) = lineage["email"]["inputFields"]
        assert (email["namespace"], email["name"], email["field"]) == ("file", str(src), "email")
        (how,) = email["transformations"]
        assert (how["type"], how["subtype"], how["masking"]) == ("DIRECT", "TRANSFORMATION", True)
        (ident,) = lineage["id"]["inputFields"][0]["transformations"]
        assert (ident["subtype"], ident.get("masking", False)) == ("IDENTITY", False)
