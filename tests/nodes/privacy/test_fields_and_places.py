"""Identifiers that a field says what they are (``"city": ...``, a ``postcode`` column of
a CSV inside a cell, ``subject_mrn=``), towns with no cue phrase, and spoken dates; each
with the ordinary text that must stay. Cases written by hand."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.known_places import find_known_places
from nodes.privacy.recognizers import find_date, find_key_value, find_table_fields
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


def spans(found, text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.entity) for f in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"address":[{"city":"Tampere","postalCode":"B3L 0P9"}]',
         [("Tampere", "LOCATION"), ("B3L 0P9", "POSTAL_CODE")]),
        ("national_id: 4575908G\n  contact:", [("4575908G", "NATIONAL_ID")]),
        ("subject_mrn=30283181 trace=ab12", [("30283181", "MEDICAL_RECORD_NUMBER")]),
        ("patientMrn: 12 345 678 today", [("12 345 678", "MEDICAL_RECORD_NUMBER")]),
        ("zip: 42575 and more", [("42575", "US_ZIP")]),
        ("city: San Jose, CA", [("San Jose", "LOCATION")]),
        ("filename=report.pdf hostname=db1 name_server=ns1", []),
        ("MRN:   DOB 1960 seen", []),  # a blanked tag, then another label: no number
        ("zip: none", []),
    ],
)  # fmt: skip
def test_key_values(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(find_key_value(text), text) == expected


def test_table_in_a_cell() -> None:
    csv = ('patient_name,dob,phone,postcode,icd10\n"Roe, Ihaia",1958,020 7946 0958,LS9 9UL,J44.1\n'
           '"Nakoa, Pua",1978,+44 20 7946 0000,42575,F32.1\n')  # fmt: skip
    got = spans(find_table_fields(csv), csv)
    assert ("Roe, Ihaia", "PERSON") in got and ("Nakoa, Pua", "PERSON") in got
    assert ("LS9 9UL", "POSTAL_CODE") in got and ("42575", "US_ZIP") in got
    assert not any(v in ("J44.1", "F32.1", "1958") for v, _e in got)  # codes, a bare year
    pipe = "ID|NAME|DOB|CITY|DX\n123|Ihaia Roe|01/02/1988|SWANSEA|O24.419\n"
    got = spans(find_table_fields(pipe), pipe)
    assert got == [("Ihaia Roe", "PERSON"), ("01/02/1988", "DATE_TIME"), ("SWANSEA", "LOCATION")]
    # a header of ordinary words, prose with commas: no table
    assert find_table_fields("qty,sku,price\n2,AB-1,9.99\n") == []
    assert find_table_fields("Hello, world\nsecond line, here") == []


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Pharmacy in Tampere notified.", ["Tampere"]),
        ("GP, Shiraz Medical Centre", ["Shiraz"]),
        ("Flew to London on Monday", ["London"]),
        ("Kraków and Krakow", ["Kraków", "Krakow"]),
        ("Av. Paulista 730, São Paulo - SP", ["Paulista", "São Paulo"]),  # both towns
        ("Nice to meet you. Reading the chart now.", []),  # cities that are English words
        ("Victoria called about the Mobile unit", []),
        ("Georgia and Texas", []),  # states are kept (HIPAA)
        ("write to a@tampere.fi", []),
    ],
)
def test_known_places(text: str, places: list[str]) -> None:
    assert [text[f.start : f.end] for f in find_known_places(text)] == places


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("my date of birth is the 21st of january 1977 you", ["21st of january 1977"]),
        ("born 3rd of March, 1980", ["3rd of March, 1980", "3rd of March"]),
        ("take 2 of may", []),
    ],
)
def test_spoken_dates(text: str, dates: list[str]) -> None:
    assert [text[f.start : f.end] for f in find_date(text)] == dates


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def test_hipaa_takes_postcodes_and_national_ids(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Lives in Auckland, postcode LS9 9UL. NHS 943 476 5919, PPS 4575908G")
    for gone in ("LS9 9UL", "943 476 5919", "Auckland"):
        assert gone not in out, out


def test_eponyms_stay_names_go(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Raynaud's phenomenon and Crohn's disease. Seen by Dr. Tane Walker.")
    assert "Raynaud's phenomenon" in out and "Crohn's disease" in out, out
    assert "Tane" not in out and "Walker" not in out, out


def test_hl7_segments() -> None:
    from nodes.privacy.hl7 import find_hl7

    msg = (
        "MSH|^~\\&|LAB|NORTH|EHR|CLINIC|20240312083000||ORU^R01|MSG1|P|2.5.1\n"
        "PID|1||7715742^^^HOSP^MR||TAMAPUA^SIONE^K||19620114|M|||12 Vaea St^^Apia^^96799||"
        "(555) 201-3344||||||043-71-5262\n"
        "NK1|1|TAMAPUA^LUPE|SPO|||0760 049901\n"
        "OBX|1|NM|2345-7^Glucose^LN||182|mg/dL|70-99|H|||F\n"
    )
    got = {(msg[f.start : f.end], f.entity) for f in find_hl7(msg)}
    assert ("7715742^^^HOSP^MR", "MEDICAL_RECORD_NUMBER") in got
    assert ("TAMAPUA^SIONE^K", "PERSON") in got and ("TAMAPUA^LUPE", "PERSON") in got
    assert ("19620114", "DATE_TIME") in got
    assert ("12 Vaea St^^Apia^^96799", "STREET_ADDRESS") in got
    assert ("043-71-5262", "US_SSN") in got
    assert not any("Glucose" in v or "ORU" in v for v, _e in got)  # other segments stay


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("DNI 02317378J. Firmado", ["02317378J"]),  # check letter 02317378 mod 23
        ("NIE X1234567L today", ["X1234567L"]),  # X = 0: 01234567 mod 23
        ("NIR 2 99 06 12 482 633 01.", ["2 99 06 12 482 633 01"]),  # key 97 - n mod 97
        ("DNI 02317378K", []),  # wrong check letter
        ("NIR 2 99 06 12 482 633 02.", []),  # wrong key
    ],
)
def test_national_ids(text: str, ids: list[str]) -> None:
    from nodes.privacy.hl7 import find_national_id

    assert [text[f.start : f.end] for f in find_national_id(text)] == ids


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("nacida el 2 de octubre de 1972, con", ["2 de octubre de 1972"]),
        ("née le 20 février 2019, demeurant", ["20 février 2019"]),
        ("geboren am 12. März 1980 in", ["12. März 1980"]),
        ("DOB: 20041113 F", ["20041113"]),
        ("order 20041113 shipped", []),  # a compact number without a birth word
        ("version 3 de 2020", []),
    ],
)
def test_dates_of_other_languages(text: str, dates: list[str]) -> None:
    assert [text[f.start : f.end] for f in find_date(text)] == dates


def test_other_language_birth_date_kept_to_its_year(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Paciente nacida el 2 de octubre de 1972, DNI 02317378J.")
    assert "octubre" not in out and "02317378J" not in out and "1972" in out, out
