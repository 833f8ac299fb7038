"""A name found once in a cell is taken wherever the cell repeats it; record numbers
written in digit groups are record numbers. Hand-written cases."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.repeated_names import add_repeats
from nodes.privacy.scan_types import Finding
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


def _repeats(text: str, name: str) -> list[str]:
    start = text.index(name)
    found = [Finding(start, start + len(name), "PERSON", 0.85, "ner")]
    return [text[f.start : f.end] for f in add_repeats(text, found)[1:]]


def test_every_copy_of_a_name_word() -> None:
    text = "Hi Dr. Tavita Faleolo, thanks. tavita said yes; FALEOLO signed. Faleolo-Smith too"
    # any case for a word that is no English word; not inside another word
    assert sorted(_repeats(text, "Tavita Faleolo")) == ["FALEOLO", "tavita"]


def test_english_words_only_as_written() -> None:
    text = "Dawn Tuilagi can swap, Dawn said yes. At dawn we left."
    assert _repeats(text, "Dawn Tuilagi") == ["Dawn"]


def test_not_in_addresses_paths_or_keys() -> None:
    text = "Tavita Faleolo: see /home/tavita/notes, tavita.f@example.com, user=tavita"
    assert _repeats(text, "Tavita Faleolo") == []


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def test_redaction_takes_the_second_copy(hipaa: ScanActor) -> None:
    out = redact_one(
        hipaa, "Hi Dr. Tavita Faleolo,\n\nThanks for covering. Tavita already said yes."
    )
    assert "Tavita" not in out and "Faleolo" not in out, out


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("S: seen today (DOB 1939, MRN 28 682 400) with a cough", "28 682 400"),
        ("Bed 5 (Hosp No 78 816 747), NBM from midnight", "78 816 747"),
        ("Patient ID: 12.345.678 admitted", "12.345.678"),
    ],
)
def test_record_numbers_in_digit_groups(hipaa: ScanActor, text: str, number: str) -> None:
    out = redact_one(hipaa, text)
    assert number not in out and "<MEDICAL_RECORD_NUMBER>" in out, out


def test_a_record_number_does_not_take_the_next_figure(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "MRN 1234567 3/7 productive cough")
    assert out == "MRN <MEDICAL_RECORD_NUMBER> 3/7 productive cough", out
