"""A database made by releases before schema migration 4 upgrades in place.

Those releases created the audit and webhook outbox tables outside the migration list
(``create_all``) with times as epoch-seconds floats. The old tables are made here from
frozen copies of their old definitions, and the old rows written with SQL and hashed
here the way those releases hashed them (``at`` as a JSON number), not by the code under
test. Opening the store must migrate them, keep every row and keep the chain verifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.audit import AuditLog
from engine.audit.log import chain_name, write_anchor
from engine.store import get_engine, migrate
from engine.store import schema as s
from engine.store.times import iso_from_epoch
from engine.webhooks import WebhookStore

KEY = "test-audit-key"
FIELDS = (
    "seq", "entry_id", "at", "actor", "action", "resource_type", "resource_id",
    "outcome", "request_id", "details", "prev_hash",
)  # fmt: skip

old = sa.MetaData()
old_audit = sa.Table(
    "audit_log",
    old,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entry_id", sa.String(40), nullable=False, unique=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False, index=True),
    sa.Column("action", sa.String(100), nullable=False, index=True),
    sa.Column("resource_type", sa.String(100), nullable=False),
    sa.Column("resource_id", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(100)),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
old_head = sa.Table(
    "audit_head",
    old,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("first_seq", sa.Integer, nullable=False),
    sa.Column("first_prev_hash", sa.String(64), nullable=False),
)
old_endpoints = sa.Table(
    "webhook_endpoints",
    old,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
old_messages = sa.Table(
    "webhook_messages",
    old,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
old_deliveries = sa.Table(
    "webhook_deliveries",
    old,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(64), nullable=False, index=True),
    sa.Column("endpoint_id", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float),
)
old_attempts = sa.Table(
    "webhook_attempts",
    old,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(64), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("duration_ms", sa.Float),
    sa.Column("response_excerpt", sa.Text),
)

# Two unkeyed (pre-key) entries, then keyed ones; one time has more than microsecond
# digits (an unrounded time.time()), which must survive the conversion exactly.
OLD_TIMES = (1_700_000_000.0, 1_700_000_001.25, 1_700_000_002.123456, 1_700_000_003.1234567)
UNKEYED = 2


def _canonical(row: dict) -> bytes:
    body = {k: row[k] for k in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _old_chain() -> list[dict]:
    rows, prev = [], "0" * 64
    for seq, at in enumerate(OLD_TIMES, start=1):
        row = {
            "seq": seq, "entry_id": f"aud_old{seq:013d}", "at": at, "actor": "key_old",
            "action": "pipeline.create", "resource_type": "pipeline",
            "resource_id": f"p{seq}", "outcome": "success", "request_id": None,
            "details": {"version": seq}, "prev_hash": prev,
        }  # fmt: skip
        msg = _canonical(row)
        row["hash"] = (
            hashlib.sha256(msg).hexdigest()
            if seq <= UNKEYED
            else hmac.new(KEY.encode(), msg, hashlib.sha256).hexdigest()
        )
        rows.append(row)
        prev = row["hash"]
    return rows


def _make_old_database(eng: sa.Engine, anchor: Path) -> list[dict]:
    """The database as release 3 left it: store schema 3 and the old create_all tables."""
    assert migrate(eng, target=3) == 3
    old.create_all(eng)
    chain = _old_chain()
    past = time.time() - 60
    with eng.begin() as conn:
        for row in chain:
            conn.execute(old_audit.insert().values({**row, "details": json.dumps(row["details"])}))
        conn.execute(
            old_head.insert().values(
                id=1,
                last_seq=chain[-1]["seq"],
                last_hash=chain[-1]["hash"],
                first_seq=1,
                first_prev_hash="0" * 64,
            )
        )
        conn.execute(
            old_endpoints.insert().values(
                id="ep_old", url="https://hooks.example.com/x", secret="env:HOOK_SECRET",
                event_types=["pipeline.completed"], active=True, consecutive_failures=0,
                created_at=1_700_000_000.5, updated_at=1_700_000_000.5,
            )
        )  # fmt: skip
        conn.execute(
            old_messages.insert().values(
                id="msg_old", event_type="pipeline.completed", body="{}", created_at=past
            )
        )
        conn.execute(
            old_deliveries.insert().values(
                id="dlv_old", message_id="msg_old", endpoint_id="ep_old", status="pending",
                attempts=1, next_attempt_at=past, created_at=past,
            )
        )  # fmt: skip
        conn.execute(
            old_attempts.insert().values(
                delivery_id="dlv_old", attempt=1, at=past, status_code=500, error="HTTP 500"
            )
        )
    write_anchor(
        chain_name(eng),
        KEY.encode(),
        first_seq=1,
        first_prev_hash="0" * 64,
        last_seq=chain[-1]["seq"],
        last_hash=chain[-1]["hash"],
        path=anchor,
    )
    return chain


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.db"
    return str(request.getfixturevalue("pg_store_url"))


def _time_columns_are_text(eng: sa.Engine) -> bool:
    insp = sa.inspect(eng)
    for table, names in s._EPOCH_TIME_COLUMNS:
        types = {c["name"]: c["type"] for c in insp.get_columns(table.name)}
        if not all(isinstance(types[n], sa.String) for n in names):
            return False
    return True


def test_old_audit_and_outbox_tables_upgrade_in_place(
    db_url: str, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_BUILDER_AUDIT_KEY", KEY)
    eng = get_engine(db_url)
    anchor = tmp_path / "anchor.json"
    chain = _make_old_database(eng, anchor)
    assert not _time_columns_are_text(eng)

    log = AuditLog(eng, anchor=anchor)  # opening the audit log migrates the store
    with eng.connect() as conn:
        assert s.current_version(conn) == s.LATEST_VERSION
    assert _time_columns_are_text(eng)
    got = log.entries(newest_first=False)
    assert [e.at for e in got] == [iso_from_epoch(t) for t in OLD_TIMES]
    assert [e.hash for e in got] == [r["hash"] for r in chain]
    report = log.verify()
    assert report.ok and report.checked == len(chain), str(report)
    assert report.legacy_range == (1, UNKEYED)

    log.record("pipeline.update", "pipeline", "p1", actor="key_new")
    report = log.verify()
    assert report.ok and report.checked == len(chain) + 1, str(report)
    newest = log.entries(limit=1)[0]
    assert newest.at.endswith("Z") and len(newest.at) == len("2026-01-15T14:30:00.123456Z")
    in_old_range = log.entries(since=OLD_TIMES[1], until=1_700_000_003.0, newest_first=False)
    assert [e.seq for e in in_old_range] == [2, 3]

    hooks = WebhookStore(eng)
    [endpoint] = hooks.list_endpoints()
    assert endpoint["createdAt"] == "2023-11-14T22:13:20.500000Z"
    [due] = hooks.claim_due(now=time.time(), lease=30)
    assert due["id"] == "dlv_old"
    assert hooks.claim_due(now=time.time(), lease=30) == []  # the lease holds
    status = hooks.record_attempt(
        due, ok=True, status_code=200, error=None, duration_ms=1.0, excerpt=None,
        next_attempt_at=None, disable_after=5,
    )  # fmt: skip
    assert status == "delivered"
    [delivery] = hooks.list_deliveries(message_id="msg_old")
    assert [a["statusCode"] for a in delivery["log"]] == [500, 200]
    assert delivery["deliveredAt"] is not None and delivery["nextAttemptAt"] is None


def test_a_new_database_has_text_times_everywhere(db_url: str) -> None:
    eng = get_engine(db_url)
    assert migrate(eng) == s.LATEST_VERSION
    assert _time_columns_are_text(eng)
    assert migrate(eng) == s.LATEST_VERSION  # idempotent
