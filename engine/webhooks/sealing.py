"""Signing secrets at rest: references stay references, literals are encrypted.

``env:NAME``/``file:...`` references are stored as they are and resolved when a delivery
is signed. Literal secrets (``whsec_...``) are encrypted with Fernet under a key derived
from ``PIPELINE_BUILDER_SECRET_KEY``; without that variable they are stored as
``plain:...`` and a warning is logged (set the key in production).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from typing import Any

from engine.webhooks.signing import WebhookError

log = logging.getLogger(__name__)


def _fernet() -> Any:
    key = os.environ.get("PIPELINE_BUILDER_SECRET_KEY")
    if not key:
        return None
    from cryptography.fernet import Fernet

    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def seal(secret: str) -> str:
    if secret.startswith(("env:", "file:")):
        return secret
    f = _fernet()
    if f is not None:
        return "fernet:" + f.encrypt(secret.encode()).decode()
    log.warning("PIPELINE_BUILDER_SECRET_KEY is not set: webhook secret stored unencrypted")
    return "plain:" + secret


def unseal(stored: str) -> str:
    if stored.startswith(("env:", "file:")):
        from engine.secrets import resolve_secret

        return resolve_secret(stored, what="webhook secret")
    if stored.startswith("fernet:"):
        f = _fernet()
        if f is None:
            raise WebhookError(
                "webhook secret is encrypted but PIPELINE_BUILDER_SECRET_KEY is unset"
            )
        return f.decrypt(stored[len("fernet:") :].encode()).decode()
    return stored.removeprefix("plain:")
