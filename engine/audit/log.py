"""Append-only audit log on the metadata database: an HMAC-keyed chain with a signed anchor.

Every entry records who (API key id / ``triggeredBy``), what (action, resource type and
id), when, the outcome and the request id, plus the hash of the previous entry. Its own
hash is an HMAC-SHA256, keyed with a server secret that never enters the database, over
all of that (canonical JSON), so the entries form a chain nobody without the key can
recompute:

- editing any field of an entry (even recomputing plain hashes) breaks its HMAC;
- deleting or renumbering entries breaks the sequence and the previous-hash links;
- the head of the chain (first and newest sequence number and hash) is anchored outside
  the database in a signed checkpoint file after every append and every purge; deleting
  the newest entries, the oldest ones, or everything, and "fixing" the ``audit_head`` row
  to match, no longer agrees with the signed anchor.

The key: ``PIPELINE_BUILDER_AUDIT_KEY`` (the secret itself), or the file named by
``PIPELINE_BUILDER_AUDIT_KEY_FILE``, default ``$PIPELINE_BUILDER_HOME/audit.key`` (created
with 32 random bytes, mode 0600, on first use). The anchor: the file named by
``PIPELINE_BUILDER_AUDIT_ANCHOR``, default ``$PIPELINE_BUILDER_HOME/audit-anchor.json``;
it holds one HMAC-signed checkpoint per database. Keep both off the database host's
backups of the database (an operator may point the anchor at another volume).

:func:`verify` walks the chain and names the first bad entry or the missing range.

Chains begun before the key existed start with unkeyed entries (a plain SHA-256 over
the same fields). They are neither rewritten nor re-keyed (that would vouch for entries
nobody can check): :meth:`AuditLog.verify` accepts such a prefix only when a keyed entry
follows it and links to its last hash, and reports it as "entries 1..N predate keyed
entries (unkeyed legacy range)". The first keyed entry seals the range: any later change
to it breaks the link, while a change made before the upgrade cannot be detected. An
unkeyed prefix with no keyed entry after it fails (nothing vouches for it); unkeyed
entries after a keyed one are always tampering.
Retention (:func:`retention_days`: ``PIPELINE_BUILDER_AUDIT_RETENTION_DAYS``, or a
framework preset such as HIPAA = 6 years, SOX = 7 years) is enforced by
:meth:`AuditLog.purge`, which removes only the oldest entries and moves the chain's
start both in ``audit_head`` and in the signed anchor (the purge itself is audited).

The tables (``audit_log``, ``audit_head``) are part of the metadata store's schema
(:mod:`engine.store.schema`) and come and change with its migrations.

Times: ``at`` is stored, like every time of the store, as ISO 8601 UTC text
(``2026-01-15T14:30:00.123456Z``); releases before schema migration 4 stored epoch
seconds as a float, and that migration converts the column in place. The hash covers
the stored canonical form: an entry written now hashes ``at`` as the text it stores.
An entry written before the change hashed ``at`` as epoch seconds (a JSON number);
:func:`engine.store.times.epoch_from_iso` recovers that number exactly from the
converted text, so :meth:`AuditLog.verify` accepts either form and every existing
chain (keyed, or with an unkeyed legacy prefix) still verifies without rehashing any
entry. Accepting both forms gives a forger nothing: each is an HMAC under the key (or,
for the unkeyed prefix, sealed by the first keyed entry), and both name the same time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from engine.store.schema import audit_entries as entries
from engine.store.schema import audit_head as head
from engine.store.store import migrate
from engine.store.times import epoch_from_iso, iso_from_epoch

log = logging.getLogger(__name__)

GENESIS = "0" * 64
KEY_ENV = "PIPELINE_BUILDER_AUDIT_KEY"
KEY_FILE_ENV = "PIPELINE_BUILDER_AUDIT_KEY_FILE"
ANCHOR_ENV = "PIPELINE_BUILDER_AUDIT_ANCHOR"
RETENTION_ENV = "PIPELINE_BUILDER_AUDIT_RETENTION_DAYS"
RETENTION_PRESETS = {"HIPAA": 6 * 365 + 2, "SOX": 7 * 365 + 2, "GDPR": 3 * 365, "PCI": 365}


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry."""

    seq: int
    entry_id: str
    at: str  # as stored: ISO 8601 UTC (numeric text only if written by hand with SQL)
    actor: str
    action: str
    resource_type: str
    resource_id: str
    outcome: str
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {
            "seq": d.pop("seq"),
            "id": d.pop("entry_id"),
            "at": _shown_time(d.pop("at")),
            "actor": d.pop("actor"),
            "action": d.pop("action"),
            "resourceType": d.pop("resource_type"),
            "resourceId": d.pop("resource_id"),
            "outcome": d.pop("outcome"),
            "requestId": d.pop("request_id"),
            "details": d.pop("details"),
            "prevHash": d.pop("prev_hash"),
            "hash": d.pop("hash"),
        }


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found: ``ok``, entries checked, and the first bad entry."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None
    legacy_range: tuple[int, int] | None = None  # unkeyed entries sealed by a keyed one

    def __str__(self) -> str:
        if self.ok:
            text = f"audit log intact: {self.checked} entries verified"
            if self.legacy_range:
                a, b = self.legacy_range
                text += (
                    f"; entries {a}..{b} predate keyed entries (unkeyed legacy range): "
                    f"chained with plain SHA-256 and sealed by keyed entry {b + 1}, so they "
                    "are unchanged since then; changes made before the audit key existed "
                    "cannot be detected"
                )
            return text
        who = f"entry {self.first_bad_seq}" + (
            f" ({self.first_bad_id})" if self.first_bad_id else ""
        )
        return f"audit log TAMPERED at {who}: {self.problem}"


_FIELDS = (
    "seq",
    "entry_id",
    "at",
    "actor",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "request_id",
    "details",
    "prev_hash",
)


def _home() -> Path:
    from engine.context import pipeline_home

    return pipeline_home()


def state_dir(engine: Engine | None = None) -> Path:
    """Where the key and anchor live by default: beside a SQLite database file (the home,
    normally), else the home."""
    if engine is not None and engine.url.get_backend_name() == "sqlite":
        db = engine.url.database or ""
        if db.startswith("file:"):
            db = db[len("file:") :].split("?", 1)[0]
        if db and db != ":memory:":
            return Path(db).resolve().parent
    return _home()


def key_path(base: Path | None = None) -> Path:
    """Where the audit key lives (unless ``PIPELINE_BUILDER_AUDIT_KEY`` holds it)."""
    raw = os.environ.get(KEY_FILE_ENV)
    return Path(raw) if raw else (base or _home()) / "audit.key"


def anchor_path(base: Path | None = None) -> Path:
    """The signed anchor file."""
    raw = os.environ.get(ANCHOR_ENV)
    return Path(raw) if raw else (base or _home()) / "audit-anchor.json"


def audit_key(base: Path | None = None) -> bytes:
    """The server secret that keys the chain (created on first use when it is a file)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    path = key_path(base)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def _epoch_at(at: Any) -> Any:
    """``at`` as entries before schema migration 4 hashed it: epoch seconds.

    Stored ISO text converts exactly; a number (or numeric text written with SQL) is
    taken as epoch seconds; anything else stays as it is (and so fails to verify).
    """
    try:
        return float(at)
    except (TypeError, ValueError):
        pass
    try:
        return epoch_from_iso(at)
    except (TypeError, ValueError):
        return at


def _shown_time(at: Any) -> Any:
    """A stored ``at`` as ISO 8601 UTC text (a number written with SQL converted)."""
    try:
        epoch = float(at)
    except (TypeError, ValueError):
        return at  # ISO text already (or something unreadable: shown as it is)
    try:
        return iso_from_epoch(epoch)
    except (ArithmeticError, OverflowError, ValueError):
        return at


HASH_FORMS = ("stored", "epoch")  # how ``at`` enters the hash; see the module docstring


def _canonical(row: dict[str, Any], form: str = "stored") -> bytes:
    """The hashed message: every field but the hash; ``at`` in the given form."""
    body = {k: row[k] for k in _FIELDS}
    if form == "epoch":
        body["at"] = _epoch_at(body["at"])
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(row: dict[str, Any], key: bytes | None = None, *, form: str = "stored") -> str:
    """HMAC-SHA256 (keyed with :func:`audit_key`) over every field but the hash itself."""
    key = key if key is not None else audit_key()
    return hmac.new(key, _canonical(row, form), hashlib.sha256).hexdigest()


def legacy_hash(row: dict[str, Any], *, form: str = "stored") -> str:
    """The unkeyed hash of entries written before the audit key existed: plain SHA-256
    over the same fields (canonical JSON)."""
    return hashlib.sha256(_canonical(row, form)).hexdigest()


def _is_keyed(entry: AuditEntry, key: bytes) -> bool:
    """The entry's hash is its HMAC in one of :data:`HASH_FORMS`."""
    row = asdict(entry)
    return any(hmac.compare_digest(entry_hash(row, key, form=f), entry.hash) for f in HASH_FORMS)


def _is_legacy(entry: AuditEntry) -> bool:
    """The entry's hash is its plain SHA-256 in one of :data:`HASH_FORMS`."""
    row = asdict(entry)
    return any(hmac.compare_digest(legacy_hash(row, form=f), entry.hash) for f in HASH_FORMS)


def _stored_time(ts: float) -> str:
    """Epoch seconds as the stored ISO text, at the microsecond (fixed width, sortable)."""
    return iso_from_epoch(round(ts, 6))


def _sign(doc: dict[str, Any], key: bytes) -> str:
    msg = b"audit-anchor:" + json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def chain_name(engine: Engine) -> str:
    """The anchor's name for a database: its URL without a password."""
    return engine.url.render_as_string(hide_password=True)


@contextlib.contextmanager
def _locked(path: Path) -> Any:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_anchor(name: str, key: bytes, path: Path | None = None) -> dict[str, Any] | None:
    """The signed checkpoint of chain ``name``; raises ValueError if its signature fails."""
    path = path or anchor_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        raise ValueError(f"the anchor file {path} is not valid JSON") from None
    entry = (doc.get("chains") or {}).get(name)
    if entry is None:
        return None
    mac = entry.get("mac", "")
    body = {k: v for k, v in entry.items() if k != "mac"}
    if body.get("chain") != name or not hmac.compare_digest(mac, _sign(body, key)):
        raise ValueError(f"the anchor of this database in {path} has a bad signature")
    return body


def write_anchor(
    name: str,
    key: bytes,
    *,
    first_seq: int,
    first_prev_hash: str,
    last_seq: int,
    last_hash: str,
    force: bool = False,
    path: Path | None = None,
) -> None:
    """Move the signed checkpoint forward (never back, unless ``force`` for a purge)."""
    path = path or anchor_path()
    with _locked(path):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            doc = {}
        chains = doc.setdefault("chains", {})
        old = chains.get(name)
        if old and not force and int(old.get("lastSeq", 0)) >= last_seq:
            return
        body = {
            "chain": name,
            "firstSeq": first_seq,
            "firstPrevHash": first_prev_hash,
            "lastSeq": last_seq,
            "lastHash": last_hash,
            "at": round(time.time(), 3),
        }
        chains[name] = {**body, "mac": _sign(body, key)}
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def retention_days(framework: str | None = None) -> int | None:
    """Days entries are kept: the env override, else the framework preset, else forever."""
    env = os.environ.get(RETENTION_ENV)
    if env:
        return int(env)
    if framework:
        return RETENTION_PRESETS.get(framework.upper())
    return None


class AuditLog:
    """The audit log on one SQLAlchemy engine (the store's schema migrated on first use)."""

    def __init__(self, engine: Engine, *, anchor: Path | None = None) -> None:
        self.engine = engine
        self.name = chain_name(engine)
        self.base = state_dir(engine)
        self.anchor = anchor or anchor_path(self.base)
        migrate(engine)

    def _anchor(self, *, force: bool = False) -> None:
        """Write the signed checkpoint of the current head (logged, never raised)."""
        try:
            with self.engine.connect().execution_options(pb_read=True) as conn:
                h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            if h is None:
                return
            write_anchor(
                self.name,
                audit_key(self.base),
                first_seq=h["first_seq"],
                first_prev_hash=h["first_prev_hash"],
                last_seq=h["last_seq"],
                last_hash=h["last_hash"],
                force=force,
                path=self.anchor,
            )
        except Exception:
            log.exception("could not write the audit anchor")

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        *,
        actor: str,
        outcome: str = "success",
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry (atomically with the chain head); return it."""
        for _ in range(20):  # lost a race for the next sequence number: try again
            try:
                entry = self._append(
                    action, resource_type, resource_id, actor, outcome, request_id, details or {}
                )
                self._anchor()
                return entry
            except IntegrityError:
                time.sleep(0.01)
        raise RuntimeError("could not append to the audit log: too much contention")

    def _append(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        actor: str,
        outcome: str,
        request_id: str | None,
        details: dict[str, Any],
    ) -> AuditEntry:
        key = audit_key(self.base)
        with self.engine.begin() as conn:
            h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            seq = (h["last_seq"] + 1) if h else 1
            prev = h["last_hash"] if h else GENESIS
            row = {
                "seq": seq,
                "entry_id": f"aud_{uuid.uuid4().hex[:20]}",
                "at": _stored_time(time.time()),
                "actor": actor or "anonymous",
                "action": action,
                "resource_type": resource_type,
                "resource_id": str(resource_id),
                "outcome": outcome,
                "request_id": request_id,
                "details": json.loads(json.dumps(details, default=str)),
                "prev_hash": prev,
            }
            row["hash"] = entry_hash(row, key)
            conn.execute(insert(entries).values(**{**row, "details": _dump(row["details"])}))
            if h:
                conn.execute(
                    update(head)
                    .where(head.c.id == 1, head.c.last_seq == h["last_seq"])
                    .values(last_seq=seq, last_hash=row["hash"])
                )
            else:
                conn.execute(
                    insert(head).values(
                        id=1,
                        last_seq=seq,
                        last_hash=row["hash"],
                        first_seq=1,
                        first_prev_hash=GENESIS,
                    )
                )
        return AuditEntry(**row)

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        outcome: str | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        """Entries matching every given filter (``action`` ending in ``*`` is a prefix)."""
        q = select(entries)
        for col, val in (
            (entries.c.actor, actor),
            (entries.c.resource_type, resource_type),
            (entries.c.resource_id, resource_id),
            (entries.c.outcome, outcome),
            (entries.c.request_id, request_id),
        ):
            if val is not None:
                q = q.where(col == val)
        if action is not None:
            q = q.where(
                entries.c.action.like(action[:-1] + "%")
                if action.endswith("*")
                else entries.c.action == action
            )
        if since is not None:
            q = q.where(entries.c.at >= _stored_time(since))
        if until is not None:
            q = q.where(entries.c.at < _stored_time(until))
        q = q.order_by(entries.c.seq.desc() if newest_first else entries.c.seq)
        q = q.limit(limit).offset(offset)
        with self.engine.connect().execution_options(pb_read=True) as conn:
            return [_entry(r) for r in conn.execute(q).mappings()]

    def verify(self) -> VerifyReport:
        """Walk the chain against the signed anchor; the first bad entry or missing range.

        An unkeyed prefix (entries written before the key existed) passes only when the
        first keyed entry follows it and links to it; the report names the range."""
        legacy: list[AuditEntry] = []
        report = self._walk(legacy)
        if not legacy:
            return report
        if report.ok:
            return VerifyReport(True, report.checked, legacy_range=(legacy[0].seq, legacy[-1].seq))
        return report

    def _walk(self, legacy: list[AuditEntry]) -> VerifyReport:
        """The chain walk of :meth:`verify`; fills ``legacy`` with the unkeyed prefix that
        a keyed entry seals."""
        key = audit_key(self.base)
        try:
            anchor = read_anchor(self.name, key, self.anchor)
        except ValueError as exc:
            return VerifyReport(False, 0, None, None, f"{exc} (the anchor was tampered with)")
        with self.engine.connect().execution_options(pb_read=True) as conn:
            h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            rows = conn.execute(select(entries).order_by(entries.c.seq)).mappings()
            if anchor is not None:
                expect_seq, prev = int(anchor["firstSeq"]), str(anchor["firstPrevHash"])
            else:
                expect_seq = h["first_seq"] if h else 1
                prev = h["first_prev_hash"] if h else GENESIS
            checked = 0
            last_seen: AuditEntry | None = None
            keyed_seen = False
            pending: list[AuditEntry] = []  # unkeyed prefix not yet sealed by a keyed entry

            def unsealed() -> VerifyReport:
                first = pending[0]
                if anchor is None and not keyed_seen:
                    return VerifyReport(
                        False,
                        len(pending),
                        first.seq,
                        first.entry_id,
                        f"entries {first.seq}..{pending[-1].seq} predate keyed entries "
                        "(unkeyed legacy range) and no keyed entry seals them, so they "
                        "cannot be verified; the next entry written seals them",
                    )
                return VerifyReport(
                    False,
                    checked,
                    first.seq,
                    first.entry_id,
                    "its contents do not match its keyed hash (edited, renumbered or "
                    "forged without the audit key)",
                )

            for r in rows:
                e = _entry(r)
                if e.seq != expect_seq:
                    if e.seq > expect_seq:
                        return VerifyReport(
                            False,
                            checked,
                            expect_seq,
                            None,
                            f"entries {expect_seq}..{e.seq - 1} are missing (deleted); the "
                            f"next entry present is {e.seq}",
                        )
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        f"entry {e.seq} is out of sequence (expected {expect_seq}): "
                        "entries were renumbered or inserted",
                    )
                is_keyed = _is_keyed(e, key)
                if not is_keyed and not keyed_seen and e.prev_hash == prev and _is_legacy(e):
                    pending.append(e)  # unkeyed: passes only if a keyed entry seals it
                    if anchor is not None and e.seq == int(anchor["lastSeq"]):
                        return unsealed()  # the anchor was written by keyed entries
                    prev = e.hash
                    expect_seq += 1
                    checked += 1
                    last_seen = e
                    continue
                if not is_keyed:
                    if pending:
                        return unsealed()
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        "its contents do not match its keyed hash (edited, renumbered or "
                        "forged without the audit key)",
                    )
                if e.prev_hash != prev:
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        "its previous-hash does not match the entry before it (an entry "
                        "before it was deleted or replaced)"
                        + (
                            f"; entries {pending[0].seq}..{pending[-1].seq} before it are "
                            "unkeyed (legacy range) and were changed after this entry "
                            "sealed them"
                            if pending
                            else ""
                        ),
                    )
                if (
                    anchor is not None
                    and e.seq == int(anchor["lastSeq"])
                    and e.hash != anchor["lastHash"]
                ):
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        "it differs from the entry the signed anchor recorded",
                    )
                if pending and not keyed_seen:
                    legacy.extend(pending)  # sealed: this keyed entry links to them
                    pending = []
                keyed_seen = True
                prev = e.hash
                expect_seq += 1
                checked += 1
                last_seen = e
            if pending:
                return unsealed()
        if anchor is not None:
            last = int(anchor["lastSeq"])
            if expect_seq - 1 < last:
                first_missing = expect_seq
                what = (
                    "every entry was deleted"
                    if last_seen is None
                    else "the newest entries were deleted"
                )
                return VerifyReport(
                    False,
                    checked,
                    first_missing,
                    None,
                    f"entries {first_missing}..{last} are missing: {what} (the signed "
                    f"anchor records {last} as the newest entry)",
                )
        if h is None:
            if checked:
                return VerifyReport(False, checked, 1, None, "the chain head is missing")
            return VerifyReport(True, 0)
        if h["last_seq"] != expect_seq - 1 or h["last_hash"] != prev:
            return VerifyReport(
                False,
                checked,
                expect_seq,
                None,
                f"entries after {expect_seq - 1} up to {h['last_seq']} are "
                "missing (deleted) or the newest entry was edited",
            )
        if anchor is not None and (
            h["first_seq"] != int(anchor["firstSeq"])
            or h["first_prev_hash"] != anchor["firstPrevHash"]
        ):
            return VerifyReport(
                False,
                checked,
                int(anchor["firstSeq"]),
                None,
                "the chain head's start was moved without a signed purge",
            )
        if anchor is None and checked:
            return VerifyReport(
                False,
                checked,
                None,
                None,
                f"no signed anchor for this database in {self.anchor}: "
                "the anchor was deleted or the log was created elsewhere",
            )
        return VerifyReport(True, checked)

    def purge(self, *, older_than_days: float, actor: str = "system:retention") -> int:
        """Delete entries older than the retention period (oldest first); the count."""
        cutoff = _stored_time(time.time() - older_than_days * 86400)
        with self.engine.begin() as conn:
            h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            if h is None:
                return 0
            last_old = conn.execute(
                select(func.max(entries.c.seq)).where(
                    entries.c.at < cutoff, entries.c.seq < h["last_seq"]
                )
            ).scalar()
            if last_old is None:
                return 0
            anchor = conn.execute(
                select(entries.c.hash).where(entries.c.seq == last_old)
            ).scalar_one()
            n = conn.execute(delete(entries).where(entries.c.seq <= last_old)).rowcount
            conn.execute(
                update(head)
                .where(head.c.id == 1)
                .values(first_seq=last_old + 1, first_prev_hash=anchor)
            )
        self._anchor(force=True)
        self.record(
            "audit.purge",
            "audit",
            "audit_log",
            actor=actor,
            details={"deleted": n, "olderThanDays": older_than_days},
        )
        return int(n or 0)


def _dump(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"))


def _entry(r: Any) -> AuditEntry:
    d = dict(r)
    try:
        d["details"] = json.loads(d["details"])
    except (TypeError, ValueError):
        d["details"] = {"unparseable": d["details"]}
    return AuditEntry(**d)


def audit_engine() -> Engine:
    """The metadata database's engine (:func:`engine.store.get_engine`)."""
    from engine.store import get_engine

    return get_engine()


@functools.lru_cache(maxsize=8)
def _log_for(url: str) -> AuditLog:
    from engine.store import get_engine

    return AuditLog(get_engine(url))


def default_log() -> AuditLog:
    """The audit log of the configured metadata database."""
    from engine.store import database_url

    return _log_for(database_url())


def record(
    action: str,
    resource_type: str,
    resource_id: str,
    *,
    actor: str,
    outcome: str = "success",
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry to :func:`default_log` (see :meth:`AuditLog.record`)."""
    return default_log().record(
        action,
        resource_type,
        resource_id,
        actor=actor,
        outcome=outcome,
        request_id=request_id,
        details=details,
    )


def verify() -> VerifyReport:
    """Verify :func:`default_log` (see :meth:`AuditLog.verify`)."""
    return default_log().verify()


def list_entries(**filters: Any) -> list[AuditEntry]:
    """Entries of :func:`default_log` matching ``filters`` (see :meth:`AuditLog.entries`)."""
    return default_log().entries(**filters)
