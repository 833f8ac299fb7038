"""Data roots: the only places file sources, sinks, environments and models may touch.

A location (local path, ``file://`` URL or ``s3://bucket/key``) is allowed when, after
normalisation, it lies inside one of the roots of the run:

- the operator's roots, ``PIPELINE_BUILDER_DATA_ROOTS`` (comma-separated local folders
  and object-store prefixes such as ``/srv/data,s3://lake/curated/``);
- for runs outside the API (the CLI, driver scripts): also the home's ``data`` folder
  (``$PIPELINE_BUILDER_HOME/data``) and the folder of the spec (``RunOptions.base_dir``).

API replicas set ``PIPELINE_BUILDER_INTERFACE=api`` (and pass it on to the execution
actors they start): API runs get the operator's roots and nothing else.

Normalisation: ``file://`` is stripped, ``~`` is not expanded, relative paths resolve
against the run's base folder, ``..`` and symlinks are resolved (``os.path.realpath``)
before the comparison, and a folder being read may not hold symlinks that lead out of
the roots. Object-store prefixes compare on ``bucket/key`` with ``..`` segments refused.

The metadata store (its SQLite file and journals), the audit key and anchor and the
secrets file are never inside a root, whatever the roots say (:func:`protected_paths`).

:class:`OutsideDataRoots` names the rule (``data-root``) and the location.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.errors import PipelineBuilderError

ROOTS_ENV = "PIPELINE_BUILDER_DATA_ROOTS"
INTERFACE_ENV = "PIPELINE_BUILDER_INTERFACE"
RULE = "data-root"
PROTECTED_RULE = "metadata-store"


class OutsideDataRoots(PipelineBuilderError):
    """A location lies outside every data root (or is one of the product's own files)."""

    rule = RULE

    def __init__(self, message: str, *, location: str = "", rule: str = RULE) -> None:
        self.location = location
        self.rule = rule
        super().__init__(message)

    def __reduce__(self):
        return (_rebuild, (str(self), self.location, self.rule))


def _rebuild(message: str, location: str, rule: str) -> OutsideDataRoots:
    return OutsideDataRoots(message, location=location, rule=rule)


@dataclass(frozen=True)
class Roots:
    """The roots one run may use: local folders (real paths) and ``s3://`` prefixes."""

    local: tuple[str, ...]
    object_store: tuple[str, ...]

    def describe(self) -> str:
        items = [*self.local, *self.object_store]
        return ", ".join(items) if items else "none configured"


def api_interface() -> bool:
    """True inside API replicas and the execution actors they start."""
    return os.environ.get(INTERFACE_ENV, "").lower() == "api"


def _home() -> Path:
    from engine.context import pipeline_home

    return pipeline_home()


def configured() -> list[str]:
    """The operator's roots as written in ``PIPELINE_BUILDER_DATA_ROOTS``."""
    return [r.strip() for r in (os.environ.get(ROOTS_ENV) or "").split(",") if r.strip()]


def roots_for(base_dir: str | os.PathLike[str] | None = None, *, api: bool | None = None) -> Roots:
    """The roots of a run whose relative paths resolve against ``base_dir``.

    Args:
        base_dir: The spec's folder (CLI, driver scripts); ignored for API runs.
        api: Force the API's rules (default: :func:`api_interface`).
    """
    api = api_interface() if api is None else api
    local: list[str] = []
    store: list[str] = []
    for r in configured():
        if r.rstrip("/*") in ("s3:", "s3://"):
            store.append("s3://")  # every bucket
        elif r.startswith("s3://"):
            store.append(_s3_key(r, r).rstrip("/") + "/")
        else:
            local.append(os.path.realpath(_strip_file(r)))
    if not api:
        local.append(os.path.realpath(_home() / "data"))
        if base_dir is not None:
            local.append(os.path.realpath(base_dir))
    return Roots(tuple(dict.fromkeys(local)), tuple(dict.fromkeys(store)))


def protected_paths() -> list[str]:
    """Real paths no pipeline may read or write: the metadata store and the product's keys."""
    home = _home()
    out = [
        home / "metadata.db",
        home / "audit.key",
        home / "audit-anchor.json",
        home / "secrets",
    ]
    url = os.environ.get("PIPELINE_BUILDER_DB_URL") or ""
    if url.startswith("sqlite") and "///" in url:
        db = url.split("///", 1)[1].split("?", 1)[0]
        if db and db != ":memory:":
            out += [Path(db), Path(db).parent / "audit.key", Path(db).parent / "audit-anchor.json"]
    for env in ("PIPELINE_BUILDER_AUDIT_KEY_FILE", "PIPELINE_BUILDER_AUDIT_ANCHOR"):
        if os.environ.get(env):
            out.append(Path(os.environ[env]))
    if os.environ.get("PIPELINE_BUILDER_SECRETS_FILE"):
        out.append(Path(os.environ["PIPELINE_BUILDER_SECRETS_FILE"]))
    real: list[str] = []
    for p in out:
        rp = os.path.realpath(p)
        real.append(rp)
        if rp.endswith(".db"):
            real += [rp + "-wal", rp + "-shm", rp + "-journal"]
    return real


def _strip_file(uri: str) -> str:
    if uri.startswith("file://"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise OutsideDataRoots(
                f"{RULE}: {uri!r} names a remote host in a file URL", location=uri
            )
        return unquote(parts.path)
    if uri.startswith("file:"):
        return unquote(uri[len("file:") :])
    return uri


def _s3_key(uri: str, shown: str) -> str:
    rest = uri[len("s3://") :]
    segments = rest.split("/")
    if any(s in ("..", ".") for s in segments):
        raise OutsideDataRoots(
            f"{RULE}: {shown!r} contains '.' or '..' segments; not allowed in object-store keys",
            location=shown,
        )
    return "s3://" + posixpath.normpath(rest) if rest else "s3://"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def normalise(uri: str, base_dir: str | os.PathLike[str] | None = None) -> str:
    """The location as compared with the roots: a real local path or an ``s3://`` key."""
    if uri.startswith("s3://"):
        return _s3_key(uri, uri)
    scheme = urlsplit(uri).scheme
    if len(scheme) > 1 and scheme != "file":
        raise OutsideDataRoots(
            f"{RULE}: {uri!r}: scheme {scheme!r} is not a data-root location "
            "(expected a path, file:// or s3://)",
            location=uri,
        )
    path = _strip_file(uri)
    if "\x00" in path:
        raise OutsideDataRoots(f"{RULE}: {uri!r} contains a NUL byte", location=uri)
    if not os.path.isabs(path):
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        path = str(base / path)
    return os.path.realpath(path)


def check(
    uri: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    roots: Roots | None = None,
    what: str = "location",
    scan_links: bool = False,
) -> str:
    """Return the normalised location of ``uri`` if it lies inside the roots.

    Args:
        uri: Path, ``file://`` URL or ``s3://`` URI (relative paths join ``base_dir``).
        base_dir: Folder relative paths resolve against (and, outside the API, a root).
        roots: The roots (default :func:`roots_for` ``(base_dir)``).
        what: What the location is for (``node 'load': input``), for the message.
        scan_links: For a folder being read: also refuse symlinks inside it that lead
            out of the roots.

    Raises:
        OutsideDataRoots: the location is outside every root, or is the metadata store.
    """
    roots = roots or roots_for(base_dir)
    loc = normalise(uri, base_dir)
    if loc.startswith("s3://"):
        key = loc.rstrip("/") + "/"
        if not any(key.startswith(r) for r in roots.object_store):
            raise OutsideDataRoots(
                f"{RULE}: {what} {uri!r} is outside the data roots ({roots.describe()}); "
                f"the operator sets object-store prefixes in {ROOTS_ENV}",
                location=uri,
            )
        return uri
    _refuse_protected(loc, uri, what)
    if not any(_inside(loc, r) for r in roots.local):
        raise OutsideDataRoots(
            f"{RULE}: {what} {uri!r} resolves to {loc}, outside the data roots "
            f"({roots.describe()}); the operator sets roots in {ROOTS_ENV}",
            location=uri,
        )
    if scan_links and os.path.isdir(loc):
        _scan(loc, uri, roots, what)
    return loc


def _refuse_protected(loc: str, uri: str, what: str) -> None:
    for p in protected_paths():
        if _inside(loc, p) or _inside(p, loc):
            raise OutsideDataRoots(
                f"{PROTECTED_RULE}: {what} {uri!r} is the product's metadata store or key "
                "material, which is never a data location",
                location=uri,
                rule=PROTECTED_RULE,
            )


def _scan(folder: str, uri: str, roots: Roots, what: str, limit: int = 100_000) -> None:
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames]:
            seen += 1
            if seen > limit:
                return
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                target = os.path.realpath(full)
                _refuse_protected(target, uri, what)
                if not any(_inside(target, r) for r in roots.local):
                    raise OutsideDataRoots(
                        f"{RULE}: {what} {uri!r} holds a symlink {full} that leads to "
                        f"{target}, outside the data roots ({roots.describe()})",
                        location=uri,
                    )


def for_node(
    ctx: Any,
    uri: str,
    *,
    storage: dict[str, Any] | None = None,
    what: str = "input",
    scan_links: bool = False,
) -> str:
    """Check a node's location: data roots for paths and ``s3://``, the egress guard for
    ``http(s)://`` and for a storage ``endpointUrl``. Returns the location to use (the
    resolved real path for local files).

    Raises:
        NodeConfigError: naming the node, the rule (``data-root``, ``metadata-store`` or
            ``egress``) and the location.
    """
    from engine import egress
    from engine.errors import NodeConfigError

    scheme = urlsplit(uri).scheme.lower()
    try:
        endpoint = (storage or {}).get("endpointUrl")
        if endpoint:
            egress.check_url(str(endpoint), what=f"{what} storage endpoint")
        if scheme in ("http", "https"):
            egress.check_url(uri, what=f"{what}")
            return uri
        loc = check(
            uri,
            base_dir=ctx.options.base_dir,
            what=what,
            scan_links=scan_links,
        )
    except (OutsideDataRoots, egress.EgressRefused) as exc:
        raise NodeConfigError(ctx.node_id, str(exc)) from None
    return uri if uri.startswith("s3://") else loc


def check_many(uris: Iterable[str], **kwargs: Any) -> list[str]:
    """:func:`check` for each location."""
    return [check(u, **kwargs) for u in uris]


__all__ = [
    "INTERFACE_ENV",
    "PROTECTED_RULE",
    "ROOTS_ENV",
    "RULE",
    "OutsideDataRoots",
    "Roots",
    "api_interface",
    "check",
    "check_many",
    "configured",
    "for_node",
    "normalise",
    "protected_paths",
    "roots_for",
]
