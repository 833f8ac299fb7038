"""The derived-column expression language: parsing, evaluation, and bad input."""

from __future__ import annotations

import pyarrow as pa
import pytest

from nodes.transforms import _expr


@pytest.fixture
def table() -> pa.Table:
    return pa.table(
        {
            "first": ["Ada", "alan", None],
            "last": ["Lovelace", "Turing", "Hopper"],
            "qty": [2, 3, None],
            "price": [1.5, 2.0, 4.0],
            "unit price": [10, 20, 30],
        }
    )


def run(text: str, table: pa.Table) -> list:
    out = _expr.evaluate(_expr.parse(text), table)
    return out.to_pylist() if hasattr(out, "to_pylist") else [out.as_py()]


def test_arithmetic_follows_precedence_and_nulls_propagate(table: pa.Table) -> None:
    assert run("qty * price + 1", table) == [4.0, 7.0, None]
    assert run("(qty + 1) * 2", table) == [6, 8, None]
    assert run("-qty", table) == [-2, -3, None]
    assert run("7 / 2", table) == [3.5]
    assert run("qty % 2", table) == [0.0, 1.0, None]


def test_string_functions_and_concat_treat_null_as_empty(table: pa.Table) -> None:
    assert run("concat(upper(first), ' ', lower(last))", table) == [
        "ADA lovelace",
        "ALAN turing",
        " hopper",
    ]
    assert run("first + '-' + qty", table) == ["Ada-2", "alan-3", "-"]
    assert run("length(last)", table) == [8, 6, 6]


def test_coalesce_and_quoted_column_names(table: pa.Table) -> None:
    assert run("coalesce(first, last)", table) == ["Ada", "alan", "Hopper"]
    assert run("coalesce(qty, 0)", table) == [2, 3, 0]
    assert run("`unit price` * 2", table) == [20, 40, 60]
    assert run("col('unit price') + 1", table) == [11, 21, 31]


def test_columns_lists_every_reference() -> None:
    node = _expr.parse("concat(a, upper(b), `c d`) ")
    assert _expr.columns(node) == {"a", "b", "c d"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("qty *", "ends early"),
        ("qty $ 2", "unexpected character '$'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("upper(a, b)", "upper() takes 1 argument(s), got 2"),
        ("(a + b", "expected ')'"),
        ("a b", "unexpected 'b'"),
        ("", "empty"),
    ],
)
def test_syntax_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(_expr.ExpressionError, match=None) as info:
        _expr.parse(text)
    assert message in str(info.value)


def test_unknown_column_names_the_available_ones(table: pa.Table) -> None:
    with pytest.raises(_expr.ExpressionError, match="unknown column 'nope'; available: first"):
        _expr.evaluate(_expr.parse("nope + 1"), table)


def test_type_mismatch_is_a_clear_error(table: pa.Table) -> None:
    with pytest.raises(_expr.ExpressionError, match="cannot apply '\\*'"):
        _expr.evaluate(_expr.parse("first * 2"), table)
