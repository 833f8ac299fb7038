"""TFRecord files of ``tf.train.Example`` protos, written without TensorFlow.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little endian)
    uint32 masked_crc32c(length bytes)
    bytes  data[length]
    uint32 masked_crc32c(data)

with ``masked_crc32c(x) = ((crc >> 15 | crc << 17) + 0xa282ead8) mod 2**32``.

``tf.train.Example`` is encoded by hand (protobuf wire format)::

    Example   { Features features = 1; }
    Features  { map<string, Feature> feature = 1; }   // entries {1: key, 2: value}
    Feature   { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
                        Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed = true]; }
    Int64List { repeated int64 value = 1 [packed = true]; }

Integers and booleans become ``int64_list``, floats ``float_list`` (float32, as
TensorFlow stores them), strings/binary ``bytes_list``; lists of those become
multi-valued features; nulls become empty features (TensorFlow's convention for
missing values). :func:`read_records` and :func:`parse_example` read them back.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa

# ---------------------------------------------------------------- crc32c (Castagnoli)


def _make_table() -> list[int]:
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def _crc32c_py(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast_crc32c() -> Any:
    """A native crc32c if one is installed (optional speed-up), else None."""
    try:
        import google_crc32c  # type: ignore[import-not-found]

        return lambda d: int.from_bytes(google_crc32c.Checksum(d).digest(), "big")
    except ImportError:
        pass
    try:
        import crc32c  # type: ignore[import-not-found]

        return crc32c.crc32c
    except ImportError:
        return None


crc32c = _fast_crc32c() or _crc32c_py


def masked_crc32c(data: bytes) -> int:
    """The CRC TFRecord stores: crc32c rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(record: bytes) -> bytes:
    """One TFRecord: length, masked crc of length, data, masked crc of data."""
    length = struct.pack("<Q", len(record))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + record
        + struct.pack("<I", masked_crc32c(record))
    )


def read_records(stream: IO[bytes], *, check_crc: bool = True) -> Iterator[bytes]:
    """Yield the records of a TFRecord stream, verifying both checksums."""
    while True:
        head = stream.read(12)
        if not head:
            return
        if len(head) < 12:
            raise ValueError("truncated TFRecord header")
        (length,) = struct.unpack("<Q", head[:8])
        (len_crc,) = struct.unpack("<I", head[8:])
        if check_crc and masked_crc32c(head[:8]) != len_crc:
            raise ValueError("TFRecord length checksum mismatch")
        data = stream.read(length)
        tail = stream.read(4)
        if len(data) < length or len(tail) < 4:
            raise ValueError("truncated TFRecord body")
        if check_crc and masked_crc32c(data) != struct.unpack("<I", tail)[0]:
            raise ValueError("TFRecord data checksum mismatch")
        yield data


# ---------------------------------------------------------------- protobuf wire format


_SMALL = [bytes([i]) for i in range(128)]


def _varint(n: int) -> bytes:
    if 0 <= n < 128:  # the common case (tags, short lengths): no loop
        return _SMALL[n]
    n &= 0xFFFFFFFFFFFFFFFF  # negative int64 -> two's complement, 10 bytes
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(field: int, payload: bytes) -> bytes:
    return _varint((field << 3) | 2) + _varint(len(payload)) + payload


def _bytes_list(values: list[bytes]) -> bytes:
    return b"".join(_len_field(1, v) for v in values)


def _float_list(values: list[float]) -> bytes:
    if not values:
        return b""
    return _len_field(1, struct.pack(f"<{len(values)}f", *values))


def _int64_list(values: list[int]) -> bytes:
    if not values:
        return b""
    return _len_field(1, b"".join(_varint(v) for v in values))


def feature(kind: str, values: list[Any]) -> bytes:
    """An encoded ``Feature`` of kind ``bytes``, ``float`` or ``int64``."""
    if kind == "bytes":
        return _len_field(1, _bytes_list(values))
    if kind == "float":
        return _len_field(2, _float_list(values))
    return _len_field(3, _int64_list(values))


def example(features: dict[str, bytes]) -> bytes:
    """An encoded ``Example`` from already-encoded features (keys sorted, deterministic)."""
    entries = b"".join(
        _len_field(1, _len_field(1, k.encode()) + _len_field(2, v))
        for k, v in sorted(features.items())
    )
    return _len_field(1, entries)


def feature_kind(t: pa.DataType) -> str:
    """The Feature kind an Arrow type maps to (lists map by their value type)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return feature_kind(t.value_type)
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return "int64"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    return "bytes"


def _as_bytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode()


def examples_from_table(table: pa.Table | pa.RecordBatch) -> Iterator[bytes]:
    """Encode each row of ``table`` as a serialized ``tf.train.Example``."""
    kinds = {f.name: feature_kind(f.type) for f in table.schema}
    is_list = {
        f.name: pa.types.is_list(f.type)
        or pa.types.is_large_list(f.type)
        or pa.types.is_fixed_size_list(f.type)
        for f in table.schema
    }
    columns = {name: table.column(name).to_pylist() for name in table.schema.names}
    # map entries in key order; each key's encoded field is the same for every row
    names = sorted(kinds)
    key_fields = {name: _len_field(1, name.encode()) for name in names}
    for i in range(table.num_rows):
        entries = []
        for name in names:
            kind = kinds[name]
            v = columns[name][i]
            values = [] if v is None else (list(v) if is_list[name] else [v])
            values = [x for x in values if x is not None]
            if kind == "bytes":
                values = [_as_bytes(x) for x in values]
            elif kind == "int64":
                values = [int(x) for x in values]
            else:
                values = [float(x) for x in values]
            entries.append(_len_field(1, key_fields[name] + _len_field(2, feature(kind, values))))
        yield _len_field(1, b"".join(entries))


def write_table(table: pa.Table | pa.RecordBatch, stream: IO[bytes]) -> int:
    """Append every row of ``table`` to a TFRecord stream; returns the row count."""
    n = 0
    for record in examples_from_table(table):
        stream.write(frame(record))
        n += 1
    return n


# ---------------------------------------------------------------- decoding (for checks)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, pos = _read_varint(buf, pos)
            yield field, wire, buf[pos : pos + n]
            pos += n
        elif wire == 0:
            v, pos = _read_varint(buf, pos)
            yield field, wire, v
        elif wire == 5:
            yield field, wire, buf[pos : pos + 4]
            pos += 4
        elif wire == 1:
            yield field, wire, buf[pos : pos + 8]
            pos += 8
        else:
            raise ValueError(f"unsupported wire type {wire}")


def parse_example(data: bytes) -> dict[str, list[Any]]:
    """Decode a serialized Example into ``{name: [values]}``."""
    out: dict[str, list[Any]] = {}
    for _, _, features in _fields(data):
        for _, _, entry in _fields(features):
            key, value = "", b""
            for f, _, v in _fields(entry):
                if f == 1:
                    key = v.decode()
                else:
                    value = v
            vals: list[Any] = []
            for kind, _, lst in _fields(value):
                for _, wire, item in _fields(lst):
                    if kind == 1:
                        vals.append(bytes(item))
                    elif kind == 2:
                        if wire == 2:
                            vals += list(struct.unpack(f"<{len(item) // 4}f", item))
                        else:
                            vals.append(struct.unpack("<f", item)[0])
                    else:
                        raw = [item] if wire == 0 else _unpack_varints(item)
                        vals += [r - (1 << 64) if r >= 1 << 63 else r for r in raw]
            out[key] = vals
    return out


def _unpack_varints(buf: bytes) -> list[int]:
    pos, out = 0, []
    while pos < len(buf):
        v, pos = _read_varint(buf, pos)
        out.append(v)
    return out
