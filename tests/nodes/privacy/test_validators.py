"""Checksums and shape checks that confirm regex candidates."""

from __future__ import annotations

import pytest

from nodes.privacy import validators as v


@pytest.mark.parametrize(
    ("fn", "good", "bad"),
    [
        (
            v.credit_card,
            ["4111 1111 1111 1111", "378282246310005", "2221000000000009"],
            ["4111 1111 1111 1112", "1234567812345678", "0000000000000000"],
        ),
        (
            v.iban,
            ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"],
            ["GB82 WEST 1234 5698 7654 33", "XX89370400440532013000", "DE8937040044053201300"],
        ),
        (
            v.us_ssn,
            ["123-45-6788", "536 90 4399", "078.05.1123"],
            ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45.6789"],
        ),
        (v.npi, ["1234567893"], ["1234567890", "3234567893"]),
        (v.aba_routing, ["011000015", "021000021"], ["011000016", "111111111"]),
        (v.dea, ["AB1234563", "FM6018952"], ["AB1234564", "1B1234563"]),
        (v.ip_address, ["192.168.0.1", "2001:db8::1", "::1"], ["256.1.1.1", "12:30:45", "1.2.3"]),
        (v.date, ["2024-02-29", "03/15/1990", "March 5, 2021"], ["2023-02-29", "13/45/2020"]),
        (v.swift_bic, ["DEUTDEFF", "NWBKGB2L"], ["PATIENTS", "DEUTXXFF"]),
        (v.itin, ["911-70-1234", "911701234"], ["911-89-1234", "811-70-1234"]),
        (v.uk_nhs, ["401-023-2137", "0032698674"], ["401-023-2138"]),
        (v.bitcoin_address, ["16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ",
                             "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"],
         ["16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ2", "16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyY"]),
    ],
)
def test_validators_accept_real_ids_and_reject_lookalikes(fn, good, bad) -> None:
    for value in good:
        assert fn(value), value
    for value in bad:
        assert not fn(value), value


def test_luhn() -> None:
    assert v.luhn("79927398713")
    assert not v.luhn("79927398710")
    assert not v.luhn("7")
