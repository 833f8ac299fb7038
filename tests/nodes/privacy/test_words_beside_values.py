"""Words that stand beside a value and are no name: field labels of forms in other
languages, currencies, units and dose words beside numbers, labels of references and
rooms, products after a determiner, employers after "works at", eponyms with a
modifier, dotted legal forms; and values that are no identifier: a UUID e-mail, a
reference number after its label, a logfmt address that ends at its quote.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

import pytest

from nodes.privacy.amounts import currency_word, trim_quantities
from nodes.privacy.batch import ScanActor
from nodes.privacy.form_labels import label_spans
from nodes.privacy.scan_types import Finding
from nodes.privacy.validators import email
from tests.nodes.privacy.helpers import assert_redacted, redact_one

FORM_SW = (
    "FOMU YA KLINIKI\n"
    "Jina la mgonjwa: Baraka Mwakyusa\n"
    "Anwani: Barabara ya Uhuru 14, Moshi\n"
    "Simu: +255 754 210 338\n"
    "Barua pepe: baraka.mw@mail.example.org\n"
    "Ndugu wa karibu: Neema Mwakyusa (dada)"
)


def test_swahili_form_labels_stay_and_values_go(hipaa: ScanActor) -> None:
    assert_redacted(
        hipaa,
        FORM_SW,
        gone=["Baraka", "Mwakyusa", "754 210 338", "baraka.mw", "Neema"],
        kept=["Jina la mgonjwa:", "Anwani:", "Simu:", "Barua pepe:", "Ndugu wa karibu:"],
    )


def test_labels_of_other_languages() -> None:
    text = (
        "Nama ibu kandung : Sri Lestari\nHeimilisfang: Laugavegur 12\n"
        "Domiciliu: Strada Lungă 3\nTempat/Tgl lahir : Padang, 1990\n"
        "Nazwisko: Wójcik | Imię: Zofia"
    )
    labels = [text[s:e] for s, e in label_spans(text)]
    assert labels == [
        "Nama ibu kandung",
        "Heimilisfang",
        "Domiciliu",
        "Tempat/Tgl lahir",
        "Nazwisko",
        "Imię",
    ]


def test_speaker_turns_and_unknown_words_are_no_labels() -> None:
    # a one-word label heading two lines is a person speaking
    turns = "Tala: I rang the ward.\nBen: And?\nTala: No answer."
    assert label_spans(turns) == []
    # a label with a word that is no label word is left to the other rules
    assert label_spans("Kwame Asante: +233 24 555 0101") == []


def test_a_speaker_named_like_a_label_word_is_still_redacted(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Tala Fonoti: I rang the ward.\nNurse: And?\nTala Fonoti: Nothing.")
    assert "Fonoti" not in out, out


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ada kwa huduma: Gharama KSh 4,150.00 kupitia benki.", "KSh 4,150.00"),
        ("Pembayaran Rp 2.475.000 lunas, terima kasih.", "Rp 2.475.000"),
        ("Hb 98 g/L. Diberikan parasetamol malam ini.", "g/L"),
        ("on gabapentin 300 mg tds & sertraline 50 mg od, sats 96%", "300 mg tds"),
    ],
)
def test_currencies_units_and_doses_survive(hipaa: ScanActor, text: str, kept: str) -> None:
    assert kept in redact_one(hipaa, text)


def test_trim_quantities_spans() -> None:
    text = "Biaya Rp 900.000"
    trimmed = trim_quantities(text, [Finding(0, 8, "PERSON", 0.85, "ner")])
    assert [text[f.start : f.end] for f in trimmed] == ["Biaya"]
    # a finding that is only a currency goes; a name is not a currency
    only = trim_quantities("Rp 900.000", [Finding(0, 2, "PERSON", 0.85, "ner")])
    assert only == []
    assert currency_word("KES") and currency_word("TSh") and not currency_word("Kes")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Oct 12 21:40:11  CHECK-IN  Suite 14  guest: Oksana Hrytsenko  pax 1", "Suite 14"),
        ("Invoice Invoice 31-770214 for R 2 100,00 from the supplier.", "Invoice 31-770214"),
        ("Payment for order 118-4402917 received.", "118-4402917"),
        ("AMBULANCE RUN SHEET   INCIDENT ORD-40213378   CREW MEDIC 4", "ORD-40213378"),
    ],
)
def test_reference_and_room_labels_survive(hipaa: ScanActor, text: str, kept: str) -> None:
    assert kept in redact_one(hipaa, text)


def test_guest_next_to_a_room_is_still_redacted(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "09:12  CHECK-IN  Room 214  guest: Oksana Hrytsenko  pax 1")
    assert "Hrytsenko" not in out and "Oksana" not in out, out


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Please bring the Omron Evolv 2 to clinic, Mrs Halvorsen.", "Omron Evolv 2", "Halvorsen"),
        ("Her brother Jomo Kariuki works at Kenya Power.", "Kenya Power", "Kariuki"),
        ("Known Duchenne muscular dystrophy; mother Akosua Boateng.", "Duchenne", "Boateng"),
        ("background: kaposi sarcoma. seen by dr adjei.", "kaposi sarcoma", "adjei"),
        ("braden scale 14 today, daughter Efua Mensah visiting.", "braden scale", "Mensah"),
        ("Reference: Tiva Mbeki, Grupo Bimbo S.A.B. de C.V.", "Bimbo", "Mbeki"),
    ],
)
def test_products_employers_eponyms_legal_forms(
    hipaa: ScanActor, text: str, kept: str, gone: str
) -> None:
    assert_redacted(hipaa, text, gone=[gone], kept=[kept])


def test_a_uuid_local_part_is_no_mailbox() -> None:
    assert not email("5f0c7e2a-91b4-4c3e-8d2f-0a1b2c3d4e5f@calendar.example.net")
    assert email("f.kowalczyk@calendar.example.net")


def test_logfmt_address_ends_at_its_quote(hipaa: ScanActor) -> None:
    line = (
        'level=info msg="address checked" addr="41 Kowhai Road" dob=1971-02-09 '
        "ver=v2.4.1 commit=9c1e7a0b"
    )
    assert_redacted(hipaa, line, gone=["Kowhai"], kept=["ver=v2.4.1", "commit=9c1e7a0b"])


def test_a_quoted_house_name_inside_an_address_is_redacted(hipaa: ScanActor) -> None:
    text = 'Address: Flat 2, "Villa Rosa", Triq il-Kbira, Mosta MST 1012\nSeen today.'
    out = redact_one(hipaa, text)
    assert "Kbira" not in out and "1012" not in out, out


def test_given_names_and_a_note_before_the_colon(hipaa: ScanActor) -> None:
    text = (
        "SECTION A (APPLICANT)\nSURNAME: KVARATSKHELIA\nGIVEN NAMES: NINO\n"
        "1. NAME (LAST, FIRST): OKAFOR, ADAEZE\nHygienist: Tamsin"
    )
    assert_redacted(
        hipaa,
        text,
        gone=["KVARATSKHELIA", "NINO", "OKAFOR", "ADAEZE", "Tamsin"],
        kept=["GIVEN NAMES:", "NAME (LAST, FIRST):"],
    )
