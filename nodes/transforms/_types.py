"""Arrow type names and casts that report which values failed.

Configs name types as strings (``int64``, ``timestamp[us]``, ``decimal(10,2)``);
:func:`parse_type` turns them into pyarrow types and :func:`type_name_problem` explains
a bad name in a pydantic validator. :func:`cast_with_failures` casts a column and
returns which rows could not be converted, because pyarrow's safe cast stops at the
first bad value without saying which one it was.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SIMPLE: dict[str, pa.DataType] = {
    "string": pa.string(),
    "str": pa.string(),
    "utf8": pa.string(),
    "large_string": pa.large_string(),
    "binary": pa.binary(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "int": pa.int64(),
    "integer": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "float16": pa.float16(),
    "float32": pa.float32(),
    "float": pa.float64(),
    "float64": pa.float64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "date32": pa.date32(),
    "date64": pa.date64(),
    "timestamp": pa.timestamp("us"),
}

_TIMESTAMP = re.compile(
    r"^timestamp\[\s*(s|ms|us|ns)\s*(?:,\s*(?:tz\s*=\s*)?([A-Za-z0-9_/+:-]+)\s*)?\]$"
)
_DECIMAL_NAME = re.compile(r"^decimal(?:128)?\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$")
_DECIMAL_BARE = re.compile(r"^decimal(?:128)?$")

KNOWN_TYPE_NAMES = (
    "string, int8..int64, uint8..uint64, float32, float64, bool, date32, date64, "
    "timestamp[s|ms|us|ns] or timestamp[us, tz=UTC], decimal(precision, scale), binary"
)


def parse_type(name: str) -> pa.DataType:
    """Return the pyarrow type named ``name``.

    Args:
        name: A type name such as ``int64``, ``timestamp[us]``, ``timestamp[ms, tz=UTC]``,
            ``decimal(12,2)`` (``decimal`` alone means ``decimal(38,9)``).

    Raises:
        ValueError: The name is unknown; the message lists the accepted forms.
    """
    key = name.strip().lower()
    if key in _SIMPLE:
        return _SIMPLE[key]
    m = _TIMESTAMP.match(name.strip())
    if m:
        unit, tz = m.group(1), m.group(2)
        return pa.timestamp(unit, tz=tz) if tz else pa.timestamp(unit)
    m = _DECIMAL_NAME.match(key)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        if not 1 <= precision <= 38:
            raise ValueError(f"decimal precision must be 1..38, got {precision}")
        return pa.decimal128(precision, scale)
    if _DECIMAL_BARE.match(key):
        return pa.decimal128(38, 9)
    raise ValueError(f"unknown type {name!r}; expected one of: {KNOWN_TYPE_NAMES}")


def check_type_name(name: str) -> str:
    """Pydantic helper: return ``name`` if :func:`parse_type` accepts it, else raise."""
    parse_type(name)
    return name


def cast_with_failures(
    arr: pa.Array | pa.ChunkedArray, target: pa.DataType
) -> tuple[pa.Array, np.ndarray]:
    """Cast ``arr`` to ``target``; rows that cannot be converted become null.

    The whole array is cast in one vectorized call when it can be; only when that fails
    is it split in halves recursively to isolate the bad values, so clean data costs one
    cast and dirty data costs O(bad * log n) small casts.

    Returns:
        The cast array and a boolean numpy mask of rows whose non-null value failed.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n = len(arr)
    failed = np.zeros(n, dtype=bool)
    if arr.type == target:
        return arr, failed
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        # Surrounding blanks are never meaningful for a typed value.
        arr = pc.utf8_trim_whitespace(arr)
    try:
        return pc.cast(arr, target, safe=True), failed
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        if isinstance(exc, pa.ArrowNotImplementedError) or n == 0:
            raise
    pattern = _syntax_pattern(target) if pa.types.is_string(arr.type) else None
    if pattern is not None:
        # Rule out malformed text in one vectorized pass; only values that look right
        # but still fail (overflow, 2020-02-30...) need the divide-and-conquer search.
        looks_ok = pc.fill_null(pc.match_substring_regex(arr, pattern), True)
        failed = np.asarray(pc.invert(looks_ok).to_numpy(zero_copy_only=False), dtype=bool)
        arr = pc.if_else(looks_ok, arr, pa.scalar(None, arr.type))
        try:
            return pc.cast(arr, target, safe=True), failed
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    _mark_failures(arr, target, 0, n, failed)
    good = pc.if_else(pa.array(failed), pa.nulls(n, arr.type), arr)
    return pc.cast(good, target, safe=True), failed


_INT = r"^[+-]?\d+$"
_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(?i)[+-]?(inf|infinity|nan)$"
_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _syntax_pattern(target: pa.DataType) -> str | None:
    """A regex every string castable to ``target`` matches (None: no cheap test)."""
    if pa.types.is_integer(target):
        return _INT
    if pa.types.is_floating(target):
        return _FLOAT
    if pa.types.is_decimal(target):
        return _DECIMAL
    if pa.types.is_boolean(target):
        return r"(?i)^(true|false|1|0)$"
    if pa.types.is_date32(target) or pa.types.is_date64(target):
        return r"^\d{4}-\d{2}-\d{2}$"
    return None


def _mark_failures(
    arr: pa.Array, target: pa.DataType, lo: int, hi: int, failed: np.ndarray
) -> None:
    """Set ``failed[i]`` for every i in [lo, hi) whose value does not cast."""
    try:
        pc.cast(arr.slice(lo, hi - lo), target, safe=True)
        return
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    if hi - lo <= 8:
        for i in range(lo, hi):
            try:
                pc.cast(arr.slice(i, 1), target, safe=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                failed[i] = True
        return
    mid = (lo + hi) // 2
    _mark_failures(arr, target, lo, mid, failed)
    _mark_failures(arr, target, mid, hi, failed)


def first_value(arr: pa.Array | pa.ChunkedArray, mask: np.ndarray) -> object:
    """The first value of ``arr`` where ``mask`` is true, as a Python object."""
    idx = int(np.argmax(mask))
    value = arr[idx]
    return value.as_py() if hasattr(value, "as_py") else value


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
