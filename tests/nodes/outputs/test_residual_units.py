"""The residual scan's per-batch check (Ray-free): what counts as residue."""

from __future__ import annotations

import pyarrow as pa

from engine.catalog import DictCatalog
from engine.registry import default_registry
from nodes.outputs.residual import Evidence, scan_rows
from nodes.privacy.detection import DetectionConfig, scanner_setup
from nodes.privacy.library import scanner_for

HIPAA = frozenset(default_registry().frameworks["HIPAA"])


def _scanner():
    config = DetectionConfig(entities=sorted(HIPAA), nerModel=None)
    spec, _ = scanner_setup(config, DictCatalog().get, "out")
    return scanner_for(spec)


def test_redaction_output_is_not_residue_but_raw_identifiers_are() -> None:
    batch = pa.table(
        {
            "ssn": ["<US_SSN>", "<US_SSN>", "219-09-9999"],
            "zip": ["021", "000", "941"],
            "visit": ["2021", "2019", "2020"],
            "note": ["call <PHONE_NUMBER> today", "mail m.v@harbor-clinic.org", "no complaints"],
        }
    )
    ev, mask = scan_rows(batch, _scanner(), HIPAA)
    assert ev.rows == 3
    assert ev.findings == {"ssn": {"US_SSN": 1}, "note": {"EMAIL_ADDRESS": 1}}
    assert mask is not None and mask.to_pylist() == [False, True, True]


def test_only_the_columns_written_are_scanned_and_counts_merge() -> None:
    batch = pa.table({"key": ["219-09-9999"], "text": ["fine"]})
    ev, mask = scan_rows(batch, _scanner(), HIPAA, columns=["text"])
    assert ev.findings == {} and mask is None
    total = Evidence(rows=2, findings={"a": {"US_SSN": 1}}).merge(
        Evidence(rows=3, findings={"a": {"US_SSN": 2}, "b": {"PERSON": 1}}, quarantined=1)
    )
    assert total.to_dict() == {
        "rowsScanned": 5,
        "findings": {"a": {"US_SSN": 3}, "b": {"PERSON": 1}},
        "unscannedColumns": {},
        "quarantinedRows": 1,
    }
    assert Evidence.from_dict(total.to_dict()) == total


def test_shard_evidence_is_summed_and_a_shard_without_evidence_certifies_nothing(
    tmp_path,
) -> None:
    import pytest

    from engine.context import BuildContext, RunOptions
    from engine.errors import NodeError
    from engine.spec.models import NodeSpec, PipelineSpec
    from nodes.outputs.residual import shard_facts

    out = NodeSpec(id="out", nodeType="output", category="archive", config={}, inputs=["src"])
    src = NodeSpec(id="src", nodeType="source", category="file", config={})
    spec = PipelineSpec(id="p", nodes=[src, out], tags=["compliance:HIPAA"])
    ctx = BuildContext(spec=spec, node=out, catalog=DictCatalog(), execution_id="exec_t",
                       options=RunOptions(home=tmp_path))  # fmt: skip
    clean = Evidence(rows=10).to_dict()
    facts = shard_facts(ctx, "fail", {"s0": {"residualScan": clean}, "s1": {"residualScan": clean}})
    assert facts["residualScan"]["rowsScanned"] == 20
    assert facts["certifications"] == ["HIPAA_compliant"]
    partial = shard_facts(ctx, "fail", {"s0": {"residualScan": clean}, "s1": {}})
    assert partial["residualScan"]["unscannedShards"] == ["s1"] and "certifications" not in partial
    assert ctx.facts["certifications"] == []
    dirty = Evidence(rows=5, findings={"note": {"US_SSN": 2}}).to_dict()
    with pytest.raises(NodeError, match="note: US_SSN x2"):
        shard_facts(ctx, "fail", {"s0": {"residualScan": dirty}})
