"""Compliance is enforced by validation on every path from a source to an output.

Ray-free: validation runs before anything starts (``pipeline-builder validate``, the API
and ``run_pipeline`` all go through :mod:`engine.plan.validation`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.catalog import DictCatalog
from engine.errors import Problem, ValidationFailed
from engine.plan import compliance
from engine.plan.validation import check, validate
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline

SRC = node("load", "source/file", {"uri": "patients.csv"})
DETECT = node("detect", "privacy/detection", {"complianceFramework": "HIPAA"}, ["load"])
REDACT = node("redact", "privacy/redaction", {}, ["detect"])
CLEAN = node("clean_out", "output/archive", {"uri": "clean"}, ["redact"])
BYPASS = node("raw_out", "output/archive", {"uri": "raw"}, ["load"])


def _compliance(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if "without a redaction that satisfies" in p.message]


def _write(tmp_path: Path, spec: Any) -> Path:
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec.model_dump(mode="json", exclude_none=True)))
    return p


def test_hipaa_bypass_branch_is_rejected_naming_the_output_and_the_path() -> None:
    spec = pipeline(SRC, DETECT, REDACT, CLEAN, BYPASS)
    with pytest.raises(ValidationFailed) as err:
        validate(spec)
    (problem,) = _compliance(err.value.problems)
    assert problem.node_id == "raw_out"
    assert problem.path == "inputs.0"
    assert "output 'raw_out'" in problem.message
    assert "load -> raw_out" in problem.message
    assert "HIPAA" in problem.message
    # one line per problem, pinned to the output
    assert f"node 'raw_out' at inputs.0: {problem.message}" in str(err.value).splitlines()[1]
    # the redacted branch alone is valid
    validate(pipeline(SRC, DETECT, REDACT, CLEAN))


def test_pipeline_builder_validate_rejects_the_bypass(tmp_path: Path) -> None:
    bad = _write(tmp_path, pipeline(SRC, DETECT, REDACT, CLEAN, BYPASS))
    exe = Path(sys.executable).with_name("pipeline-builder")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "engine.cli"]
    proc = subprocess.run([*cmd, "validate", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "raw_out" in out and "load -> raw_out" in out, out
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(pipeline(SRC, DETECT, REDACT, CLEAN).model_dump(mode="json", exclude_none=True))
    )
    ok = subprocess.run([*cmd, "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_run_pipeline_refuses_the_bypass_before_anything_runs(tmp_path: Path) -> None:
    spec = pipeline(SRC, DETECT, REDACT, CLEAN, BYPASS)
    with pytest.raises(ValidationFailed) as err:
        run_pipeline(spec)
    assert [p.node_id for p in _compliance(err.value.problems)] == ["raw_out"]


def test_a_redaction_whose_rules_skip_required_entities_does_not_satisfy_the_framework() -> None:
    rules = [
        {"entity": "PERSON", "operator": "replace"},
        {"entity": "US_SSN", "operator": "redact"},
    ]
    spec = pipeline(
        SRC,
        node("detect", "privacy/detection", {}, ["load"]),
        node("redact", "privacy/redaction", {"rules": rules}, ["detect"]),
        node("out", "output/archive", {"uri": "o"}, ["redact"]),
    ).model_copy(update={"tags": ["compliance:hipaa"]})
    (problem,) = _compliance(check(spec))
    assert problem.node_id == "out"
    assert "redaction 'redact' leaves" in problem.message
    assert "EMAIL_ADDRESS" in problem.message and "PERSON," not in problem.message
    # rules that cover every entity ("*") satisfy it
    every = [{"entity": "*", "operator": "replace"}]
    covered = spec.model_copy(
        update={
            "nodes": [
                n if n.id != "redact" else n.model_copy(update={"config": {"rules": every}})
                for n in spec.nodes
            ]
        }
    )
    assert not _compliance(check(covered))


def test_rules_from_a_catalog_resource_count_and_the_frameworks_name_satisfies() -> None:
    catalog = DictCatalog(
        {"redactionRules": {"rr": {"id": "rr", "default": {"operator": "replace"}, "rules": []}}}
    )
    spec = pipeline(
        SRC,
        node("detect", "privacy/detection", {}, ["load"]),
        node("redact", "privacy/redaction", {"redactionRuleId": "rr"}, ["detect"]),
        node("out", "output/archive", {"uri": "o"}, ["redact"]),
    ).model_copy(update={"tags": ["compliance:GDPR"]})
    assert not _compliance(check(spec, catalog))
    # a PCI-DSS redaction covers PCI-DSS, not HIPAA
    pci = pipeline(
        SRC,
        node("detect", "privacy/detection", {"complianceFramework": "PCI-DSS"}, ["load"]),
        node("redact", "privacy/redaction", {}, ["detect"]),
        node("out", "output/archive", {"uri": "o"}, ["redact"]),
    )
    assert not _compliance(check(pci))
    both = pci.model_copy(update={"tags": ["compliance:HIPAA"]})
    (problem,) = _compliance(check(both))
    assert problem.message.startswith("HIPAA: output 'out'")
    assert "PERSON" in problem.message


def test_raw_rows_joined_back_after_the_redaction_are_caught() -> None:
    spec = pipeline(
        SRC,
        DETECT,
        REDACT,
        node("merge", "transform/union", {}, ["redact", "load"]),
        node("out", "output/archive", {"uri": "o"}, ["merge"]),
    )
    (problem,) = _compliance(check(spec))
    assert problem.node_id == "out" and problem.path == "inputs.0"
    assert "load -> merge -> out" in problem.message


def test_redaction_before_detection_and_detection_without_redaction_are_caught() -> None:
    spec = pipeline(
        SRC,
        node("redact", "privacy/redaction", {"complianceFramework": "HIPAA",
                                             "detectionNodeId": "detect"}, ["load"]),
        node("detect", "privacy/detection", {"complianceFramework": "HIPAA"}, ["redact"]),
        node("out", "output/archive", {"uri": "o"}, ["detect"]),
    )  # fmt: skip
    (problem,) = _compliance(check(spec))
    assert "load -> redact -> detect -> out" in problem.message
    assert "no detection before it" in problem.message


def test_a_redaction_whose_fallback_does_not_redact_is_not_enough() -> None:
    spec = pipeline(
        SRC,
        DETECT,
        {**REDACT, "fallback": "plain"},
        node("plain", "transform/field_mapper", {"keepUnmapped": True}, ["detect"]),
        CLEAN,
    )
    (problem,) = _compliance(check(spec))
    assert problem.node_id == "clean_out"
    assert "falls back to 'plain'" in problem.message


def test_synthetic_rows_satisfy_every_framework() -> None:
    spec = pipeline(
        SRC,
        node("synth", "privacy/synthetic", {"recordCount": 10}, ["load"]),
        node("out", "output/archive", {"uri": "o"}, ["synth"]),
    ).model_copy(update={"tags": ["compliance:HIPAA", "compliance:GDPR"]})
    assert compliance.check(spec).ok


def test_no_framework_means_no_compliance_problem() -> None:
    assert not _compliance(check(pipeline(SRC, BYPASS)))


def test_the_search_is_linear_in_the_graph_not_in_the_number_of_paths() -> None:
    # 40 diamonds in a row: 2**40 source-to-output paths, one of them unredacted at the end
    nodes = [SRC, DETECT, REDACT]
    last = "redact"
    for i in range(40):
        nodes += [
            node(f"a{i}", "transform/field_mapper", {"keepUnmapped": True}, [last]),
            node(f"b{i}", "transform/field_mapper", {"keepUnmapped": True}, [last]),
            node(f"u{i}", "transform/union", {}, [f"a{i}", f"b{i}"]),
        ]
        last = f"u{i}"
    nodes += [node("out", "output/archive", {"uri": "o"}, [last]), BYPASS]
    spec = pipeline(*nodes)
    started = time.perf_counter()
    report = compliance.check(spec)
    assert time.perf_counter() - started < 2.0
    assert [v["output"] for v in report.violations] == ["raw_out"]


def _run_result(**output: Any) -> dict[str, Any]:
    out = {"nodeId": "out", "location": "/data/out", "rows": 100, **output}
    return {
        "status": "completed",
        "nodes": {"out": {"facts": {k: v for k, v in output.items() if k != "rows"}}},
        "outputs": [out],
    }


SPEC_HIPAA = {
    "nodes": [{"id": "detect", "nodeType": "privacy", "category": "detection",
               "config": {"complianceFramework": "HIPAA"}}]
}  # fmt: skip
CLEAN_SCAN = {"rowsScanned": 100, "findings": {}, "frameworks": ["HIPAA"], "onResidue": "fail"}


def test_certification_comes_only_from_residual_evidence() -> None:
    from engine.lineage.summary import certifications
    from engine.webhooks.events import residual_compliance

    # a framework named in a config (and a claim without a scan) certifies nothing
    assert certifications(_run_result(), SPEC_HIPAA) == []
    assert certifications(_run_result(certifications=["HIPAA_compliant"]), SPEC_HIPAA) == []
    assert residual_compliance(_run_result()) is None
    proven = _run_result(residualScan=CLEAN_SCAN, certifications=["HIPAA_compliant"])
    assert certifications(proven, SPEC_HIPAA) == ["HIPAA_compliant"]
    assert residual_compliance(proven) == "HIPAA_certified"
    # fewer rows scanned than written, residue written, an unscannable column: no
    for bad in (
        {**CLEAN_SCAN, "rowsScanned": 99},
        {**CLEAN_SCAN, "findings": {"note": {"US_SSN": 1}}},
        {**CLEAN_SCAN, "unscannedColumns": {"blob": 100}},
    ):
        r = _run_result(residualScan=bad, certifications=["HIPAA_compliant"])
        assert certifications(r, SPEC_HIPAA) == [], bad
    residue = _run_result(residualScan={**CLEAN_SCAN, "findings": {"note": {"US_SSN": 1}}})
    assert residual_compliance(residue) == "residue_found"
    # quarantined residue never reached the output
    held = {**CLEAN_SCAN, "findings": {"note": {"US_SSN": 1}}, "onResidue": "quarantine",
            "quarantinedRows": 1}  # fmt: skip
    r = _run_result(residualScan=held, certifications=["HIPAA_compliant"], rows=99)
    assert certifications(r, SPEC_HIPAA) == ["HIPAA_compliant"]
    # every output must carry the evidence
    two = _run_result(residualScan=CLEAN_SCAN, certifications=["HIPAA_compliant"])
    two["outputs"].append({"nodeId": "raw", "location": "/data/raw", "rows": 100})
    assert certifications(two, SPEC_HIPAA) == []
    assert certifications({**proven, "status": "failed"}, SPEC_HIPAA) == []
