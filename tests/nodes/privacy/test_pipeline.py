"""End to end through engine.run.runner.run_pipeline: detection -> redaction -> archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.catalog import DictCatalog
from engine.cli import main as cli_main
from engine.context import RunOptions
from engine.errors import ValidationFailed
from engine.plan.validation import validate
from engine.run.runner import run_pipeline
from engine.spec import parse_spec
from nodes.privacy.evaluation import STRUCTURED, TEXT_COLUMN, EvalSet
from nodes.privacy.frameworks import HIPAA

pytestmark = pytest.mark.usefixtures("ray_session")


def _spec(src: Path, out: Path, detect: dict[str, Any], redact: dict[str, Any] | None) -> Any:
    nodes = [
        {"id": "load", "nodeType": "source", "category": "file", "config": {"uri": str(src)}},
        {"id": "detect", "nodeType": "privacy", "category": "detection", "inputs": ["load"],
         "config": detect},
    ]  # fmt: skip
    last = "detect"
    if redact is not None:
        nodes.append({"id": "redact", "nodeType": "privacy", "category": "redaction",
                      "inputs": ["detect"], "config": redact})  # fmt: skip
        last = "redact"
    nodes.append({"id": "out", "nodeType": "output", "category": "archive", "inputs": [last],
                  "config": {"uri": str(out)}})  # fmt: skip
    return parse_spec({"id": "privacy_e2e", "nodes": nodes})


def _rows(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted(folder.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def test_hipaa_pipeline_leaves_no_planted_identifier(
    evalset: EvalSet, tmp_path: Path, home: Path
) -> None:
    src = tmp_path / "patients.parquet"
    table = evalset.to_arrow().append_column("row_id", pa.array(range(len(evalset.rows))))
    pq.write_table(table, src)
    spec = _spec(
        src,
        tmp_path / "out",
        {"patternLibraryId": "patterns_healthcare", "complianceFramework": "HIPAA",
         "confidenceThreshold": 0.5, "contextualAnalysis": True},
        {},
    )  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    out = {r["row_id"]: r for r in _rows(tmp_path / "out")}
    assert len(out) == len(evalset.rows)
    leaks = []
    for r, col, ent, s, e in evalset.gold:
        if HIPAA.treatment(ent) is None:
            continue  # e.g. ICD-10 codes: clinical data, not a Safe Harbor identifier
        planted = str(evalset.rows[r][col])[s:e]
        if planted in str(out[r][col]):
            leaks.append((r, col, ent))
    # Names come from NER, context and name shapes (no name list): a name made of two
    # frequent English words ("Crystal Smith") can slip through; every other identifier
    # must be gone, and leaks stay under 1% of what was planted.
    planted_n = sum(1 for _r, _c, ent, _s, _e in evalset.gold if HIPAA.treatment(ent))
    assert not [x for x in leaks if x[2] != "PERSON"], leaks[:10]
    assert len(leaks) <= 0.01 * planted_n, (len(leaks), planted_n, leaks[:10])
    # decoys and non-identifiers pass through untouched
    assert [out[i]["order_number"] for i in range(5)] == [
        evalset.rows[i]["order_number"] for i in range(5)
    ]
    assert out[0]["dob"] == evalset.rows[0]["dob"][:4]  # dates reduced to the year

    # Findings are run metrics (every batch scanned), not a build-time classification:
    # the report says what is looked for, the privacyFindings state what was found.
    d = result.to_dict()
    facts = d["nodes"]["detect"]["facts"]
    report = json.loads(Path(facts["privacyReport"]).read_text())
    assert report["complianceFramework"] == "HIPAA"
    assert report["scope"] == "every cell of every column, every batch"
    assert {"PERSON", "US_SSN", "EMAIL_ADDRESS"} <= {
        c["entity"] for c in report["requiredTreatment"]
    }
    state = d["nodes"]["detect"]["states"]["privacyFindings"]
    expected = set(STRUCTURED) | {TEXT_COLUMN}
    assert expected <= set(state["affectedColumns"])
    assert not set(state["affectedColumns"]) & {"order_number", "product_code", "amount"}
    assert state["rows"] == len(evalset.rows)
    assert state["columns"]["ssn"]["US_SSN"] == len(evalset.rows)
    assert state["columns"]["email"]["EMAIL_ADDRESS"] == len(evalset.rows)
    counters = d["nodes"]["detect"]["counters"]
    assert counters["privacy.EMAIL_ADDRESS"] >= len(evalset.rows)
    assert counters["privacy.cellsScanned"] == len(evalset.rows) * len(table.column_names)
    assert d["nodes"]["redact"]["counters"]["redacted.US_SSN"] >= len(evalset.rows)

    # no raw value in the run result or the reports
    blob = json.dumps(d) + report.__repr__()
    blob += Path(d["nodes"]["redact"]["facts"]["redactionReport"]).read_text()
    raw = {str(evalset.rows[r][c])[s:e] for r, c, _e, s, e in evalset.gold}
    assert not [v for v in raw if len(v) >= 6 and v in blob]


def test_framework_without_redaction_fails_validation(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "x.parquet", tmp_path / "out",
                 {"complianceFramework": "HIPAA"}, None)  # fmt: skip
    with pytest.raises(ValidationFailed, match="no privacy/redaction node lies between"):
        validate(spec)
    ok = _spec(tmp_path / "x.parquet", tmp_path / "out", {"complianceFramework": "HIPAA"}, {})
    validate(ok)


def test_inline_rule_keeping_a_required_identifier_fails_validation(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "x.parquet", tmp_path / "out", {"complianceFramework": "HIPAA"},
                 {"rules": [{"entity": "US_SSN", "operator": "keep"}]})  # fmt: skip
    with pytest.raises(
        ValidationFailed, match=r"rule keeps US_SSN but HIPAA requires|leaves US_SSN untreated"
    ):
        validate(spec)
    bad = _spec(tmp_path / "x.parquet", tmp_path / "out", {},
                {"rules": [{"entity": "US_SSN", "operator": "hash"}]})  # fmt: skip
    with pytest.raises(ValidationFailed, match="need keyRef"):
        validate(bad)


def test_run_fails_with_a_report_when_catalog_rules_keep_identifiers(
    evalset: EvalSet, tmp_path: Path, home: Path
) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(evalset.to_arrow().slice(0, 50), src)
    catalog = DictCatalog({"redactionRules": {"rules_lax": {
        "id": "rules_lax", "rules": [{"entity": "US_SSN", "operator": "keep"}],
        "default": {"operator": "replace"}}}})  # fmt: skip
    spec = _spec(src, tmp_path / "out",
                 {"patternLibraryId": "patterns_healthcare", "complianceFramework": "HIPAA"},
                 {"redactionRuleId": "rules_lax"})  # fmt: skip
    # decided from the rules before any row is read: by the engine's compliance check
    # while validating, or by the redaction node while building
    try:
        result = run_pipeline(spec, catalog, options=RunOptions(home=home, base_dir=tmp_path))
    except ValidationFailed as exc:
        assert "US_SSN" in str(exc)
    else:
        assert result.status == "failed"
        assert "US_SSN" in (result.error or "") and "keep" in (result.error or "")
    assert not (tmp_path / "out").exists()


def test_a_column_rule_keeping_a_column_fails_the_run_when_it_holds_identifiers(
    tmp_path: Path, home: Path
) -> None:
    pq.write_table(pa.table({"ref": ["ok", "SSN 536-90-4399"]}), tmp_path / "k.parquet")
    spec = _spec(tmp_path / "k.parquet", tmp_path / "out",
                 {"complianceFramework": "HIPAA", "nerModel": None},
                 {"rules": [{"column": "ref", "operator": "keep"}]})  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.status == "failed"
    assert "ref:US_SSN" in (result.error or "")
    assert not (tmp_path / "out").exists()


def test_pseudonyms_join_across_tables_and_encryption_decrypts(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PB_PRIVACY_TEST_KEY", "a test key that is long enough")
    people = ["ann.lee@example.com", "bo.diaz@example.org", "cy.park@example.net"]
    ssns = ["536-90-4399", "212-45-8765", "401-33-2210"]
    pq.write_table(pa.table({"email": people, "ssn": ssns, "note": ["x", "y", "z"]}),
                   tmp_path / "a.parquet")  # fmt: skip
    pq.write_table(pa.table({"email": people[::-1], "spend": [1, 2, 3]}), tmp_path / "b.parquet")
    redact = {"rules": [{"entity": "EMAIL_ADDRESS", "operator": "hash"},
                        {"entity": "US_SSN", "operator": "encrypt"}],
              "keyRef": "env:PB_PRIVACY_TEST_KEY"}  # fmt: skip
    for name in ("a", "b"):
        spec = _spec(tmp_path / f"{name}.parquet", tmp_path / f"out_{name}",
                     {"nerModel": None}, redact)  # fmt: skip
        result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
        assert result.ok, result.error
    a = _rows(tmp_path / "out_a")
    b = _rows(tmp_path / "out_b")
    assert {r["email"] for r in a} == {r["email"] for r in b}  # same pseudonyms: joins work
    assert not {r["email"] for r in a} & set(people)
    assert all(r["ssn"].startswith("enc:") for r in a)
    assert "a test key" not in json.dumps(result.to_dict())

    decrypted = []
    for i, f in enumerate(sorted((tmp_path / "out_a").rglob("*.parquet"))):
        dst = tmp_path / f"decrypted{i}.parquet"
        code = cli_main(["decrypt", "--key", "env:PB_PRIVACY_TEST_KEY", "--input", str(f),
                         "--output", str(dst), "--columns", "ssn"])  # fmt: skip
        assert code == 0
        decrypted += pq.read_table(dst).column("ssn").to_pylist()
    assert sorted(decrypted) == sorted(ssns)
    monkeypatch.setenv("PB_OTHER_KEY", "wrong")
    assert cli_main(["decrypt", "--key", "env:PB_OTHER_KEY", "--value", a[0]["ssn"]]) == 2


def test_missing_ner_model_degrades_to_patterns_with_a_warning(tmp_path: Path, home: Path) -> None:
    pq.write_table(pa.table({"contact": ["mail ann.lee@example.com", "call 555-201-3344"]}),
                   tmp_path / "c.parquet")  # fmt: skip
    replace_all = {"rules": [{"entity": "*", "operator": "replace"}]}
    spec = _spec(tmp_path / "c.parquet", tmp_path / "out", {"nerModel": "xx_no_such_model"},
                 replace_all)  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    facts = result.to_dict()["nodes"]["detect"]["facts"]
    assert any("not installed" in w for w in facts["warnings"])
    assert sorted(r["contact"] for r in _rows(tmp_path / "out")) == [
        "call <PHONE_NUMBER>", "mail <EMAIL_ADDRESS>"]  # fmt: skip


def test_hipaa_generalizes_typed_columns(tmp_path: Path, home: Path) -> None:
    import datetime as dt

    n = 40
    table = pa.table({
        "age": pa.array([95 if i % 4 == 0 else 30 + i for i in range(n)], pa.int64()),
        "zip_code": ["03601" if i % 2 else "94110" for i in range(n)],
        "admitted": pa.array([dt.date(2020, 1 + i % 12, 1 + i % 28) for i in range(n)]),
        "score": [float(i) for i in range(n)],
    })  # fmt: skip
    pq.write_table(table, tmp_path / "t.parquet")
    spec = _spec(tmp_path / "t.parquet", tmp_path / "out",
                 {"complianceFramework": "HIPAA", "nerModel": None}, {})  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    rows = _rows(tmp_path / "out")
    assert {r["age"] for r in rows if r["age"] == "90+"} == {"90+"}
    assert all(r["age"] == "90+" or int(r["age"]) <= 89 for r in rows)
    assert {r["zip_code"] for r in rows} == {"000", "941"}
    assert {r["admitted"] for r in rows} == {"2020"}
    assert sorted(r["score"] for r in rows) == [float(i) for i in range(n)]
    state = result.to_dict()["nodes"]["detect"]["states"]["privacyFindings"]
    assert state["affectedColumns"] == ["admitted", "age", "zip_code"]
