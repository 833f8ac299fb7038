"""Names written in fixed conventions: booking names, names spelled out letter by letter,
a title and a surname in an all-capitals line, and the second name of a pair.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from tests.nodes.privacy.helpers import assert_redacted

CASES: list[tuple[str, list[str], list[str]]] = [
    # booking names: SURNAME/GIVEN and a title, as on a manifest or a boarding pass
    (
        "SEQ  NAME                    SEAT\n"
        "014  TUIASOSOPO/MELE MRS       22C\n"
        "015  NAKASHIMA/KENTARO MR      22D",
        ["TUIASOSOPO", "MELE", "NAKASHIMA", "KENTARO"],
        ["SEQ  NAME", "22C", "22D"],
    ),
    ("Boarding pass: Ferreira/Joaquim Mr, gate B12", ["Ferreira", "Joaquim"], ["gate B12"]),
    # a slash between ordinary words with a title after it is no booking name
    ("Films go in the IN/OUT MR tray", [], ["IN/OUT MR"]),
    # spelled out letter by letter
    (
        "Caller: my family name is spelled O-Y-E-L-A-R-A-N, first name as on the card.",
        ["O-Y-E-L-A-R-A-N"],
        ["first name as on the card"],
    ),
    ("Grades A-B-C only.", [], ["A-B-C"]),
    # a title and a surname in a line written in capitals
    (
        "BLEEP DR OKWUOSA RE BED 12 POTASSIUM 6.1\nREVIEWED BY DR ORDERS TEAM",
        ["OKWUOSA"],
        ["BLEEP DR", "RE BED 12 POTASSIUM 6.1", "DR ORDERS TEAM"],
    ),
    # the second name of a pair joined by "&" or "/"
    (
        "Save the date for Lindiwe Khumalo & Tadesse's engagement",
        ["Lindiwe", "Tadesse"],
        ["engagement"],
    ),
    ("ON SCENE: Paramedic Rangi Parata / Whetu", ["Rangi", "Whetu"], ["ON SCENE"]),
    ("Orders from Kowalczyk & Sons arrived", [], ["& Sons arrived"]),
    # a surname-first name in markdown bold
    ("- **Mbatha, Sizwe** (site lead)", ["Mbatha", "Sizwe"], ["(site lead)"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_written_names(hipaa: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    assert_redacted(hipaa, text, gone, kept)
