"""Rule resolution and batch redaction without Ray (the node's pure parts)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from nodes.privacy.batch import redact, scan_batch
from nodes.privacy.frameworks import FRAMEWORKS
from nodes.privacy.library import scanner_for, scanner_spec
from nodes.privacy.names import name_sentences
from nodes.privacy.operators import Keys
from nodes.privacy.presidio_bridge import offline_tldextract
from nodes.privacy.redaction import make_plan, plan_violations
from nodes.privacy.scan import Finding


def test_hipaa_defaults() -> None:
    plan = make_plan([], None, FRAMEWORKS["HIPAA"], has_key=False)
    assert plan.choose("email", "EMAIL_ADDRESS") == {"operator": "replace"}
    assert plan.choose("dob", "DATE_TIME") == {"operator": "generalize", "granularity": "year"}
    assert plan.choose("zip", "US_ZIP")["operator"] == "generalize"  # type: ignore[index]
    assert plan.choose("notes", "ICD10_CODE") is None  # not an identifier under Safe Harbor


def test_gdpr_pseudonymizes_with_a_key_and_falls_back_without() -> None:
    gdpr = FRAMEWORKS["GDPR"]
    assert make_plan([], None, gdpr, True).choose("email", "EMAIL_ADDRESS")["operator"] == "hash"  # type: ignore[index]
    assert (
        make_plan([], None, gdpr, False).choose("email", "EMAIL_ADDRESS")["operator"] == "replace"
    )  # type: ignore[index]


def test_rule_precedence_and_violations() -> None:
    rules = [
        {"column": "card", "operator": "drop"},
        {"entity": "EMAIL_ADDRESS", "operator": "mask", "keepLast": 3},
        {"entity": "US_SSN", "operator": "keep"},
    ]
    plan = make_plan(rules, {"operator": "replace"}, FRAMEWORKS["HIPAA"], False)
    assert plan.choose("card", "CREDIT_CARD")["operator"] == "drop"  # type: ignore[index]
    assert plan.choose("notes", "EMAIL_ADDRESS")["operator"] == "mask"  # type: ignore[index]
    assert plan.choose("notes", "US_SSN") is None
    assert plan_violations(plan, FRAMEWORKS["HIPAA"], ["US_SSN", "EMAIL_ADDRESS"]) == [
        "US_SSN ((G) social security numbers)"]  # fmt: skip


def test_redact_batch_every_cell_text_typed_and_drop(healthcare_lib: dict[str, Any]) -> None:
    spec = scanner_spec(healthcare_lib, threshold=0.5, contextual=True, entities=None,
                        ner_model=None)  # fmt: skip
    batch = pa.table({
        "email": ["a@b.com", None, "a@b.com"],
        "card": ["4111111111111111"] * 3,
        "notes": ["SSN 536-90-4399, card 4111 1111 1111 1111", "nothing here", None],
        "amount": pa.array([4111111111111111, 12, None], pa.int64()),
    })  # fmt: skip
    rules = [{"entity": "EMAIL_ADDRESS", "operator": "hash"},
             {"column": "card", "operator": "drop"},
             {"entity": "US_SSN", "operator": "replace"},
             {"entity": "CREDIT_CARD", "operator": "mask", "keepLast": 4}]  # fmt: skip
    plan = make_plan(rules, None, None, has_key=True, hints=spec["hints"])
    scanned, unscanned = scan_batch(batch, scanner_for(spec))
    out, counters = redact(batch, scanned, plan, Keys.from_secret("k" * 32), unscanned)
    assert out.column_names == ["email", "notes", "amount"]
    emails = out.column("email").to_pylist()
    assert emails[0] == emails[2] and emails[1] is None and "@" not in emails[0]
    assert out.column("notes").to_pylist() == [
        "SSN <US_SSN>, card **** **** **** 1111", "nothing here", None]  # fmt: skip
    # a typed column keeps its type: the card number in it is removed
    assert out.column("amount").type == pa.int64()
    assert out.column("amount").to_pylist() == [None, 12, None]
    assert counters["redacted.US_SSN"] == 1 and counters["redacted.EMAIL_ADDRESS"] == 2


def test_name_sentences_do_not_split_after_titles_and_skip_explained_text() -> None:
    text = "Seen by Dr. Ana Lima today. call me at noon. Discharged May 04, 2024."
    assert [s for _o, s in name_sentences(text)] == ["Seen by Dr. Ana Lima today."]
    name = Finding(text.index("Ana"), text.index(" today"), "PERSON", 0.7)
    assert name_sentences(text, [name]) == []
    # lower-case text is truecased for NER (offsets unchanged)
    low = "spouse maria gonzález called"
    assert name_sentences(low) == [(0, "spouse Maria González called")]


def test_tldextract_is_offline() -> None:
    extractor = offline_tldextract()
    assert extractor.suffix_list_urls == ()
    assert extractor("forums.bbc.co.uk").suffix == "co.uk"
