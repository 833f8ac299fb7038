"""Append-only, hash-chained audit log on the metadata database.

Every entry records who (API key id / ``triggeredBy``), what (action, resource type and
id), when, the outcome and the request id, plus the hash of the previous entry. Its own
hash is SHA-256 over all of that (canonical JSON), so the entries form a chain:

- editing any field of an entry changes its hash: the entry no longer matches its
  stored hash, and the next entry's ``prev_hash`` no longer matches either;
- deleting an entry leaves a gap in the sequence numbers and breaks the chain;
- deleting the newest entries is caught by the ``audit_head`` row, which the same
  transaction that appends an entry updates with the newest sequence number and hash.

:func:`verify` walks the chain and names the first bad entry. Retention
(:func:`retention_days`: ``PIPELINE_BUILDER_AUDIT_RETENTION_DAYS``, or a framework
preset such as HIPAA = 6 years, SOX = 7 years) is enforced by :meth:`AuditLog.purge`,
which removes only the oldest entries and moves the chain's anchor in ``audit_head``
(the purge itself is audited).

The tables live in their own ``MetaData`` on the engine of :func:`engine.store.get_engine`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

GENESIS = "0" * 64
RETENTION_ENV = "PIPELINE_BUILDER_AUDIT_RETENTION_DAYS"
RETENTION_PRESETS = {"HIPAA": 6 * 365 + 2, "SOX": 7 * 365 + 2, "GDPR": 3 * 365, "PCI": 365}

metadata = MetaData()
entries = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("entry_id", String(40), nullable=False, unique=True),
    Column("at", Float, nullable=False, index=True),
    Column("actor", String(200), nullable=False, index=True),
    Column("action", String(100), nullable=False, index=True),
    Column("resource_type", String(100), nullable=False),
    Column("resource_id", String(200), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("request_id", String(100)),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("first_seq", Integer, nullable=False),
    Column("first_prev_hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry."""

    seq: int
    entry_id: str
    at: float
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
        d["at"] = (
            datetime.fromtimestamp(self.at, tz=timezone.utc).isoformat().replace("+00:00", "Z")
        )
        return {
            "seq": d.pop("seq"),
            "id": d.pop("entry_id"),
            "at": d.pop("at"),
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

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.checked} entries verified"
        who = f"entry {self.first_bad_seq}" + (
            f" ({self.first_bad_id})" if self.first_bad_id else ""
        )
        return f"audit log TAMPERED at {who}: {self.problem}"


def entry_hash(row: dict[str, Any]) -> str:
    """SHA-256 over every field but the hash itself (canonical JSON)."""
    body = {
        k: row[k]
        for k in (
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
    }
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def retention_days(framework: str | None = None) -> int | None:
    """Days entries are kept: the env override, else the framework preset, else forever."""
    env = os.environ.get(RETENTION_ENV)
    if env:
        return int(env)
    if framework:
        return RETENTION_PRESETS.get(framework.upper())
    return None


class AuditLog:
    """The audit log on one SQLAlchemy engine (tables created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

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
                return self._append(
                    action, resource_type, resource_id, actor, outcome, request_id, details or {}
                )
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
        with self.engine.begin() as conn:
            h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            seq = (h["last_seq"] + 1) if h else 1
            prev = h["last_hash"] if h else GENESIS
            row = {
                "seq": seq,
                "entry_id": f"aud_{uuid.uuid4().hex[:20]}",
                "at": round(time.time(), 6),
                "actor": actor or "anonymous",
                "action": action,
                "resource_type": resource_type,
                "resource_id": str(resource_id),
                "outcome": outcome,
                "request_id": request_id,
                "details": json.loads(json.dumps(details, default=str)),
                "prev_hash": prev,
            }
            row["hash"] = entry_hash(row)
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
            q = q.where(entries.c.at >= since)
        if until is not None:
            q = q.where(entries.c.at < until)
        q = q.order_by(entries.c.seq.desc() if newest_first else entries.c.seq)
        q = q.limit(limit).offset(offset)
        with self.engine.connect().execution_options(pb_read=True) as conn:
            return [_entry(r) for r in conn.execute(q).mappings()]

    def verify(self) -> VerifyReport:
        """Walk the chain; the first entry that was edited, deleted or re-ordered."""
        with self.engine.connect().execution_options(pb_read=True) as conn:
            h = conn.execute(select(head).where(head.c.id == 1)).mappings().first()
            rows = conn.execute(select(entries).order_by(entries.c.seq)).mappings()
            expect_seq = h["first_seq"] if h else 1
            prev = h["first_prev_hash"] if h else GENESIS
            checked = 0
            for r in rows:
                e = _entry(r)
                if e.seq != expect_seq:
                    return VerifyReport(
                        False,
                        checked,
                        expect_seq,
                        None,
                        f"entry {expect_seq} is missing (deleted); the next "
                        f"entry present is {e.seq}",
                    )
                if e.prev_hash != prev:
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        "its previous-hash does not match the entry before it",
                    )
                if entry_hash(asdict(e)) != e.hash:
                    return VerifyReport(
                        False,
                        checked,
                        e.seq,
                        e.entry_id,
                        "its contents do not match its hash (edited)",
                    )
                prev = e.hash
                expect_seq += 1
                checked += 1
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
        return VerifyReport(True, checked)

    def purge(self, *, older_than_days: float, actor: str = "system:retention") -> int:
        """Delete entries older than the retention period (oldest first); the count."""
        cutoff = time.time() - older_than_days * 86400
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
