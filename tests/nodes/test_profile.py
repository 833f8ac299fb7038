"""Mergeable column profiles: accuracy, merging, JSON safety, no raw strings."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from decimal import Decimal

import numpy as np
import pyarrow as pa

from nodes.profile import HyperLogLog, TableProfile, hash_values, profile_batch


def profile_in_batches(table: pa.Table, size: int) -> TableProfile:
    total = TableProfile()
    for batch in table.to_batches(max_chunksize=size):
        total = total.merge(profile_batch(batch))
    return total


def test_profile_counts_nulls_types_and_numeric_ranges() -> None:
    table = pa.table(
        {
            "n": [3, None, 1, 7],
            "x": [0.5, float("nan"), None, -2.0],
            "d": [dt.date(2020, 1, 2), None, dt.date(2019, 5, 1), dt.date(2021, 1, 1)],
            "ts": pa.array([dt.datetime(2020, 1, 1, 12)] * 4, pa.timestamp("us")),
            "dec": pa.array([Decimal("1.50"), None, Decimal("2.25"), None], pa.decimal128(5, 2)),
            "ok": [True, False, None, True],
        }
    )
    out = profile_batch(table).to_dict()
    json.dumps(out)  # JSON-safe
    assert out["rows"] == 4
    n = out["columns"]["n"]
    assert (n["nullCount"], n["nullFraction"], n["min"], n["max"]) == (1, 0.25, 1, 7)
    assert n["inferredType"] == "integer" and n["distinctEstimate"] == 3
    assert out["columns"]["d"]["min"] == "2019-05-01" and out["columns"]["d"]["max"] == "2021-01-01"
    assert out["columns"]["ts"]["distinctEstimate"] == 1
    assert out["columns"]["dec"]["max"] == "2.25"
    assert out["columns"]["ok"]["inferredType"] == "boolean" and "min" not in out["columns"]["ok"]


def test_string_columns_get_inferred_types_and_never_min_max() -> None:
    table = pa.table(
        {
            "email": ["ada@example.com", "alan@example.com", None],
            "qty": [" 12", "-3", ""],
            "price": ["1.5", "2", None],
            "flag": ["yes", "No", "y"],
            "day": ["2020-01-01", "2021-12-31", None],
            "at": ["2020-01-01T10:00:00Z", "2020-01-01 11:00", None],
            "empty": pa.array([None, None, None], pa.string()),
        }
    )
    cols = profile_batch(table).to_dict()["columns"]
    assert {k: v["inferredType"] for k, v in cols.items()} == {
        "email": "string",
        "qty": "integer",
        "price": "float",
        "flag": "boolean",
        "day": "date",
        "at": "timestamp",
        "empty": "string",
    }
    text = json.dumps(cols)
    assert "ada@example.com" not in text and "min" not in cols["email"]


def test_merged_profile_equals_single_pass_and_survives_pickling() -> None:
    rng = np.random.default_rng(7)
    n = 50_000
    ids = rng.integers(0, 20_000, n)
    table = pa.table({"id": ids, "key": pa.array([f"user-{i}" for i in ids])})
    whole = profile_batch(table).to_dict()
    merged = pickle.loads(pickle.dumps(profile_in_batches(table, 3_000))).to_dict()
    assert merged == whole
    true_distinct = len(np.unique(ids))
    for col in ("id", "key"):
        est = merged["columns"][col]["distinctEstimate"]
        assert abs(est - true_distinct) / true_distinct < 0.05, (col, est, true_distinct)


def test_merge_keeps_columns_seen_in_only_some_batches() -> None:
    a = profile_batch(pa.table({"x": [1, 2]}))
    b = profile_batch(pa.table({"x": [5], "y": ["q"]}))
    out = a.merge(b).to_dict()
    assert out["rows"] == 3 and out["columns"]["x"]["max"] == 5
    assert out["columns"]["y"]["rows"] == 1


def test_hashes_are_stable_and_distinguish_similar_values() -> None:
    s = pa.array(["", "a", "ab", "ba", "a\x00", None])
    h1, h2 = hash_values(s), hash_values(pa.array(["", "a", "ab", "ba", "a\x00"]))
    assert h1 is not None and h2 is not None
    assert list(h1) == list(h2) and len(set(h1.tolist())) == 5
    sliced = pa.array(["zz", "ab", "ba"]).slice(1)
    assert hash_values(sliced).tolist() == h1[2:4].tolist()  # type: ignore[union-attr]
    assert hash_values(pa.array([0.0])).tolist() == hash_values(pa.array([-0.0])).tolist()  # type: ignore[union-attr]


def test_hyperloglog_memory_is_fixed() -> None:
    sketch = HyperLogLog()
    size = sketch.registers.nbytes
    sketch.add_hashes(hash_values(pa.array(np.arange(200_000))))  # type: ignore[arg-type]
    assert sketch.registers.nbytes == size == 4096
    assert abs(sketch.estimate() - 200_000) / 200_000 < 0.05
