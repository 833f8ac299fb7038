"""E-mail addresses with letters of any script in the local part and the domain
(RFC 6531), and the non-addresses that stay as they are. Every string is written by hand
for this file."""

from __future__ import annotations

import pyarrow as pa
import pytest

from nodes.privacy import validators as v
from nodes.privacy.batch import ScanActor
from nodes.privacy.scan import Scanner
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one

ADDRESSES = [
    ("jürgen.müller@example.de", "jürgen.müller@example.de"),
    ("Antwort an δοκιμή@παράδειγμα.δοκιμή bitte", "δοκιμή@παράδειγμα.δοκιμή"),
    ("请写信给 用户@例子.广告。谢谢", "用户@例子.广告"),
    ("напишите на иван.петров@почта.рф, спасибо", "иван.петров@почта.рф"),
    ("«josé.ñúñez@correo.es»", "josé.ñúñez@correo.es"),
    ("お問い合わせ: たなか@例え.テスト まで", "たなか@例え.テスト"),
    ("संपर्क: राम@उदाहरण.भारत", "राम@उदाहरण.भारत"),
    ("cc Søren.Ødegård@firma.dk", "Søren.Ødegård@firma.dk"),
]

NOT_ADDRESSES = [
    "login as jürgen@localhost on the test box",
    "thanks @jürgen and @мария for the review",
    "reply to müller@ tomorrow",
    "the file straße@v2.d3 is a build artefact",
    "ping δοκιμή@παράδειγμα later",
]


def _emails(scanner: Scanner, text: str) -> list[str]:
    return [text[f.start : f.end] for f in scanner.scan_cells([text], "notes")[0]
            if f.entity == "EMAIL_ADDRESS"]  # fmt: skip


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_addresses_in_any_script_are_found(
    pattern_scanner: Scanner, text: str, address: str
) -> None:
    assert _emails(pattern_scanner, text) == [address]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_non_addresses_stay_unflagged(pattern_scanner: Scanner, text: str) -> None:
    assert _emails(pattern_scanner, text) == []


def test_fast_path_finds_the_same_addresses(pattern_scanner: Scanner) -> None:
    values = [t for t, _a in ADDRESSES] + NOT_ADDRESSES
    indices, _dictionary, found = pattern_scanner.scan_array(pa.array(values), "notes")
    fast = [found[i] for i in indices.to_pylist()]
    assert fast == pattern_scanner.scan_cells(values, "notes")


def test_validator_accepts_letters_of_any_script_in_the_top_level_label() -> None:
    for good in ("jürgen@example.de", "δοκιμή@παράδειγμα.δοκιμή", "用户@例子.广告",
                 "राम@उदाहरण.भारत", "user@xn--80ak6aa92e.com"):  # fmt: skip
        assert v.email(good), good
    for bad in ("user@localhost", "@example.de", "jürgen@example.d3", "a@b..de",
                "用户@例子.广告1"):  # fmt: skip
        assert not v.email(bad), bad


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_redaction_replaces_the_whole_address(hipaa: ScanActor, text: str, address: str) -> None:
    out = redact_one(hipaa, text)
    local, _, domain = address.partition("@")
    assert "<EMAIL_ADDRESS>" in out, out
    assert local not in out and domain not in out, out


def test_redaction_keeps_the_words_around_an_address(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, "Please write to jürgen.müller@example.de before the meeting.")
    assert out == "Please write to <EMAIL_ADDRESS> before the meeting.", out
