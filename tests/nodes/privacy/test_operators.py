"""Redaction operators and compliance framework rule sets."""

from __future__ import annotations

import pytest

from nodes.privacy import operators as ops
from nodes.privacy.frameworks import FRAMEWORKS, HIPAA, get_framework

KEYS = ops.Keys.from_secret("correct horse battery staple")
OTHER = ops.Keys.from_secret("another key")


def test_mask_keeps_last_digits_and_separators() -> None:
    assert ops.mask("4111 1111 1111 1234") == "**** **** **** 1234"
    assert ops.mask("123-45-6789", 2, "#") == "###-##-##89"
    assert ops.mask("ab", 4) == "ab"


def test_hmac_pseudonyms_are_consistent_and_keyed() -> None:
    a = ops.transform("jane@example.com", "EMAIL_ADDRESS", {"operator": "hash"}, KEYS)
    b = ops.transform("jane@example.com", "EMAIL_ADDRESS", {"operator": "hash"}, KEYS)
    assert a == b and len(a) == 16 and "jane" not in a
    # another entity type or table does not matter: joins on the pseudonym keep working
    assert ops.transform("jane@example.com", "OTHER", {"operator": "hash"}, KEYS) == a
    assert ops.transform("jane@example.com", "EMAIL_ADDRESS", {"operator": "hash"}, OTHER) != a
    assert len(ops.pseudonym("x", KEYS.hmac_key, 32)) == 32  # type: ignore[arg-type]


def test_encryption_round_trips_deterministically() -> None:
    t1 = ops.encrypt_value("123-45-6789", KEYS.enc_key)  # type: ignore[arg-type]
    t2 = ops.encrypt_value("123-45-6789", KEYS.enc_key)  # type: ignore[arg-type]
    assert t1 == t2 and t1.startswith("enc:") and "6789" not in t1
    assert ops.decrypt_value(t1, KEYS.enc_key) == "123-45-6789"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not decrypt"):
        ops.decrypt_value(t1, OTHER.enc_key)  # type: ignore[arg-type]


def test_fake_values_are_realistic_and_deterministic() -> None:
    f1 = ops.transform("Karen Holt", "PERSON", {"operator": "fake"}, KEYS)
    f2 = ops.transform("Karen Holt", "PERSON", {"operator": "fake"}, KEYS)
    f3 = ops.transform("Brian Young", "PERSON", {"operator": "fake"}, KEYS)
    assert f1 == f2 and f1 != f3 and f1 != "Karen Holt" and " " in f1
    email = ops.transform("a@b.com", "EMAIL_ADDRESS", {"operator": "fake"}, KEYS)
    assert email and "@" in email


@pytest.mark.parametrize(
    ("value", "entity", "op", "want"),
    [
        ("02139", "US_ZIP", {}, "021"),
        ("03601", "US_ZIP", {}, "000"),  # ZIP3 036: under 20,000 people
        ("89301-1234", "US_ZIP", {}, "000"),
        ("94", "AGE", {}, "90+"),
        ("89", "AGE", {}, "89"),
        ("37", "AGE", {"bucket": 10}, "30-39"),
        ("1985-03-02", "DATE_TIME", {"granularity": "year"}, "1985"),
        ("03/15/1990", "DATE_TIME", {"granularity": "month"}, "1990-03"),
        ("not a date", "DATE_TIME", {}, "<DATE_TIME>"),
    ],
)
def test_generalize(value: str, entity: str, op: dict, want: str) -> None:
    assert ops.transform(value, entity, {"operator": "generalize", **op}, KEYS) == want


def test_other_operators() -> None:
    assert ops.transform("x", "US_SSN", {"operator": "replace"}, KEYS) == "<US_SSN>"
    assert ops.transform("x", "US_SSN", {"operator": "replace", "tag": "[SSN]"}, KEYS) == "[SSN]"
    assert ops.transform("x", "US_SSN", {"operator": "redact"}, KEYS) is None
    assert ops.transform("x", "US_SSN", {"operator": "redact"}, KEYS, in_text=True) == ""
    assert ops.transform("x", "US_SSN", {"operator": "keep"}, KEYS) == "x"
    with pytest.raises(ValueError, match="unknown redaction operator"):
        ops.transform("x", "US_SSN", {"operator": "shred"}, KEYS)


def test_frameworks_are_concrete_rule_sets() -> None:
    assert set(FRAMEWORKS) == {"HIPAA", "GDPR", "PCI-DSS", "CCPA"}
    assert get_framework("pci") is FRAMEWORKS["PCI-DSS"]
    # HIPAA Safe Harbor: names, contacts and ids, dates to year, ZIP3, ages over 89
    assert HIPAA.treatment("PERSON") == {"operator": "replace"}
    assert HIPAA.treatment("DATE_TIME") == {"operator": "generalize", "granularity": "year"}
    assert HIPAA.treatment("US_ZIP")["operator"] == "generalize"  # type: ignore[index]
    assert HIPAA.treatment("AGE")["operator"] == "generalize"  # type: ignore[index]
    assert HIPAA.treatment("ICD10_CODE") is None  # clinical data is not an identifier
    assert FRAMEWORKS["GDPR"].treatment("ICD10_CODE") == {"operator": "redact"}  # Art. 9
    assert FRAMEWORKS["PCI-DSS"].treatment("CREDIT_CARD")["keepLast"] == 4  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown compliance framework"):
        get_framework("SOX")
