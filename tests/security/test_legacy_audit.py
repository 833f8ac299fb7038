"""Audit chains begun before the audit key existed.

The legacy entries are written here with SQL and hashed here with plain SHA-256 over
canonical JSON (the format such entries were written in), not by the code under test."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from engine.cli import main

FIELDS = (
    "seq", "entry_id", "at", "actor", "action", "resource_type", "resource_id",
    "outcome", "request_id", "details", "prev_hash",
)  # fmt: skip


def _sha(row: dict) -> str:
    body = {k: row[k] for k in FIELDS}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _write_legacy(path: Path, n: int) -> None:
    from engine.audit import AuditLog
    from engine.store import get_engine

    AuditLog(get_engine(f"sqlite:///{path}"))  # the tables, as any version made them
    con = sqlite3.connect(path)
    prev = "0" * 64
    for seq in range(1, n + 1):
        row = {
            "seq": seq, "entry_id": f"aud_legacy{seq:010d}", "at": 1_700_000_000.0 + seq,
            "actor": "key_old", "action": "pipeline.create", "resource_type": "pipeline",
            "resource_id": f"p{seq}", "outcome": "success", "request_id": None,
            "details": {"version": 1}, "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = _sha(row)
        con.execute(
            "INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [row[k] for k in FIELDS[:9]] + [json.dumps(row["details"]), prev, row["hash"]],
        )
        prev = row["hash"]
    con.execute("INSERT INTO audit_head VALUES (1, ?, ?, 1, ?)", (n, prev, "0" * 64))
    con.commit()
    con.close()


@pytest.fixture
def db(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = home / "legacy.db"
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", f"sqlite:///{path}")
    _write_legacy(path, 3)
    return path


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_an_unsealed_legacy_range_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, r = _verify(capsys)
    assert code == 1 and r["first_bad_seq"] == 1
    assert "entries 1..3 predate keyed entries (unkeyed legacy range)" in r["problem"], r


def test_the_first_keyed_entry_seals_the_legacy_range(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.audit import record

    record("pipeline.update", "pipeline", "p1", actor="key_new")
    code, r = _verify(capsys)
    assert code == 0 and r["ok"] and r["checked"] == 4 and r["legacy_range"] == [1, 3], r
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "entries 1..3 predate keyed entries (unkeyed legacy range)" in capsys.readouterr().out

    # Editing a sealed legacy entry, even with its plain hashes recomputed, is caught.
    con = sqlite3.connect(db)
    rows = con.execute("SELECT * FROM audit_log WHERE seq <= 3 ORDER BY seq").fetchall()
    prev = "0" * 64
    for raw in rows:
        row = dict(zip((*FIELDS, "hash"), raw, strict=True))
        row["details"] = json.loads(row["details"])
        row["prev_hash"] = prev
        if row["seq"] == 2:
            row["actor"] = "someone_else"
        h = _sha(row)
        con.execute(
            "UPDATE audit_log SET actor=?, prev_hash=?, hash=? WHERE seq=?",
            (row["actor"], prev, h, row["seq"]),
        )
        prev = h
    con.commit()
    con.close()
    code, r = _verify(capsys)
    assert code == 1 and r["first_bad_seq"] == 4, r
    assert "entries 1..3 before it are unkeyed (legacy range)" in r["problem"], r


def test_unkeyed_entries_after_keyed_ones_are_tampering(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.audit import record

    record("pipeline.update", "pipeline", "p1", actor="key_new")
    con = sqlite3.connect(db)
    raw = con.execute("SELECT * FROM audit_log WHERE seq = 4").fetchone()
    row = dict(zip((*FIELDS, "hash"), raw, strict=True))
    row["details"] = json.loads(row["details"])
    forged = {
        **row,
        "seq": 5,
        "entry_id": "aud_forged000000001",
        "at": "2099-01-01T00:00:00.000000Z",  # any later time (stored as ISO 8601 UTC text)
        "action": "key.create",
        "resource_type": "key",
        "resource_id": "k",
        "details": {},
        "prev_hash": row["hash"],
    }
    forged["hash"] = _sha(forged)  # plain SHA-256: what someone without the key can do
    con.execute(
        "INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [forged[k] for k in FIELDS[:9]] + ["{}", forged["prev_hash"], forged["hash"]],
    )
    con.execute("UPDATE audit_head SET last_seq=5")
    con.commit()
    con.close()
    code, r = _verify(capsys)
    assert code == 1 and r["first_bad_seq"] == 5 and "keyed hash" in r["problem"], r
