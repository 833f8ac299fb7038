"""Per-column format normalization without Ray."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from pydantic import ValidationError

from engine.errors import NodeConfigError, RowError
from nodes.transforms.format_converter import ColumnFormat, FormatConverterConfig, convert_table


def convert(values: list, on_error: str = "drop", on_invalid: str = "null", **fmt):
    seen: list[dict] = []
    out = convert_table(
        pa.table({"c": values}),
        {"c": ColumnFormat.model_validate(fmt)},
        node_id="conv",
        on_error=on_error,
        on_invalid=on_invalid,
        counters=seen.append,
    )
    return out.column("c"), seen


def test_dates_from_several_formats() -> None:
    col, seen = convert(
        ["31/12/2020", "2021-01-05", " ", "31/02/2020", None],
        to="date",
        formats=["%d/%m/%Y", "%Y-%m-%d"],
    )
    assert col.type == pa.date32()
    assert col.to_pylist() == [dt.date(2020, 12, 31), dt.date(2021, 1, 5), None, None, None]
    assert seen == [{"conversion_failed.c": 1}]  # the blank is a null value, not a failure


def test_dates_and_timestamps_to_iso_strings() -> None:
    col, _ = convert(["07/04/1990"], to="date", formats=["%m/%d/%Y"], output="iso")
    assert col.to_pylist() == ["1990-07-04"]
    col, _ = convert(
        ["2020-01-01 10:00:00", "2021-06-01T00:00:00+02:00"], to="timestamp", unit="s", output="iso"
    )
    assert col.to_pylist() == ["2020-01-01T10:00:00", "2021-05-31T22:00:00"]
    col, _ = convert(
        ["01.02.2020 13:30"],
        to="timestamp",
        formats=["%d.%m.%Y %H:%M"],
        timezone="Europe/Berlin",
        unit="s",
        output="iso",
    )
    assert col.to_pylist() == ["2020-02-01T12:30:00Z"]


def test_numbers_with_separators() -> None:
    col, _ = convert(["1.234,50", "-3,5", "12"], to="number", decimalSeparator=",")
    assert col.to_pylist() == [1234.5, -3.5, 12.0]
    col, _ = convert(["1,234,567", " 42 "], to="integer")
    assert col.type == pa.int64() and col.to_pylist() == [1234567, 42]
    col, _ = convert(
        ["1 000,25"],
        to="number",
        type="decimal(10,2)",
        decimalSeparator=",",
        thousandsSeparator=" ",
    )
    assert str(col.to_pylist()[0]) == "1000.25"


def test_booleans_and_strings() -> None:
    col, seen = convert(["Yes", "no", "1", "0", "TRUE", "maybe", None], to="boolean")
    assert col.to_pylist() == [True, False, True, False, True, None, None]
    assert seen == [{"conversion_failed.c": 1}]
    col, _ = convert(["  new york ", "PARIS"], to="string", case="title")
    assert col.to_pylist() == ["New York", "Paris"]


def test_fail_names_node_column_value_and_format() -> None:
    with pytest.raises(RowError) as info:
        convert(["2020-01-01", "01/13/2020"], on_error="fail", to="date", formats=["%Y-%m-%d"])
    msg = str(info.value)
    assert "node 'conv'" in msg and "'c'" in msg and "'01/13/2020'" in msg and "'%Y-%m-%d'" in msg


def test_drop_rows_with_invalid_values() -> None:
    col, seen = convert(["1", "x", "3"], on_invalid="drop", to="integer")
    assert col.to_pylist() == [1, 3]
    assert seen == [{"conversion_failed.c": 1}]


def test_missing_column_is_a_config_error() -> None:
    with pytest.raises(NodeConfigError, match="column 'nope' is not in the input"):
        convert_table(
            pa.table({"a": [1]}),
            {"nope": ColumnFormat(to="string")},
            node_id="conv",
            on_error="fail",
        )


def test_config_validation() -> None:
    with pytest.raises(ValidationError, match="no % directive"):
        ColumnFormat(to="date", formats=["YYYY-MM-DD"])
    with pytest.raises(ValidationError, match="must differ"):
        ColumnFormat(to="number", decimalSeparator=",", thousandsSeparator=",")
    with pytest.raises(ValidationError, match="unknown time zone"):
        ColumnFormat(to="timestamp", timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        FormatConverterConfig(columns={})


def test_iso_timestamps_keep_fractions_only_when_present() -> None:
    col, _ = convert(
        ["2020-01-01 10:00:00", "2020-01-01T10:00:00.25"], to="timestamp", output="iso"
    )
    assert col.to_pylist() == ["2020-01-01T10:00:00", "2020-01-01T10:00:00.250000"]


def test_rolled_over_values_are_failures_not_silent_shifts() -> None:
    col, seen = convert(
        ["2020-01-01 23:59:60", "2020-01-01 23:59:00", "2021-04-31 08:00:00"],
        to="timestamp",
        formats=["%Y-%m-%d %H:%M:%S"],
    )
    assert col.to_pylist() == [None, dt.datetime(2020, 1, 1, 23, 59), None]
    assert seen == [{"conversion_failed.c": 2}]
