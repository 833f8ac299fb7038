"""Arrow columns to the numbers and labels a synthesizer models, and back, exactly.

SDV models pandas frames. Handing it Arrow-derived frames as they come goes wrong in
quiet ways: microsecond datetimes are read as nanoseconds (dates collapse to 1970),
``date32`` cannot be cast to ``int64``, decimals arrive as Python objects (modelled as
categories) and nullable integers become floats. So every learned column is encoded
by its Arrow type into a form SDV handles well, and decoded back to that same type:

=====================================  =========================  =====================
Arrow type                             modelled as                decoded by
=====================================  =========================  =====================
integers, floats                       float64 (NaN = null)       rounding, range clip
decimal128/256(p, s)                   float64                    rounding to ``s``
date32, date64                         float64 days since epoch   rounding to a day
timestamp(unit, tz)                    float64 epoch seconds      rounding to ``unit``
time32/time64, duration                float64 seconds            rounding to ``unit``
bool                                   object True/False/None     as is
string, large_string, dictionary       object str/None            as is
=====================================  =========================  =====================

Nulls travel as NaN/None, so the synthesizer learns and reproduces their rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_UNIT_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_MS_PER_DAY = 86_400_000


def value_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type of the values (dictionary-encoded columns: their dictionary's type)."""
    return arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type


def is_numberlike(arrow_type: pa.DataType) -> bool:
    """Types modelled as float64."""
    t = value_type(arrow_type)
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or (pa.types.is_temporal(t) and not pa.types.is_interval(t))
    )


def is_textlike(arrow_type: pa.DataType) -> bool:
    t = value_type(arrow_type)
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def is_modellable(arrow_type: pa.DataType) -> bool:
    """Whether a synthesizer can learn a column of this type (else it is reported)."""
    t = value_type(arrow_type)
    return is_numberlike(t) or is_textlike(t) or pa.types.is_boolean(t)


def _per_second(t: pa.DataType) -> int:
    return _UNIT_PER_SECOND[str(getattr(t, "unit", "s"))]


def encode_column(column: pa.Array | pa.ChunkedArray) -> Any:
    """A numpy array (float64 or object) SDV models well; see the module table."""
    t = value_type(column.type)
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, t)
    if pa.types.is_date32(t):
        return pc.cast(column, pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64)
    if pa.types.is_date64(t):
        ms = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return ms / _MS_PER_DAY
    if pa.types.is_timestamp(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        raw = pc.cast(column, pa.int64() if t.bit_width == 64 else pa.int32())
        return raw.to_numpy(zero_copy_only=False).astype(np.float64) / _per_second(t)
    if is_numberlike(t):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    values = column.to_pylist()
    return np.array(values, dtype=object)


def encode_table(table: pa.Table, names: list[str]) -> Any:
    """A pandas frame of ``names``, each column encoded (see :func:`encode_column`)."""
    import pandas as pd

    return pd.DataFrame({name: encode_column(table[name]) for name in names})


def _floats(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind in "fiu":
        return array.astype(np.float64)
    out = np.full(len(array), np.nan)
    for i, v in enumerate(array.tolist()):
        if v is not None and v == v:  # NaN != NaN
            out[i] = float(v)
    return out


def _decimal(values: np.ndarray, mask: np.ndarray, t: pa.DataType) -> pa.Array:
    limit = 10.0 ** (t.precision - t.scale) - 10.0**-t.scale
    clipped = np.clip(np.where(mask, 0.0, values), -limit, limit)
    rounded = pc.round(pa.array(clipped, mask=mask), ndigits=t.scale)
    return pc.cast(rounded, t, safe=False)


def decode_column(values: Any, arrow_type: pa.DataType) -> pa.Array:
    """Turn modelled values (numpy/pandas) back into an Arrow array of ``arrow_type``."""
    t = value_type(arrow_type)
    if pa.types.is_boolean(t) or is_textlike(t) or not is_numberlike(t):
        objects = [None if v is None or v != v else v for v in np.asarray(values).tolist()]
        if pa.types.is_boolean(t):
            objects = [None if v is None else bool(v) for v in objects]
        elif is_textlike(t):
            objects = [None if v is None else str(v) for v in objects]
        array = pa.array(objects, type=t)
    else:
        floats = _floats(values)
        mask = np.isnan(floats)
        filled = np.where(mask, 0.0, floats)
        if pa.types.is_decimal(t):
            array = _decimal(floats, mask, t)
        elif pa.types.is_floating(t):
            array = pc.cast(pa.array(floats, mask=mask), t, safe=False)
        else:
            if pa.types.is_date(t):
                units = filled * (_MS_PER_DAY if pa.types.is_date64(t) else 1)
            elif pa.types.is_temporal(t):
                units = filled * _per_second(t)
            else:
                units = filled
            bits = t.bit_width if pa.types.is_integer(t) or pa.types.is_temporal(t) else 64
            signed = not pa.types.is_unsigned_integer(t)
            info = np.iinfo(f"{'int' if signed else 'uint'}{bits}")
            ints = np.clip(np.rint(units), float(info.min), float(info.max))
            storage = pa.array(ints.astype(info.dtype), mask=mask)
            array = storage if storage.type == t else pc.cast(storage, t)
    if array.type != arrow_type:
        array = pc.cast(array, arrow_type)
    return array


def bound_value(value: float | str, arrow_type: pa.DataType) -> float:
    """A template bound (a number, or an ISO date/time) in the encoded unit of the type."""
    t = value_type(arrow_type)
    if isinstance(value, str):
        if pa.types.is_date(t):
            return float(np.datetime64(value, "D").astype(np.int64))
        return float(np.datetime64(value, "us").astype(np.int64)) / 1e6
    return float(value)
