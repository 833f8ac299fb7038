"""Rule resolution and batch redaction without Ray (the node's pure parts)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from nodes.privacy.classify import ColumnClass
from nodes.privacy.detection import DetectionResult
from nodes.privacy.frameworks import FRAMEWORKS
from nodes.privacy.library import scanner_spec
from nodes.privacy.operators import Keys
from nodes.privacy.presidio_bridge import name_sentences, offline_tldextract
from nodes.privacy.redaction import plan_rules, redact_batch
from nodes.privacy.scan import Finding


def _result(lib: dict[str, Any]) -> DetectionResult:
    spec = scanner_spec(lib, threshold=0.5, contextual=True, entities=None, ner_model=None)
    cols = {
        "email": ColumnClass("email", "structured", "EMAIL_ADDRESS", 1.0, {"EMAIL_ADDRESS": 9}),
        "dob": ColumnClass("dob", "structured", "DATE_TIME", 0.9, {"DATE_TIME": 9}),
        "zip": ColumnClass("zip", "structured", "US_ZIP", 0.9, {"US_ZIP": 9}),
        "card": ColumnClass("card", "structured", "CREDIT_CARD", 1.0, {"CREDIT_CARD": 9}),
        "notes": ColumnClass("notes", "text", None, 0.0, {"US_SSN": 2, "CREDIT_CARD": 1}),
        "sku": ColumnClass("sku"),
    }
    return DetectionResult("detect", spec, cols, None, "patterns_healthcare", [], [])


def test_hipaa_defaults(healthcare_lib: dict[str, Any]) -> None:
    structured, text, violations = plan_rules(
        _result(healthcare_lib), [], None, FRAMEWORKS["HIPAA"], has_key=False
    )
    assert structured["email"]["operator"] == "replace"
    assert structured["dob"] == {"operator": "generalize", "granularity": "year",
                                 "entity": "DATE_TIME"}  # fmt: skip
    assert structured["zip"]["operator"] == "generalize"
    assert text["notes"]["US_SSN"]["operator"] == "replace"
    assert "ICD10_CODE" not in text["notes"]  # not an identifier under Safe Harbor
    assert "sku" not in structured and violations == []


def test_gdpr_pseudonymizes_with_a_key_and_falls_back_without(
    healthcare_lib: dict[str, Any],
) -> None:
    gdpr = FRAMEWORKS["GDPR"]
    with_key, _, _ = plan_rules(_result(healthcare_lib), [], None, gdpr, has_key=True)
    without, _, _ = plan_rules(_result(healthcare_lib), [], None, gdpr, has_key=False)
    assert with_key["email"]["operator"] == "hash"
    assert without["email"]["operator"] == "replace"


def test_rule_precedence_and_violations(healthcare_lib: dict[str, Any]) -> None:
    rules = [
        {"column": "card", "operator": "drop"},
        {"entity": "EMAIL_ADDRESS", "operator": "mask", "keepLast": 3},
        {"entity": "US_SSN", "operator": "keep"},
    ]
    structured, text, violations = plan_rules(
        _result(healthcare_lib), rules, {"operator": "replace"}, FRAMEWORKS["HIPAA"], False
    )
    assert structured["card"]["operator"] == "drop"
    assert structured["email"]["operator"] == "mask"
    assert "US_SSN" not in text["notes"]
    assert [(v["column"], v["entity"]) for v in violations] == [("notes", "US_SSN")]


def test_redact_batch_structured_text_and_drop(healthcare_lib: dict[str, Any]) -> None:
    spec = scanner_spec(
        healthcare_lib, threshold=0.5, contextual=True, entities=None, ner_model=None
    )
    batch = pa.table({
        "email": ["a@b.com", None, "a@b.com"],
        "card": ["4111111111111111"] * 3,
        "notes": ["SSN 536-90-4399, card 4111 1111 1111 1111", "nothing here", None],
    })  # fmt: skip
    structured = {"email": {"operator": "hash", "entity": "EMAIL_ADDRESS"},
                  "card": {"operator": "drop", "entity": "CREDIT_CARD"}}  # fmt: skip
    text = {"notes": {"US_SSN": {"operator": "replace"},
                      "CREDIT_CARD": {"operator": "mask", "keepLast": 4}}}  # fmt: skip
    out, counters = redact_batch(batch, structured, text, spec, Keys.from_secret("k" * 32))
    assert out.column_names == ["email", "notes"]
    emails = out.column("email").to_pylist()
    assert emails[0] == emails[2] and emails[1] is None and "@" not in emails[0]
    assert out.column("notes").to_pylist() == [
        "SSN <US_SSN>, card **** **** **** 1111", "nothing here", None]  # fmt: skip
    assert counters["redacted.US_SSN"] == 1 and counters["redacted.EMAIL_ADDRESS"] == 2


def test_name_sentences_skip_explained_and_lowercase_text() -> None:
    text = "Karen Holt visited. call me at noon. Discharged May 04, 2024."
    assert [s for _o, s in name_sentences(text)] == [
        "Karen Holt visited.", "Discharged May 04, 2024."]  # fmt: skip
    date_span = Finding(text.index("May"), len(text) - 1, "DATE_TIME", 0.85)
    assert [s for _o, s in name_sentences(text, [date_span])] == ["Karen Holt visited."]


def test_tldextract_is_offline() -> None:
    extractor = offline_tldextract()
    assert extractor.suffix_list_urls == ()
    assert extractor("forums.bbc.co.uk").suffix == "co.uk"
