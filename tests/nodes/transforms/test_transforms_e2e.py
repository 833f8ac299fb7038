"""End-to-end runs: source/file -> transforms -> output/archive on a real Ray session."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from engine.spec.models import PipelineSpec

ROWS = [
    # id, name, email, amount, joined, active
    ("1", "ada lovelace", "ada@example.com", "1.234,50", "10/12/2020", "yes"),
    ("2", "alan turing", "alan@example", "12,00", "01/02/2021", "no"),
    ("3", "grace hopper", "", "7,25", "28/02/2021", "1"),
    ("3", "edsger dijkstra", "ed@example.org", "0,50", "05/05/2022", "0"),
    ("5", "barbara liskov", "barbara@example.net", "99", "07/07/2019", "maybe"),
    ("6", "ken thompson", "ken@example.com", "-1", "08/08/2018", "y"),
    ("7", "linus torvalds", "linus@example.com", "5", "31/02/2021", "t"),
]


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cust_id", "full_name", "email", "amount", "joined", "active"])
        w.writerows(ROWS)
    return path


def catalog() -> DictCatalog:
    return DictCatalog(
        {
            "fieldMappings": {
                "crm": {
                    "id": "crm",
                    "rename": {"cust_id": "customer_id", "full_name": "name"},
                    "cast": {"customer_id": "int64"},
                    "derive": {"display": "upper(name)"},
                },
            },
            "qualityRules": {
                "crm_rules": {
                    "id": "crm_rules",
                    "rules": [
                        {
                            "rule": "regex",
                            "column": "email",
                            "pattern": r"^[^@]+@[^@]+\.\w+$",
                            "name": "email_shape",
                        },
                        {"rule": "range", "column": "amount", "min": 0},
                        {"rule": "unique", "column": "customer_id"},
                    ],
                }
            },
        }
    )


def spec(
    tmp_path: Path,
    csv_path: Path,
    *,
    validate_on_error: str = "quarantine",
    extra_nodes: list | None = None,
) -> PipelineSpec:
    nodes = [
        {
            "id": "load",
            "nodeType": "source",
            "category": "file",
            "config": {"uri": str(csv_path), "format": "csv", "autoProfile": True},
        },
        {
            "id": "map",
            "nodeType": "transform",
            "category": "field_mapper",
            "inputs": ["load"],
            "config": {"fieldMappings": "crm"},
        },
        {
            "id": "convert",
            "nodeType": "transform",
            "category": "format_converter",
            "inputs": ["map"],
            "onError": "skip",
            "config": {
                "columns": {
                    "amount": {"to": "number", "decimalSeparator": ","},
                    "joined": {"to": "date", "formats": ["%d/%m/%Y"]},
                    "active": {"to": "boolean"},
                    "email": {"to": "string", "case": "lower"},
                }
            },
        },
        {
            "id": "check",
            "nodeType": "transform",
            "category": "validator",
            "inputs": ["convert"],
            "onError": validate_on_error,
            "config": {
                "qualityRules": "crm_rules",
                "uniquePartitions": 2,
                "quarantineUri": str(tmp_path / "quarantine"),
                "rules": [{"rule": "not_null", "column": "joined"}],
            },
        },
        {
            "id": "archive",
            "nodeType": "output",
            "category": "archive",
            "inputs": ["check"],
            "config": {"uri": str(tmp_path / "out"), "format": "parquet"},
        },
    ]
    return PipelineSpec.model_validate({"id": "crm_clean", "nodes": nodes + (extra_nodes or [])})


def run(s: PipelineSpec, home: Path, tmp_path: Path):
    return run_pipeline(s, catalog(), options=RunOptions(home=home, base_dir=tmp_path))


def test_mapping_conversion_validation_and_quarantine(
    ray_session, home: Path, tmp_path: Path, customers: Path
) -> None:
    result = run(spec(tmp_path, customers), home, tmp_path)
    assert result.status == "completed", result.error
    out = pads.dataset(str(tmp_path / "out"), format="parquet").to_table()
    # ada and barbara pass; alan (email), ken (range), linus (31/02 is no date) fail the row
    # rules; grace and edsger pass them but share id 3, so both fail uniqueness.
    assert sorted(out.column("customer_id").to_pylist()) == [1, 5]
    row = {r["customer_id"]: r for r in out.to_pylist()}[1]
    assert row["display"] == "ADA LOVELACE" and row["amount"] == 1234.5 and row["active"] is True
    assert str(row["joined"]) == "2020-12-10"

    info = result.to_dict()["nodes"]
    counters = info["check"]["counters"]
    assert counters["quality.passed"] == 2 and counters["quality.failed"] == 5
    assert counters["quality.email_shape.failed"] == 1  # "" became null: not_null's job
    assert counters["quality.range_amount.failed"] == 1
    assert counters["quality.not_null_joined.failed"] == 1
    assert counters["quality.unique_customer_id.failed"] == 2
    assert counters["quality.unique_customer_id.passed"] == 2
    assert info["convert"]["counters"] == {
        "conversion_failed.joined": 1,
        "conversion_failed.active": 1,
    }
    assert result.quality_score == pytest.approx(2 / 7, abs=1e-4)

    quarantine = info["check"]["facts"]["quarantine"]["location"]
    bad = pq.read_table(quarantine)
    assert bad.num_rows == 5
    reasons = dict(
        zip(
            bad.column("name").to_pylist(),
            bad.column("_quarantine_reason").to_pylist(),
            strict=True,
        )
    )
    assert reasons["ken thompson"] == "range_amount: expected a value >= 0"
    assert reasons["alan turing"].startswith("email_shape: expected a value matching")
    assert reasons["grace hopper"] == "unique_customer_id: expected a value no other row has"

    profile = info["load"]["states"]["profile"]
    assert profile["rows"] == 7
    assert profile["columns"]["cust_id"]["distinctEstimate"] == 6
    assert "min" not in profile["columns"]["email"]


def test_unique_rule_fails_run_naming_the_duplicate(
    ray_session, home: Path, tmp_path: Path, customers: Path
) -> None:
    s = spec(tmp_path, customers, validate_on_error="fail")
    nodes = [n.model_dump() for n in s.nodes]
    nodes[3]["config"] = {
        "rules": [{"rule": "unique", "column": "customer_id"}],
        "uniquePartitions": 2,
    }
    result = run(PipelineSpec.model_validate({"id": "p", "nodes": nodes}), home, tmp_path)
    assert result.status == "failed"
    assert "node 'check'" in (result.error or "")
    assert "unique_customer_id" in (result.error or "") and "value 3" in (result.error or "")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.parquet"))


def test_bad_cast_fails_run_naming_node_column_and_value(
    ray_session, home: Path, tmp_path: Path, customers: Path
) -> None:
    nodes = [
        {
            "id": "load",
            "nodeType": "source",
            "category": "file",
            "config": {"uri": str(customers), "format": "csv"},
        },
        {
            "id": "typed",
            "nodeType": "transform",
            "category": "field_mapper",
            "inputs": ["load"],
            "config": {"cast": {"amount": "float64"}},
        },
        {
            "id": "archive",
            "nodeType": "output",
            "category": "archive",
            "inputs": ["typed"],
            "config": {"uri": str(tmp_path / "out2"), "format": "parquet"},
        },
    ]
    result = run(PipelineSpec.model_validate({"id": "p", "nodes": nodes}), home, tmp_path)
    assert result.status == "failed"
    assert result.error_node == "typed"
    error = result.error or ""
    # Both planted values are bad; which one a batch reports first depends on how the
    # input was split into blocks.
    assert "'amount'" in error
    assert "'1.234,50'" in error or "'7,25'" in error
