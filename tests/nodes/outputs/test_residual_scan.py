"""The residual scan of written rows backs (or refuses) a compliance certification.

Hand-written rows (no generator of the detector's own); each planted identifier is a
literal, so a plain substring search of what was written is the independent check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.context import RunOptions
from engine.lineage.summary import seed_lineage
from engine.run.runner import run_pipeline
from engine.spec import parse_spec
from engine.webhooks.events import quality_metrics
from tests.engine.helpers import read_parquet_rows

pytestmark = pytest.mark.usefixtures("ray_session")

PATIENTS = [
    ("Margarethe Vandersloot", "219-09-9999", "(617) 555-0134", "m.vandersloot@harbor-clinic.org",
     "02139", "2021-03-14", "Seen in clinic; call back at 617-555-0199."),
    ("Tobias Wrenfield", "536-22-8726", "(212) 555-0187", "tobias.w@mailbox.net",
     "10027", "2020-11-02", "No complaints. Follow up in 2 weeks."),
    ("Ines Carvalho", "457-55-5462", "415.555.0143", "ines.cp@example.org",
     "94110", "2019-07-30", "Mild headache reported; order #A-44812 shipped."),
]  # fmt: skip
NOTES_CLEAN = ["Follow up in 2 weeks.", "No complaints today.", "Order #A-44812 shipped."]
LATE_SSN = "457-55-5462"  # planted once, in free text, far past any sample


def _patients(path: Path, repeat: int = 20) -> Path:
    rows = [
        dict(zip(("patient", "ssn", "phone", "email", "zip", "visit", "note"), p, strict=True))
        | {"amount": 10.0 + i}
        for i, p in enumerate(PATIENTS * repeat)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _notes(path: Path, rows: int = 3000, late: int = 2990) -> Path:
    notes = [NOTES_CLEAN[i % 3] for i in range(rows)]
    notes[late] = f"Insurance form lists {LATE_SSN} for the claim."
    email = [f"user{i}@clinic-mail.org" for i in range(rows)]
    pq.write_table(pa.table({"id": list(range(rows)), "email": email, "note": notes}), path)
    return path


def _spec(src: Path, out: dict[str, Any], detect: dict[str, Any]) -> Any:
    return parse_spec(
        {
            "id": "residual_scan",
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file",
                 "config": {"uri": str(src)}},
                {"id": "detect", "nodeType": "privacy", "category": "detection",
                 "inputs": ["load"], "config": {"complianceFramework": "HIPAA", **detect}},
                {"id": "redact", "nodeType": "privacy", "category": "redaction",
                 "inputs": ["detect"], "config": {}},
                {"id": "out", "inputs": ["redact"], **out},
            ],
        }
    )  # fmt: skip


def _archive(uri: Path, **extra: Any) -> dict[str, Any]:
    return {"nodeType": "output", "category": "archive", "config": {"uri": str(uri), **extra}}


def test_a_clean_run_is_certified_with_the_evidence_recorded(tmp_path: Path, home: Path) -> None:
    src = _patients(tmp_path / "patients.parquet")
    spec = _spec(src, _archive(tmp_path / "clean"), {})
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    written = read_parquet_rows(tmp_path / "clean")
    assert len(written) == 60
    blob = json.dumps(written)
    planted = {v for p in PATIENTS for v in p[:5]} | {"617-555-0199"}
    assert not [v for v in planted if v in blob]  # independent of the scanner
    d = result.to_dict()
    (out,) = d["outputs"]
    scan = out["residualScan"]
    assert scan["rowsScanned"] == 60 and scan["findings"] == {}
    assert scan["frameworks"] == ["HIPAA"] and "US_SSN" in scan["entities"]
    assert out["certifications"] == ["HIPAA_compliant"]
    assert seed_lineage(d, spec.model_dump(mode="json"))["outputData"]["certifications"] == [
        "HIPAA_compliant"
    ]
    assert quality_metrics(d)["privacyCompliance"] == "HIPAA_certified"


def test_an_identifier_left_in_the_output_fails_the_run_and_is_not_certified(
    tmp_path: Path, home: Path
) -> None:
    # the detection looks for emails only, so the redaction never sees the late SSN
    src = _notes(tmp_path / "notes.parquet")
    spec = _spec(src, _archive(tmp_path / "leaky"), {"entities": ["EMAIL_ADDRESS"],
                                                     "nerModel": None})  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.status == "failed"
    assert result.error_node == "out"
    assert "note: US_SSN x1" in (result.error or ""), result.error
    assert "3000 rows scanned" in (result.error or "")
    assert not (tmp_path / "leaky").exists()  # nothing published
    d = result.to_dict()
    scan = d["nodes"]["out"]["facts"]["residualScan"]
    assert scan["rowsScanned"] == 3000 and scan["findings"] == {"note": {"US_SSN": 1}}
    assert seed_lineage(d, spec.model_dump(mode="json"))["outputData"]["certifications"] == []
    assert quality_metrics(d)["privacyCompliance"] == "residue_found"
    assert LATE_SSN not in json.dumps(d)  # counts only, never the value


def test_quarantine_keeps_residue_rows_out_of_the_output(tmp_path: Path, home: Path) -> None:
    src = _notes(tmp_path / "notes.parquet")
    spec = _spec(
        src,
        _archive(tmp_path / "held", onResidue="quarantine"),
        {"entities": ["EMAIL_ADDRESS"], "nerModel": None},
    )
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    written = read_parquet_rows(tmp_path / "held")
    assert len(written) == 2999
    assert 2990 not in {r["id"] for r in written}
    assert LATE_SSN not in json.dumps(written)
    (out,) = result.to_dict()["outputs"]
    scan = out["residualScan"]
    assert scan["quarantinedRows"] == 1 and scan["findings"] == {"note": {"US_SSN": 1}}
    held = read_parquet_rows(Path(scan["quarantine"]))
    # the held row is kept for review with its identifiers masked, never in clear
    assert [r["id"] for r in held] == [2990]
    assert LATE_SSN not in held[0]["note"] and "<US_SSN>" in held[0]["note"]
    assert "type tag" in scan["quarantineMasking"]
    assert out["certifications"] == ["HIPAA_compliant"]


def test_environment_deploy_with_residue_is_not_published(tmp_path: Path, home: Path) -> None:
    from engine.catalog import DictCatalog
    from nodes.outputs import versions

    env_uri = tmp_path / "env"
    catalog = DictCatalog({"environments": {"env_ml": {"id": "env_ml", "uri": str(env_uri)}}})
    src = _notes(tmp_path / "notes.parquet", rows=400, late=350)
    spec = _spec(
        src,
        {"nodeType": "output", "category": "environment", "config": {"environmentId": "env_ml"}},
        {"entities": ["EMAIL_ADDRESS"], "nerModel": None},
    )
    result = run_pipeline(spec, catalog, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.status == "failed" and "note: US_SSN x1" in (result.error or "")
    assert versions.read_pointer(str(env_uri)) is None
    assert versions.list_versions(str(env_uri)) == []


def test_model_training_scans_the_columns_it_writes(tmp_path: Path, home: Path) -> None:
    from nodes.outputs import versions

    src = _notes(tmp_path / "notes.parquet", rows=400, late=350)
    detect = {"entities": ["EMAIL_ADDRESS"], "nerModel": None}

    def training(name: str, features: list[str]) -> dict[str, Any]:
        return {"nodeType": "output", "category": "model_training",
                "config": {"location": str(tmp_path / name), "features": features,
                           "splits": None}}  # fmt: skip

    leaky = _spec(src, training("leaky", ["id", "note"]), detect)
    result = run_pipeline(leaky, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.status == "failed" and "note: US_SSN x1" in (result.error or "")
    assert versions.read_pointer(str(tmp_path / "leaky")) is None
    # the note column is not written: what is written is clean and certified
    clean = _spec(src, training("clean", ["id", "email"]), detect)
    result = run_pipeline(clean, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    (out,) = result.to_dict()["outputs"]
    assert out["residualScan"]["rowsScanned"] == 400 and out["residualScan"]["findings"] == {}
    assert out["certifications"] == ["HIPAA_compliant"]
