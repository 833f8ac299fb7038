"""Rows are counted once per committed block: previews, samples, re-executed tasks and
reused work never change the figures.

Expected figures come from the inputs the tests wrote and from the written Parquet files
(pyarrow), never from the engine's own counters.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline, write_csv
from tests.engine.reliability.testnodes import REGISTRY

pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture(autouse=True)
def _roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(tmp_path))


def _written(folder: Path) -> int:
    return pads.dataset(folder, format="parquet").count_rows()


def _customers(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "full_name", "email", "age", "city"])
        for i in range(rows):
            w.writerow(
                [i, f"Person {i}", f"p{i}@example.org", 20 + i % 60, ["Oslo", "Lima"][i % 2]]
            )
    return path


def test_detection_sample_is_not_counted_as_processed(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "people.csv", 1500)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "people.csv")}),
        node("detect", "privacy/detection", {"patternLibraryId": "patterns_default"}, ["load"]),
        node("redact", "privacy/redaction", {"redactionRuleId": "rules_default"}, ["detect"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["redact"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    written = _written(tmp_path / "out")
    assert written == 1500
    assert result.records_processed == 1500
    for nid in ("load", "detect", "redact"):
        assert result.nodes[nid].rowsOut == 1500, nid
    assert result.nodes["out"].rowsIn == result.nodes["out"].rowsOut == written
    assert result.outputs[0]["rows"] == written


def test_privacy_and_synthetic_branches_count_exactly(tmp_path: Path, home: Path) -> None:
    _customers(tmp_path / "customers.csv", 900)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "customers.csv")}),
        node("detect", "privacy/detection", {"patternLibraryId": "patterns_default"}, ["load"]),
        node("redact", "privacy/redaction", {"redactionRuleId": "rules_default"}, ["detect"]),
        node("masked", "output/archive", {"uri": str(tmp_path / "masked")}, ["redact"]),
        node(
            "synth",
            "privacy/synthetic",
            {"syntheticTemplateId": "tpl", "recordCount": 500, "outputFormat": "parquet"},
            ["load"],
        ),
        node("fake", "output/archive", {"uri": str(tmp_path / "fake")}, ["synth"]),
    )
    catalog = DictCatalog(
        {"syntheticTemplates": {"tpl": {"id": "tpl", "seed": 3, "fitSampleSize": 900}}},
        base_dir=tmp_path,
    )
    result = run_pipeline(spec, catalog, options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    masked, fake = _written(tmp_path / "masked"), _written(tmp_path / "fake")
    assert (masked, fake) == (900, 500)
    n = result.nodes
    assert result.records_processed == 900  # the source is read once for both branches
    assert n["load"].rowsOut == n["detect"].rowsIn == n["detect"].rowsOut == 900
    assert n["redact"].rowsIn == n["redact"].rowsOut == n["masked"].rowsOut == masked
    assert n["synth"].rowsIn == 900 and n["synth"].rowsOut == n["fake"].rowsOut == fake
    by_node = {o["nodeId"]: o for o in result.outputs}
    assert (by_node["masked"]["rows"], by_node["fake"]["rows"]) == (masked, fake)


def test_counts_are_exact_after_a_worker_is_killed(tmp_path: Path, home: Path) -> None:
    for i in range(4):
        write_csv(tmp_path / "in" / f"p{i}.csv", 500, start=i * 500)
    pids = tmp_path / "pids"
    spec = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("work", "transform/test_pid", {"pidFile": str(pids), "secondsPerBatch": 0.3}, ["src"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["work"]),
    )
    box: dict = {}
    t = threading.Thread(
        target=lambda: box.update(
            r=run_pipeline(spec, options=RunOptions(home=home), registry=REGISTRY)
        )
    )
    t.start()
    deadline = time.time() + 120
    while not (pids.exists() and pids.read_text().split()):
        assert time.time() < deadline, "no worker started"
        time.sleep(0.05)
    victim = int(pids.read_text().split()[0])
    assert victim != os.getpid()
    os.kill(victim, signal.SIGKILL)
    t.join(timeout=300)
    result = box["r"]
    assert result.ok, result.error
    assert len(set(pids.read_text().split())) >= 2  # the killed worker's task ran again
    written = _written(tmp_path / "out")
    assert written == 2000
    assert result.records_processed == 2000
    assert result.nodes["src"].rowsOut == result.nodes["work"].rowsOut == 2000
    assert result.nodes["out"].rowsOut == written


def test_counts_are_exact_after_a_resume(tmp_path: Path, home: Path) -> None:
    from engine.service.resume import resume

    files, per = 6, 250
    for i in range(files):
        write_csv(tmp_path / "in" / f"part{i}.csv", per, start=i * per)
    flag = tmp_path / "fixed"
    spec = pipeline(
        node("src", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("gate", "transform/test_fail_until", {"failId": 3 * per + 1, "untilFile": str(flag)},
             ["src"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["gate"]),
    )  # fmt: skip
    options = RunOptions(home=home, extra={"checkpoint": True})
    first = run_pipeline(
        spec, options=options, execution_id="exec_resume_counts", registry=REGISTRY
    )
    assert first.status == "failed"
    flag.write_text("ok")
    result = resume("exec_resume_counts", home=home, observers=[], registry=REGISTRY)
    assert result.ok, result.error
    facts = result.outputs[0]
    assert facts["shardsSkipped"] >= 1  # shards the first attempt committed were reused
    written = _written(tmp_path / "out")
    assert written == files * per
    assert result.records_processed == written
    assert result.nodes["src"].rowsOut == result.nodes["gate"].rowsOut == written
    assert result.nodes["out"].rowsOut == facts["rows"] == written
