"""Builders shared by the privacy tests."""

from __future__ import annotations

from typing import Any

from engine.catalog import DictCatalog
from nodes.privacy.batch import ScanActor
from nodes.privacy.detection import DetectionConfig, scanner_setup
from nodes.privacy.frameworks import HIPAA
from nodes.privacy.library import scanner_for, scanner_spec
from nodes.privacy.operators import Keys
from nodes.privacy.redaction import make_plan
from nodes.privacy.scan import Scanner


def make_scanner(lib: dict[str, Any], *, ner: bool, threshold: float = 0.5) -> Scanner:
    """A scanner over a resolved library (names: NER and context rules, no name list)."""
    spec = scanner_spec(
        lib,
        threshold=threshold,
        contextual=True,
        entities=None,
        ner_model="en_core_web_sm" if ner else None,
    )
    return scanner_for(spec)


def spans_by_cell(found: list[tuple[int, str, str, int, int]]) -> dict[tuple[int, str], set]:
    out: dict[tuple[int, str], set] = {}
    for r, c, e, s, t in found:
        out.setdefault((r, c), set()).add((e, s, t))
    return out


class _NoMetrics:
    def add(self, *_a: Any) -> None: ...

    def merge_state(self, *_a: Any) -> None: ...


def hipaa_batch_redactor() -> ScanActor:
    """The detection scanner (healthcare library) and HIPAA redaction of one batch: the
    callable the redaction node maps over its batches."""
    cfg = DetectionConfig.model_validate(
        {"patternLibraryId": "patterns_healthcare", "complianceFramework": "HIPAA"}
    )
    spec, _ = scanner_setup(cfg, DictCatalog().get, "detect")
    plan = make_plan([], None, HIPAA, False, spec.get("hints"))
    return ScanActor(spec, "redact", _NoMetrics(), "redact", plan=plan, keys=Keys())


def redact_one(actor: ScanActor, text: str, column: str = "note") -> str:
    """``text`` as one cell of a one-row batch, through ``actor`` (the redacted text)."""
    import pyarrow as pa

    (out,) = actor(pa.table({column: [text]})).column(column).to_pylist()
    return str(out)


def assert_redacted(actor: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    """``text`` through ``actor``: no ``gone`` piece is left in the output, every ``kept``
    piece is."""
    out = redact_one(actor, text)
    for g in gone:
        assert g not in out, out
    for k in kept:
        assert k in out, out
