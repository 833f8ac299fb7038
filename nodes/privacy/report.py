"""Privacy findings: streaming counts (a mergeable metrics state) and the report artifact.

Everything here carries column names, entity types, counts and scores, never values.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodes.privacy.classify import ColumnClass


@dataclass
class FindingsState:
    """Per column, per entity cell counts; merged across batches and workers."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: int = 0

    def add(self, column: str, entity: str, n: int) -> None:
        if n:
            col = self.counts.setdefault(column, {})
            col[entity] = col.get(entity, 0) + int(n)

    def merge(self, other: FindingsState) -> FindingsState:
        out = FindingsState({k: dict(v) for k, v in self.counts.items()}, self.rows + other.rows)
        for col, ents in other.counts.items():
            for ent, n in ents.items():
                out.add(col, ent, n)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.counts}


def summarize(classes: dict[str, ColumnClass]) -> dict[str, Any]:
    """The ``findings`` fact: affected columns with entity types and confidence."""
    cols: dict[str, dict[str, Any]] = {}
    for name, c in classes.items():
        if c.mode == "none":
            continue
        cols[name] = {
            "mode": c.mode,
            "entity": c.entity,
            "confidence": c.confidence,
            "entities": dict(c.entities),
            "scores": dict(c.scores),
            "sampleCells": c.sample_cells,
            "reason": c.reason,
        }
    totals: Counter[str] = Counter()
    for entry in cols.values():
        totals.update(entry["entities"])
    return {
        "affectedColumns": sorted(cols),
        "columns": cols,
        "entityTotals": dict(totals),
    }


def write_report(path: Path, body: dict[str, Any]) -> Path:
    """Write a report JSON atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"generatedAt": time.time(), **body}, indent=2, sort_keys=True))
    tmp.replace(path)
    return path
