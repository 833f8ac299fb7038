"""The hash-chained audit log on a real SQLite database, and its CLI."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from engine.audit import AuditLog
from engine.cli import main


@pytest.fixture
def db(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = home / "audit-test.db"
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", f"sqlite:///{path}")
    return path


def _fill(n: int = 5) -> AuditLog:
    from engine.audit import default_log

    log = default_log()
    for i in range(n):
        log.record(
            "pipeline.update",
            "pipeline",
            f"p{i}",
            actor="key_abc",
            request_id=f"req-{i}",
            details={"version": i},
        )
    return log


def test_entries_chain_and_verify_ok(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _fill()
    rows = log.entries(newest_first=False)
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert log.verify().ok
    assert main(["audit", "verify"]) == 0
    assert "5 entries verified" in capsys.readouterr().out


@pytest.mark.parametrize(
    "tamper, bad, words",
    [
        ("UPDATE audit_log SET actor='someone_else' WHERE seq=3", 3, "edited"),
        ("UPDATE audit_log SET details='{\"version\":99}' WHERE seq=2", 2, "edited"),
        ("DELETE FROM audit_log WHERE seq=4", 4, "missing"),
        ("DELETE FROM audit_log WHERE seq=5", 5, "missing"),
        ("UPDATE audit_log SET at=at+1, hash='x' WHERE seq=1", 1, "edited"),
    ],
)
def test_editing_or_deleting_any_row_fails_verify_naming_the_first_bad_entry(
    db: Path, capsys: pytest.CaptureFixture[str], tamper: str, bad: int, words: str
) -> None:
    _fill()
    with sqlite3.connect(db) as conn:
        conn.execute(tamper)
    assert main(["audit", "verify", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["first_bad_seq"] == bad
    assert words in report["problem"]


def test_rehashing_an_edited_row_is_still_caught_by_the_next_entry(db: Path) -> None:
    from engine.audit.log import entry_hash

    log = _fill()
    e = log.entries(newest_first=False)[1]
    forged = {**e.__dict__, "actor": "mallory"}
    forged["hash"] = entry_hash(forged)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET actor='mallory', hash=? WHERE seq=2", (forged["hash"],))
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 3


def test_filters_and_list_command(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _fill(3)
    log.record("key.use", "key", "key_x", actor="key_x", outcome="denied")
    assert [e.resource_id for e in log.entries(action="pipeline.*", limit=2)] == ["p2", "p1"]
    assert [e.outcome for e in log.entries(actor="key_x")] == ["denied"]
    assert log.entries(request_id="req-1")[0].resource_id == "p1"
    assert main(["audit", "list", "--outcome", "denied", "--json"]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line["action"] == "key.use" and line["hash"]


def test_retention_purge_keeps_the_chain_verifiable(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.audit import retention_days

    assert retention_days("HIPAA") >= 6 * 365 and retention_days("SOX") >= 7 * 365
    monkeypatch.setenv("PIPELINE_BUILDER_AUDIT_RETENTION_DAYS", "30")
    assert retention_days("HIPAA") == 30
    # The first two entries are recorded 40 days ago (the clock, not the rows, is moved).
    import engine.audit.log as audit_log

    real = audit_log.time.time
    monkeypatch.setattr(audit_log.time, "time", lambda: real() - 40 * 86400)
    log = _fill(2)
    monkeypatch.setattr(audit_log.time, "time", real)
    for i in range(2):
        log.record("pipeline.update", "pipeline", f"q{i}", actor="key_abc")
    assert log.verify().ok
    assert log.purge(older_than_days=30) == 2
    assert [e.seq for e in log.entries(newest_first=False)][:2] == [3, 4]
    report = log.verify()
    assert report.ok, str(report)
    assert log.entries(limit=1)[0].action == "audit.purge"
