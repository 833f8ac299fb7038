# ruff: noqa: RUF001
"""Names with no cue, found through names-dataset's given names and surnames; and the
words that must stay (English words, brands, software words, identifier labels, codes).

The cases are written by hand; the names are of people of many origins, in every letter
case, none taken from the library the table comes from."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.gazetteer import Gazetteer, _read, build, gazetteer, word_hash
from nodes.privacy.known_names import find_known_names
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


def found(text: str) -> list[str]:
    return [text[f.start : f.end] for f in find_known_names(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("thx. gaspard dubois said fine", ["gaspard dubois"]),
        ("ask tamati about it, and hemi walker too", ["tamati", "hemi walker"]),
        ("HEMI WALKER called re: appt", ["HEMI WALKER"]),
        ("maria da silva santos ligou ontem", ["maria da silva santos"]),
        ("Çağla Yıldırım and Øystein Ødegård were seen", ["Çağla Yıldırım", "Øystein Ødegård"]),
        ("spoke w/ siobhan earlier, she will ring back", ["siobhan"]),
        ("left a voicemail for Chukwuemeka Okafor at 3pm", ["Chukwuemeka Okafor"]),
    ],
)
def test_names_without_cue(text: str, names: list[str]) -> None:
    assert found(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "will hope grace mark bill faith hunter young king",  # English words that are names
        "Patient Portal login failed; Discharge Summary attached",
        "sudo systemctl restart nginx; json payload from the api asap",
        "Metformin 500mg BID, lisinopril 10 mg daily, atorvastatin",
        "Order ORD-88213 shipped, SKU AB-123, v2.3.1, ICD-10 E11.9, total $45.00",
        "whatsapp me; the Tata and the Huawei are both in the lot",
        "this is an iban VG96 VPVG 0000 0123 4567 8901 in a sentence",
        "Server IP: 2001:db8::1",
        "email keoni.kahale@example.com or see /home/tamati/notes",
        "The quick brown fox jumps over the lazy dog near the river bank",
    ],
)
def test_words_that_stay(text: str) -> None:
    assert found(text) == []


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def test_redaction_takes_them(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Order 4471 shipped. thx. gaspard dubois said fine, ask tamati")
    assert "gaspard" not in out and "dubois" not in out and "tamati" not in out, out
    assert "Order 4471 shipped" in out, out


def test_table_is_built_from_the_library(tmp_path) -> None:
    """The reduced table holds the library's names with their best ranks; lookups are by
    lower-case NFC word, and a word it does not hold reads 0."""
    g = gazetteer()
    given, surname = g.ranks(["Keoni", "KEONI", "Ødegård", "xqzvbnw"])
    assert given[0] > 0 and given[0] == given[1]
    assert surname[2] > 0
    assert given[3] == 0 and surname[3] == 0
    assert isinstance(g, Gazetteer) and len(g.keys) > 100_000
    assert bool((g.keys[1:] > g.keys[:-1]).all())  # sorted, no duplicate hash
    assert word_hash("Keoni") == word_hash("keoni")


@pytest.mark.slow
def test_build_writes_the_table_atomically(tmp_path) -> None:
    path = tmp_path / "names.npz"
    build(path)
    assert [p.name for p in tmp_path.iterdir()] == ["names.npz"]
    t = _read(path)
    assert bool((t.keys == gazetteer().keys).all())
