"""Mailing addresses that are no street with a house number in mixed case: post office,
highway contract and rural route boxes, and streets written all in capitals.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from tests.nodes.privacy.helpers import assert_redacted

CASES: list[tuple[str, list[str], list[str]]] = [
    ("Mail to: P.O. Box 4471, Tonopah, NV", ["4471", "Tonopah"], ["Mail to:"]),
    ("Returns go to PO BOX 8812 first", ["8812"], ["Returns go to"]),
    ("Residence: HC 64 Box 1120, Window Rock, AZ", ["1120", "Window Rock"], ["Residence:"]),
    ("Send statements to RR 2 Box 57, Lisbon Falls", ["Box 57", "Lisbon Falls"], ["statements"]),
    # a street in capitals, kept to its line
    (
        "SCENE: 220 WAIROA ST, NAPIER\nTIME: 0412",
        ["WAIROA", "NAPIER"],
        ["SCENE:", "TIME: 0412"],
    ),
    ("HOME ADDRESS 9 KOWHAI DRIVE, TAUPO NZ", ["KOWHAI", "TAUPO"], ["HOME ADDRESS"]),
    # no number, or a box that is no mailbox
    ("THE BOX 12 IS FULL; ORDER 2 BOXES", [], ["THE BOX 12 IS FULL", "ORDER 2 BOXES"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_box_and_caps_addresses(
    hipaa: ScanActor, text: str, gone: list[str], kept: list[str]
) -> None:
    assert_redacted(hipaa, text, gone, kept)
