"""Ray-free pieces of privacy/synthetic: sampling, column roles, scores, templates."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pytest

from engine.errors import NodeConfigError
from nodes.privacy.synthetic.columns import (
    apply_sdv_detection,
    classify_columns,
    sdtype_from_field_metadata,
    sdtype_from_name,
)
from nodes.privacy.synthetic.generate import ChunkGenerator, chunk_seeds
from nodes.privacy.synthetic.reservoir import BottomKSample, sample_batches
from nodes.privacy.synthetic.scores import closest_record_distances, identical_share
from nodes.privacy.synthetic.template import load_template


def _batches(n: int, size: int) -> list[pa.Table]:
    return [pa.table({"x": np.arange(s, min(s + size, n))}) for s in range(0, n, size)]


def test_sample_is_bounded_and_order_independent():
    forward = sample_batches(_batches(50_000, 1000), 500, seed=1)
    backward = sample_batches(reversed(_batches(50_000, 1000)), 500, seed=1)
    assert forward.rows_seen == 50_000
    a, b = forward.result(), backward.result()
    assert a.num_rows == 500
    assert a.equals(b)
    assert not a.equals(sample_batches(_batches(50_000, 1000), 500, seed=2).result())


def test_sample_is_roughly_uniform():
    values = sample_batches(_batches(100_000, 5000), 2000, seed=3).result()["x"].to_numpy()
    counts, _ = np.histogram(values, bins=10, range=(0, 100_000))
    assert counts.min() > 140 and counts.max() < 260, counts


def test_sample_smaller_than_size_keeps_everything():
    sample = BottomKSample(100)
    sample.add(pa.table({"x": [1, 2, 3]}))
    assert sorted(sample.result()["x"].to_pylist()) == [1, 2, 3]
    assert BottomKSample(5).result() is None
    with pytest.raises(ValueError):
        BottomKSample(0)


@pytest.mark.parametrize(
    ("name", "sdtype"),
    [
        ("email", "email"),
        ("contact_email", "email"),
        ("phone", "phone_number"),
        ("first_name", "first_name"),
        ("surname", "last_name"),
        ("full_name", "name"),
        ("customer_id", "id"),
        ("userId", "id"),
        ("ssn", "ssn"),
        ("street_address", "street_address"),
        ("income", None),
        ("region", None),
        ("valid", None),
    ],
)
def test_name_heuristic(name, sdtype):
    assert sdtype_from_name(name) == sdtype


def test_classification_order_hint_upstream_values():
    schema = pa.schema(
        [
            ("email", pa.string()),
            ("contact", pa.string()),
            pa.field("who", pa.string(), metadata={"pii": "PERSON"}),
            ("score", pa.float64()),
            ("code", pa.string()),
        ]
    )
    sample = pa.table(
        {
            "email": ["a@b.io"],
            "contact": ["x@example.org"],
            "who": ["Ann"],
            "score": [1.0],
            "code": ["A"],
        },
        schema=schema,
    )
    plans = classify_columns(
        schema, sample, load_template("n", {"id": "t", "columns": {"email": "categorical"}}).columns
    )
    roles = {p.name: (p.role, p.sdtype, p.source) for p in plans}
    assert roles["email"] == ("learned", "categorical", "hint")
    assert roles["contact"] == ("fake", "email", "heuristic")  # by value
    assert roles["who"] == ("fake", "name", "upstream")
    assert roles["score"] == ("learned", "numerical", "default")
    assert roles["code"] == ("learned", "categorical", "default")


def test_sdv_detected_pii_is_not_learned():
    schema = pa.schema([("town", pa.string()), ("n", pa.int64())])
    plans = classify_columns(schema, None, {})
    apply_sdv_detection(plans, {"town": {"sdtype": "city", "pii": True}, "n": {"sdtype": "id"}})
    assert [(p.role, p.sdtype) for p in plans] == [("fake", "city"), ("id", "id")]


def test_field_metadata_false_means_not_pii():
    assert sdtype_from_field_metadata(pa.field("a", pa.string(), metadata={"pii": "false"})) is None


def test_chunk_seeds_differ_per_chunk_and_seed():
    assert chunk_seeds(1, 0) != chunk_seeds(1, 500)
    assert chunk_seeds(1, 0) != chunk_seeds(2, 0)
    assert chunk_seeds(1, 0) == chunk_seeds(1, 0)


def test_fake_and_id_columns_are_vectorized_and_distinct_per_chunk():
    schema = pa.schema([("id", pa.string()), ("name", pa.string()), ("email", pa.string())])
    plans = classify_columns(schema, None, {})
    gen = ChunkGenerator(plans, None, seed=7)
    a, b = gen.rows(0, 2000), gen.rows(2000, 2000)
    assert a["id"].to_pylist()[:2] == ["syn-0", "syn-1"]
    assert b["id"][0].as_py() == "syn-2000"
    assert a["name"].to_pylist() != b["name"].to_pylist()
    assert gen.rows(0, 2000).equals(a)


def test_identical_share_and_distances():
    real = pa.table({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    synthetic = pa.table({"a": [1.0, 2.5, 9.0], "b": ["x", "y", "q"]})
    assert identical_share(real, synthetic, ["a", "b"]) == pytest.approx(1 / 3)
    distances = closest_record_distances(real, synthetic, ["a", "b"])
    assert distances[0] == 0
    assert 0 < distances[1] < 0.5
    assert distances[2] > distances[1]


def test_template_errors_name_the_node_and_field():
    with pytest.raises(NodeConfigError, match=r"node 'n'.*fitSampleSize"):
        load_template("n", {"id": "t", "fitSampleSize": 0})
    template = load_template("n", {"id": "t", "metadata": {"tables": {"x": {"columns": {}}}}})
    assert template.table_metadata() == {"columns": {}}
    fp = template.fit_fingerprint([("a", "int64")])
    assert fp == template.fit_fingerprint([("a", "int64")])
    assert fp != template.fit_fingerprint([("a", "string")])


def test_upstream_detection_scanner_decides_pii_columns(tmp_path):
    from engine.catalog import DictCatalog
    from nodes.privacy.synthetic.columns import classify_with_scanner, upstream_detection_spec
    from tests.nodes.synthetic.helpers import make_ctx

    ctx = make_ctx(tmp_path, {"id": "t"}, {"syntheticTemplateId": "t", "recordCount": 1},
                   inputs=("detect",), input_type=("privacy", "detection"))  # fmt: skip
    ctx.spec.node("detect").config["nerModel"] = None
    ctx.catalog = DictCatalog({"syntheticTemplates": {"t": {"id": "t"}}})
    spec = upstream_detection_spec(ctx)
    assert spec is not None
    rows = 60
    sample = pa.table(
        {
            "contact": [f"user{i}@example.org" for i in range(rows)],
            "notes": [f"spoke to them, reach at user{i}@example.org or +1 212 555 {i:04d}"
                      for i in range(rows)],
            "born": [f"1990-01-{1 + i % 28:02d}" for i in range(rows)],
            "score": list(range(rows)),
        }
    )  # fmt: skip
    found = classify_with_scanner(sample, spec)
    assert found == {"contact": "email", "notes": "text"}
    plans = classify_columns(sample.schema, sample, {}, found)
    assert [(p.role, p.source) for p in plans] == [
        ("fake", "upstream"),
        ("fake", "upstream"),
        ("learned", "default"),
        ("learned", "default"),
    ]
    text = ChunkGenerator(plans, None, seed=1).rows(0, 5)["notes"].to_pylist()
    assert all(isinstance(t, str) and t for t in text)


def test_template_constraints_hold_in_generated_rows():
    import pyarrow.compute as pc

    from nodes.privacy.synthetic.model import build_model
    from nodes.privacy.synthetic.template import SyntheticTemplate

    rng = np.random.default_rng(0)
    low = rng.uniform(0, 100, 300)
    table = pa.table({"low": low, "high": low + rng.uniform(1, 10, 300)})
    inequality = {"low_column_name": "low", "high_column_name": "high"}
    template = SyntheticTemplate(
        id="c", constraints=[{"type": "Inequality", "parameters": inequality}]
    )
    model = build_model(template, table.schema, table)
    out = ChunkGenerator(model.columns, model.synthesizer, seed=1).rows(0, 500)
    assert out.num_rows == 500
    assert pc.all(pc.less(out["low"], out["high"])).as_py()
    bad = SyntheticTemplate(id="c", constraints=[{"type": "Nope"}])
    with pytest.raises(ValueError, match="unknown constraint type 'Nope'"):
        build_model(bad, table.schema, table)


def test_numeric_personal_data_columns_stay_numeric():
    schema = pa.schema([("ssn", pa.int64()), ("npi", pa.int64())])
    plans = classify_columns(schema, None, {"npi": load_template("n", {"id": "t", "columns": {
        "npi": "npi"}}).columns["npi"]})  # fmt: skip
    assert [p.role for p in plans] == ["fake", "fake"]
    out = ChunkGenerator(plans, None, seed=3).rows(0, 100)
    assert out.schema == schema
    assert out["npi"].null_count == 0


def test_spec_validation_checks_template_reference_and_config():
    from engine.catalog import DictCatalog
    from engine.plan.validation import check
    from engine.spec.models import PipelineSpec

    def spec(config: dict) -> PipelineSpec:
        return PipelineSpec.model_validate({"id": "p", "nodes": [
            {"id": "synth", "nodeType": "privacy", "category": "synthetic", "config": config},
            {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["synth"],
             "config": {"uri": "x"}},
        ]})  # fmt: skip

    catalog = DictCatalog({"syntheticTemplates": {"t1": {"id": "t1"}}})
    assert check(spec({"syntheticTemplateId": "t1", "recordCount": 10}), catalog) == []
    missing = [
        str(p) for p in check(spec({"syntheticTemplateId": "t9", "recordCount": 1}), catalog)
    ]
    assert missing == [
        "node 'synth' at config.syntheticTemplateId: syntheticTemplates 't9' not found in the "
        "catalog; known syntheticTemplates: t1"
    ]
    bad = [str(p) for p in check(spec({"syntheticTemplateId": "t1", "recordCount": 0}), catalog)]
    assert bad == ["node 'synth' at config.recordCount: Input should be greater than 0"]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([dt.date(2018, 1, 1), None, dt.date(2025, 12, 31)], pa.date32()),
        pa.array([dt.date(1969, 7, 20), dt.date(2024, 2, 29)], pa.date64()),
        pa.array(
            [dt.datetime(2019, 5, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc), None],
            pa.timestamp("us", tz="UTC"),
        ),
        pa.array([dt.datetime(2021, 3, 4, 5, 6, 7)], pa.timestamp("s")),
        # float64 epoch seconds keep about a quarter of a microsecond at today's dates
        pa.array([1_700_000_000_123_456_000, None], pa.timestamp("ns", tz="Europe/Paris")),
        pa.array([dt.time(8, 30), dt.time(23, 59, 59)], pa.time64("us")),
        pa.array([dt.timedelta(hours=3), None], pa.duration("ms")),
        pa.array(
            [decimal.Decimal("12345.67"), decimal.Decimal("-0.01"), None], pa.decimal128(10, 2)
        ),
        pa.array([0, 1, None, 1], pa.int8()),
        pa.array([2**40, 7], pa.uint64()),
        pa.array([1.5, None], pa.float32()),
        pa.array([True, None, False]),
        pa.array(["a", None, "b"], pa.large_string()),
        pa.array(["x", "y", "x"]).dictionary_encode(),
    ],
    ids=lambda c: str(c.type),
)
def test_encoding_round_trips_every_type_exactly(column):
    from nodes.privacy.synthetic.encode import decode_column, encode_column

    encoded = encode_column(column)
    assert encoded.dtype.kind in "fO"
    back = decode_column(encoded, column.type)
    assert back.type == column.type
    assert back.to_pylist() == column.to_pylist()


def test_dates_and_timestamps_are_encoded_in_days_and_seconds():
    from nodes.privacy.synthetic.encode import bound_value, encode_column

    days = encode_column(pa.array([dt.date(2020, 1, 1)], pa.date32()))
    assert days.tolist() == [18262.0]
    stamp = pa.array([dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)], pa.timestamp("us", "UTC"))
    assert encode_column(stamp).tolist() == [1577836800.0]
    assert bound_value("2020-01-01", pa.date32()) == 18262.0
    assert bound_value("2020-01-01T00:00:00", pa.timestamp("ms")) == 1577836800.0


def test_small_integer_sets_are_categories_and_sdv_ordinal_keeps_them_learned():
    sample = pa.table({"label": [0, 1] * 30, "visits": list(range(60))})
    plans = classify_columns(sample.schema, sample, {})
    apply_sdv_detection(
        plans, {"label": {"sdtype": "ordinal"}, "visits": {"sdtype": "ordinal"}}, sample
    )
    assert [(p.name, p.role, p.sdtype) for p in plans] == [
        ("label", "learned", "categorical"),
        ("visits", "learned", "numerical"),
    ]
    assert "2 distinct values" in plans[0].reason


def test_free_text_is_never_a_category():
    rows = 100
    sample = pa.table(
        {
            "comment": [f"called back about order {i}, all fine" for i in range(rows)],
            "tier": ["gold", "silver"] * (rows // 2),
        }
    )
    plans = {p.name: p for p in classify_columns(sample.schema, sample, {})}
    assert (plans["comment"].role, plans["comment"].sdtype) == ("fake", "text")
    assert (plans["tier"].role, plans["tier"].sdtype) == ("learned", "categorical")
    from nodes.privacy.synthetic.generate import real_free_pools

    pools = real_free_pools(list(plans.values()), sample, seed=1)
    assert set(pools) == {"comment"}
    assert not set(pools["comment"]) & set(sample["comment"].to_pylist())


def test_output_format_check_names_the_output_node():
    from engine.spec.models import PipelineSpec
    from nodes.privacy.synthetic import SyntheticConfig, check_output_format

    def problems(out_config: dict | None, fmt: str | None) -> list[str]:
        nodes = [{"id": "synth", "nodeType": "privacy", "category": "synthetic",
                  "config": {"syntheticTemplateId": "t", "recordCount": 1}}]  # fmt: skip
        if out_config is not None:
            nodes.append({"id": "arch", "nodeType": "output", "category": "archive",
                          "inputs": ["synth"], "config": out_config})  # fmt: skip
        spec = PipelineSpec.model_validate({"id": "p", "nodes": nodes})
        config = SyntheticConfig(syntheticTemplateId="t", recordCount=1, outputFormat=fmt)
        return check_output_format(spec=spec, node=spec.node("synth"), config=config)

    assert problems({"uri": "x", "format": "csv"}, "csv") == []
    assert problems({"uri": "x"}, "parquet") == []  # the archive's default format
    assert problems({"uri": "x"}, None) == []
    assert problems({"uri": "x"}, "csv") == [
        "outputFormat 'csv' conflicts with output node 'arch', which writes 'parquet'; the "
        "output node decides the format: set its format to 'csv' or remove outputFormat here"
    ]
    assert "needs an output node downstream" in problems(None, "csv")[0]


def test_unique_timestamps_and_amounts_are_not_identifiers():
    stamps = pa.array(np.arange(60) * 1_000_003, pa.timestamp("s", tz="UTC"))
    sample = pa.table({"created_at": stamps, "amount": np.arange(60) * 1.37})
    plans = classify_columns(sample.schema, sample, {})
    apply_sdv_detection(plans, {"created_at": {"sdtype": "id"}, "amount": {"sdtype": "id"}}, sample)
    assert [(p.role, p.sdtype) for p in plans] == [
        ("learned", "datetime"),
        ("learned", "numerical"),
    ]
