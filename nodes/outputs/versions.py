"""Versioned deployment layout of an environment: immutable versions + a CURRENT pointer.

Layout under an environment URI (a local folder or ``s3://bucket/prefix``)::

    <uri>/versions/<version>/part-*.parquet   data files, never modified once written
    <uri>/versions/<version>/_manifest.json   files + sha256, rows, schema, execution id
    <uri>/CURRENT                             JSON pointer {version, previous, history...}

A version becomes visible to readers only when ``CURRENT`` names it. ``CURRENT`` is
replaced atomically: locally by writing a temp file, fsync and ``os.replace``; on S3 by a
conditional ``PutObject`` (``If-None-Match: *`` for the first deploy, ``If-Match: <etag>``
afterwards) so two concurrent deploys cannot silently overwrite each other. Servers that
do not implement conditional writes (HTTP 501) fall back to a plain put; that is logged.

Readers call :func:`resolve_current` and read the folder it returns.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow.fs as pafs

from engine.errors import PipelineBuilderError

log = logging.getLogger(__name__)

POINTER = "CURRENT"
MANIFEST = "_manifest.json"
VERSIONS = "versions"
_HISTORY_LIMIT = 50


class DeploymentError(PipelineBuilderError):
    """An environment cannot be deployed, resolved or rolled back."""


class ConcurrentDeployment(DeploymentError):
    """``CURRENT`` changed between reading it and replacing it."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def new_version_id(execution_id: str | None = None) -> str:
    """A sortable, unique version name: ``20260101T120000123456Z-<suffix>``."""
    suffix = (execution_id or uuid.uuid4().hex)[-8:]
    return f"{_utcnow().strftime('%Y%m%dT%H%M%S%fZ')}-{suffix}"


@dataclass(frozen=True)
class Location:
    """An environment URI split into a pyarrow filesystem and a root path."""

    uri: str
    fs: pafs.FileSystem
    root: str

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def uri_of(self, *parts: str) -> str:
        return "/".join([self.uri.rstrip("/"), *parts])


def locate(uri: str) -> Location:
    """Split ``uri`` (absolute local path, ``file://`` or ``s3://``) into fs + root."""
    from engine import storage

    uri = uri.rstrip("/")
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    try:
        fs, root = storage.filesystem(uri)
    except ValueError as exc:
        raise DeploymentError(f"environment URI {uri!r}: {exc}") from None
    return Location(uri if uri.startswith("s3://") else root, fs, root)


# ---------------------------------------------------------------- pointer I/O


def _s3_client() -> Any:
    from engine import storage

    return storage.smart_open_params("s3://bucket")["client"]


def _split_s3(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    return bucket, key


def _read_pointer_raw(loc: Location) -> tuple[dict[str, Any] | None, str | None]:
    """The pointer and an opaque token (etag/None) for a conditional replace."""
    if loc.is_s3:
        from botocore.exceptions import ClientError

        bucket, key = _split_s3(loc.path(POINTER))
        try:
            obj = _s3_client().get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, None
            raise
        return json.loads(obj["Body"].read()), obj["ETag"]
    path = loc.path(POINTER)
    try:
        with open(path, "rb") as f:
            return json.loads(f.read()), None
    except FileNotFoundError:
        return None, None


def read_pointer(uri: str) -> dict[str, Any] | None:
    """The parsed ``CURRENT`` pointer of an environment, or None before the first deploy."""
    return _read_pointer_raw(locate(uri))[0]


@contextlib.contextmanager
def _pointer_lock(loc: Location) -> Iterator[None]:
    """Serialises pointer changes of one local environment across processes."""
    if loc.is_s3:
        yield  # S3 uses conditional writes instead of a lock
        return
    import fcntl

    os.makedirs(loc.root, exist_ok=True)
    with open(loc.path(".lock"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_pointer(
    loc: Location, pointer: dict[str, Any], token: str | None, existed: bool
) -> None:
    body = json.dumps(pointer, indent=2, sort_keys=True).encode()
    if loc.is_s3:
        _s3_conditional_put(loc, body, token, existed)
        return
    atomic_write_local(loc.path(POINTER), body)


def atomic_write_local(path: str, body: bytes) -> None:
    """Replace ``path`` with ``body`` so readers see the old or the new bytes, never a mix."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # fsync the folder so the rename itself survives a power loss
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _s3_conditional_put(loc: Location, body: bytes, etag: str | None, existed: bool) -> None:
    from botocore.exceptions import ClientError

    bucket, key = _split_s3(loc.path(POINTER))
    client = _s3_client()
    cond = {"IfMatch": etag} if existed and etag else {"IfNoneMatch": "*"}
    try:
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **cond)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
            raise ConcurrentDeployment(
                f"{loc.uri}/{POINTER} changed during the deploy (conditional write refused); "
                "another deploy won, retry"
            ) from None
        if status == 501 or code == "NotImplemented":
            log.warning("%s does not support conditional writes; plain put used", loc.uri)
            client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
            return
        raise


# ---------------------------------------------------------------- manifests


def sha256_of(fs: pafs.FileSystem, path: str, chunk: int = 1 << 20) -> str:
    """Streaming sha256 of one file."""
    h = hashlib.sha256()
    with fs.open_input_stream(path) as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def data_files(loc: Location, version: str) -> list[pafs.FileInfo]:
    """Data files of a version (manifest and hidden files excluded), sorted by path."""
    sel = pafs.FileSelector(loc.path(VERSIONS, version), recursive=True, allow_not_found=True)
    infos = [
        i
        for i in loc.fs.get_file_info(sel)
        if i.type == pafs.FileType.File and not i.base_name.startswith(("_", "."))
    ]
    return sorted(infos, key=lambda i: i.path)


def build_manifest(
    loc: Location,
    version: str,
    *,
    rows: int,
    schema: list[dict[str, Any]],
    fmt: str,
    execution_id: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Describe a written version: every data file with size and sha256."""
    prefix = loc.path(VERSIONS, version) + "/"
    files = [
        {"path": i.path[len(prefix) :], "size": i.size, "sha256": sha256_of(loc.fs, i.path)}
        for i in data_files(loc, version)
    ]
    return {
        "version": version,
        "createdAt": _iso(_utcnow()),
        "executionId": execution_id,
        "format": fmt,
        "rows": rows,
        "schema": schema,
        "files": files,
        **(extra or {}),
    }


def write_manifest(loc: Location, version: str, manifest: dict[str, Any]) -> None:
    """Write the manifest last: a version folder without one is incomplete."""
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    path = loc.path(VERSIONS, version, MANIFEST)
    if loc.is_s3:
        with loc.fs.open_output_stream(path) as f:
            f.write(body)
    else:
        atomic_write_local(path, body)


def read_manifest(uri: str, version: str) -> dict[str, Any] | None:
    """The manifest of ``version``, or None if the version is incomplete or absent."""
    loc = locate(uri)
    try:
        with loc.fs.open_input_stream(loc.path(VERSIONS, version, MANIFEST)) as f:
            return json.loads(f.read())
    except (FileNotFoundError, OSError):
        return None


def verify_manifest(uri: str, version: str) -> list[str]:
    """Problems found re-hashing a version's files against its manifest (empty = intact)."""
    loc = locate(uri)
    manifest = read_manifest(uri, version)
    if manifest is None:
        return [f"version {version} has no manifest"]
    problems = []
    for entry in manifest["files"]:
        path = loc.path(VERSIONS, version, entry["path"])
        try:
            digest = sha256_of(loc.fs, path)
        except (FileNotFoundError, OSError):
            problems.append(f"{entry['path']}: missing")
            continue
        if digest != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 {digest} != manifest {entry['sha256']}")
    return problems


# ---------------------------------------------------------------- pointer operations


def resolve_current(uri: str) -> str:
    """URI of the folder readers should read: the version ``CURRENT`` names.

    Raises:
        DeploymentError: nothing has been deployed to ``uri`` yet.
    """
    loc = locate(uri)
    pointer, _ = _read_pointer_raw(loc)
    if not pointer:
        raise DeploymentError(f"environment at {uri} has no {POINTER} version yet; deploy first")
    return loc.uri_of(VERSIONS, pointer["version"])


def flip_current(
    uri: str,
    version: str,
    *,
    execution_id: str | None = None,
    expected_version: str | None = None,
    reason: str = "deploy",
) -> dict[str, Any]:
    """Point ``CURRENT`` at ``version`` atomically, keeping the old version as previous.

    Args:
        uri: Environment URI.
        version: A complete version (its manifest must exist).
        execution_id: Recorded in the pointer.
        expected_version: If given, the flip fails when ``CURRENT`` no longer names it.
        reason: ``deploy``, ``direct`` (forget the previous version) or ``rollback``.

    Returns:
        The new pointer.
    """
    loc = locate(uri)
    if read_manifest(uri, version) is None:
        raise DeploymentError(f"version {version} at {uri} is incomplete (no manifest)")
    with _pointer_lock(loc):
        old, token = _read_pointer_raw(loc)
        old_version = old["version"] if old else None
        if expected_version is not None and old_version != expected_version:
            raise ConcurrentDeployment(
                f"{uri}: CURRENT is {old_version!r}, expected {expected_version!r}"
            )
        history = list(old.get("history", [])) if old else []
        if reason == "rollback":
            history = history[:-1]
            previous = _previous_in(history, version)
        elif reason == "direct":
            # a direct deploy replaces in place: nothing to roll back to
            history, previous = [version], None
        else:
            history.append(version)
            previous = old_version
        pointer = {
            "version": version,
            "previous": previous,
            "history": history[-_HISTORY_LIMIT:],
            "updatedAt": _iso(_utcnow()),
            "executionId": execution_id,
            "reason": reason,
        }
        _write_pointer(loc, pointer, token, existed=old is not None)
    return pointer


def _previous_in(history: list[str], version: str) -> str | None:
    earlier = [v for v in history if v != version]
    return earlier[-1] if earlier else None


def rollback(uri: str, *, to_version: str | None = None) -> dict[str, Any]:
    """Point ``CURRENT`` back at the previous version (or ``to_version``).

    Returns:
        The new pointer; ``rolledBackFrom`` names the version that was current.
    """
    pointer = read_pointer(uri)
    if not pointer:
        raise DeploymentError(f"environment at {uri} was never deployed; nothing to roll back")
    target = to_version or pointer.get("previous")
    if not target:
        raise DeploymentError(
            f"environment at {uri} has no previous version to roll back to "
            f"(current {pointer['version']})"
        )
    if read_manifest(uri, target) is None:
        raise DeploymentError(f"version {target} at {uri} is missing or incomplete")
    if to_version is not None and to_version not in pointer.get("history", []):
        # an explicit target outside the history becomes a plain deploy of that version
        new = flip_current(uri, target, expected_version=pointer["version"], reason="deploy")
    else:
        new = flip_current(uri, target, expected_version=pointer["version"], reason="rollback")
    new["rolledBackFrom"] = pointer["version"]
    return new


def list_versions(uri: str) -> list[dict[str, Any]]:
    """Every version folder, oldest first: version, complete, createdAt, rows, current."""
    loc = locate(uri)
    pointer = read_pointer(uri) or {}
    sel = pafs.FileSelector(loc.path(VERSIONS), allow_not_found=True)
    names = sorted(
        i.base_name for i in loc.fs.get_file_info(sel) if i.type == pafs.FileType.Directory
    )
    out = []
    for name in names:
        m = read_manifest(uri, name)
        out.append(
            {
                "version": name,
                "complete": m is not None,
                "createdAt": m.get("createdAt") if m else None,
                "rows": m.get("rows") if m else None,
                "executionId": m.get("executionId") if m else None,
                "current": name == pointer.get("version"),
                "previous": name == pointer.get("previous"),
            }
        )
    return out


def _version_time(name: str) -> datetime | None:
    try:
        return datetime.strptime(name.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(
            tzinfo=timezone.utc
        )
    except ValueError:
        return None


def apply_retention(
    uri: str,
    *,
    keep_versions: int | None = None,
    max_age_days: float | None = None,
    now: datetime | None = None,
    incomplete_grace_seconds: float = 3600.0,
) -> list[str]:
    """Remove old versions; never the current or previous one.

    A version is kept if it is among the newest ``keep_versions`` complete versions and
    younger than ``max_age_days`` (either limit may be None = unlimited). Incomplete
    versions (crashed deploys) older than ``incomplete_grace_seconds`` are removed too.

    Returns:
        Names of removed versions.
    """
    loc = locate(uri)
    now = now or _utcnow()
    pointer = read_pointer(uri) or {}
    protected = {pointer.get("version"), pointer.get("previous")}
    versions = list_versions(uri)
    complete = [v["version"] for v in versions if v["complete"]]
    keep_recent = set(complete[-keep_versions:]) if keep_versions else set(complete)
    removed = []
    for v in versions:
        name = v["version"]
        if name in protected:
            continue
        born = _version_time(name)
        age = (now - born).total_seconds() if born else 0.0
        if not v["complete"]:
            drop = age > incomplete_grace_seconds
        else:
            too_old = max_age_days is not None and age > max_age_days * 86400
            drop = name not in keep_recent or too_old
        if drop:
            loc.fs.delete_dir(loc.path(VERSIONS, name))
            removed.append(name)
    if not loc.is_s3:
        _remove_stale_temp_files(loc.root, now.timestamp() - incomplete_grace_seconds)
    if removed:
        log.info("retention removed %d version(s) from %s", len(removed), uri)
    return removed


def _remove_stale_temp_files(folder: str, older_than: float) -> None:
    """Temp pointer files left by a process killed mid-flip (never read by anyone)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if name.startswith(".tmp-") and os.path.getmtime(path) < older_than:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def remove_version(uri: str, version: str) -> None:
    """Delete one version folder (used for versions that failed their gates)."""
    loc = locate(uri)
    pointer = read_pointer(uri) or {}
    if version in (pointer.get("version"), pointer.get("previous")):
        raise DeploymentError(f"version {version} at {uri} is current or previous; not removed")
    with contextlib.suppress(FileNotFoundError):
        loc.fs.delete_dir(loc.path(VERSIONS, version))
