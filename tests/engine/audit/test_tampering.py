"""Eleven ways to rewrite the audit trail in the database; ``audit verify`` catches each.

The attacker has full write access to the metadata database (SQL through the ``sqlite3``
module, not through the product) but not to the server's audit key or the signed
anchor file. Hashes the attacker "recomputes" use every formula available without the
key: plain SHA-256 over the canonical entry (what an unkeyed chain would use) and an
HMAC under a key of the attacker's own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.audit import AuditLog
from engine.cli import main

FIELDS = (
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


def _canonical(row: dict[str, Any]) -> bytes:
    body = {k: row[k] for k in FIELDS}
    if isinstance(body["details"], str):
        body["details"] = json.loads(body["details"])
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sha_forger(row: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(row)).hexdigest()


def hmac_forger(row: dict[str, Any]) -> str:
    return hmac.new(b"attacker-guess", _canonical(row), hashlib.sha256).hexdigest()


FORGERS = {"sha256": sha_forger, "own-key": hmac_forger}


@pytest.fixture
def db(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = home / "tamper.db"
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", f"sqlite:///{path}")
    return path


def _fill(n: int) -> AuditLog:
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


def _rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY seq")]


def _rechain(
    conn: sqlite3.Connection,
    rows: list[dict[str, Any]],
    forge: Callable[[dict[str, Any]], str],
    prev: str = "0" * 64,
) -> str:
    """Rewrite prev_hash/hash of ``rows`` in order with ``forge``; fix the head; the last hash."""
    for r in rows:
        r["prev_hash"] = prev
        r["hash"] = forge(r)
        conn.execute(
            "UPDATE audit_log SET seq=?, prev_hash=?, hash=?, actor=? WHERE entry_id=?",
            (r["seq"], r["prev_hash"], r["hash"], r["actor"], r["entry_id"]),
        )
        prev = r["hash"]
    if rows:
        conn.execute(
            "UPDATE audit_head SET last_seq=?, last_hash=?, first_seq=?, first_prev_hash=?",
            (rows[-1]["seq"], prev, rows[0]["seq"], rows[0]["prev_hash"]),
        )
    return prev


def _verify(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["audit", "verify", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1, report
    assert report["ok"] is False
    return report


def test_untampered_log_verifies(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(150)
    assert main(["audit", "verify"]) == 0
    assert "150 entries verified" in capsys.readouterr().out


# 1
def test_plain_edit(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET actor='mallory' WHERE seq=4")
    r = _verify(capsys)
    assert r["first_bad_seq"] == 4 and "keyed hash" in r["problem"]


# 2
@pytest.mark.parametrize("forger", FORGERS)
def test_edit_then_recompute_every_hash(
    db: Path, capsys: pytest.CaptureFixture[str], forger: str
) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        rows = _rows(conn)
        rows[3]["actor"] = "mallory"
        _rechain(conn, rows, FORGERS[forger])
    r = _verify(capsys)
    assert r["first_bad_seq"] == 1 and "keyed hash" in r["problem"]


# 3
def test_delete_a_middle_entry(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq=6")
    r = _verify(capsys)
    assert r["first_bad_seq"] == 6 and "6..6 are missing" in r["problem"]


# 4
def test_delete_the_newest_entry(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq=10")
    r = _verify(capsys)
    assert r["first_bad_seq"] == 10 and "10..10 are missing" in r["problem"]


# 5
def test_delete_the_newest_entry_and_fix_the_head(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq=10")
        (h9,) = conn.execute("SELECT hash FROM audit_log WHERE seq=9").fetchone()
        conn.execute("UPDATE audit_head SET last_seq=9, last_hash=?", (h9,))
    r = _verify(capsys)
    assert r["first_bad_seq"] == 10 and "newest entries were deleted" in r["problem"]


# 6
def test_delete_the_oldest_hundred_and_move_the_anchor(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(130)
    with sqlite3.connect(db) as conn:
        (h100,) = conn.execute("SELECT hash FROM audit_log WHERE seq=100").fetchone()
        conn.execute("DELETE FROM audit_log WHERE seq<=100")
        conn.execute("UPDATE audit_head SET first_seq=101, first_prev_hash=?", (h100,))
    r = _verify(capsys)
    assert r["first_bad_seq"] == 1 and "1..100 are missing" in r["problem"]


# 7
def test_delete_everything(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log")
        conn.execute("DELETE FROM audit_head")
    r = _verify(capsys)
    assert r["first_bad_seq"] == 1 and "every entry was deleted" in r["problem"]


# 8
@pytest.mark.parametrize("forger", FORGERS)
def test_delete_and_renumber(db: Path, capsys: pytest.CaptureFixture[str], forger: str) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq=3")
        rows = _rows(conn)
        for i, r in enumerate(rows, start=1):
            r["seq"] = i
        # renumber from the bottom up so the primary key never collides
        for r in rows:
            conn.execute(
                "UPDATE audit_log SET seq=? WHERE entry_id=?", (r["seq"] + 1000, r["entry_id"])
            )
        _rechain(conn, rows, FORGERS[forger])
    r = _verify(capsys)
    assert r["first_bad_seq"] == 1 and "keyed hash" in r["problem"]


# 9
def test_swap_two_entries(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET seq=-4 WHERE seq=4")
        conn.execute("UPDATE audit_log SET seq=4 WHERE seq=5")
        conn.execute("UPDATE audit_log SET seq=5 WHERE seq=-4")
    r = _verify(capsys)
    assert r["first_bad_seq"] == 4


# 10
@pytest.mark.parametrize("forger", FORGERS)
def test_append_a_forged_entry(db: Path, capsys: pytest.CaptureFixture[str], forger: str) -> None:
    _fill(10)
    with sqlite3.connect(db) as conn:
        (h10,) = conn.execute("SELECT hash FROM audit_log WHERE seq=10").fetchone()
        row = {
            "seq": 11,
            "entry_id": "aud_forged",
            "at": 1.0,
            "actor": "key_admin",
            "action": "key.create",
            "resource_type": "apiKey",
            "resource_id": "key_mallory",
            "outcome": "success",
            "request_id": None,
            "details": "{}",
            "prev_hash": h10,
        }
        row["hash"] = FORGERS[forger](row)
        conn.execute(
            "INSERT INTO audit_log VALUES (:seq,:entry_id,:at,:actor,:action,:resource_type,"
            ":resource_id,:outcome,:request_id,:details,:prev_hash,:hash)",
            row,
        )
        conn.execute("UPDATE audit_head SET last_seq=11, last_hash=?", (row["hash"],))
    r = _verify(capsys)
    assert r["first_bad_seq"] == 11 and "keyed hash" in r["problem"]


# 11
@pytest.mark.parametrize("forger", FORGERS)
def test_truncate_the_newest_and_rewrite_the_anchor_file(
    db: Path, home: Path, capsys: pytest.CaptureFixture[str], forger: str
) -> None:
    _fill(10)
    anchor = home / "audit-anchor.json"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq>7")
        (h7,) = conn.execute("SELECT hash FROM audit_log WHERE seq=7").fetchone()
        conn.execute("UPDATE audit_head SET last_seq=7, last_hash=?", (h7,))
    doc = json.loads(anchor.read_text())
    [(name, entry)] = doc["chains"].items()
    body = {**entry, "lastSeq": 7, "lastHash": h7}
    body.pop("mac")
    msg = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    if forger == "sha256":
        body["mac"] = hashlib.sha256(b"audit-anchor:" + msg).hexdigest()
    else:
        body["mac"] = hmac.new(b"attacker-guess", b"audit-anchor:" + msg, "sha256").hexdigest()
    doc["chains"][name] = body
    anchor.write_text(json.dumps(doc))
    r = _verify(capsys)
    assert "bad signature" in r["problem"]


def test_deleting_the_anchor_file_is_reported(
    db: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(3)
    (home / "audit-anchor.json").unlink()
    r = _verify(capsys)
    assert "no signed anchor" in r["problem"]


def test_signed_purge_moves_the_start_legitimately(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import engine.audit.log as audit_log

    real = audit_log.time.time
    monkeypatch.setattr(audit_log.time, "time", lambda: real() - 40 * 86400)
    log = _fill(5)
    monkeypatch.setattr(audit_log.time, "time", real)
    _fill(2)
    assert log.purge(older_than_days=30) == 5
    assert main(["audit", "verify"]) == 0
    assert "3 entries verified" in capsys.readouterr().out
