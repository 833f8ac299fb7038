"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Each request carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>``, where
``key`` is the base64-decoded part of a ``whsec_<base64>`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from engine.errors import PipelineBuilderError

SECRET_PREFIX = "whsec_"


class WebhookError(PipelineBuilderError):
    """Base of webhook errors (bad endpoint, bad secret, refused target)."""


class SignatureError(WebhookError):
    """A signature or timestamp does not verify."""


def generate_secret(nbytes: int = 24) -> str:
    """A fresh ``whsec_<base64>`` signing secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (other strings are used as raw UTF-8 bytes)."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:
            raise WebhookError("webhook secret is not valid base64 after 'whsec_'") from None
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``)."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(
    secret: str, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers plus content type for one delivery."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "content-type": "application/json",
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> None:
    """Check a received request; raises :class:`SignatureError` if it does not verify."""
    h = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts = h["webhook-id"], int(h["webhook-timestamp"])
        sigs = h["webhook-signature"].split()
    except (KeyError, ValueError):
        raise SignatureError("missing or malformed webhook-* headers") from None
    if abs(time.time() - ts) > tolerance:
        raise SignatureError("webhook-timestamp outside the tolerance window")
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for s in sigs:
        version, _, value = s.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise SignatureError("no matching v1 signature")
