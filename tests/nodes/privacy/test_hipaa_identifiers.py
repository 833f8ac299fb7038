"""HIPAA Safe Harbor identifiers that need context: ages over 89, vehicles, accounts,
health plan numbers, devices and obfuscated e-mail addresses.

Every sentence is written by hand. Each case runs the detection scanner and the HIPAA
redaction of one batch (the healthcare library) and asserts on the written text: the
identifier is gone, the decoy next to it is intact, ages over 89 become ``90+``.
The checksummed VINs are widely published examples (
``1M8GDM9AXKP042788``, ``1HGCM82633A004352``).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.identifiers import (
    find_age,
    find_device,
    find_health_plan,
    find_obfuscated_email,
    find_vehicle,
    luhn_ok,
    vin_check_digit_ok,
)
from tests.nodes.privacy.helpers import hipaa_batch_redactor


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


def _one(actor: ScanActor, text: str, column: str = "note") -> str:
    out = actor(pa.table({column: [text]})).column(column).to_pylist()
    return str(out[0])


def _check(actor: ScanActor, text: str, gone: list[str], kept: list[str]) -> str:
    out = _one(actor, text)
    for g in gone:
        assert g not in out, (g, out)
    for k in kept:
        assert k in out, (k, out)
    return out


# ------------------------------------------------------------------------------- ages
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mrs. is a 96 yo widow admitted with CAP.", "a 90+ yo widow"),
        ("Resident aged 101, mobilises with a frame.", "aged 90+,"),
        ("Age: 92. Allergies: penicillin.", "Age: 90+."),
        ("A 94-year-old man with AF on warfarin 5 mg.", "A 90+-year-old man"),
        ("She is 99 years old and lives alone.", "90+ years old"),
        ("Pt 91 y/o, alert.", "90+ y/o"),
        ('{"age": 97, "ward": "C"}', '"age": 90+'),
    ],
)
def test_ages_over_89_become_90_plus(hipaa: ScanActor, text: str, expected: str) -> None:
    out = _one(hipaa, text)
    assert expected in out, out


@pytest.mark.parametrize(
    "text",
    [
        "A 67 yo man, aged 45 at diagnosis, now age 89.",
        "Baby aged 92 days, weight 5.1 kg.",
        "Dosage 100 mg twice daily; page 95 of the protocol.",
        "Already aggregated: age 90+ (Safe Harbor).",
        "Room 104, bed 93; 93 beds in total.",
    ],
)
def test_ages_up_to_89_and_other_numbers_stay(hipaa: ScanActor, text: str) -> None:
    assert _one(hipaa, text) == text
    assert find_age(text) == []


# --------------------------------------------------------------------------- vehicles
def test_vin_check_digit() -> None:
    assert vin_check_digit_ok("1M8GDM9AXKP042788")  # the check digit is X
    assert vin_check_digit_ok("1HGCM82633A004352")
    assert not vin_check_digit_ok("1HGCM82634A004352")
    assert not vin_check_digit_ok("1HGCM8263IA004352")  # I is never used


def test_vehicle_identifiers(hipaa: ScanActor) -> None:
    _check(
        hipaa,
        "Crash report: car 1M8GDM9AXKP042788 towed; invoice INV-2231-0098 sent.",
        ["1M8GDM9AXKP042788"],
        ["INV-2231-0098"],
    )
    # without a valid check digit only a VIN label makes a 17-character code a VIN
    _check(hipaa, "Insured car, VIN: WDB2030461A59TK2P.", ["WDB2030461A59TK2P"], ["VIN"])
    _check(
        hipaa,
        "Parking permit for licence plate WX19 KLM, registration OK7 322Q and tag # 4TRK917.",
        ["WX19 KLM", "OK7 322Q", "4TRK917"],
        ["Parking permit"],
    )
    _check(
        hipaa,
        'vehicle = {"plate": "MH 12 DE 1433", "make": "Tata"}',
        ["MH 12 DE 1433", "12 DE 1433"],
        ['"make": "Tata"'],
    )


def test_vehicle_decoys() -> None:
    for text in (
        "Shipment ABCD1234EFGH56789 is a tracking code, not a VIN.",  # fails the check digit
        "Best regards, the regional team; plate count 12; reg. fee paid.",
        "sha 3b18e512dba79e4c8300dd08aeb37f8e728b8dad and sku PLT-5531-XL",
    ):
        assert find_vehicle(text) == [], text


# ---------------------------------------------------------------------------- accounts
def test_account_numbers(hipaa: ScanActor) -> None:
    _check(
        hipaa,
        "Refund to bank account 004417829301 on 2023 (order ORD-88-120455, $1,240.50).",
        ["004417829301"],
        ["ORD-88-120455", "$1,240.50"],
    )
    _check(hipaa, "Acct no. 7730-118842-05 closed.", ["7730-118842-05", "118842"], ["closed"])
    _check(hipaa, "a/c: DE44 5001 0517 5407 3249 31", ["5407 3249", "DE44 5001"], [])
    _check(
        hipaa,
        "The auditor reviewed the account 3 times; HbA1c 7.9%.",
        [],
        ["reviewed the account 3 times", "HbA1c 7.9%"],
    )


# ------------------------------------------------------------------------ health plans
def test_medicare_mbi_and_member_ids(hipaa: ScanActor) -> None:
    out = _check(
        hipaa,
        "Medicare MBI 3RW7-KM2-PA58 verified; CPT 99214 billed for E11.65.",
        ["3RW7-KM2-PA58"],
        ["CPT 99214", "E11.65"],
    )
    assert "<HEALTH_PLAN_ID>" in out, out
    _check(hipaa, "card shows 5TC9HX1NY26 on the back", ["5TC9HX1NY26"], ["on the back"])
    _check(
        hipaa,
        "Subscriber ID: QKV40277315, group number 00R8841, policy no. PX-66120934.",
        ["QKV40277315", "00R8841", "PX-66120934", "66120934"],
        ["Subscriber ID", "group number"],
    )


def test_mbi_position_rules() -> None:
    # an MBI never uses S, L, O, I, B or Z and starts with 1-9
    for bad in ("0RW7-KM2-PA58", "3SW7-KM2-PA58", "3RW7-KM2-PO58", "3RW7KM2-PA58"):
        assert find_health_plan(f"code {bad} here") == [], bad


# ----------------------------------------------------------------------------- devices
def test_device_identifiers(hipaa: ScanActor) -> None:
    _check(
        hipaa,
        "Pacemaker KXR-20731-9 interrogated; device ID: DX40012877. metformin 500 mg.",
        ["KXR-20731-9", "DX40012877"],
        ["metformin 500 mg"],
    )
    _check(
        hipaa,
        "Loaner phone IMEI 35-209900-176148-1, serial no. C02ZK3ABMD6R, S/N: 7Q4410982.",
        ["35-209900-176148-1", "176148", "C02ZK3ABMD6R", "7Q4410982"],
        ["phone IMEI", "serial no."],
    )
    assert luhn_ok("352099001761481")
    # a label inside a label: "serial SN: ..."
    _check(hipaa, "Tablet serial SN: TQ-5521-00817 returned.", ["TQ-5521-00817"], ["returned"])
    _check(hipaa, "Wi-Fi MAC 3c:22:fb:91:0e:7a seen", ["3c:22:fb:91:0e:7a"], ["seen"])


def test_device_decoys() -> None:
    for text in (
        "Laptop SKU-GRY-13-2210 ordered; app v4.12.0 on build 8812.",
        "Insulin pump settings: basal 0.8 units/h.",
        "request_id 5f0c2a1e-7b3d-4c55-9a0e-3f6b8d21c9aa",
        "serial dilutions of the sample",
    ):
        assert find_device(text) == [], text


# ---------------------------------------------------------------------- obfuscated mail
@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("write to priya.raman at outlook dot com please", "priya.raman at outlook dot com"),
        ("reach me: t.okafor [at] uni-lagos [dot] edu [dot] ng", "t.okafor [at] uni-lagos"),
        ("ping kim_j(at)mail.example.kr tonight", "kim_j(at)mail.example.kr"),
        ("contact: hana AT example DOT jp", "hana AT example DOT jp"),
        ("alt: yusuf@gmx dot de", "yusuf@gmx dot de"),
    ],
)
def test_obfuscated_emails(hipaa: ScanActor, text: str, address: str) -> None:
    out = _one(hipaa, text)
    assert address not in out and "<EMAIL_ADDRESS>" in out, out


def test_email_decoys() -> None:
    for text in (
        "Arrived at 10.30am and left at noon.",
        "Login at portal.example.org failed twice.",
        "Look at the dot in the middle of the slide.",
    ):
        assert find_obfuscated_email(text) == [], text
