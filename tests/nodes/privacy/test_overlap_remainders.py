"""Overlapping findings: a finding that loses part of its span to a stronger one keeps
the uncovered rest, so no readable part of it is left in clear. Every string is written
by hand for this file."""

from __future__ import annotations

from nodes.privacy.scan import Finding, resolve_overlaps


def _clear(text: str, found: list[Finding]) -> str:
    """``text`` with every found span blanked: what a redaction leaves readable."""
    chars = list(text)
    for f in found:
        chars[f.start : f.end] = " " * (f.end - f.start)
    return "".join(chars)


def _span(text: str, part: str, entity: str, score: float, source: str = "pattern") -> Finding:
    start = text.index(part)
    return Finding(start, start + len(part), entity, score, source)


def test_name_partly_overlapped_by_an_email_leaves_no_readable_part() -> None:
    text = "Contact Marguerite Oyelaran.voss@example.org today"
    name = _span(text, "Marguerite Oyelaran.voss", "PERSON", 0.85, "ner")
    mail = _span(text, "Oyelaran.voss@example.org", "EMAIL_ADDRESS", 1.0)
    out = resolve_overlaps([name, mail], text)
    assert [(text[f.start : f.end], f.entity, f.source) for f in out] == [
        ("Marguerite", "PERSON", "ner"),
        ("Oyelaran.voss@example.org", "EMAIL_ADDRESS", "pattern"),
    ]
    assert _clear(text, out).split() == ["Contact", "today"]


def test_phone_partly_overlapped_by_a_date_is_fully_redacted() -> None:
    text = "Tel +49 30 1234 2021-05-03 confirmed"
    phone = _span(text, "+49 30 1234 2021", "PHONE_NUMBER", 0.75)
    date = _span(text, "2021-05-03", "DATE_TIME", 0.85)
    out = resolve_overlaps([phone, date], text)
    assert [(text[f.start : f.end], f.entity) for f in out] == [
        ("+49 30 1234", "PHONE_NUMBER"),
        ("2021-05-03", "DATE_TIME"),
    ]
    assert not any(c.isdigit() for c in _clear(text, out))


def test_a_stronger_finding_inside_a_weaker_one_leaves_both_sides_covered() -> None:
    text = "Suite 1200, 4111 1111 1111 1111, Harbour Road"
    address = _span(text, text, "STREET_ADDRESS", 0.6)
    card = _span(text, "4111 1111 1111 1111", "CREDIT_CARD", 1.0)
    out = resolve_overlaps([address, card], text)
    assert [(text[f.start : f.end], f.entity) for f in out] == [
        ("Suite 1200", "STREET_ADDRESS"),
        ("4111 1111 1111 1111", "CREDIT_CARD"),
        ("Harbour Road", "STREET_ADDRESS"),
    ]
    assert _clear(text, out).strip(" ,") == ""


def test_wrong_reading_inside_a_right_one_leaves_nothing() -> None:
    text = "call 415-555-2021 now"
    phone = _span(text, "415-555-2021", "PHONE_NUMBER", 0.75)
    year = _span(text, "2021", "DATE_TIME", 0.6)
    assert resolve_overlaps([phone, year], text) == [phone]


def test_a_name_reading_that_lost_its_name_words_leaves_no_frequent_words() -> None:
    """A month taken by a date, a street taken by an address: the rest of the name
    reading ("Admitted", "Discharged", "Lives at") is ordinary words and stays."""
    text = "Admitted August 12, 2025 to ward 3"
    shape = _span(text, "Admitted August", "PERSON", 0.6, "shape")
    date = _span(text, "August 12, 2025", "DATE_TIME", 0.85)
    assert resolve_overlaps([shape, date], text) == [date]
    text = "Seen in clinic. Discharged November 07, 2026."
    shape = _span(text, "Discharged November", "PERSON", 0.6, "shape")
    date = _span(text, "November 07, 2026", "DATE_TIME", 0.85)
    assert resolve_overlaps([shape, date], text) == [date]
    text = "Lives at Vicolo Flora 33, Magliano"
    context = _span(text, "Lives at Vicolo Flora", "PERSON", 0.7, "context")
    address = _span(text, "Vicolo Flora 33, Magliano", "STREET_ADDRESS", 0.9)
    assert resolve_overlaps([context, address], text) == [address]


def test_a_single_character_or_punctuation_remainder_is_not_kept() -> None:
    text = "no. 12345678901 x; (4111111111111111)"
    account = _span(text, "12345678901", "US_BANK_NUMBER", 0.9)
    loose = _span(text, "12345678901 x", "ID_NUMBER", 0.5)
    card = _span(text, "4111111111111111", "CREDIT_CARD", 1.0)
    bracketed = _span(text, "(4111111111111111)", "ID_NUMBER", 0.5)
    assert resolve_overlaps([account, loose, card, bracketed], text) == [account, card]


def test_findings_that_do_not_overlap_are_unchanged() -> None:
    text = "Ana Lima, ana.lima@example.pt, +351 912 345 678"
    found = [
        _span(text, "Ana Lima", "PERSON", 0.85, "ner"),
        _span(text, "ana.lima@example.pt", "EMAIL_ADDRESS", 1.0),
        _span(text, "+351 912 345 678", "PHONE_NUMBER", 0.75),
    ]
    assert resolve_overlaps(list(found), text) == found


def test_overlapping_findings_of_one_entity_still_merge() -> None:
    text = "Dr Kwabena Mensah-Bonsu called"
    ner = _span(text, "Kwabena Mensah", "PERSON", 0.85, "ner")
    context = _span(text, "Mensah-Bonsu", "PERSON", 0.7)
    (merged,) = resolve_overlaps([ner, context], text)
    assert text[merged.start : merged.end] == "Kwabena Mensah-Bonsu"
