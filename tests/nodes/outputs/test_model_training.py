"""output/model_training: TFRecord/NumPy/Parquet/JSONL shards, stable splits, compatibility."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from engine.catalog import DictCatalog
from nodes.outputs import model_training, tfrecord, versions

from .conftest import make_ctx

# ---------------------------------------------------------------- an independent reader


def _bitwise_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    c = _bitwise_crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _read_tfrecords(path: Path) -> list[bytes]:
    out = []
    with open(path, "rb") as f:
        while head := f.read(12):
            assert struct.unpack("<I", head[8:])[0] == _masked(head[:8])
            (n,) = struct.unpack("<Q", head[:8])
            data = f.read(n)
            assert struct.unpack("<I", f.read(4))[0] == _masked(data)
            out.append(data)
    return out


def _example_class():
    """tensorflow/core/example/{example,feature}.proto, compiled at run time."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="tf_example_test.proto", package="tensorflow", syntax="proto3"
    )
    L = descriptor_pb2.FieldDescriptorProto
    rep, opt = L.LABEL_REPEATED, L.LABEL_OPTIONAL

    def msg(name, *fields, options=None):
        m = fdp.message_type.add(name=name)
        for fname, num, typ, label, tname, oneof in fields:
            f = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                f.type_name = tname
            if oneof is not None:
                f.oneof_index = oneof
        return m

    msg("BytesList", ("value", 1, L.TYPE_BYTES, rep, None, None))
    msg("FloatList", ("value", 1, L.TYPE_FLOAT, rep, None, None))
    msg("Int64List", ("value", 1, L.TYPE_INT64, rep, None, None))
    feat = msg(
        "Feature",
        ("bytes_list", 1, L.TYPE_MESSAGE, opt, ".tensorflow.BytesList", 0),
        ("float_list", 2, L.TYPE_MESSAGE, opt, ".tensorflow.FloatList", 0),
        ("int64_list", 3, L.TYPE_MESSAGE, opt, ".tensorflow.Int64List", 0),
    )
    feat.oneof_decl.add(name="kind")
    feats = msg(
        "Features", ("feature", 1, L.TYPE_MESSAGE, rep, ".tensorflow.Features.FeatureEntry", None)
    )
    entry = feats.nested_type.add(name="FeatureEntry")
    entry.field.add(name="key", number=1, type=L.TYPE_STRING, label=opt)
    entry.field.add(
        name="value", number=2, type=L.TYPE_MESSAGE, label=opt, type_name=".tensorflow.Feature"
    )
    entry.options.map_entry = True
    msg("Example", ("features", 1, L.TYPE_MESSAGE, opt, ".tensorflow.Features", None))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.Example"))


def _values(feature):
    kind = feature.WhichOneof("kind")
    return list(getattr(feature, kind).value) if kind else []


# ---------------------------------------------------------------- tests


def test_crc32c_known_vector():
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    assert _bitwise_crc32c(b"123456789") == 0xE3069283


def test_tfrecord_roundtrip_through_protobuf_schema(tmp_path: Path):
    table = pa.table(
        {
            "id": pa.array([1, -7, 2**40, None], pa.int64()),
            "score": pa.array([0.5, -1.25, 3.0, 2.0], pa.float32()),
            "name": pa.array(["ana", "bö", "", None]),
            "flag": pa.array([True, False, True, False]),
            "vec": pa.array([[1.0, 2.0], [], [3.5], None], pa.list_(pa.float64())),
        }
    )
    path = tmp_path / "x.tfrecord"
    with open(path, "wb") as f:
        assert tfrecord.write_table(table, f) == 4
    Example = _example_class()
    parsed = []
    for raw in _read_tfrecords(path):
        ex = Example()
        ex.ParseFromString(raw)
        parsed.append({k: _values(v) for k, v in ex.features.feature.items()})
    assert [p["id"] for p in parsed] == [[1], [-7], [2**40], []]
    assert [p["score"] for p in parsed] == [[0.5], [-1.25], [3.0], [2.0]]
    assert [p["name"] for p in parsed] == [[b"ana"], ["bö".encode()], [b""], []]
    assert [p["flag"] for p in parsed] == [[1], [0], [1], [0]]
    assert [p["vec"] for p in parsed] == [[1.0, 2.0], [], [3.5], []]
    # the module's own decoder agrees with protobuf
    with open(path, "rb") as f:
        mine = [tfrecord.parse_example(r) for r in tfrecord.read_records(f)]
    assert mine[1]["id"] == [-7] and mine[0]["vec"] == [1.0, 2.0]


def test_tfrecord_reader_detects_corruption(tmp_path: Path):
    buf = io.BytesIO()
    tfrecord.write_table(pa.table({"a": [1, 2]}), buf)
    data = bytearray(buf.getvalue())
    data[14] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        list(tfrecord.read_records(io.BytesIO(bytes(data))))


def _table(n: int = 400) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "customer_id": pa.array([f"c{i:05d}" for i in range(n)]),
            "age": pa.array(rng.integers(18, 90, n), pa.int64()),
            "income": pa.array(rng.normal(50, 10, n), pa.float64()),
            "churned": pa.array(rng.integers(0, 2, n), pa.int64()),
            "note": pa.array(["x"] * n),
        }
    )


def _train(
    ray, home, tmp_path, fmt, target="train_out", execution_id="exec_a", table=None, **extra
):
    cfg = model_training.ModelTrainingConfig.model_validate(
        {
            "location": str(tmp_path / target),
            "format": fmt,
            "features": ["age", "income"],
            "label": "churned",
            "keyColumn": "customer_id",
            "modelCompatibility": {"frameworks": ["tensorflow", "pytorch"], "version": "2.1.0"},
            **extra,
        }
    )
    ctx = make_ctx(
        DictCatalog(), "model_training", cfg.model_dump(), home=home, execution_id=execution_id
    )
    ds = ray.data.from_arrow(table if table is not None else _table()).repartition(3)
    facts = model_training.build(ctx=ctx, inputs=[], config=cfg).write(ds)
    return facts, ctx


def _split_ids(ray, home, tmp_path, target, execution_id):
    table = _table().append_column("cid", _table()["customer_id"])
    facts, _ = _train(
        ray,
        home,
        tmp_path,
        "parquet",
        target=target,
        execution_id=execution_id,
        table=table,
        features=["cid", "age"],
    )
    root = versions.resolve_current(str(tmp_path / target))
    return {
        s: set(pq.read_table(f"{root}/{s}")["cid"].to_pylist())
        for s in ("train", "validation", "test")
    }, facts


def test_splits_are_stable_across_runs_and_partitions(ray_session, home, tmp_path):
    a, fa = _split_ids(ray_session, home, tmp_path, "run1", "exec_1")
    b, fb = _split_ids(ray_session, home, tmp_path, "run2", "exec_2")
    assert a == b
    assert sum(len(v) for v in a.values()) == 400
    assert 0.7 < len(a["train"]) / 400 < 0.9 and a["validation"] and a["test"]
    assert fa["splits"] == fb["splits"]
    # the split of a key depends on the key only
    names = model_training.assign_splits(pa.array(["c00001", "c00002"]), model_training.Splits())
    again = model_training.assign_splits(pa.array(["c00002", "c00001"]), model_training.Splits())
    assert list(names) == list(again[::-1])


def test_tfrecord_output_parses_back_to_input_values(ray_session, home, tmp_path):
    facts, ctx = _train(ray_session, home, tmp_path, "tensorflow_records")
    assert facts["format"] == "tfrecord" and facts["rows"] == 400
    root = Path(versions.resolve_current(str(tmp_path / "train_out")))
    Example = _example_class()
    seen = []
    for path in root.rglob("*.tfrecord"):
        for raw in _read_tfrecords(path):
            ex = Example()
            ex.ParseFromString(raw)
            f = {k: _values(v) for k, v in ex.features.feature.items()}
            assert set(f) == {"age", "income", "churned"}
            seen.append((f["age"][0], f["churned"][0], f["income"][0]))
    src = _table()
    expected = [
        (a, c, float(np.float32(i)))  # TFRecord floats are float32, as in TensorFlow
        for a, c, i in zip(
            src["age"].to_pylist(),
            src["churned"].to_pylist(),
            src["income"].to_pylist(),
            strict=True,
        )
    ]
    assert sorted(seen) == sorted(expected)
    assert ctx.facts["modelCompatibility"]["frameworks"] == ["tensorflow", "pytorch"]
    assert ctx.facts["modelCompatibility"]["version"] == "2.1.0"


def test_npz_shards_are_torch_ready(ray_session, home, tmp_path):
    import torch

    facts, _ = _train(ray_session, home, tmp_path, "npz")
    root = Path(versions.resolve_current(str(tmp_path / "train_out")))
    rows = 0
    for path in (root / "train").glob("*.npz"):
        with np.load(path) as z:
            x = torch.from_numpy(z["features"])
            y = torch.from_numpy(z["label"])
            assert x.dtype == torch.float32 and x.shape[1] == 2 and y.shape[0] == x.shape[0]
            rows += x.shape[0]
    assert rows == facts["splits"]["train"]


def test_jsonl_and_manifest(ray_session, home, tmp_path):
    facts, _ = _train(ray_session, home, tmp_path, "jsonl", splits=None, keyColumn=None)
    root = Path(versions.resolve_current(str(tmp_path / "train_out")))
    lines = [json.loads(line) for p in root.rglob("*.jsonl") for line in p.read_text().splitlines()]
    assert len(lines) == 400 and set(lines[0]) == {"age", "income", "churned"}
    manifest = versions.read_manifest(str(tmp_path / "train_out"), facts["version"])
    assert manifest["modelCompatibility"]["frameworks"] == ["tensorflow", "pytorch"]
    assert manifest["label"] == "churned" and manifest["rows"] == 400


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="keyColumn"):
        model_training.ModelTrainingConfig(location="/tmp/x")
    with pytest.raises(ValueError, match="sum to 1"):
        model_training.ModelTrainingConfig(
            location="/tmp/x", keyColumn="id", splits={"train": 0.5, "validation": 0.1, "test": 0.1}
        )
    with pytest.raises(ValueError, match="exactly one"):
        model_training.ModelTrainingConfig(keyColumn="id")


def test_missing_feature_column_names_node(ray_session, home, tmp_path):
    from engine.errors import NodeError

    with pytest.raises(Exception) as err:
        _train(ray_session, home, tmp_path, "parquet", features=["age", "nope"])
    chain = [err.value, *(getattr(err.value, "__cause__", None),)]
    assert any(isinstance(e, NodeError) or "nope" in str(e) for e in chain if e)
