# ruff: noqa: RUF001
"""Presidio's own recognizer test cases (a bounded slice) through the pipeline, and
names in the forms Presidio's NER-only approach misses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.privacy_presidio_cases import CASES, pipeline_spans, presidio_spans, score
from nodes.privacy.evaluation import load_presidio_cases
from nodes.privacy.frameworks import HIPAA
from nodes.privacy.scan import Scanner

EVERY = 3  # a third of the default-config cases keeps the test under a minute

pytestmark = pytest.mark.skipif(not CASES.exists(), reason="shared benchmark data not present")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return load_presidio_cases(CASES)[::EVERY]


@pytest.mark.usefixtures("ray_session")
def test_recall_and_false_positives_against_presidio(
    cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    ours = score(cases, pipeline_spans(cases, tmp_path))
    theirs = score(cases, presidio_spans(cases)[0])
    o, t = ours.totals(), theirs.totals()
    print(ours.table(), o, t)
    assert o["expected"] >= 100
    assert o["recall"] >= 0.99, ours.table()
    assert o["false_positives"] <= t["false_positives"], (o, t)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Dr. Çağla Yıldırım reviewed the scan.", ["Çağla Yıldırım"]),
        ("Pt Øystein Ødegård seen in clinic.", ["Øystein Ødegård"]),
        (
            "Mrs. Okonkwo called back. Spouse Ngozi Okonkwo will visit.",
            ["Okonkwo", "Ngozi Okonkwo"],
        ),
        ("spouse maria gonzález called about the results", ["maria gonzález"]),
        ("seen by dr. vasconcelos today", ["vasconcelos"]),
    ],
)
def test_names_by_context_accents_and_lower_case(
    scanner: Scanner, text: str, names: list[str]
) -> None:
    found = [text[f.start : f.end] for f in scanner.scan_cells([text], "notes")[0]
             if f.entity == "PERSON"]  # fmt: skip
    for n in names:
        assert any(n in f for f in found), (n, found)
    assert not any(w in " ".join(found) for w in ("reviewed", "called", "clinic", "results"))


@pytest.mark.parametrize(
    "decoy",
    [
        "order ORD-2024-88123 shipped",
        "order #355184592 shipped",
        "product SKU-AX-4471",
        "Dx code E11.9 confirmed",
        "ticket 67332f4b-34ae-62cc-dddb-3eef851f5665 opened",
        "Portal app v6.27.9 installed",
        "copay of $1,234.56 collected",
        "copay of €606,30",
        "logged at 14:30:05.123 by the front desk",
        "invoice 764656492",
        "room 310B",
    ],
)
def test_decoys_survive(pattern_scanner: Scanner, decoy: str) -> None:
    found = pattern_scanner.scan_cells([decoy], "notes")[0]
    # ICD-10 codes are reported by the healthcare library but are not identifiers
    assert [f for f in found if HIPAA.treatment(f.entity) is not None] == []
