"""Pre-run compliance validation and the GDPR Article 30 record (Ray-free)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.audit.article30 import article30_record
from engine.cli import main
from engine.plan.compliance import check
from tests.engine.helpers import node, pipeline

SRC = node("src", "source/file", {"uri": "patients.csv"})
DETECT = node("detect", "privacy/detection", {"complianceFramework": "HIPAA"}, ["src"])
REDACT = node("redact", "privacy/redaction", {"complianceFramework": "HIPAA"}, ["detect"])


def _write(tmp_path: Path, spec) -> Path:
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec.model_dump(mode="json", exclude_none=True)))
    return p


def test_hipaa_pipeline_with_detection_then_redaction_on_every_path_passes() -> None:
    spec = pipeline(SRC, DETECT, REDACT, node("out", "output/archive", {"uri": "o"}, ["redact"]))
    report = check(spec)
    assert report.frameworks == ["HIPAA"] and report.ok, report.violations


def test_an_output_reached_without_redaction_is_a_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = pipeline(
        SRC,
        DETECT,
        REDACT,
        node("out", "output/archive", {"uri": "o"}, ["redact"]),
        node("raw_copy", "output/archive", {"uri": "raw"}, ["src"]),
        node("peek", "output/archive", {"uri": "peek"}, ["detect"]),
    )
    report = check(spec)
    outputs = sorted(v["output"] for v in report.violations)
    assert outputs == ["peek", "raw_copy"]
    assert any(
        "src -> raw_copy (no redaction on this path)" in v["message"] for v in report.violations
    )
    assert main(["compliance", "check", str(_write(tmp_path, spec))]) == 1
    assert "HIPAA" in capsys.readouterr().out


def test_no_framework_means_nothing_to_check_and_tags_name_frameworks() -> None:
    plain = pipeline(SRC, node("out", "output/archive", {"uri": "o"}, ["src"]))
    assert check(plain).ok and check(plain).frameworks == []
    tagged = plain.model_copy(update={"tags": ["compliance:gdpr"]})
    report = check(tagged)
    assert report.frameworks == ["GDPR"] and not report.ok


def test_article30_record_from_pipeline_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = pipeline(
        SRC,
        node("detect", "privacy/detection", {"complianceFramework": "GDPR"}, ["src"]),
        node("redact", "privacy/redaction", {"complianceFramework": "GDPR"}, ["detect"]),
        node("out", "output/archive", {"uri": "s3://bucket/clean"}, ["redact"]),
    ).model_copy(update={"name": "Patient feedback prep", "description": "train a classifier"})
    rec = article30_record(spec, controller={"name": "Acme"})
    assert rec["processingActivity"] == "Patient feedback prep"
    assert rec["purposes"] == ["train a classifier"]
    assert rec["controller"]["name"] == "Acme"
    assert rec["controller"]["dataProtectionOfficer"] == "to be completed"
    assert "PERSON" in rec["categoriesOfPersonalData"]
    assert rec["recipients"][0]["location"] == "s3://bucket/clean"
    assert rec["transfersToThirdCountries"]["destinations"] == ["s3://bucket/clean"]
    assert rec["complianceCheck"] == "pass"
    assert any("redaction 'redact'" in s for s in rec["securityMeasures"])
    assert any("residual scan of every row written to 'out'" in s for s in rec["securityMeasures"])
    assert main(["compliance", "article30", str(_write(tmp_path, spec)), "--dpo", "Eve"]) == 0
    assert json.loads(capsys.readouterr().out)["controller"]["dataProtectionOfficer"] == "Eve"
