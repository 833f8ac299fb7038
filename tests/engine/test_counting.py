"""Rows are counted once: previews taken while building do not count as processed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv

pytestmark = pytest.mark.usefixtures("ray_session")


def test_detection_sample_is_not_counted_as_processed(tmp_path: Path, home: Path) -> None:
    write_csv(tmp_path / "people.csv", 1500)
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "people.csv")}),
        node("detect", "privacy/detection", {"patternLibraryId": "patterns_default"}, ["load"]),
        node("redact", "privacy/redaction", {"redactionRuleId": "rules_default"}, ["detect"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["redact"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home))
    assert result.ok, result.error
    assert result.nodes["load"].rowsOut == 1500
    assert result.records_processed == 1500
    assert result.nodes["out"].rowsIn == 1500
    assert len(read_parquet_rows(tmp_path / "out")) == 1500
