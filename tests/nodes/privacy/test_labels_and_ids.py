"""Names after a role label or an initial, record numbers beside a name, national ids of
more countries (each with its check character) and Irish Eircodes. Hand-written cases;
the check characters are computed here by the rules of each scheme's issuer."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.hl7 import find_national_id
from nodes.privacy.known_names import find_known_names
from nodes.privacy.labelled_names import find_initial_names, find_labelled_names
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


def _texts(text: str, found: list) -> list[str]:  # type: ignore[type-arg]
    return [text[f.start : f.end] for f in found]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Security note. Witness: Park, Funmilayo. Visitor left.", ["Park, Funmilayo"]),
        ("PATIENT: CURAQUEO, ITAMAR    MRN: 123456", ["CURAQUEO, ITAMAR"]),
        ("Next of kin - Tavita FALEOLO (son)", ["Tavita FALEOLO"]),
        ("Attending: Dr. Ingrid Solberg", ["Ingrid Solberg"]),
        ("Witness: King, Thomas.", ["King, Thomas"]),  # popular names that are words too
        ("Signed: K. Rhydderch", ["K. Rhydderch"]),
    ],
)
def test_names_after_a_role_label(text: str, names: list[str]) -> None:
    assert _texts(text, find_labelled_names(text)) == names


@pytest.mark.parametrize(
    "text",
    ["Patient: None. Contact: Yes", "Name: N/A", "Customer: Varnholt Logistics", "Tech: OK"],
)
def test_labels_before_no_name(text: str) -> None:
    assert find_labelled_names(text) == []


def test_an_initial_before_a_surname() -> None:
    text = "Crew: D. Rhydderch / J. Tamm; S. Zupančič. E. coli grown, Fig. 3, U. Other"
    assert _texts(text, find_initial_names(text)) == ["D. Rhydderch", "J. Tamm", "S. Zupančič"]


def test_a_binomial_is_no_name() -> None:
    assert find_known_names("E. coli and H. pylori grown; S. aureus sensitive") == []


def _cf_check(body: str) -> str:
    odd = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4,
                    18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23], strict=True))  # fmt: skip
    total = sum(odd[c] if i % 2 == 0 else ord(c) - 65 if c.isalpha() else int(c)
                for i, c in enumerate(body))  # fmt: skip
    return chr(65 + total % 26)


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def test_national_ids_with_their_check_characters() -> None:
    cf_body = "BNCLRA72M41F205"
    cf = cf_body + _cf_check(cf_body)
    be_body = "900212154"
    be = f"90.02.12-154.{97 - int(be_body) % 97:02d}"
    pnr = "640823-323" + _luhn_digit("640823323")
    wrong_cf = cf_body + chr(65 + (ord(cf[-1]) - 64) % 26)
    text = f"NINO JH 12 34 56 C; CF {cf}; NN {be}; pnr {pnr}; not {wrong_cf}; BG 12 34 56 A"
    assert _texts(text, find_national_id(text)) == ["JH 12 34 56 C", cf, be, pnr]


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def test_a_bracketed_number_after_a_person_is_their_record(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "1. Okafor, Chidi (7189009) - asthma. Bed (2024) ok")
    assert "7189009" not in out and "Okafor" not in out and "Bed (2024) ok" in out, out


def test_prescription_numbers_and_eircodes(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Rx no: 00313012   filled 14:22; Oranmore, Co. Galway, H91 H3P3.")
    assert "00313012" not in out and "H91 H3P3" not in out and "filled 14:22" in out, out


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Reports low mood. Ahyoka is the main carer.", ["Ahyoka"]),
        ("Seen today.\nHovhannisyan is making slow progress", ["Hovhannisyan"]),
        ("Iris rang re results. Faith said she slipped.", ["Iris", "Faith"]),
        # drugs, English words and pronouns at a sentence start stay
        ("Sertraline was increased. Metformin is continued. Troponin was negative.", []),
        ("He said no. It was late. Hope is low. The patient said fine.", []),
    ],
)
def test_a_name_opening_a_sentence(text: str, names: list[str]) -> None:
    from nodes.privacy.subject_names import find_subject_names

    assert _texts(text, find_subject_names(text)) == names


def test_drug_names_alone_are_no_person(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Apixaban was started. Ondansetron was given. Caroline Mensah rang.")
    assert "Apixaban was started. Ondansetron was given." in out, out
    assert "Caroline" not in out and "Mensah" not in out, out


def test_units_labels_and_bays_stay(hipaa: ScanActor) -> None:
    text = "CRP 48 mg/L. Tél: +33 6 12 34 56 78. Moved to ICU Bay 3 from HDU."
    out = redact_one(hipaa, text)
    assert "CRP 48 mg/L. Tél:" in out and "ICU Bay 3 from HDU" in out, out
    assert "12 34 56 78" not in out, out


def test_a_spaced_record_number_after_a_person(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "1. Okafor, Chidi (49 002 698) - atrial fibrillation.")
    assert "49 002 698" not in out and "atrial fibrillation" in out, out
