"""Phone numbers announced by the words or the layout around them, in capitals too.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.recognizers import find_phone
from tests.nodes.privacy.helpers import assert_redacted

CASES: list[tuple[str, list[str], list[str]]] = [
    # a word in capitals before the number is a context word, not a code's group
    ("BLEEP SHO RE BED 9 K+ 6.2 CALL BACK 01632 960 113", ["960 113"], ["K+ 6.2 CALL BACK"]),
    ("ENQUIRIES RING 0121 496 0732 AFTER 5PM", ["496 0732"], ["AFTER 5PM"]),
    # a signature block's one-letter label
    (
        "Regards\nTomasz\nOps Lead\nM 512 349 806\nT 22 416 30 77",
        ["349 806", "416 30 77"],
        ["Ops Lead"],
    ),
    # a label in another language
    ("Heimili: x | Sími: 554 1287 | Netfang: y", ["554 1287"], ["Sími:"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_phone_context(hipaa: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    assert_redacted(hipaa, text, gone, kept)


def test_an_iban_group_of_letters_is_still_no_phone_context() -> None:
    text = "IBAN GB33 BUKB 2020 1555 5555 55, ref 4411"
    assert find_phone(text) == []
