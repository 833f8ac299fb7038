"""Redaction operators: how one value (a whole cell or a span inside text) is replaced.

Operators (``operator`` key of a rule):

``replace``    type tag such as ``<EMAIL_ADDRESS>`` (or ``tag``)
``redact``     remove (empty string inside text, null for a whole cell)
``mask``       mask all letters/digits but the last ``keepLast`` (default 4) with ``maskChar``
``hash``       keyed HMAC-SHA256 pseudonym (``length`` hex chars, default 16); the same
               value gives the same pseudonym in every run and table sharing the key
``encrypt``    deterministic AES-SIV, ``enc:`` + base64url; reversible with the key
               (``pipeline-builder decrypt``)
``fake``       realistic Faker value, seeded by the HMAC of the value: same input, same fake
``generalize`` dates -> year (``granularity: month`` -> YYYY-MM), ZIP -> ZIP3 (``000``
               for HIPAA's restricted ZIP3s), ages -> ``90+`` above 89 or ``bucket``-wide
               ranges; other entities -> type tag
``drop``       drop the column (inside text: removed)
``keep``       leave unchanged

Operators run over distinct values only; callers map results back with ``take``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from nodes.privacy.frameworks import HIPAA_RESTRICTED_ZIP3
from nodes.privacy.validators import digits, parse_date

OPERATORS = ("replace", "redact", "mask", "hash", "encrypt", "fake", "generalize", "drop", "keep")
KEYED = frozenset({"hash", "encrypt", "fake"})
TOKEN_PREFIX = "enc:"


@dataclass(frozen=True)
class Keys:
    """Keys derived from the configured secret (never the secret itself)."""

    hmac_key: bytes | None = None
    enc_key: bytes | None = None

    @classmethod
    def from_secret(cls, secret: str | None) -> Keys:
        if not secret:
            return cls()
        return cls(
            hmac_key=derive_key(secret, b"hmac", 32), enc_key=derive_key(secret, b"aes-siv", 64)
        )


def derive_key(secret: str, purpose: bytes, length: int) -> bytes:
    """HKDF-SHA256 subkey of ``secret`` for one purpose."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"pipeline-builder/privacy",
        info=purpose,
    ).derive(secret.encode())  # fmt: skip


def pseudonym(value: str, key: bytes, length: int = 16) -> str:
    """Keyed HMAC-SHA256 of ``value`` as ``length`` hex characters."""
    return hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()[:length]


def encrypt_value(value: str, key: bytes) -> str:
    """Deterministic AES-SIV encryption: ``enc:`` + base64url (no padding)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    ct = AESSIV(key).encrypt(value.encode(), [b"pipeline-builder/v1"])
    return TOKEN_PREFIX + base64.urlsafe_b64encode(ct).rstrip(b"=").decode()


def decrypt_value(token: str, key: bytes) -> str:
    """Inverse of :func:`encrypt_value`; raises ValueError on a wrong key or token."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not an encrypted token (expected the 'enc:' prefix)")
    body = token[len(TOKEN_PREFIX) :]
    try:
        ct = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESSIV(key).decrypt(ct, [b"pipeline-builder/v1"]).decode()
    except (InvalidTag, ValueError) as exc:
        raise ValueError("token does not decrypt with this key") from exc


def mask(value: str, keep_last: int = 4, char: str = "*") -> str:
    """Mask letters/digits except the last ``keep_last`` of them; keep separators."""
    alnum = sum(c.isalnum() for c in value)
    keep_from = alnum - max(keep_last, 0)
    out, seen = [], 0
    for c in value:
        if c.isalnum():
            out.append(c if seen >= keep_from else char)
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def generalize(value: str, entity: str, op: dict[str, Any]) -> str | None:
    """Coarser version of a value (see module docs)."""
    if entity == "US_ZIP":
        ds = digits(value)
        if len(ds) < 3:
            return "000"
        zip3 = ds[:3] if len(ds) >= 5 else ds.zfill(5)[:3]
        return "000" if zip3 in HIPAA_RESTRICTED_ZIP3 else zip3
    if entity == "AGE":
        try:
            age = int(float(value))
        except ValueError:
            return f"<{entity}>"
        if age > 89:
            return "90+"
        width = int(op.get("bucket", 0) or 0)
        if width > 1:
            lo = age - age % width
            return f"{lo}-{lo + width - 1}"
        return str(age)
    if entity == "DATE_TIME":
        d = parse_date(value)
        if d is None:
            return f"<{entity}>"
        return (
            f"{d.year:04d}-{d.month:02d}" if op.get("granularity") == "month" else f"{d.year:04d}"
        )
    return f"<{entity}>"


_FAKE_PROVIDERS = {
    "PERSON": "name",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone_number",
    "US_SSN": "ssn",
    "CREDIT_CARD": "credit_card_number",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ipv4",
    "URL": "url",
    "DATE_TIME": "date",
    "LOCATION": "city",
    "STREET_ADDRESS": "street_address",
    "US_ZIP": "zipcode",
    "SWIFT_CODE": "swift",
    "US_BANK_NUMBER": "bban",
}
_FAKERS: dict[str, Any] = {}


def fake_value(value: str, entity: str, key: bytes, locale: str = "en_US") -> str:
    """A realistic fake for ``value``, the same every time for the same value and key."""
    fk = _FAKERS.get(locale)
    if fk is None:
        from faker import Faker

        fk = _FAKERS[locale] = Faker(locale)
    digest = hmac.new(key, f"{entity}|{value.strip()}".encode(), hashlib.sha256).digest()
    fk.seed_instance(int.from_bytes(digest[:8], "big"))
    provider = _FAKE_PROVIDERS.get(entity)
    if provider is None:
        return str(fk.bothify("??-########").upper())
    return str(getattr(fk, provider)())


def transform(
    value: str, entity: str, op: dict[str, Any], keys: Keys, *, in_text: bool = False
) -> str | None:
    """Apply operator ``op`` to one value of type ``entity``.

    Args:
        value: The original value (cell or span).
        entity: Its entity type.
        op: The rule (``{"operator": ..., params}``).
        keys: Derived keys for keyed operators.
        in_text: True for a span inside free text (``redact``/``drop`` give "").
    """
    name = op.get("operator", "replace")
    if name == "keep":
        return value
    if name == "replace":
        return str(op.get("tag") or f"<{entity}>")
    if name in ("redact", "drop"):
        return "" if in_text else None
    if name == "mask":
        return mask(value, int(op.get("keepLast", 4)), str(op.get("maskChar", "*"))[:1] or "*")
    if name == "generalize":
        return generalize(value, entity, op)
    if name == "hash":
        assert keys.hmac_key is not None
        return pseudonym(value, keys.hmac_key, int(op.get("length", 16)))
    if name == "encrypt":
        assert keys.enc_key is not None
        return encrypt_value(value, keys.enc_key)
    if name == "fake":
        assert keys.hmac_key is not None
        return fake_value(value, entity, keys.hmac_key, str(op.get("locale", "en_US")))
    raise ValueError(f"unknown redaction operator {name!r}; expected one of {', '.join(OPERATORS)}")
