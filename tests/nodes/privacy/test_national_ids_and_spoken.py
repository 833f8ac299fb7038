"""National ids by their check digits, dates in more languages and shapes, numbers read
out digit by digit, and MRN labels in other languages.

The id numbers are the published examples of python-stdnum's documentation and of the
issuing schemes (PESEL 44051401359, TC Kimlik 10000000146, CPF 111.444.777-35, Aadhaar
2341 2341 2346, SIN 123 456 782, Finnish HETU 131052-308T); the negative cases change one
digit, which every check here must catch.
"""

from __future__ import annotations

import pytest

from nodes.privacy.national_ids import find_checked_national_ids
from nodes.privacy.recognizers import find_date
from nodes.privacy.spoken_numbers import find_spoken_phone


def _found(find, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [text[f.start : f.end] for f in find(text)]


@pytest.mark.parametrize(
    "text, number",
    [
        ("PESEL 44051401359, ur.", "44051401359"),
        ("T.C. Kimlik No: 10000000146", "10000000146"),
        ("CPF 111.444.777-35 do titular", "111.444.777-35"),
        ("Aadhaar 2341 2341 2346 on file", "2341 2341 2346"),
        ("aadhaar no 234123412346", "234123412346"),
        ("SIN: 123 456 782", "123 456 782"),
        ("henkilötunnus 131052-308T", "131052-308T"),
    ],
)
def test_a_national_id_with_valid_check_digits_is_found(text: str, number: str) -> None:
    assert _found(find_checked_national_ids, text) == [number]


@pytest.mark.parametrize(
    "text",
    [
        "PESEL 44051401358",  # one digit changed
        "T.C. Kimlik No: 10000000147",
        "CPF 111.444.777-36",
        "ref 2341 2341 2345",
        "SIN: 123 456 783",
        "order 234123412346 shipped",  # a valid Aadhaar shape without its label
        "batch 123456782 released",  # a valid SIN shape without its label
        "EAN 4006381333931",  # a product barcode is not a South African id
        "ORD-44051401359",  # part of a code
        "AL47 2121 1009 0000 0002 3569 8741",  # groups of an IBAN (Presidio's cases)
        "IE29 AIBK 9311 5212 3456 78",
    ],
)
def test_numbers_whose_check_fails_or_lack_their_label_are_left(text: str) -> None:
    assert _found(find_checked_national_ids, text) == []


@pytest.mark.parametrize(
    "text, date",
    [
        (
            "DOB: seventeenth of october nineteen eighty three\n",
            "seventeenth of october nineteen eighty three",
        ),
        (
            "born the twenty-fourth of july nineteen twenty eight, she",
            "twenty-fourth of july nineteen twenty eight",
        ),
        ("생년월일: 1965년 7월 16일", "1965년 7월 16일"),
        ("생년월일: 1963. 2. 23.", "1963. 2. 23."),
        ("001 HAN/TAEYANG MR  05FEB30  45B", "05FEB30"),
        ("BDAY:2003-10-04\nTEL", "2003-10-04"),
        ("BDAY:19350125\n", "19350125"),
        ("วันเกิด 26/01/2525.", "26/01/2525"),  # Thai Buddhist-era year
        ("data narodzhennia 20 serpnia 2012.", "20 serpnia 2012"),
        ("ur. 26 lutego 1976 r.", "26 lutego 1976"),
        ("Doğum tarihi: 15 Nisan 1975", "15 Nisan 1975"),
        ("Tarehe ya kuzaliwa: 7 Aprili 1939", "7 Aprili 1939"),
        ("Date of birth: Setyembre 5, 2011", "Setyembre 5, 2011"),
        ("nascut el 4 de març de 1968", "4 de març de 1968"),
    ],
)
def test_dates_in_other_languages_and_shapes_are_found(text: str, date: str) -> None:
    assert date in _found(find_date, text)


@pytest.mark.parametrize("text", ["version 4.0 at 10:30", "Route 66 2019", "Suite 12, 2020"])
def test_numbers_that_are_not_dates_are_left(text: str) -> None:
    assert _found(find_date, text) == []


def test_a_number_read_out_digit_by_digit_is_a_phone_number() -> None:
    text = "can you call me back on zero nine four six five one nine nine zero one thanks"
    assert _found(find_spoken_phone, text) == ["zero nine four six five one nine nine zero one"]
    text = "on plus two seven oh two one five seven five zero four four two, bye"
    assert _found(find_spoken_phone, text) == [
        "plus two seven oh two one five seven five zero four four two"
    ]
    assert _found(find_spoken_phone, "one or two of the three nine lives") == []


@pytest.mark.parametrize(
    "text, number",
    [
        ("Namba ya faili: OPD/133362\n", "OPD/133362"),
        ("hwanja beonho (환자번호): 76009016", "76009016"),
        ("Nr księgi głównej: 547794/2024", "547794/2024"),
        ("Client #: 7830108", "7830108"),
        ("unit no. e849012. family", "e849012"),
        ("Protokol No: 7651649", "7651649"),
    ],
)
def test_record_numbers_after_labels_in_other_languages(text: str, number: str) -> None:
    import re

    from nodes.privacy.patterns.default import DEFAULT_LIBRARY

    (rule,) = [p for p in DEFAULT_LIBRARY["patterns"] if p["name"] == "mrn_labeled"]
    m = re.search(rule["regex"], text)
    assert m is not None and m.group(rule["group"]) == number


def test_a_number_the_check_library_raises_on_is_left_and_does_not_fail_the_scan() -> None:
    # python-stdnum's Chinese id check raises KeyError for an unknown region code
    assert _found(find_checked_national_ids, "Discord user 332238995804244243 joined") == []
    assert _found(find_checked_national_ids, "Order no. 449563198506129709 shipped") == []
