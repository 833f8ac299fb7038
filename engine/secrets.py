"""Secret references, resolved only at run time and only from the operator's namespace.

Specs and catalogs never hold secrets in plain text. A secret is named by a reference:

- ``env:NAME``: an environment variable whose name the operator approved. Inside the
  API (``PIPELINE_BUILDER_INTERFACE=api``) only names matching
  ``PIPELINE_BUILDER_SECRET_ENV`` (comma-separated shell patterns, default
  ``PB_SECRET_*``) resolve; the CLI and driver scripts run as the operator and may name
  any variable of their own environment.
- ``secret:NAME``: an entry of the operator's secrets file,
  ``PIPELINE_BUILDER_SECRETS_FILE`` (JSON object ``{"NAME": "value"}`` or ``NAME=value``
  lines).
- ``file:NAME``: the file ``NAME`` inside the operator's secrets folder,
  ``PIPELINE_BUILDER_SECRETS_DIR`` (default ``$PIPELINE_BUILDER_HOME/secrets``). A path
  that leaves that folder (absolute paths elsewhere, ``..``, symlinks out) never resolves,
  so a reference cannot read arbitrary files.

:func:`resolve_secret` resolves a reference right where it is used; :func:`check_ref`
tells, without reading a value, whether a reference is inside the namespace (the API
refuses others when a resource is stored). :class:`SecretError` names the reference and
the rule (``secret-namespace``), never a value.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from pathlib import Path
from typing import Any

from engine.errors import SecretError

_REF = re.compile(r"^(env|file|secret):(.+)$")
SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|api[_-]?key|credential|private[_-]?key)", re.I)
ENV_PATTERNS_ENV = "PIPELINE_BUILDER_SECRET_ENV"
SECRETS_FILE_ENV = "PIPELINE_BUILDER_SECRETS_FILE"
SECRETS_DIR_ENV = "PIPELINE_BUILDER_SECRETS_DIR"
DEFAULT_ENV_PATTERNS = ("PB_SECRET_*",)
RULE = "secret-namespace"


def is_secret_ref(value: object) -> bool:
    return isinstance(value, str) and bool(_REF.match(value))


def _api() -> bool:
    return os.environ.get("PIPELINE_BUILDER_INTERFACE", "").lower() == "api"


def env_patterns() -> tuple[str, ...]:
    raw = os.environ.get(ENV_PATTERNS_ENV)
    if not raw:
        return DEFAULT_ENV_PATTERNS
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def secrets_dir() -> Path:
    raw = os.environ.get(SECRETS_DIR_ENV)
    if raw:
        return Path(raw)
    from engine.home import pipeline_home

    return pipeline_home() / "secrets"


def check_ref(ref: str, *, what: str = "secret", api: bool | None = None) -> None:
    """Raise :class:`SecretError` unless ``ref`` lies in the operator's namespace.

    Reads no value. ``api`` forces the API's rules (default: the process's interface).
    """
    m = _REF.match(ref or "")
    if not m:
        raise SecretError(
            f"{what} must be a secret reference like 'env:NAME', 'secret:NAME' or "
            "'file:NAME', not a plain value"
        )
    scheme, target = m.groups()
    api = _api() if api is None else api
    if scheme == "env":
        if api and not any(fnmatch.fnmatchcase(target, p) for p in env_patterns()):
            raise SecretError(
                f"{RULE}: {what}: environment variable {target} is outside the approved "
                f"secrets namespace ({', '.join(env_patterns())}); the operator sets it in "
                f"{ENV_PATTERNS_ENV}"
            )
    elif scheme == "file":
        _secret_file(target, what)
    elif not re.fullmatch(r"[A-Za-z0-9_.-]+", target):
        raise SecretError(f"{RULE}: {what}: secret name {target!r} is malformed")


def _secret_file(target: str, what: str) -> Path:
    folder = os.path.realpath(secrets_dir())
    candidate = target if os.path.isabs(target) else os.path.join(folder, target)
    real = os.path.realpath(candidate)
    if not real.startswith(folder.rstrip(os.sep) + os.sep):
        raise SecretError(
            f"{RULE}: {what}: file reference {target!r} is outside the secrets folder "
            f"{folder} ({SECRETS_DIR_ENV}); secret files are read only from there"
        )
    return Path(real)


def _secrets_file() -> dict[str, str]:
    path = os.environ.get(SECRETS_FILE_ENV)
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        raise SecretError(f"secrets file {SECRETS_FILE_ENV} cannot be read") from None
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise SecretError(f"secrets file {SECRETS_FILE_ENV} is not valid JSON") from None
        return {str(k): str(v) for k, v in doc.items()}
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def resolve_secret(ref: str, *, what: str = "secret") -> str:
    """Resolve ``env:NAME`` / ``secret:NAME`` / ``file:NAME`` to its value.

    Raises:
        SecretError: the reference is malformed, outside the namespace or points to
            nothing. The message names the reference, never a value.
    """
    check_ref(ref, what=what)
    m = _REF.match(ref)
    assert m is not None
    scheme, target = m.groups()
    if scheme == "env":
        val = os.environ.get(target)
        if val is None:
            raise SecretError(f"{what}: environment variable {target} is not set")
        return val
    if scheme == "secret":
        found = _secrets_file().get(target)
        if found is None:
            raise SecretError(f"{what}: secret {target!r} is not in the secrets file")
        return found
    path = _secret_file(target, what)
    try:
        return path.read_text(encoding="utf-8").strip()
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


_LOCATION_KEYS = frozenset({"uri", "location", "path"})


def refs_in(obj: Any, path: str = "") -> list[tuple[str, str]]:
    """``(path, reference)`` for every secret reference inside a resource body."""
    found: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _LOCATION_KEYS:
                continue  # a location such as file:///data is not a secret reference
            found += refs_in(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found += refs_in(v, f"{path}.{i}" if path else str(i))
    elif is_secret_ref(obj) and not str(obj).startswith("file://"):
        found.append((path, str(obj)))
    return found
