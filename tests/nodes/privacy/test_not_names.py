"""Words that are no person of the record, though a name rule could read them as one:
a scale named after a place and tagged whole by NER, and the prose around a name in a
line that a delimited record's rule reads (its commas, semicolons and a number).

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from tests.nodes.privacy.helpers import assert_redacted, redact_one

CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "Obs: RR 22, SpO2 91%, Glasgow Coma Scale 14, pupils equal.",
        [],
        ["Glasgow Coma Scale 14"],
    ),
    (
        "Benefits change for OYELARAN, Adebola — cover starts next month (Benefits). "
        "Member No. 7730-119-204; approved by T. Haugen.",
        ["OYELARAN", "Adebola", "Haugen"],
        ["Benefits change for", "(Benefits)"],
    ),
    # a record's name field is still a name, in lower case too
    ("7781, Ingrid Solberg, +47 412 34 567, ingrid@example.no", ["Ingrid", "Solberg"], ["7781"]),
    ('A-20,"teodor vasile",+40 721 000 111,tv@example.ro', ["teodor", "vasile"], ["A-20"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_not_names(hipaa: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    assert_redacted(hipaa, text, gone, kept)


ORGANISATIONS: list[tuple[str, list[str]]] = [
    ("Invoice from Vestas Wind Systems A/S attached", ["Vestas Wind Systems A/S"]),
    ("Cover through Marel hf. since May", ["Marel hf."]),
    ("Employer: PT Bukit Asam Tbk", ["Bukit Asam Tbk"]),
    ("Shipped by Rába Automotive Nyrt. on Friday", ["Rába Automotive Nyrt."]),
    ("Stayed at the Harbourside Inn", ["Harbourside Inn"]),
]


@pytest.mark.parametrize(("text", "kept"), ORGANISATIONS)
def test_legal_forms_and_lodgings_are_organisations(
    hipaa: ScanActor, text: str, kept: list[str]
) -> None:
    out = redact_one(hipaa, text)
    for k in kept:
        assert k in out, out


def test_digits_after_a_thousands_separator_are_no_house_number(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Paid TSh 706,406 via M-Pesa; she lives at 14 via Roma, Lecce")
    assert "TSh 706,406 via M-Pesa" in out, out
    assert "14 via Roma" not in out, out
