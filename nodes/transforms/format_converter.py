"""``transform/format_converter``: normalize column types and formats, per column.

Config maps columns to conversions::

    columns:
      signup:  {to: date, formats: ['%d/%m/%Y', '%Y-%m-%d']}          # -> date32
      seen_at: {to: timestamp, formats: ['%d.%m.%Y %H:%M'], timezone: Europe/Berlin}
      amount:  {to: number, decimalSeparator: ',', thousandsSeparator: '.'}  # "1.234,5"
      opted_in: {to: boolean}                                         # yes/no/1/0/true/...
      country: {to: string, case: upper}
      born:    {to: date, formats: ['%m/%d/%Y'], output: iso}         # -> "1990-07-04"

Strings are trimmed first, and values listed in ``nullValues`` (default: the empty
string) become null without counting as failures. Dates and timestamps without
``formats`` are read as ISO 8601. ``output: iso`` turns dates and timestamps into ISO
strings instead of Arrow date/timestamp values.

A value that does not convert follows the node's ``onError``: ``fail`` raises a
RowError naming the column, the value and the expected format; otherwise the value
becomes null (``onInvalid: null``, the default) or its row is dropped
(``onInvalid: drop``), and ``conversion_failed.<column>`` counts it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.errors import NodeConfigError, NodeError, RowError
from engine.registry import NodeConfig, register
from nodes.transforms._types import (
    cast_with_failures,
    check_type_name,
    first_value,
    parse_type,
    short_repr,
)

if TYPE_CHECKING:
    from ray.data import Dataset

    from engine.context import BuildContext

Target = Literal["date", "timestamp", "number", "integer", "boolean", "string"]
_TRUE = ["true", "t", "yes", "y", "1", "on"]
_FALSE = ["false", "f", "no", "n", "0", "off"]


class ColumnFormat(BaseModel):
    """How one column is converted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: Target
    formats: list[str] = Field(
        default_factory=list, description="strptime formats tried in order (date/timestamp)."
    )
    output: Literal["native", "iso"] = "native"
    unit: Literal["s", "ms", "us", "ns"] = "us"
    timezone: str | None = Field(None, description="Zone of timestamps read without offset.")
    decimalSeparator: str = Field(".", min_length=1, max_length=1)
    thousandsSeparator: str | None = Field(
        None, max_length=1, description="Default ',' (or '.' when decimalSeparator is ',')."
    )
    type: str | None = Field(None, description="Number type: float64 (default), decimal(p,s)...")
    trim: bool = True
    case: Literal["upper", "lower", "title"] | None = None
    trueValues: list[str] = Field(default_factory=lambda: list(_TRUE))
    falseValues: list[str] = Field(default_factory=lambda: list(_FALSE))
    nullValues: list[str] = Field(default_factory=lambda: [""])

    @field_validator("type")
    @classmethod
    def _type_known(cls, v: str | None) -> str | None:
        return None if v is None else check_type_name(v)

    @field_validator("formats")
    @classmethod
    def _formats_are_formats(cls, v: list[str]) -> list[str]:
        for fmt in v:
            if "%" not in fmt:
                raise ValueError(f"format {fmt!r} has no % directive (expected e.g. '%d/%m/%Y')")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                pa.timestamp("us", tz=v)
                pc.assume_timezone(pa.array([0], pa.timestamp("s")), v)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ValueError(
                    f"unknown time zone {v!r} (expected e.g. 'UTC', 'Europe/Berlin')"
                ) from None
        return v

    @model_validator(mode="after")
    def _separators_differ(self) -> ColumnFormat:
        if self.thousands() == self.decimalSeparator:
            raise ValueError("thousandsSeparator and decimalSeparator must differ")
        return self

    def thousands(self) -> str:
        if self.thousandsSeparator is not None:
            return self.thousandsSeparator
        return "." if self.decimalSeparator == "," else ","

    def expectation(self) -> str:
        if self.to in ("date", "timestamp"):
            forms = ", ".join(repr(f) for f in self.formats) if self.formats else "ISO 8601"
            return f"a {self.to} in format {forms}"
        if self.to in ("number", "integer"):
            return (
                f"a number with decimal separator {self.decimalSeparator!r} and thousands "
                f"separator {self.thousands()!r}"
            )
        if self.to == "boolean":
            return f"one of {self.trueValues + self.falseValues}"
        return "a string"


class FormatConverterConfig(NodeConfig):
    """Config of ``transform/format_converter``."""

    columns: dict[str, ColumnFormat] = Field(min_length=1)
    onInvalid: Literal["null", "drop"] = Field(
        "null", description="When onError is not 'fail': null bad values or drop their rows."
    )


def convert_column(arr: Any, fmt: ColumnFormat) -> tuple[Any, np.ndarray]:
    """Convert one column; return the result and a mask of values that failed."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    is_text = pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
    if is_text:
        if fmt.trim:
            arr = pc.utf8_trim_whitespace(arr)
        if fmt.nullValues:
            arr = pc.if_else(pc.is_in(arr, value_set=pa.array(fmt.nullValues)), None, arr)
    if fmt.to == "string":
        return _case(arr if is_text else pc.cast(arr, pa.string()), fmt), np.zeros(len(arr), bool)
    if fmt.to == "boolean":
        return _boolean(arr, fmt) if is_text else cast_with_failures(arr, pa.bool_())
    if fmt.to in ("number", "integer"):
        default = "int64" if fmt.to == "integer" else "float64"
        target = parse_type(fmt.type or default)
        if is_text:
            arr = pc.replace_substring(arr, fmt.thousands(), "")
            if fmt.decimalSeparator != ".":
                arr = pc.replace_substring(arr, fmt.decimalSeparator, ".")
        return cast_with_failures(arr, target)
    result, failed = _temporal(arr, fmt, is_text)
    if fmt.output == "iso":
        if fmt.to == "date":
            result = pc.strftime(result, "%Y-%m-%d")
        else:
            if result.type.tz:
                utc = result.cast(pa.timestamp(result.type.unit, tz="UTC"))
                result = pc.strftime(utc, "%Y-%m-%dT%H:%M:%SZ")
            else:
                result = pc.strftime(result, "%Y-%m-%dT%H:%M:%S")
            # Arrow prints sub-second units as "05.000000"; whole seconds read better bare.
            result = pc.replace_substring_regex(result, r"\.0+(Z?)$", r"\1")
    return result, failed


def _case(arr: Any, fmt: ColumnFormat) -> Any:
    if fmt.case == "upper":
        return pc.utf8_upper(arr)
    if fmt.case == "lower":
        return pc.utf8_lower(arr)
    if fmt.case == "title":
        return pc.utf8_title(arr)
    return arr


def _boolean(arr: Any, fmt: ColumnFormat) -> tuple[Any, np.ndarray]:
    lowered = pc.utf8_lower(arr)
    is_true = pc.is_in(lowered, value_set=pa.array([v.lower() for v in fmt.trueValues]))
    is_false = pc.is_in(lowered, value_set=pa.array([v.lower() for v in fmt.falseValues]))
    result = pc.if_else(is_true, True, pc.if_else(is_false, False, None))
    failed = pc.and_(pc.is_valid(arr), pc.is_null(result))
    return result, np.asarray(failed.to_numpy(zero_copy_only=False), dtype=bool)


def _temporal(arr: Any, fmt: ColumnFormat, is_text: bool) -> tuple[Any, np.ndarray]:
    unit = "s" if fmt.to == "date" else fmt.unit
    if not is_text:
        target = pa.date32() if fmt.to == "date" else pa.timestamp(unit, tz=_tz(arr.type))
        return cast_with_failures(arr, target)
    if not fmt.formats:
        return _iso(arr, fmt, unit)
    parsed = []
    for f in fmt.formats:
        p = _strict_strptime(arr, f, unit)
        if p.type.tz is None and fmt.timezone:
            p = pc.assume_timezone(p, fmt.timezone, ambiguous="earliest", nonexistent="earliest")
        parsed.append(p)
    if any(p.type.tz for p in parsed):
        # Mixed offsets and naive values: naive ones are UTC; all end up in UTC.
        parsed = [
            p.cast(pa.timestamp(unit, tz="UTC")) if p.type.tz else pc.assume_timezone(p, "UTC")
            for p in parsed
        ]
    result = pc.coalesce(*parsed) if len(parsed) > 1 else parsed[0]
    failed = np.asarray(
        pc.and_(pc.is_valid(arr), pc.is_null(result)).to_numpy(zero_copy_only=False), dtype=bool
    )
    if fmt.to == "date":
        result = pc.cast(result, pa.date32()) if not result.type.tz else _utc_date(result)
    return result, failed


def _strict_strptime(arr: Any, fmt: str, unit: str) -> Any:
    """``strptime`` that rejects impossible dates such as 31/02 instead of rolling over.

    Arrow's parser moves an out-of-range day (and a leap second) into the next month
    (minute), where it lands on day 1-3 (second 0). Only values that land there are
    formatted back and compared with the input (ignoring zero padding and case), which
    keeps the check cheap for the other ~90%.
    """
    parsed = pc.strptime(arr, format=fmt, unit=unit, error_is_null=True)
    if "%z" in fmt or "%Z" in fmt:
        return parsed  # offsets are re-rendered differently; Arrow rejects bad dates there
    suspect = pc.less_equal(pc.day(parsed), 3)
    if "%S" in fmt or "%T" in fmt:
        suspect = pc.or_(suspect, pc.equal(pc.second(parsed), 0))
    suspect_np = np.asarray(pc.fill_null(suspect, False).to_numpy(zero_copy_only=False), bool)
    if not suspect_np.any():
        return parsed
    where = pa.array(suspect_np)
    again = pc.strftime(pc.filter(parsed, where).cast(pa.timestamp("s")), format=fmt)
    same = pc.fill_null(pc.equal(_loose(again), _loose(pc.filter(arr, where))), False)
    rolled = np.zeros(len(parsed), dtype=bool)
    rolled[np.flatnonzero(suspect_np)] = ~np.asarray(same.to_numpy(zero_copy_only=False), bool)
    if not rolled.any():
        return parsed
    return pc.if_else(pa.array(rolled), pa.scalar(None, parsed.type), parsed)


def _loose(text: Any) -> Any:
    return pc.utf8_lower(pc.replace_substring_regex(text, r"(^|\D)0+(\d)", r"\1\2"))


def _tz(type_: pa.DataType) -> str | None:
    return type_.tz if pa.types.is_timestamp(type_) else None


def _iso(arr: Any, fmt: ColumnFormat, unit: str) -> tuple[Any, np.ndarray]:
    """Parse ISO 8601 strings; values with an offset are converted to UTC."""
    if fmt.to == "date":
        return cast_with_failures(arr, pa.date32())
    naive, failed = cast_with_failures(arr, pa.timestamp(unit))
    if fmt.timezone:
        naive = pc.assume_timezone(
            naive, fmt.timezone, ambiguous="earliest", nonexistent="earliest"
        )
    if not failed.any():
        return naive, failed
    retry = pc.if_else(pa.array(failed), arr, pa.scalar(None, arr.type))
    aware, failed = cast_with_failures(retry, pa.timestamp(unit, tz="UTC"))
    if fmt.timezone:
        naive = naive.cast(pa.timestamp(unit, tz="UTC"))
    else:
        aware = aware.cast(pa.timestamp(unit))  # UTC wall time, like the other values
    return pc.coalesce(naive, aware), failed


def _utc_date(arr: Any) -> Any:
    return pc.cast(pc.cast(arr, pa.timestamp(arr.type.unit)), pa.date32())


def convert_table(
    table: pa.Table,
    columns: dict[str, ColumnFormat],
    *,
    node_id: str,
    on_error: str,
    on_invalid: str = "null",
    counters: Callable[[dict[str, float]], None] | None = None,
) -> pa.Table:
    """Convert the configured columns of one table (pure, Ray-free).

    Raises:
        RowError: A value does not convert and ``on_error`` is ``fail``.
        NodeConfigError: A configured column is missing or cannot be converted at all.
    """
    drop = np.zeros(table.num_rows, dtype=bool)
    stats: dict[str, float] = {}
    for name, fmt in columns.items():
        if name not in table.column_names:
            raise NodeConfigError(
                node_id,
                f"column {name!r} is not in the input; it has {', '.join(table.column_names)}",
            )
        original = table.column(name)
        try:
            result, failed = convert_column(original, fmt)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise NodeConfigError(
                node_id, f"column {name!r} of type {original.type} cannot become {fmt.to}: {exc}"
            ) from None
        n_bad = int(failed.sum())
        if n_bad:
            if on_error == "fail":
                raise RowError(
                    node_id,
                    f"column {name!r} value {short_repr(first_value(original, failed))} is not "
                    f"{fmt.expectation()} ({n_bad} bad value(s) in this batch)",
                )
            stats[f"conversion_failed.{name}"] = n_bad
            if on_invalid == "drop":
                drop |= failed
        table = table.set_column(table.column_names.index(name), name, result)
    if stats and counters is not None:
        counters(stats)
    return table.filter(pa.array(~drop)) if drop.any() else table


@register(
    "transform",
    "format_converter",
    row_local=True,
    lineage_name="format_conversion",
    config=FormatConverterConfig,
    inputs=(1, 1),
    description="Normalize dates, timestamps, numbers, booleans and strings per column.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: FormatConverterConfig) -> Dataset:
    """Normalize dates, timestamps, numbers, booleans and strings per column."""
    node_id, on_error, metrics = ctx.node_id, ctx.node.onError.value, ctx.metrics
    columns, on_invalid = dict(config.columns), config.onInvalid

    def convert(batch: pa.Table) -> pa.Table:
        try:
            return convert_table(
                batch,
                columns,
                node_id=node_id,
                on_error=on_error,
                on_invalid=on_invalid,
                counters=lambda c: metrics.add(node_id, c),
            )
        except NodeError:
            raise
        except pa.ArrowException as exc:
            raise NodeError(node_id, f"{type(exc).__name__}: {exc}") from exc

    return inputs[0].map_batches(
        convert, **ctx.map_options(batch_format="pyarrow", zero_copy_batch=True)
    )
