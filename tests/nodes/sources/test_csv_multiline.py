"""CSV files whose quoted values hold line breaks (RFC 4180), read through a whole run.

Python's own ``csv`` module, not the project's reader, says what the file holds: every
row and value must come out as it reads them, also when values with line breaks cross the
reader's block boundaries. A quote that is never closed still fails naming its line.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from engine.context import RunOptions
from engine.run.runner import run_pipeline
from engine.spec.models import PipelineSpec

pytestmark = pytest.mark.usefixtures("ray_session")

NOTE_LINES = [
    "Seen in clinic today.",
    'Said "better, thanks", slept well.',
    "",
    "Plan: review in 2 weeks; call if worse.",
    "  indented, with commas, and a trailing space ",
]


def _pipeline(src: Path, out: Path) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "id": "csv_multiline",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"uri": str(src), "format": "csv"},
                },
                {
                    "id": "out",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["load"],
                    "config": {"uri": str(out)},
                },
            ],
        }
    )


def _write(path: Path, rows: int, note_last: bool, seed: int = 5) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if seed % 2 else "\n")
        header = ["id", "note", "ward"] if not note_last else ["id", "ward", "note"]
        w.writerow(header)
        for i in range(rows):
            note = "\n".join(rng.sample(NOTE_LINES, rng.randint(1, 4))) + " x" * rng.randint(0, 40)
            ward = f"W{i % 7}"
            w.writerow([i, note, ward] if not note_last else [i, ward, note])


def _expected(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as f:
        return [
            {**r, "id": int(r["id"]), "note": r["note"] or None, "ward": r["ward"]}
            for r in csv.DictReader(f)
        ]


def _read(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted(folder.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return sorted(rows, key=lambda r: r["id"])


@pytest.mark.parametrize("note_last", [False, True], ids=["note-in-the-middle", "note-last"])
def test_values_with_line_breaks_come_out_as_pythons_csv_reads_them(
    tmp_path: Path, note_last: bool
) -> None:
    src = tmp_path / "notes.csv"
    # ~7 MB: values with line breaks cross the reader's 4 MiB block boundaries.
    _write(src, 60_000, note_last, seed=6 if note_last else 7)
    assert src.stat().st_size > 6 << 20
    result = run_pipeline(
        _pipeline(src, tmp_path / "out"), options=RunOptions(home=tmp_path / "home")
    )
    assert result.ok, result.error
    expected = _expected(src)
    got = _read(tmp_path / "out")
    assert len(got) == len(expected) == 60_000
    assert sum("\n" in (r["note"] or "") for r in expected) > 30_000
    for want, have in zip(expected, got, strict=True):
        assert {k: have[k] for k in want} == want


def test_a_quote_never_closed_in_the_last_column_fails_naming_its_line(tmp_path: Path) -> None:
    src = tmp_path / "open.csv"
    lines = ["id,ward,note"]
    lines += [f'{i},W1,"line one\nline two"' for i in range(1, 40)]
    lines += ['40,W1,"opened here and never closed', "41,W2,plain", "42,W3,also plain"]
    src.write_text("\n".join(lines) + "\n")
    result = run_pipeline(
        _pipeline(src, tmp_path / "out"), options=RunOptions(home=tmp_path / "home")
    )
    assert not result.ok
    # Header is line 1; rows 1..39 take two lines each, so row 40 opens on line 80.
    assert "open.csv line 80: unbalanced quote" in str(result.error), result.error
    assert not list((tmp_path / "out").rglob("*.parquet"))
