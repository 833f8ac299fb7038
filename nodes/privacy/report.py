"""Privacy findings: streaming counts (a mergeable metrics state) and the report artifact.

Everything here carries column names, entity types, counts and scores, never values.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FindingsState:
    """Per column, per entity cell counts; merged across batches and workers."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: int = 0
    unscanned: dict[str, int] = field(default_factory=dict)  # column -> rows not scanned

    def add(self, column: str, entity: str, n: int) -> None:
        if n:
            col = self.counts.setdefault(column, {})
            col[entity] = col.get(entity, 0) + int(n)

    def merge(self, other: FindingsState) -> FindingsState:
        out = FindingsState(
            {k: dict(v) for k, v in self.counts.items()},
            self.rows + other.rows,
            dict(self.unscanned),
        )
        for col, n in other.unscanned.items():
            out.unscanned[col] = out.unscanned.get(col, 0) + n
        for col, ents in other.counts.items():
            for ent, n in ents.items():
                out.add(col, ent, n)
        return out

    def to_dict(self) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for ents in self.counts.values():
            for ent, n in ents.items():
                totals[ent] = totals.get(ent, 0) + n
        return {
            "rows": self.rows,
            "columns": self.counts,
            "affectedColumns": sorted(self.counts),
            "entityTotals": totals,
            "unscannedColumns": dict(self.unscanned),
        }


def write_report(path: Path, body: dict[str, Any]) -> Path:
    """Write a report JSON atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"generatedAt": time.time(), **body}, indent=2, sort_keys=True))
    tmp.replace(path)
    return path
