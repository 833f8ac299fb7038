"""privacy/synthetic on an ordinary mixed table: types kept, ranges kept, no real value out.

The real table is made here with numpy and hand-written strings (the node generates
text with Faker), and the quality check is sdmetrics' own ``QualityReport``, run on
frames this test builds itself from the Arrow tables.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from nodes.privacy.synthetic import SyntheticConfig, build
from tests.nodes.synthetic.helpers import RecordingMetrics, make_ctx

ROWS = 3000
RECORDS = 6000
TEMPLATE = {"id": "tmpl_visits", "seed": 21, "fitSampleSize": 3000, "blockRows": 1500}

FIRST = ["maria", "john", "aiko", "lena", "omar", "priya", "tom", "sofia", "li", "nils"]
LAST = ["garcia", "smith", "tanaka", "novak", "haddad", "iyer", "brown", "rossi", "wei", "berg"]
DOMAINS = ["mailbox.test", "clinic-example.test", "home.example"]
OPENERS = [
    "Patient asked for a callback",
    "Follow up on the lab results",
    "Left a voicemail",
    "Discussed the discharge plan",
    "Requested a copy of the invoice",
]


def visits(rows: int = ROWS, seed: int = 5) -> pa.Table:
    """Hospital visits: dates, a UTC timestamp, a 0/1 label, a 3-level tier, a decimal
    amount, a free-text comment with emails and phones, and nulls in most columns."""
    rng = np.random.default_rng(seed)
    start = dt.date(2018, 1, 1).toordinal()
    end = dt.date(2025, 12, 31).toordinal()
    days = rng.integers(start, end + 1, rows)
    visit = [dt.date.fromordinal(int(d)) for d in days]
    seconds = rng.integers(0, 86_400, rows)
    created = [
        dt.datetime(v.year, v.month, v.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=int(s))
        for v, s in zip(visit, seconds, strict=True)
    ]
    tier = rng.choice(["bronze", "silver", "gold"], rows, p=[0.5, 0.3, 0.2])
    # The label depends on the tier, so pair trends have something to keep.
    label = (rng.random(rows) < np.where(tier == "gold", 0.45, 0.2)).astype(np.int64)
    amount = np.round(rng.gamma(2.0, 60.0, rows) + np.where(tier == "gold", 80, 0), 2)
    comments = []
    for i in range(rows):
        person = f"{FIRST[i % 10]}.{LAST[(i // 10) % 10]}{i}"
        phone = f"+1 (555) {rng.integers(200, 999)}-{i:04d}"
        email = f"{person}@{DOMAINS[i % 3]}"
        comments.append(f"{OPENERS[i % 5]}: call {phone} or write to {email} (ref {i}).")
    null = rng.random((4, rows)) < np.array([[0.05], [0.08], [0.1], [0.12]])
    return pa.table(
        {
            "visit_date": pa.array(visit, pa.date32(), mask=null[0]),
            "created_at": pa.array(created, pa.timestamp("us", tz="UTC")),
            "readmitted": pa.array(label, pa.int64()),
            "tier": pa.array(tier.tolist(), pa.string(), mask=null[1]),
            "amount": pa.array(
                [decimal.Decimal(f"{a:.2f}") for a in amount], pa.decimal128(10, 2), mask=null[2]
            ),
            "followup_comment": pa.array(comments, pa.string(), mask=null[3]),
        }
    )


@pytest.fixture(scope="module")
def real() -> pa.Table:
    return visits()


@pytest.fixture(scope="module")
def run(ray_session, tmp_path_factory, real) -> dict[str, Any]:
    import ray

    home = tmp_path_factory.mktemp("home")
    config = {"syntheticTemplateId": TEMPLATE["id"], "recordCount": RECORDS, "workers": 2}
    metrics = RecordingMetrics()
    ctx = make_ctx(home, TEMPLATE, config, metrics=metrics)
    ds = build(
        ctx=ctx,
        inputs=[ray.data.from_arrow(real).repartition(4)],
        config=SyntheticConfig.model_validate(config),
    )
    out = pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow")))
    return {"out": out, "ctx": ctx, "state": metrics.states()["synthetic"]}


def test_every_column_keeps_its_type(run, real):
    out = run["out"]
    assert out.num_rows == RECORDS
    assert out.schema == real.schema


def test_dates_and_timestamps_keep_their_range_and_spread(run, real):
    out = run["out"]
    for column in ("visit_date", "created_at"):
        lo, hi = pc.min(real[column]).as_py(), pc.max(real[column]).as_py()
        got = out[column].drop_null()
        assert pc.min(got).as_py() >= lo, column
        assert pc.max(got).as_py() <= hi, column
        assert len(pc.unique(got)) > 100, column
    years = {d.year for d in out["visit_date"].drop_null().to_pylist()}
    assert years == set(range(2018, 2026))
    assert out["created_at"].type.tz == "UTC"


def test_label_stays_binary_with_its_rate(run, real):
    out = run["out"]
    assert set(out["readmitted"].to_pylist()) == {0, 1}
    real_rate = pc.mean(real["readmitted"]).as_py()
    synthetic_rate = pc.mean(out["readmitted"]).as_py()
    assert abs(synthetic_rate - real_rate) <= 0.02, (synthetic_rate, real_rate)
    assert run["state"]["columns"]["readmitted"] == {
        "role": "learned",
        "sdtype": "categorical",
        "source": "type",
    }


def test_category_and_decimal_keep_values_and_precision(run, real):
    out = run["out"]
    assert set(out["tier"].drop_null().to_pylist()) == {"bronze", "silver", "gold"}
    amounts = out["amount"].drop_null()
    assert amounts.type == pa.decimal128(10, 2)
    assert pc.min(amounts).as_py() >= pc.min(real["amount"]).as_py()
    assert pc.max(amounts).as_py() <= pc.max(real["amount"]).as_py()
    assert len(pc.unique(amounts)) > 1000  # amounts, not a handful of categories


def test_nulls_keep_their_rate(run, real):
    out = run["out"]
    for column in ("visit_date", "tier", "amount", "followup_comment"):
        real_share = real[column].null_count / real.num_rows
        synthetic_share = out[column].null_count / out.num_rows
        assert abs(synthetic_share - real_share) <= 0.03, (column, synthetic_share, real_share)
    assert out["created_at"].null_count == 0


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+1 \(555\) \d{3}-\d{4}")


def test_no_real_text_email_or_phone_leaves_the_node(run, real):
    out = run["out"]
    real_text = set(real["followup_comment"].drop_null().to_pylist())
    synthetic_text = out["followup_comment"].drop_null().to_pylist()
    assert synthetic_text and all(isinstance(t, str) and t for t in synthetic_text)
    assert not real_text & set(synthetic_text)
    secrets = set()
    for cell in real_text:
        secrets |= set(EMAIL.findall(cell)) | set(PHONE.findall(cell))
    assert len(secrets) > ROWS  # the table does hold an email and a phone per comment
    strings = [
        v for f in out.schema if pa.types.is_string(f.type) for v in out[f.name].to_pylist() if v
    ]
    found = [s for s in secrets if any(s in v for v in strings)]
    assert not found, found[:5]
    facts = run["state"]
    assert facts["columns"]["followup_comment"]["role"] == "fake"
    assert "free text" in facts["reasons"]["followup_comment"]
    assert facts["privacy"]["copiedGeneratedCells"] == {"followup_comment": 0}


def _frame(table: pa.Table, names: list[str]) -> Any:
    """A pandas frame sdmetrics reads: dates as datetime64[ns], decimals as floats."""
    import pandas as pd

    data = {}
    for name in names:
        column = table[name]
        if pa.types.is_date(column.type):
            column = pc.cast(column, pa.timestamp("s"))
        if pa.types.is_timestamp(column.type):
            values = pd.to_datetime(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False))
            data[name] = pd.Series(values).where(~np.asarray(column.is_null()))
            continue
        if pa.types.is_decimal(column.type):
            column = pc.cast(column, pa.float64())
        data[name] = column.to_pandas()
    return pd.DataFrame(data)


def test_sdmetrics_quality_report_of_the_output(run, real):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    sdtypes = {
        "visit_date": {"sdtype": "datetime"},
        "created_at": {"sdtype": "datetime"},
        "readmitted": {"sdtype": "categorical"},
        "tier": {"sdtype": "categorical"},
        "amount": {"sdtype": "numerical"},
    }
    names = list(sdtypes)
    report = QualityReport()
    report.generate(
        _frame(real, names), _frame(run["out"], names), {"columns": sdtypes}, verbose=False
    )
    assert report.get_score() >= 0.85, report.get_details("Column Shapes")
    shapes = report.get_details("Column Shapes")
    assert shapes["Score"].min() >= 0.8, shapes


def test_scores_are_the_nodes_own_not_the_runs(run):
    state = run["state"]
    assert "qualityScore" not in run["ctx"].facts
    quality = state["quality"]
    assert quality["score"] is not None and quality["score"] > 0.8
    assert set(quality["columns"]) == {"visit_date", "created_at", "readmitted", "tier", "amount"}
    assert state["privacy"]["identicalLearnedShare"] == 0.0
    assert state["privacy"]["distanceToClosestRecord"]["min"] > 0


def test_unmodellable_columns_are_reported_and_hints_win(ray_session, tmp_path):
    import ray

    rng = np.random.default_rng(3)
    table = pa.table(
        {
            "score": rng.normal(0, 1, 400),
            "tags": pa.array([["a", "b"]] * 400, pa.list_(pa.string())),
            "blob": pa.array([b"\x00\x01"] * 400, pa.binary()),
            "note": [f"entry {i}" for i in range(400)],
            "rating": rng.integers(1, 6, 400),
        }
    )
    template = {
        "id": "tmpl_mixed",
        "seed": 1,
        "columns": {"note": {"sdtype": "text", "generator": "bothify", "generatorArgs": {
            "text": "NOTE-####"}}, "rating": "numerical"},
    }  # fmt: skip
    config = {"syntheticTemplateId": "tmpl_mixed", "recordCount": 300}
    metrics = RecordingMetrics()
    ctx = make_ctx(tmp_path, template, config, metrics=metrics)
    ds = build(ctx=ctx, inputs=[ray.data.from_arrow(table)], config=SyntheticConfig(**config))
    out = pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow")))
    state = metrics.states()["synthetic"]
    assert out.column_names == ["score", "note", "rating"]
    assert set(state["dropped"]) == {"tags", "blob"}
    assert "cannot be modelled" in state["dropped"]["tags"]
    assert all(re.fullmatch(r"NOTE-\d{4}", v) for v in out["note"].to_pylist())
    rating = state["columns"]["rating"]
    assert rating == {"role": "learned", "sdtype": "numerical", "source": "hint"}
    assert out["rating"].type == pa.int64()
