"""Address lines written as chains of numbered parts, in the conventions of many countries
(hand-written lines in the shapes of Romanian, Ukrainian, Ethiopian, Tanzanian, Indian,
Chinese and Korean addresses), and hospital places and lists that are not addresses."""

from __future__ import annotations

import pytest

from nodes.privacy.address_chains import find_address_chain


def _found(text: str) -> list[str]:
    return [text[f.start : f.end] for f in find_address_chain(text)]


@pytest.mark.parametrize(
    "text, address",
    [
        ("Address: Plot 570, Nkrumah Street, Dodoma\n", "Plot 570, Nkrumah Street, Dodoma"),
        (
            "pickup: Str. Republicii nr. 1836, bl. E24, sc. 31, ap. 196, Brașov (shuttle)",
            "Str. Republicii nr. 1836, bl. E24, sc. 31, ap. 196",
        ),
        ("adresa: vul. Shevchenka 25, kv. 18, Lviv", "vul. Shevchenka 25, kv. 18, Lviv"),
        (
            "ADR;TYPE=home:;;Woreda 7\\, Kebele 18\\, House 255;",
            "Woreda 7\\, Kebele 18\\, House 255",
        ),
        ("Nyerere Road, House No. 11, Arusha", "Nyerere Road, House No. 11, Arusha"),
        (
            "at Door No. 35/11, Rash Behari Street, Kolkata",
            "Door No. 35/11, Rash Behari Street, Kolkata",
        ),
        ("see u at Renmin Road No. 20, Bldg 26, Shanghai", "Renmin Road No. 20, Bldg 26, Shanghai"),
        ("Dongseong-ro 158, Apt 579-244, Mapo-gu", "Dongseong-ro 158, Apt 579-244, Mapo-gu"),
    ],
)
def test_an_address_chain_is_found_whole(text: str, address: str) -> None:
    assert _found(text) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "PT JAMA RE WARD 7C, BED 6, call back",
        "Room 12, Bed 4, Ward 7",
        "HR 96, SpO2 94%, GCS 15.",
        "aspirin 300 mg, GTN 0.4 mg, O2 15 L",
        "Order 1234, Invoice 99, Ticket 5",
        "Flight BA 117, Seat 32K, Gate 4",
        "Version 2, Build 77, Lot 33",
    ],
)
def test_hospital_places_and_lists_of_numbers_are_not_addresses(text: str) -> None:
    assert _found(text) == []
