"""Secret references: ``env:NAME`` or ``file:/path``; resolved only at run time.

Specs and catalogs never hold secrets in plain text. A value that looks like a secret
reference is resolved with :func:`resolve_secret` right where it is used, and
:func:`redact` removes resolved values from any text that leaves the process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from engine.errors import SecretError

_REF = re.compile(r"^(env|file):(.+)$")
SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|api[_-]?key|credential|private[_-]?key)", re.I)


def is_secret_ref(value: object) -> bool:
    return isinstance(value, str) and bool(_REF.match(value))


def resolve_secret(ref: str, *, what: str = "secret") -> str:
    """Resolve ``env:NAME`` / ``file:PATH`` to its value.

    Raises:
        SecretError: the reference is malformed or points to nothing. The message names
            the reference, never a value.
    """
    m = _REF.match(ref or "")
    if not m:
        raise SecretError(
            f"{what} must be a secret reference like 'env:NAME' or 'file:/path', not a plain value"
        )
    scheme, target = m.groups()
    if scheme == "env":
        val = os.environ.get(target)
        if val is None:
            raise SecretError(f"{what}: environment variable {target} is not set")
        return val
    try:
        return Path(target).read_text(encoding="utf-8").strip()
    except OSError:
        raise SecretError(f"{what}: cannot read secret file {target}") from None


def scrub(obj: Any) -> Any:
    """Copy of a resource with values under secret-looking keys replaced by '***'
    unless they are references (references are safe to show)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and SECRET_KEYS.search(k) and isinstance(v, str):
                out[k] = v if is_secret_ref(v) else "***"
            else:
                out[k] = scrub(v)
        return out
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj
