"""Quality gates evaluated on Arrow batches (no Ray needed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from engine.catalog import DictCatalog
from engine.errors import NodeConfigError
from nodes.outputs import gates

from .conftest import customers


def _run(items, batches, **kw):
    resolved = gates.resolve_gates(items, kw.pop("catalog", DictCatalog()), node_id="out")
    results, summary = gates.evaluate(resolved, batches, **kw)
    return {r["id"]: r for r in results}, summary


def test_pii_free_finds_emails_and_passes_redacted():
    raw = customers(60)
    res, _ = _run(["pii_free"], raw.to_batches(max_chunksize=25))
    assert res["pii_free"]["status"] == "failed"
    assert "email" in str(res["pii_free"]["observed"]["columns"])
    assert "example.com" not in res["pii_free"]["message"]  # never values, only names
    redacted = raw.set_column(1, "email", pa.array(["[REDACTED]"] * 60))
    res, _ = _run(["pii_free"], redacted.to_batches(max_chunksize=25))
    assert res["pii_free"]["status"] == "passed", res["pii_free"]


def test_uniqueness_counts_duplicates_across_batches():
    t = pa.table({"k": [1, 2, 3, 4], "v": ["a", "b", "c", "d"]})
    dup = pa.table({"k": [4, 5], "v": ["d", "e"]})
    res, _ = _run([{"gate": "uniqueness", "keys": ["k", "v"]}], [t, dup])
    assert res["uniqueness"]["status"] == "failed"
    assert res["uniqueness"]["observed"]["duplicates"] == 1
    res, _ = _run([{"gate": "uniqueness", "keys": "k"}], [t])
    assert res["uniqueness"]["status"] == "passed"


def test_freshness_and_row_count():
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    t = pa.table(
        {
            "ts": pa.array(
                [now - timedelta(hours=30), now - timedelta(hours=2)], pa.timestamp("us", "UTC")
            )
        }
    )
    res, _ = _run(
        [
            {"id": "fresh", "gate": "freshness", "column": "ts", "maxAgeHours": 3},
            {
                "id": "stale",
                "gate": "freshness",
                "column": "ts",
                "maxAgeHours": 1,
                "severity": "warn",
            },
            {"id": "rows", "gate": "row_count", "min": 1, "max": 1},
        ],
        [t],
        now=now,
    )
    assert res["fresh"]["status"] == "passed"
    assert res["stale"]["status"] == "warning"
    assert res["rows"]["status"] == "failed" and "2 rows" in res["rows"]["message"]


def test_completeness_score_and_nullable_schema():
    t = customers(10, null_every=2)
    res, summary = _run(
        ["completeness", "schema_validation"],
        [t],
        expected_schema=[{"name": "email", "type": "string", "nullable": False}],
    )
    assert res["completeness"]["status"] == "failed"
    assert res["completeness"]["observed"]["ratios"]["email"] == 0.5
    assert "null" in res["schema_validation"]["message"]
    assert summary["completenessScore"] == pytest.approx(1 - 5 / 30)


def test_bad_gate_resources_are_clear():
    cat = DictCatalog({"qualityRules": {"odd": {"id": "odd", "gate": "vibes"}}})
    with pytest.raises(NodeConfigError, match="expected 'gate' to be one of"):
        gates.resolve_gates(["odd"], cat, node_id="out")
    with pytest.raises(NodeConfigError, match="severity"):
        gates.resolve_gates([{"gate": "row_count", "severity": "panic"}], cat, node_id="out")
    assert gates.gate_refs(["row_count", "odd"]) == [("qualityRules", "odd", "qualityGates.1")]
