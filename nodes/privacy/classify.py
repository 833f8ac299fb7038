"""Decide, per column, what it holds, from a sample of rows.

* **structured**: most non-null cells of the sample are, whole, one entity (an email
  column, an SSN column) or the column name and values fit a column hint (``zip``,
  ``age``, ``first_name``...). Redaction then treats the whole column with vectorized
  operators, and detection only counts cells at run time.
* **text**: free text (or short strings that contain entities): scanned cell by cell at
  run time (fast path: RE2 over distinct values, exact checks on candidates only).
* **none**: nothing found.

The result (:class:`ColumnClass`) holds entity names, counts and confidences, never
values, so it can go into reports, metrics and lineage as is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from nodes.privacy.scan import Scanner, distinct
from nodes.privacy.validators import VALIDATORS

STRUCTURED_RATIO = 0.6  # share of non-null sample cells that must be the entity
HINT_RATIO = 0.8  # share of values that must fit a column hint's value check
HINT_CONFIDENCE = 0.9
TEXT_MIN_AVG_LENGTH = 25
CLASSIFY_MAX_DISTINCT = 300


@dataclass
class ColumnClass:
    """What one column holds.

    Attributes:
        column: Column name.
        mode: ``structured``, ``text`` or ``none``.
        entity: The entity of a structured column.
        confidence: Confidence of the structured classification.
        entities: Entity -> number of findings in the sample.
        scores: Entity -> best score seen in the sample.
        sample_cells: Non-null cells examined.
        reason: ``values``, ``column-hint``, ``type`` or ``text``.
    """

    column: str
    mode: str = "none"
    entity: str | None = None
    confidence: float = 0.0
    entities: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    sample_cells: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnClass:
        return cls(**d)


def classify_table(
    sample: pa.Table,
    scanner: Scanner,
    hints: list[dict[str, Any]],
    *,
    contextual: bool = True,
    threshold: float = 0.5,
) -> dict[str, ColumnClass]:
    """Classify every column of ``sample``."""
    return {
        name: classify_column(
            name,
            sample.column(name),
            scanner,
            hints if contextual else [],
            threshold=threshold,
        )
        for name in sample.column_names
    }


def classify_column(
    name: str,
    col: pa.ChunkedArray | pa.Array,
    scanner: Scanner,
    hints: list[dict[str, Any]],
    *,
    threshold: float = 0.5,
) -> ColumnClass:
    """Classify one column from its sample values."""
    out = ColumnClass(column=name)
    typ = col.type
    non_null = len(col) - col.null_count
    out.sample_cells = non_null
    if non_null == 0:
        return out
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_nested(typ):
        return out
    indices, values = distinct(col)
    counts = Counter(indices.drop_null().to_pylist())
    hint = _hint_for(name, values, counts, non_null, hints)
    if hint is None and (pa.types.is_date(typ) or pa.types.is_timestamp(typ)):
        hint = ("DATE_TIME", 0.85, "type")
    is_stringy = pa.types.is_string(typ) or pa.types.is_large_string(typ)
    if not is_stringy:
        if hint:
            out.mode, out.entity, out.confidence, out.reason = "structured", *hint
            out.entities = {hint[0]: non_null}
            out.scores = {hint[0]: hint[1]}
        return out
    if len(values) > CLASSIFY_MAX_DISTINCT:
        # A column's type is clear from a few hundred distinct values; NER on all of
        # them would dominate build time. Keep the most frequent ones.
        keep = sorted(range(len(values)), key=lambda i: -counts.get(i, 0))[:CLASSIFY_MAX_DISTINCT]
        values = [values[i] for i in keep]
        counts = Counter({j: counts.get(i, 0) for j, i in enumerate(keep)})
        non_null = sum(counts.values())
    findings = scanner.scan_distinct(values, name)
    whole: Counter[str] = Counter()
    whole_scores: dict[str, list[float]] = {}
    total: Counter[str] = Counter()
    best: dict[str, float] = {}
    lengths = 0
    for i, fs in enumerate(findings):
        n = counts.get(i, 0)
        lengths += len(values[i]) * n
        for f in fs:
            total[f.entity] += n
            best[f.entity] = max(best.get(f.entity, 0.0), f.score)
        stripped = values[i].strip()
        if len(fs) == 1 and fs[0].end - fs[0].start >= len(stripped) - 1:
            whole[fs[0].entity] += n
            whole_scores.setdefault(fs[0].entity, []).append(fs[0].score)
    out.entities = dict(total)
    out.scores = {k: round(v, 4) for k, v in best.items()}
    if whole:
        ent, n = whole.most_common(1)[0]
        ratio = n / non_null
        conf = round(sum(whole_scores[ent]) / len(whole_scores[ent]), 4)
        if ratio >= STRUCTURED_RATIO and conf >= threshold:
            out.mode, out.entity, out.confidence, out.reason = "structured", ent, conf, "values"
            return out
    if hint is not None:
        out.mode, out.entity, out.confidence, out.reason = "structured", *hint
        out.entities.setdefault(hint[0], non_null)
        out.scores.setdefault(hint[0], hint[1])
        return out
    if total or lengths / non_null >= TEXT_MIN_AVG_LENGTH:
        out.mode, out.reason = "text", "text"
    return out


def _hint_for(
    name: str,
    values: list[str],
    counts: Counter[int],
    non_null: int,
    hints: list[dict[str, Any]],
) -> tuple[str, float, str] | None:
    for h in hints:
        if not re.search(h["column"], name):
            continue
        check = h.get("value")
        if check in VALIDATORS:
            ok = VALIDATORS[check]
            good = sum(counts.get(i, 0) for i, v in enumerate(values) if ok(v))
        elif check:
            rx = re.compile(check)
            good = sum(counts.get(i, 0) for i, v in enumerate(values) if rx.search(v.strip()))
        else:
            good = non_null
        if good / non_null >= HINT_RATIO:
            return h["entity"], float(h.get("score", HINT_CONFIDENCE)), "column-hint"
    return None
