"""privacy/synthetic on real Ray: fit, parallel sampling, scores, model reuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from engine.errors import NodeError
from nodes.privacy.synthetic import SyntheticConfig, build
from tests.nodes.synthetic.helpers import RecordingMetrics, correlated_table, make_ctx

BLOCK = 500
RECORDS = 2100  # not a multiple of the chunk size: the last chunk is partial
TEMPLATE = {"id": "tmpl_customers", "seed": 3, "fitSampleSize": 1000, "blockRows": BLOCK}
LEARNED = ["age", "income", "spend", "segment", "region"]
IDENTIFIERS = ["customer_id", "full_name", "email", "phone"]


def run_node(home: Path, real: pa.Table | None, config: dict, template: dict = TEMPLATE):
    """Build the node and run its Dataset; returns (facts, output rows, build context).

    Facts are the build-time facts with the run-time ``synthetic`` state (fit, scores)
    merged in, as a run result shows them under ``facts`` and ``states``.
    """
    import ray

    metrics = RecordingMetrics()
    ctx = make_ctx(
        home, template, config, inputs=("load",) if real is not None else (), metrics=metrics
    )
    inputs = [ray.data.from_arrow(real)] if real is not None else []
    ds = build(ctx=ctx, inputs=inputs, config=SyntheticConfig.model_validate(config))
    out = pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow")))
    out = out.sort_by(out.column_names[0]) if out.num_rows else out
    state = metrics.states().get("synthetic", {})
    facts = {**ctx.facts, "synthetic": {**ctx.facts["synthetic"], **state}}
    if "privacy" in state:
        facts["privacy"] = state["privacy"]
    return facts, out, ctx


@pytest.fixture(scope="module")
def fitted(ray_session, tmp_path_factory, real_table):
    """One fit + one parallel sampling run shared by the tests of this module."""
    home = tmp_path_factory.mktemp("home")
    config = {"syntheticTemplateId": "tmpl_customers", "recordCount": RECORDS, "workers": 2}
    facts, out, ctx = run_node(home, real_table, config)
    return {"home": home, "facts": facts, "ctx": ctx, "out": out, "config": config}


def test_exact_record_count_and_schema(fitted, real_table):
    out = fitted["out"]
    assert out.num_rows == RECORDS
    assert out.schema == real_table.schema
    # ids come from global row offsets: unique and complete.
    assert out["customer_id"].to_pylist() == list(range(RECORDS))


def test_quality_score_and_correlation_preserved(fitted):
    facts = fitted["facts"]
    # The sdmetrics score is the node's own; it does not become the run's qualityScore.
    assert "qualityScore" not in fitted["ctx"].facts
    assert facts["synthetic"]["quality"]["score"] > 0.8
    assert set(facts["synthetic"]["quality"]["properties"]) == {
        "Column Shapes",
        "Column Pair Trends",
    }
    out = fitted["out"]
    corr = np.corrcoef(out["age"].to_numpy(), out["income"].to_numpy())[0, 1]
    assert corr > 0.5, corr


def test_no_synthetic_row_equals_a_real_row(fitted, real_table):
    out = fitted["out"]
    real_rows = set(zip(*(real_table[c].to_pylist() for c in LEARNED), strict=True))
    synthetic_rows = list(zip(*(out[c].to_pylist() for c in LEARNED), strict=True))
    assert not [r for r in synthetic_rows if r in real_rows]
    privacy = fitted["facts"]["privacy"]
    assert privacy["identicalRowShare"] == 0.0
    assert privacy["leakage"] == 0.0
    assert privacy["distanceToClosestRecord"]["min"] > 0


def test_no_real_identifiers_in_output(fitted, real_table):
    out = fitted["out"]
    for column in IDENTIFIERS:
        leaked = set(out[column].to_pylist()) & set(real_table[column].to_pylist())
        assert not leaked, f"{column} copied real values: {sorted(leaked)[:5]}"
    roles = {k: v["role"] for k, v in fitted["facts"]["synthetic"]["columns"].items()}
    assert roles == {
        "customer_id": "id",
        "full_name": "fake",
        "email": "fake",
        "phone": "fake",
        **dict.fromkeys(LEARNED, "learned"),
    }
    assert all("@" in e for e in out["email"].to_pylist()[:50])


def test_workers_outputs_differ(fitted):
    """Every chunk is reseeded: no chunk repeats another one's rows or fake values."""
    out = fitted["out"]
    chunks = [out.slice(i, BLOCK) for i in range(0, RECORDS, BLOCK)]
    first = chunks[0]
    for other in chunks[1:]:
        n = min(other.num_rows, first.num_rows)
        for column in ["income", "spend", "full_name", "email"]:
            same = pc.sum(pc.equal(first[column].slice(0, n), other[column].slice(0, n))).as_py()
            assert (same or 0) < n * 0.05, column
    assert len(set(out["income"].to_pylist())) > RECORDS * 0.99


def test_output_is_reproducible_for_a_seed(fitted, real_table):
    """The driver regenerates the workers' chunks bit for bit from the stored model."""
    import cloudpickle

    from nodes.privacy.synthetic.generate import ChunkGenerator

    location = fitted["facts"]["synthetic"]["modelUri"]
    model = cloudpickle.loads((Path(location) / "model.pkl").read_bytes())
    gen = ChunkGenerator(model.columns, model.synthesizer, seed=TEMPLATE["seed"])
    again = pa.concat_tables([gen.rows(s, min(BLOCK, RECORDS - s)) for s in (1500, 2000)])
    assert again.equals(fitted["out"].slice(1500, 600))
    other_seed = ChunkGenerator(model.columns, model.synthesizer, seed=99).rows(2000, 100)
    assert not other_seed["income"].equals(again["income"].slice(500, 100))


def test_model_is_reused_without_refitting(fitted, real_table):
    home = fitted["home"]
    model_file = Path(fitted["facts"]["synthetic"]["modelUri"]) / "model.pkl"
    assert fitted["facts"]["synthetic"]["refitted"] is True
    before = model_file.stat().st_mtime_ns
    facts, _, _ = run_node(home, real_table, {**fitted["config"], "recordCount": 10})
    assert facts["synthetic"]["refitted"] is False
    assert facts["synthetic"]["fingerprint"] == fitted["facts"]["synthetic"]["fingerprint"]
    assert model_file.stat().st_mtime_ns == before
    # refit on request
    config = {**fitted["config"], "recordCount": 10, "refit": True}
    facts, _, _ = run_node(home, real_table, config)
    assert facts["synthetic"]["refitted"] is True
    # a changed input schema makes the stored model stale
    changed = real_table.append_column("tenure", pa.array(np.arange(real_table.num_rows)))
    facts, _, _ = run_node(home, changed, {**fitted["config"], "recordCount": 10})
    assert facts["synthetic"]["refitted"] is True


def test_without_preserve_distribution_uses_types_and_ranges(ray_session, home, real_table):
    config = {
        "syntheticTemplateId": "tmpl_customers",
        "recordCount": 700,
        "preserveDistribution": False,
    }
    facts, out, _ = run_node(home, real_table, config)
    assert out.num_rows == 700
    assert facts["synthetic"]["synthesizer"] == "metadata_only"
    assert pc.min(out["age"]).as_py() >= pc.min(real_table["age"]).as_py()
    assert pc.max(out["age"]).as_py() <= pc.max(real_table["age"]).as_py()
    assert set(out["region"].to_pylist()) <= {"north", "south", "east", "west"}
    assert not set(out["email"].to_pylist()) & set(real_table["email"].to_pylist())


def test_no_input_generates_from_column_hints(ray_session, home):
    template = {
        "id": "tmpl_hinted",
        "columns": {
            "user_id": "id",
            "name": "name",
            "score": {"sdtype": "numerical", "min": 0, "max": 10},
            "tier": {"sdtype": "categorical", "values": ["a", "b"]},
        },
    }
    config = {
        "syntheticTemplateId": "tmpl_hinted",
        "recordCount": 50,
        "preserveDistribution": False,
    }
    _, out, ctx = run_node(home, None, config, template)
    out = out.sort_by("user_id")
    assert out.num_rows == 50
    assert out.column_names == ["user_id", "name", "score", "tier"]
    assert pc.min(out["score"]).as_py() >= 0 and pc.max(out["score"]).as_py() <= 10
    assert set(out["tier"].to_pylist()) <= {"a", "b"}
    assert "qualityScore" not in ctx.facts


def collect_by(ds: Any, key: str) -> pa.Table:
    return pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow"))).sort_by(key)


def test_leakage_above_max_fails_the_run(ray_session, home):
    # Two low-cardinality columns: almost every synthetic row repeats a real combination.
    rng = np.random.default_rng(0)
    real = pa.table(
        {
            "flag": rng.choice(["y", "n"], 400).tolist(),
            "level": rng.choice(["lo", "hi"], 400).tolist(),
        }
    )
    template = {"id": "tmpl_leaky", "maxLeakage": 0.1, "fitSampleSize": 400}
    config = {"syntheticTemplateId": "tmpl_leaky", "recordCount": 100}
    with pytest.raises(NodeError, match=r"node 'synth'.*maxLeakage"):
        run_node(home, real, config, template)


def test_invalid_template_names_the_field(ray_session, home, real_table):
    template = {"id": "tmpl_bad", "synthesizer": "gan9000"}
    config = {"syntheticTemplateId": "tmpl_bad", "recordCount": 10}
    with pytest.raises(NodeError, match=r"node 'synth'.*synthesizer"):
        run_node(home, real_table, config, template)


def test_empty_input_is_an_error(ray_session, home, real_table):
    config = {"syntheticTemplateId": "tmpl_customers", "recordCount": 10}
    with pytest.raises(NodeError, match=r"node 'synth'.*input is empty"):
        run_node(home, real_table.slice(0, 0), config)


def test_fresh_table_fixture_is_correlated():
    table = correlated_table(300)
    corr = np.corrcoef(table["age"].to_numpy(), table["income"].to_numpy())[0, 1]
    assert corr > 0.6
