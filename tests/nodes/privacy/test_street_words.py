"""Street words of more languages: Icelandic (``stræti``, ``vegur``) with a three-digit
postcode, Romanian (``Bd.``, ``Str.``, ``Calea``) with ``nr.`` before the number.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from tests.nodes.privacy.helpers import assert_redacted

CASES: list[tuple[str, list[str], list[str]]] = [
    ("Heimili: Laugavegur 31, 101 Reykjavík | x", ["Laugavegur 31", "101 Reykjavík"], ["| x"]),
    ("Sent to Hafnarstræti 88, 600 Akureyri.", ["Hafnarstræti", "600 Akureyri"], ["Sent to"]),
    ("Adresa: Bd. Carol I nr. 41, 700505 Iași | Tel", ["Carol I nr. 41", "700505"], ["| Tel"]),
    ("Lives at Str. Avram Iancu nr. 7, Sibiu", ["Avram Iancu", "nr. 7", "Sibiu"], ["Lives at"]),
    ("Meet at Calea Dorobanților 104 at noon", ["Dorobanților 104"], ["at noon"]),
    ("See Strada 5 results", [], ["See Strada 5 results"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_street_words(hipaa: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    assert_redacted(hipaa, text, gone, kept)
