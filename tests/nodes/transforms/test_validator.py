"""Quality rules on Arrow batches (check_batch, rule parsing, config validation)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from engine.errors import NodeConfigError, RowError
from engine.plan.validation import check
from engine.spec.models import PipelineSpec
from nodes.transforms.validator import (
    REASON_COLUMN,
    QuarantineWriter,
    Rule,
    ValidatorConfig,
    check_batch,
    rule_passes,
    rules_from_resource,
)


@pytest.fixture
def table() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 2, 3, None],
            "age": ["10", "x", "200", None, "5"],
            "email": ["a@b.co", "bad", "c@d.eu", None, "x@y.org"],
            "status": ["active", "closed", "zombie", "active", None],
            "born": [
                dt.date(1990, 1, 1),
                dt.date(2030, 1, 1),
                None,
                dt.date(1950, 5, 5),
                dt.date(2000, 2, 2),
            ],
        }
    )


def mask(table: pa.Table, **rule) -> list[bool]:
    return rule_passes(table, Rule.model_validate(rule)).tolist()


def test_each_rule_kind(table: pa.Table) -> None:
    assert mask(table, rule="not_null", column="id") == [True] * 4 + [False]
    assert mask(table, rule="type", column="age", type="int64") == [True, False, True, True, True]
    assert mask(table, rule="range", column="id", min=2) == [False, True, True, True, True]
    assert mask(table, rule="range", column="born", max="2025-01-01") == [
        True,
        False,
        True,
        True,
        True,
    ]
    assert mask(table, rule="regex", column="email", pattern=r"^[^@\s]+@[^@\s]+\.\w+$") == [
        True,
        False,
        True,
        True,
        True,
    ]
    assert mask(table, rule="allowed", column="status", values=["active", "closed"]) == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert mask(table, rule="unique", column="id") == [True, False, False, True, True]


def test_drop_counts_per_rule_and_totals(table: pa.Table) -> None:
    rules = [
        Rule(rule="not_null", column="id"),
        Rule(rule="allowed", column="status", values=["active", "closed"], name="status_ok"),
    ]
    seen: list[dict] = []
    out = check_batch(table, rules, node_id="v", on_error="drop", counters=seen.append)
    assert out.column("id").to_pylist() == [1, 2, 3]
    assert seen == [
        {
            "quality.not_null_id.passed": 4,
            "quality.not_null_id.failed": 1,
            "quality.status_ok.passed": 4,
            "quality.status_ok.failed": 1,
            "quality.failed": 2,
            "quality.passed": 3,
        }
    ]


def test_fail_names_node_rule_column_value_and_expectation(table: pa.Table) -> None:
    rules = [Rule(rule="range", column="id", min=0, max=2)]
    with pytest.raises(RowError) as info:
        check_batch(table, rules, node_id="check_people", on_error="fail")
    msg = str(info.value)
    for part in ("node 'check_people'", "range_id", "'id'", "value 3", ">= 0 and <= 2"):
        assert part in msg


def test_quarantine_gets_bad_rows_with_reasons(table: pa.Table, tmp_path) -> None:
    rules = [Rule(rule="not_null", column="id"), Rule(rule="unique", column="id")]
    writer = QuarantineWriter(str(tmp_path / "q"))
    out = check_batch(table, rules, node_id="v", on_error="quarantine", quarantine=writer)
    assert out.column("id").to_pylist() == [1, 3]
    files = list((tmp_path / "q").iterdir())
    assert len(files) == 1 and files[0].name.startswith("part-")
    bad = pq.read_table(files[0])
    assert bad.column("id").to_pylist() == [2, 2, None]
    assert bad.column(REASON_COLUMN).to_pylist() == [
        "unique_id: expected a value no other row has",
        "unique_id: expected a value no other row has",
        "not_null_id: expected a non-null value",
    ]


def test_missing_column_and_misfit_bound_are_config_errors(table: pa.Table) -> None:
    with pytest.raises(NodeConfigError, match="unknown column 'nope'"):
        check_batch(table, [Rule(rule="not_null", column="nope")], node_id="v", on_error="drop")
    with pytest.raises(NodeConfigError, match="bound 'abc'"):
        check_batch(
            table, [Rule(rule="range", column="id", min="abc")], node_id="v", on_error="drop"
        )


def test_rule_models_reject_bad_input() -> None:
    with pytest.raises(ValidationError, match="invalid regular expression"):
        Rule(rule="regex", column="a", pattern="(?<=x)y")  # RE2 has no lookbehind
    with pytest.raises(ValidationError, match="needs 'values'"):
        Rule(rule="allowed", column="a")
    with pytest.raises(ValidationError, match="needs 'min', 'max'"):
        Rule(rule="range", column="a")
    with pytest.raises(ValidationError, match="unknown type"):
        Rule(rule="type", column="a", type="number-ish")
    with pytest.raises(ValidationError, match="named 'not_null_a'"):
        ValidatorConfig(rules=[{"rule": "not_null", "column": "a"}] * 2)
    assert Rule(rule="allowed_values", column="a", values=[1]).rule == "allowed"


def test_resource_rules_are_parsed_and_errors_name_the_resource() -> None:
    rules = rules_from_resource(
        {"id": "qr", "rules": [{"rule": "not_null", "column": "a"}]}, resource_id="qr"
    )
    assert rules[0].rule_name == "not_null_a"
    with pytest.raises(ValueError, match="qualityRules 'qr' rules\\[0\\]: pattern"):
        rules_from_resource(
            {"rules": [{"rule": "regex", "column": "a", "pattern": "("}]}, resource_id="qr"
        )
    with pytest.raises(ValueError, match="non-empty 'rules'"):
        rules_from_resource({"id": "qr"}, resource_id="qr")


def test_bad_regex_is_a_validation_problem_with_node_and_path() -> None:
    spec = PipelineSpec.model_validate(
        {
            "id": "p",
            "nodes": [
                {"id": "src", "nodeType": "source", "category": "file", "config": {"uri": "a.csv"}},
                {
                    "id": "check",
                    "nodeType": "transform",
                    "category": "validator",
                    "inputs": ["src"],
                    "config": {"rules": [{"rule": "regex", "column": "e", "pattern": "[a-"}]},
                },
            ],
        }
    )
    problems = [p for p in check(spec) if p.node_id == "check"]
    assert len(problems) == 1
    assert problems[0].path.startswith("config.rules.0")
    assert "invalid regular expression" in problems[0].message


def test_quarantine_to_s3(table: pa.Table, s3_bucket: str) -> None:
    from engine.storage import filesystem

    uri = f"s3://{s3_bucket}/quarantine/run1"
    rules = [Rule(rule="not_null", column="email")]
    check_batch(table, rules, node_id="v", on_error="quarantine", quarantine=QuarantineWriter(uri))
    check_batch(table, rules, node_id="v", on_error="quarantine", quarantine=QuarantineWriter(uri))
    fs, root = filesystem(uri)
    names = sorted(i.base_name for i in fs.get_file_info(pafs.FileSelector(root)))
    assert len(names) == 2 and all(n.startswith("part-") for n in names)  # no staging left
    bad = pq.read_table(f"{root}/{names[0]}", filesystem=fs)
    assert bad.column(REASON_COLUMN).to_pylist() == ["not_null_email: expected a non-null value"]


def test_numeric_range_on_text_column_is_a_config_error() -> None:
    t = pa.table({"age": ["10", "9"]})
    with pytest.raises(NodeConfigError, match="holds strings; convert it first"):
        check_batch(t, [Rule(rule="range", column="age", min=0)], node_id="v", on_error="drop")
