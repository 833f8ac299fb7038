# ruff: noqa: RUF001
"""Fail closed: every cell of every batch is scanned at run time, whatever its type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.context import BuildContext, RunOptions
from engine.run.runner import run_pipeline
from engine.spec import parse_spec
from nodes.privacy.freetext_eval import generate, leaked
from nodes.privacy.validators import luhn

pytestmark = pytest.mark.usefixtures("ray_session")


def _spec(src: Path, out: Path, detect: dict[str, Any], redact: dict[str, Any]) -> Any:
    return parse_spec({"id": "fail_closed", "nodes": [
        {"id": "load", "nodeType": "source", "category": "file", "config": {"uri": str(src)}},
        {"id": "detect", "nodeType": "privacy", "category": "detection", "inputs": ["load"],
         "config": detect},
        {"id": "redact", "nodeType": "privacy", "category": "redaction", "inputs": ["detect"],
         "config": redact},
        {"id": "out", "nodeType": "output", "category": "archive", "inputs": ["redact"],
         "config": {"uri": str(out)}},
    ]})  # fmt: skip


def _rows(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted(folder.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def _no_build_time_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: BuildContext, inputs: list[Any], index: int = 0) -> Any:
        raise AssertionError(f"node '{self.node_id}' read data while the graph was built")

    monkeypatch.setattr(BuildContext, "preview_input", refuse)


def test_pii_that_starts_after_row_10000_is_fully_redacted(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_build_time_reads(monkeypatch)
    n, late = 12_000, 10_000
    people = ["Çağla Yıldırım", "Øystein Ødegård", "Kwame Mensah-Bonsu", "Ines van der Berg"]
    phones = ["+44 (20) 7123 4567", "+49 30 1234567", "1-415-555-0132", "(415) 555-0132"]
    notes, planted = [], []
    for i in range(n):
        if i < late:
            notes.append(f"routine follow-up {i % 7}, no changes")
            continue
        who, ph = people[i % 4], phones[(i // 4) % 4]
        mail = f"p{i}@example.org"
        notes.append(f"Spouse {who} called from {ph}; reply to {mail}.")
        planted.append((i, [who, ph, mail]))
    pq.write_table(pa.table({"row_id": list(range(n)), "notes": notes}), tmp_path / "late.parquet")
    spec = _spec(tmp_path / "late.parquet", tmp_path / "out",
                 {"complianceFramework": "HIPAA"}, {})  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    out = {r["row_id"]: r["notes"] for r in _rows(tmp_path / "out")}
    assert len(out) == n
    leaks = [(i, v) for i, vals in planted for v in vals if leaked(notes[i], out[i], v)]
    assert not leaks, leaks[:5]
    assert out[0] == notes[0]  # clean rows pass unchanged
    state = result.to_dict()["nodes"]["detect"]["states"]["privacyFindings"]
    assert state["rows"] == n
    assert state["columns"]["notes"]["EMAIL_ADDRESS"] == n - late


def _cards(k: int) -> list[int]:
    out, x = [], 4_000_000_000_000_000
    while len(out) < k:
        x += 7919
        if luhn(str(x)):
            out.append(x)
    return out


def test_int64_card_columns_are_redacted(tmp_path: Path, home: Path) -> None:
    cards = _cards(50)
    table = pa.table({
        "card_number": pa.array(cards, pa.int64()),  # named: written as text, tagged
        "value": pa.array(cards, pa.int64()),  # unnamed: the number is removed
        "count": pa.array(range(50), pa.int64()),  # not an identifier: unchanged
    })  # fmt: skip
    pq.write_table(table, tmp_path / "cards.parquet")
    spec = _spec(tmp_path / "cards.parquet", tmp_path / "out",
                 {"complianceFramework": "HIPAA", "nerModel": None}, {})  # fmt: skip
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    rows = _rows(tmp_path / "out")
    assert len(rows) == 50
    assert {r["card_number"] for r in rows} == {"<CREDIT_CARD>"}
    assert all(r["value"] is None for r in rows)
    assert sorted(r["count"] for r in rows) == list(range(50))
    counters = result.to_dict()["nodes"]["redact"]["counters"]
    assert counters["redacted.CREDIT_CARD"] == 100


def test_free_text_set_leaks_nothing_and_keeps_decoys(tmp_path: Path, home: Path) -> None:
    data = generate(120, seed=3)
    pq.write_table(data.to_arrow(), tmp_path / "ft.parquet")
    spec = _spec(tmp_path / "ft.parquet", tmp_path / "out", {"complianceFramework": "HIPAA"}, {})
    result = run_pipeline(spec, options=RunOptions(home=home, base_dir=tmp_path))
    assert result.ok, result.error
    from nodes.privacy.freetext_eval import evaluate

    res = evaluate(data, {r["row_id"]: r for r in _rows(tmp_path / "out")})
    assert res["rows_out"] == res["rows_in"] == 120
    assert res["leak_rate"] <= 0.01, res
    assert res["decoy_survival"] >= 0.98, res
