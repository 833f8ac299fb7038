"""Companies and hospital departments stay; the people beside them do not.

The cases are written by hand (company and department names made up or generic), none
taken from a list the rules were built from: the rules know words that make a phrase an
organisation (``Diagnostics``, ``Logistics``, ``GmbH``) and words built as specialties
(``-ology``, ``-scopy``), not names of companies."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.known_names import find_known_names
from nodes.privacy.organisations import drop_organisations, organisation_span
from nodes.privacy.scan_types import Finding
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


def _span(text: str, part: str) -> bool:
    start = text.index(part)
    return organisation_span(text, start, start + len(part))


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Results were sent by Varnholt Diagnostics yesterday.", "Varnholt Diagnostics"),
        ("Order placed with Ostrander Logistics today", "Ostrander"),  # the word after it
        ("Please call Nordvik Pharma AS about the shipment.", "Nordvik Pharma"),
        ("Invoice from Keller & Sohn GmbH, paid", "Sohn"),
        ("Acme, Inc. shipped the reagents", "Acme"),
        ("Seen in Cardiology today", "Cardiology"),
        ("booked for Endoscopy Suite 3", "Endoscopy Suite"),
        ("Please contact Dr. Weber (Endoscopy Suite)", "Suite"),
        ("moved to Intensive Care Unit overnight", "Intensive Care Unit"),
        ("referred to Neuroradiology", "Neuroradiology"),
    ],
)
def test_organisations_and_departments(text: str, part: str) -> None:
    assert _span(text, part), part


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Kwame Mensah, Solutions architect, called", "Kwame Mensah"),  # a comma between
        ("Patient Grace Ward was seen", "Grace Ward"),  # a facility noun as a surname
        ("Ward seen by Ana Lima", "Ana Lima"),
        ("Dr Ward reviewed the chart", "Ward"),  # a facility noun alone, no specialty before
        ("as discussed with Tomás Abara", "Tomás Abara"),
        ("AS agreed, Ingrid Solberg will call", "Ingrid Solberg"),
    ],
)
def test_people_stay_people(text: str, part: str) -> None:
    assert not _span(text, part), part


def test_only_people_and_places_are_dropped() -> None:
    text = "Varnholt Diagnostics, phone 555-0100"
    found = [
        Finding(0, 8, "PERSON", 0.85, "ner"),
        Finding(28, 36, "PHONE_NUMBER", 0.9, "pattern"),
    ]
    assert drop_organisations(text, found) == [found[1]]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # a given name that is a frequent word, before a surname the table holds or a word
        # that is no English word
        ("Faith Okafor moved to Bergen last year.", ["Faith Okafor"]),
        ("Hope Nwachukwu called twice.", ["Hope Nwachukwu"]),
        ("Summer Kowalczyk is the new starter.", ["Summer Kowalczyk"]),
    ],
)
def test_word_given_names_before_a_surname(text: str, names: list[str]) -> None:
    assert [text[f.start : f.end] for f in find_known_names(text)] == names


@pytest.mark.parametrize(
    "text",
    [
        "The Summer Schedule is attached",  # English words after it
        "We Will Rock You",
        "Please Hope For The Best",
    ],
)
def test_word_given_names_need_a_name_after_them(text: str) -> None:
    assert find_known_names(text) == []


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def test_redaction_keeps_companies_and_takes_the_people(hipaa: ScanActor) -> None:
    out = redact_one(
        hipaa,
        "Faith Okafor (DOB 03/04/1981) collected her kit from Varnholt Diagnostics; "
        "seen in Cardiology by Dr. Ingrid Solberg.",
    )
    assert "Faith" not in out and "Okafor" not in out and "Solberg" not in out, out
    assert "Varnholt Diagnostics" in out and "Cardiology" in out, out


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Told lactate 3.1 mmol/L will come in", "L"),  # one letter
        ("Rusty-coloured sputum this morning", "Rusty"),  # half of a hyphenated word
        ("the ResMed AirSense 11 was serviced", "ResMed AirSense"),  # a brand's capitals
        ("Checked by Staff Pharmacist on the ward", "Staff Pharmacist"),  # a job title
    ],
)
def test_phrases_that_are_no_person(text: str, part: str) -> None:
    start = text.index(part)
    found = [Finding(start, start + len(part), "PERSON", 0.85, "ner")]
    assert drop_organisations(text, found) == [], part


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Sent to Mary McDonald today", "Mary McDonald"),
        ("Sent to DeShawn Williams today", "DeShawn Williams"),
        ("Grace Porter is the patient", "Grace Porter"),  # a given name before the noun
        ("Ana Adeyemi-Bello called", "Ana Adeyemi-Bello"),
    ],
)
def test_people_with_capitals_and_hyphens_stay(text: str, part: str) -> None:
    start = text.index(part)
    found = [Finding(start, start + len(part), "PERSON", 0.85, "ner")]
    assert drop_organisations(text, found) == found, part


def test_scales_named_after_places_stay(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "GCS: Glasgow Coma Scale 14 on arrival; seen by Dr Ingrid Solberg")
    assert "Glasgow Coma Scale 14" in out and "Solberg" not in out, out


def test_versions_and_log_stamps_are_no_dates(hipaa: ScanActor) -> None:
    text = (
        "firmware 2023.11.02, release 2024.2.1\n"
        'dob=1974-05-02 candidate="x"\n'
        "2024-02-26T12:26:05Z ERROR [notify] sms failed"
    )
    out = redact_one(hipaa, text)
    assert "2023.11.02" in out and "2024.2.1" in out, out
    assert "2024-02-26T12:26:05Z ERROR" in out, out  # the birth date is on the line before
    assert "1974-05-02" not in out, out


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        # found by an adversarial reading of the rules above: people that must stay found
        ("Mr Okafor's operation is scheduled for next week.", "Okafor"),
        ("Mrs Adaeze Okafor Waterlow score 12, Braden score 14.", "Okafor"),
        ("Referred by JoAnn Kowalczyk for review.", "Kowalczyk"),
        ("Dr. Fatima ElSayed reviewed the patient.", "ElSayed"),
        ("Mr Asa Whitfield was admitted with chest pain.", "Whitfield"),
        ("Reviewed by Dr Ferenc Sas in clinic.", "Ferenc"),
        ("Kofi Mensah AB positive blood group.", "Mensah"),
        ("Mr Kwabena Obi CO2 retainer, target sats 88-92%.", "Kwabena"),
        ("Kofi Boateng\tPharmacy\text 4432", "Boateng"),
        ("Mr Steward was discharged home.", "Steward"),
    ],
)
def test_people_beside_organisation_words_stay_found(
    hipaa: ScanActor, text: str, gone: str
) -> None:
    out = redact_one(hipaa, text)
    assert gone not in out, out


def test_repeats_skip_acronyms_and_numbered_things() -> None:
    from nodes.privacy.repeated_names import add_repeats

    text = "Mrs Grace Ward was moved to Ward 5. Dr Aki Tanaka noted AKI stage 2."
    found = [Finding(4, 14, "PERSON", 0.85, "ner"), Finding(39, 49, "PERSON", 0.85, "ner")]
    assert [text[f.start : f.end] for f in found] == ["Grace Ward", "Aki Tanaka"]
    assert add_repeats(text, found) == found
