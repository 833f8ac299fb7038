"""Per-batch scanning and redaction, shared by ``privacy/detection``, ``privacy/redaction``
and the ``pii_free`` output gate.

Fail closed: every cell of every column is scanned in every batch. Strings are scanned as
they are; integers, decimals, floats and other scalar types as their text (a 16-digit
Luhn-valid int64 is a card); dates and timestamps are dates. Booleans and nulls cannot
hold personal data. Binary, list and struct columns cannot be scanned: they are reported
as unscanned, and a redaction under a compliance framework refuses to pass them unless a
column rule treats them.

Nothing here returns or records values: findings are offsets and entity types, and the
mergeable :class:`~nodes.privacy.report.FindingsState` holds counts only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from nodes.privacy.library import scanner_for
from nodes.privacy.operators import Keys, transform
from nodes.privacy.recognizers import EVENT_TIMESTAMP
from nodes.privacy.report import FindingsState
from nodes.privacy.scan import Finding, Scanner

Op = dict[str, Any]


def scannable(typ: pa.DataType) -> bool | None:
    """True: scan; False: cannot hold personal data (bool, null); None: cannot scan."""
    if pa.types.is_boolean(typ) or pa.types.is_null(typ):
        return False
    if pa.types.is_dictionary(typ):
        return scannable(typ.value_type)
    if (
        pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
        or pa.types.is_fixed_size_binary(typ)
        or pa.types.is_nested(typ)
    ):
        return None
    return True


def is_text(typ: pa.DataType) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


@dataclass
class ScannedColumn:
    """One column of one batch, dictionary-encoded, with findings per distinct value."""

    indices: pa.Array
    values: list[str]
    findings: list[list[Finding]]


def scan_batch(
    batch: pa.Table, scanner: Scanner, columns: list[str] | None = None
) -> tuple[dict[str, ScannedColumn], list[str]]:
    """Scan every (selected) column; return scanned columns and unscannable ones."""
    out: dict[str, ScannedColumn] = {}
    unscanned: list[str] = []
    for name in columns or batch.column_names:
        arr = batch.column(name)
        ok = scannable(arr.type)
        if ok is None:
            unscanned.append(name)
            continue
        if not ok:
            continue
        indices, values, findings = scanner.scan_array(arr, name)
        out[name] = ScannedColumn(indices, values, findings)
    return out, unscanned


def count(scanned: dict[str, ScannedColumn], rows: int) -> FindingsState:
    """Findings per column and entity (each finding counted once per row holding it)."""
    state = FindingsState(rows=rows)
    for name, col in scanned.items():
        if not any(col.findings):
            continue
        vc = pc.value_counts(col.indices.drop_null())
        for idx, n in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            for f in col.findings[idx]:
                state.add(name, f.entity, n)
    return state


def counters_of(state: FindingsState, prefix: str = "privacy.") -> dict[str, float]:
    out: dict[str, float] = {f"{prefix}rows": float(state.rows)}
    for ents in state.counts.values():
        for ent, n in ents.items():
            out[f"{prefix}{ent}"] = out.get(f"{prefix}{ent}", 0.0) + n
    return out


@dataclass
class Plan:
    """How a redaction treats what it finds (decided at build time, without data).

    ``choose(column, entity)`` gives the operator: a column rule, an entity rule, the
    framework's treatment, a ``*`` rule, the default; ``None`` or ``keep`` leaves it.
    """

    column_rules: dict[str, Op]
    entity_rules: dict[str, Op]
    framework_ops: dict[str, Op]
    default: Op | None
    has_key: bool
    required: frozenset[str] = frozenset()
    hint_entities: list[tuple[Any, str]] = field(default_factory=list)
    _memo: dict[tuple[str, str], Op | None] = field(default_factory=dict, repr=False)

    def choose(self, column: str, entity: str) -> Op | None:
        key = (column, entity)
        if key in self._memo:
            return self._memo[key]
        op = None
        for cand in (
            self.column_rules.get(column),
            self.entity_rules.get(entity),
            self.framework_ops.get(entity),
            self.entity_rules.get("*"),
            self.default,
        ):
            if cand is None:
                continue
            if cand.get("operator") in ("hash", "encrypt", "fake") and not self.has_key:
                cand = cand.get("fallback")
                if cand is None:
                    continue
            op = dict(cand)
            break
        if op is not None and op.get("operator") == "keep":
            op = None
        self._memo[key] = op
        return op

    def typed_as_text(self, column: str, typ: pa.DataType) -> bool:
        """Whether a non-string column is written as text (decided by name and type)."""
        if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
            return self.choose(column, "DATE_TIME") is not None
        return any(
            rx.search(column) and self.choose(column, ent) is not None
            for rx, ent in self.hint_entities
        )


def treats(f: Finding, op: Op | None) -> bool:
    """Whether operator ``op`` changes finding ``f``. A date generalization leaves machine
    timestamps (an event's time in a log line, not a date of the person:
    :func:`nodes.privacy.recognizers.find_date`); any other operator treats them."""
    if op is None:
        return False
    return not (
        f.entity == "DATE_TIME"
        and f.source == EVENT_TIMESTAMP
        and op.get("operator") == "generalize"
    )


class Violation(Exception):
    """A required identifier was found where the rules keep it."""


def redact(
    batch: pa.Table,
    scanned: dict[str, ScannedColumn],
    plan: Plan,
    keys: Keys,
    unscanned: list[str],
    scanner: Scanner | None = None,
) -> tuple[pa.Table, dict[str, float]]:
    """Apply the plan to one batch; return it and ``redacted.*`` counters (no values).

    With ``scanner``, a redacted text cell is scanned once more with its tags blanked
    (what a residual scan of the output sees: context changes once names are gone) and
    anything found then is treated too.
    """
    counters: dict[str, float] = {}
    drop: list[str] = []
    kept: list[str] = []

    def bump(ent: str, n: int = 1) -> None:
        counters[f"redacted.{ent}"] = counters.get(f"redacted.{ent}", 0.0) + n

    for name in batch.column_names:
        col_rule = plan.column_rules.get(name)
        arr = batch.column(name)
        if col_rule is not None and col_rule.get("operator") != "keep":
            if col_rule["operator"] == "drop":
                drop.append(name)
                continue
            indices, values = _distinct_any(arr)
            ent = col_rule.get("entity") or "COLUMN"
            new = [transform(v, ent, col_rule, keys) for v in values]
            batch = _set(batch, name, pc.take(pa.array(new, pa.string()), indices))
            bump(ent, len(arr) - arr.null_count)
            continue
        if name in unscanned and plan.required:
            raise Violation(f"column '{name}' ({arr.type}) cannot be scanned; add a column rule")
        col = scanned.get(name)
        if col is None or not any(col.findings):
            if col is not None and not is_text(arr.type) and plan.typed_as_text(name, arr.type):
                batch = _set(batch, name, arr.cast(pa.string()))
            continue
        text_out = is_text(arr.type) or plan.typed_as_text(name, arr.type)
        new_values: list[str | None] = []
        changed = False
        occ = _occurrences(col)
        rescan: list[int] = []  # redacted text cells to scan once more
        for i, (v, fs) in enumerate(zip(col.values, col.findings, strict=True)):
            if not fs:
                new_values.append(v)
                continue
            ops = [(f, plan.choose(name, f.entity)) for f in fs]
            if col_rule is not None and plan.required:
                hit = sorted({f.entity for f, _ in ops if f.entity in plan.required})
                if hit:
                    kept += [f"{name}:{e}" for e in hit]
            todo = [(f, op) for f, op in ops if op is not None and treats(f, op)]
            if not todo:
                new_values.append(v)
                continue
            changed = True
            if not text_out:  # a typed column cannot hold a tag: the value is removed
                new_values.append(None)
                for f, _ in todo:
                    bump(f.entity, occ[i])
                continue
            stripped = v.strip()
            if len(todo) == 1 and todo[0][0].end - todo[0][0].start >= len(stripped):
                f, op = todo[0]
                new_values.append(transform(v[f.start : f.end], f.entity, op, keys))
                bump(f.entity, occ[i])
                continue
            s = v
            for f, op in sorted(todo, key=lambda t: t[0].start, reverse=True):
                rep = transform(v[f.start : f.end], f.entity, op, keys, in_text=True)
                s = s[: f.start] + (rep or "") + s[f.end :]
                bump(f.entity, occ[i])
            if scanner is not None:
                rescan.append(len(new_values))
            new_values.append(s)
        if scanner is not None and rescan:
            _second_passes(new_values, rescan, name, scanner, plan, keys, bump, occ)
        if kept:
            raise Violation(
                "rules keep identifiers the framework requires treating: "
                + ", ".join(sorted(set(kept)))
            )
        if not changed:
            if not is_text(arr.type) and text_out:
                batch = _set(batch, name, arr.cast(pa.string()))
            continue
        if text_out:
            out = pc.take(pa.array(new_values, pa.string()), col.indices)
        else:
            keep_mask = pa.array([nv is not None for nv in new_values], pa.bool_())
            valid = pc.take(keep_mask, col.indices)
            out = pc.if_else(pc.fill_null(valid, True), arr, pa.nulls(len(arr), arr.type))
        batch = _set(batch, name, out)
    if drop:
        batch = batch.drop_columns(drop)
    return batch, counters


_TAG = re.compile(r"<[A-Z][A-Z0-9_]*>")
SECOND_PASSES = 2


def _second_passes(
    values: list[str | None],
    todo: list[int],
    column: str,
    scanner: Scanner,
    plan: Plan,
    keys: Keys,
    bump: Callable[..., None],
    occ: list[int],
) -> None:
    """Scan the redacted cells ``values[todo]`` again, all in one scanner call per pass,
    until a pass finds nothing new (at most ``SECOND_PASSES``); updates ``values``."""
    for _ in range(SECOND_PASSES):
        blanked = [_blank(values[i]) for i in todo]  # type: ignore[arg-type]
        found = scanner.scan_distinct([b for b, _w in blanked], column)
        still = []
        for i, (_b, where), fs in zip(todo, blanked, found, strict=True):
            s = values[i]
            assert s is not None
            again = _apply_found(s, where, fs, column, plan, keys,
                                 functools.partial(bump, n=occ[i]))  # fmt: skip
            if again != s:
                values[i] = again
                still.append(i)
        todo = still
        if not todo:
            return


def _blank(s: str) -> tuple[str, list[int]]:
    """``s`` with its tags blanked, and each blanked position's position in ``s``."""
    pieces: list[str] = []
    where: list[int] = []  # blanked position -> position in s
    pos = 0
    for m in _TAG.finditer(s):
        pieces.append(s[pos : m.start()])
        where += range(pos, m.start())
        pieces.append(" ")
        where.append(-1)
        pos = m.end()
    pieces.append(s[pos:])
    where += range(pos, len(s))
    return "".join(pieces), where


def _apply_found(
    s: str,
    where: list[int],
    found: list[Finding],
    column: str,
    plan: Plan,
    keys: Keys,
    bump: Callable[[str], None],
) -> str:
    todo = []
    for f in found:
        op = plan.choose(column, f.entity)
        idx = [where[k] for k in range(f.start, f.end) if where[k] >= 0]
        if op is None or not treats(f, op) or not idx:
            continue
        start, end = idx[0], idx[-1] + 1
        if _TAG.search(s, start, end):  # spans across a tag: leave the tag alone
            continue
        todo.append((start, end, f.entity, op))
    for start, end, ent, op in sorted(todo, reverse=True):
        if ent == "DATE_TIME" and s[start:end].isdigit():
            continue  # a year left by generalization
        rep = transform(s[start:end], ent, op, keys, in_text=True)
        s = s[:start] + (rep or "") + s[end:]
        bump(ent)
    return s


def _occurrences(col: ScannedColumn) -> list[int]:
    """Rows per distinct value."""
    occ = [0] * len(col.values)
    vc = pc.value_counts(col.indices.drop_null())
    for idx, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                      strict=True):  # fmt: skip
        occ[idx] = n
    return occ


def _set(batch: pa.Table, name: str, arr: pa.Array | pa.ChunkedArray) -> pa.Table:
    return batch.set_column(batch.schema.get_field_index(name), name, arr)


def _distinct_any(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, list[Any]]:
    from nodes.privacy.scan import distinct

    ok = scannable(arr.type)
    if ok is None:  # binary/nested under a column rule: transform the text form
        arr = pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())
    return distinct(arr)


def restrict_spec(spec: dict[str, Any], entities: list[str]) -> dict[str, Any]:
    """A scanner spec that reports only ``entities``."""
    import hashlib
    import json

    from nodes.privacy.recognizers import RECOGNIZERS

    want = set(entities)
    out = {
        **spec,
        "patterns": [p for p in spec["patterns"] if p["entity"] in want],
        "recognizers": [
            r for r in spec.get("recognizers", []) if set(RECOGNIZERS[r].entities) & want
        ],
        "hints": [h for h in spec.get("hints", []) if h["entity"] in want],
        "deny": {k: v for k, v in spec.get("deny", {}).items() if k in want},
        "ner_entities": [e for e in spec.get("ner_entities", []) if e in want],
    }
    out.pop("fingerprint", None)
    out["fingerprint"] = hashlib.sha256(
        json.dumps(out, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return out


class ScanActor:
    """``map_batches`` callable class: one scanner (and NER model) per actor.

    ``mode``: ``count`` (detection: rows unchanged, findings into metrics) or ``redact``
    (redaction: rows redacted; findings also reported for ``detection_node``).
    """

    def __init__(
        self,
        spec: dict[str, Any],
        node_id: str,
        metrics: Any,
        mode: str,
        columns: list[str] | None = None,
        plan: Plan | None = None,
        keys: Keys | None = None,
        detection_node: str | None = None,
        on_violation: Callable[[str], Exception] | None = None,
    ) -> None:
        self.scanner = scanner_for(spec)
        # The second pass looks only for what the rules treat (as a residual scan of the
        # output for a framework's identifiers does): a kept entity cannot hide one.
        self.rescanner = self.scanner
        if plan is not None and plan.required:
            self.rescanner = scanner_for(restrict_spec(spec, sorted(plan.required)))
        self.node_id = node_id
        self.metrics = metrics
        self.mode = mode
        self.columns = columns
        self.plan = plan
        self.keys = keys or Keys()
        self.detection_node = detection_node
        self.on_violation = on_violation

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.columns:
            missing = [c for c in self.columns if c not in batch.column_names]
            if missing:
                raise _error(self.node_id, f"columns {missing} not in the input; "
                                           f"available: {batch.column_names}")  # fmt: skip
        scanned, unscanned = scan_batch(batch, self.scanner, self.columns)
        state = count(scanned, batch.num_rows)
        state.unscanned = {c: batch.num_rows for c in unscanned}
        report_to = self.detection_node or self.node_id
        if self.mode == "count" or self.detection_node:
            self.metrics.merge_state(report_to, "privacyFindings", state)
            c = counters_of(state)
            c["privacy.cellsScanned"] = float(batch.num_rows * len(scanned))
            self.metrics.add(report_to, c)
        if self.mode == "count":
            return batch
        assert self.plan is not None
        try:
            out, counters = redact(batch, scanned, self.plan, self.keys, unscanned, self.rescanner)
        except Violation as exc:
            raise _error(self.node_id, str(exc)) from None
        counters["redaction.rows"] = float(batch.num_rows)
        self.metrics.add(self.node_id, counters)
        return out


def _error(node_id: str, message: str) -> Exception:
    from engine.errors import NodeError

    return NodeError(node_id, message)
