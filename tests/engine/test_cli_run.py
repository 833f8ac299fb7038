"""The quickstart through the real command line, attached to the test session's Ray."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as pads
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A copy of examples/ with a small generated data set."""
    ex = tmp_path / "examples"
    shutil.copytree(REPO / "examples", ex, ignore=shutil.ignore_patterns("data", "__pycache__"))
    subprocess.run([sys.executable, str(ex / "generate_data.py"), "--rows", "2000",
                    "--out", str(ex / "data")], check=True, capture_output=True)
    return ex


def test_quickstart_runs_from_the_cli(quickstart: Path, ray_session, home: Path) -> None:
    address = ray_session.get_runtime_context().gcs_address
    env = {**os.environ, "PIPELINE_BUILDER_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(quickstart / "quickstart.yaml"),
         "--catalog", str(quickstart / "catalog.yaml"), "--address", address],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert out.startswith("execution exec_")
    assert "COMPLETED" in out and "2,000 records read" in out
    exec_id = out.split()[1]
    record = json.loads((home / "runs" / f"{exec_id}.json").read_text())
    assert record["status"] == "completed"
    validate = record["nodes"]["validate"]
    assert validate["rowsIn"] == 2000
    assert 0 < validate["counters"]["quality.failed"] < 100  # the planted bad rows
    # Valid rows are archived (partitioned by country), the rest quarantined.
    archived = pads.dataset(quickstart.parent / "out" / "quickstart" / "customers",
                            format="parquet", partitioning="hive").count_rows()
    assert archived == validate["rowsOut"] == 2000 - validate["counters"]["quality.failed"]


def test_failed_run_exits_non_zero_with_the_reason(tmp_path: Path, ray_session,
                                                   home: Path) -> None:
    (tmp_path / "a.csv").write_text("id,age\n1,5\n2,-3\n")
    (tmp_path / "p.yaml").write_text(
        "id: strict\nnodes:\n"
        "  - {id: load, nodeType: source, category: file, config: {uri: a.csv}}\n"
        "  - {id: check, nodeType: transform, category: validator, inputs: [load],\n"
        "     config: {rules: [{rule: range, column: age, min: 0}]}}\n"
        "  - {id: out, nodeType: output, category: archive, inputs: [check], config: {uri: o}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(tmp_path / "p.yaml"), "--address",
         ray_session.get_runtime_context().gcs_address],
        capture_output=True, text=True, env={**os.environ, "PIPELINE_BUILDER_HOME": str(home)},
        timeout=600,
    )
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout
    assert "node 'check'" in proc.stdout and "value -3" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "o").exists()
