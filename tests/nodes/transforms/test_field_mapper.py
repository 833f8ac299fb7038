"""apply_mapping / load_mapping / FieldMapperConfig without Ray."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import ValidationError

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.errors import NodeConfigError, RowError
from engine.plan.validation import check
from engine.spec.models import PipelineSpec
from nodes.transforms._types import cast_with_failures, parse_type
from nodes.transforms.field_mapper import (
    FieldMapperConfig,
    FieldMapping,
    apply_mapping,
    load_mapping,
)


@pytest.fixture
def table() -> pa.Table:
    return pa.table(
        {
            "cust_id": ["1", "2", " 3 ", None],
            "first": ["Ada", "Alan", None, "Grace"],
            "amount": ["10.50", "3", "7.25", None],
            "joined": ["2020-01-02", "2021-03-04", None, "2019-12-31"],
            "secret": ["x", "y", "z", "w"],
        }
    )


def test_rename_cast_defaults_derive_drop_select_in_order(table: pa.Table) -> None:
    mapping = FieldMapping(
        rename={"cust_id": "customer_id"},
        cast={"customer_id": "int64", "amount": "decimal(10,2)", "joined": "date32"},
        defaults={"first": "unknown", "amount": "0"},
        derive={"label": "concat(upper(first), '#', customer_id)"},
        drop=["secret"],
        select=["customer_id", "label", "amount", "joined"],
    )
    out = apply_mapping(table, mapping)
    assert out.column_names == ["customer_id", "label", "amount", "joined"]
    assert out.schema.field("customer_id").type == pa.int64()
    assert out.schema.field("amount").type == pa.decimal128(10, 2)
    assert out.column("customer_id").to_pylist() == [1, 2, 3, None]
    assert out.column("label").to_pylist() == ["ADA#1", "ALAN#2", "UNKNOWN#3", "GRACE#"]
    assert out.column("amount").to_pylist()[3] == Decimal("0.00")
    assert out.column("joined").to_pylist()[0] == dt.date(2020, 1, 2)


def test_mappings_entries_keep_only_targets(table: pa.Table) -> None:
    mapping = FieldMapping(
        mappings=[
            {"target": "id", "source": "cust_id", "type": "int32"},
            {"target": "name", "source": "first", "default": "n/a"},
            {"target": "amount_x2", "expression": "amount * 2", "type": "float64"},
        ]
    )
    out = apply_mapping(table.set_column(2, "amount", pa.array([1.0, 2.0, None, 4.0])), mapping)
    assert out.column_names == ["id", "name", "amount_x2"]
    assert out.column("name").to_pylist() == ["Ada", "Alan", "n/a", "Grace"]
    assert out.column("amount_x2").to_pylist() == [2.0, 4.0, None, 8.0]
    kept = apply_mapping(
        table, FieldMapping(mappings=[{"target": "id", "source": "cust_id"}], keepUnmapped=True)
    )
    assert kept.column_names == ["id", "first", "amount", "joined", "secret"]


def test_bad_cast_names_node_column_and_value() -> None:
    t = pa.table({"age": ["31", "forty", "7"]})
    with pytest.raises(RowError) as info:
        apply_mapping(t, FieldMapping(cast={"age": "int64"}), node_id="map_people")
    msg = str(info.value)
    assert "node 'map_people'" in msg and "'age'" in msg and "'forty'" in msg and "int64" in msg


def test_bad_cast_is_nulled_and_counted_when_not_failing() -> None:
    t = pa.table({"age": ["31", "forty", "7", "x", None]})
    seen: list[dict] = []
    out = apply_mapping(
        t, FieldMapping(cast={"age": "int64"}), on_error="drop", counters=seen.append
    )
    assert out.column("age").to_pylist() == [31, None, 7, None, None]
    assert seen == [{"cast_failed.age": 2}]


def test_unknown_column_is_a_config_error(table: pa.Table) -> None:
    with pytest.raises(NodeConfigError, match="rename: unknown column\\(s\\) 'nope'"):
        apply_mapping(table, FieldMapping(rename={"nope": "x"}), node_id="m")
    with pytest.raises(NodeConfigError, match=r"derive 'y'.*unknown column 'zz'"):
        apply_mapping(table, FieldMapping(derive={"y": "zz + 1"}), node_id="m")


def test_type_names() -> None:
    assert parse_type("timestamp[us]") == pa.timestamp("us")
    assert parse_type("timestamp[ms, tz=UTC]") == pa.timestamp("ms", tz="UTC")
    assert parse_type("decimal(12, 3)") == pa.decimal128(12, 3)
    assert parse_type("Boolean") == pa.bool_()
    with pytest.raises(ValueError, match="unknown type 'int65'; expected one of"):
        parse_type("int65")


def test_config_rejects_bad_type_expression_and_mixed_sources() -> None:
    with pytest.raises(ValidationError, match="unknown type 'integr'"):
        FieldMapperConfig(cast={"a": "integr"})
    with pytest.raises(ValidationError, match="unknown function 'exec'"):
        FieldMapperConfig(derive={"a": "exec('rm')"})
    with pytest.raises(ValidationError, match="not both"):
        FieldMapperConfig(fieldMappings="m1", rename={"a": "b"})
    with pytest.raises(ValidationError, match="nothing to do"):
        FieldMapperConfig()


def _spec(config: dict) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "id": "p",
            "nodes": [
                {
                    "id": "src",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"uri": "in.csv"},
                },
                {
                    "id": "map",
                    "nodeType": "transform",
                    "category": "field_mapper",
                    "inputs": ["src"],
                    "config": config,
                },
            ],
        }
    )


def test_validation_reports_bad_mapping_and_missing_resource() -> None:
    problems = check(_spec({"cast": {"a": "nope"}, "derive": {"b": "a +"}}))
    texts = [str(p) for p in problems if p.node_id == "map"]
    assert any("config.cast" in t and "unknown type 'nope'" in t for t in texts)
    assert any("config.derive" in t and "ends early" in t for t in texts)
    problems = check(_spec({"fieldMappings": "missing_map"}), DictCatalog())
    assert any("fieldMappings 'missing_map' not found" in str(p) for p in problems)


def _ctx(catalog: DictCatalog) -> BuildContext:
    spec = _spec({"fieldMappings": "m1"})
    return BuildContext(
        spec=spec, node=spec.node("map"), catalog=catalog, execution_id="e1", options=RunOptions()
    )


def test_load_mapping_from_catalog_and_reject_bad_resource(table: pa.Table) -> None:
    catalog = DictCatalog(
        {
            "fieldMappings": {
                "m1": {
                    "id": "m1",
                    "name": "CRM",
                    "rename": {"first": "given_name"},
                    "select": ["given_name"],
                },
                "bad": {"id": "bad", "cast": {"x": "int99"}},
            }
        }
    )
    ctx = _ctx(catalog)
    out = apply_mapping(table, load_mapping(ctx, "m1"))
    assert out.column_names == ["given_name"]
    with pytest.raises(NodeConfigError, match=r"node 'map'.*fieldMappings 'bad'.*int99"):
        load_mapping(ctx, "bad")


def test_cast_with_failures_finds_every_bad_value_including_overflow() -> None:
    arr = pa.array(["1", "x", "300", None, " 7 ", "1e3", "-128"])
    out, failed = cast_with_failures(arr, pa.int8())
    assert failed.tolist() == [False, True, True, False, False, True, False]
    assert out.to_pylist() == [1, None, None, None, 7, None, -128]
    dates, failed = cast_with_failures(pa.array(["2020-02-29", "2021-02-29", "x"]), pa.date32())
    assert failed.tolist() == [False, True, True]
    assert dates.to_pylist()[0] == dt.date(2020, 2, 29)
