"""Quality gates run on a written (not yet visible) version before it is deployed.

A gate is a built-in check name or the id of a ``qualityRules`` resource naming one::

    qualityRules:
      - {id: orders_complete, gate: completeness, severity: warn, minRatio: 0.99}

Built-in checks:

- ``schema_validation``: columns, types and nullability against the environment's
  ``expectedSchema`` ``[{name, type, nullable}]``.
- ``completeness``: non-null ratio per column >= ``minRatio`` (default 0.95; ``columns``
  limits the check).
- ``row_count``: ``min`` (default 1) <= rows <= ``max``.
- ``pii_free``: the output re-scanned cell by cell with the privacy detection node's
  scanner (``patternLibraryId``, ``confidenceThreshold``, ``nerModel``; up to
  ``scanRows`` rows) finds none of ``identifiers`` (default: any entity). Skipped with
  a warning if the privacy package is unavailable.
- ``uniqueness``: no duplicate combination of ``keys``.
- ``freshness``: the newest value of ``column`` is at most ``maxAgeHours`` old.

Stats are gathered in one streaming pass over the written files (Arrow batches, bounded
memory; uniqueness keeps 8 bytes per row of key hashes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from engine.catalog import Catalog, declare_keys
from engine.errors import NodeConfigError
from nodes.outputs.gates_pii import PiiScan

log = logging.getLogger(__name__)

# The built-in checks and the parameters each reads (keys of a gate's resource, or of
# its ``params``).
GATE_PARAMS: dict[str, tuple[str, ...]] = {
    "schema_validation": ("expectedSchema", "allowExtraColumns"),
    "completeness": ("minRatio", "columns"),
    "row_count": ("min", "max"),
    "pii_free": (
        "identifiers",
        "patternLibraryId",
        "confidenceThreshold",
        "contextualAnalysis",
        "nerModel",
        "scanRows",
    ),
    "uniqueness": ("keys",),
    "freshness": ("column", "maxAgeHours"),
}
BUILTIN_GATES: tuple[str, ...] = tuple(GATE_PARAMS)
declare_keys(
    "qualityRules",
    {"gate", "check", "type", "severity", "params"}.union(*GATE_PARAMS.values()),
)
Severity = Literal["block", "warn"]


@dataclass(frozen=True)
class Gate:
    """A resolved gate: which check, how severe, with which parameters."""

    id: str
    check: str
    severity: Severity = "block"
    params: dict[str, Any] = field(default_factory=dict)


def gate_refs(
    items: Iterable[str | dict[str, Any]], path: str = "qualityGates"
) -> list[tuple[str, str, str]]:
    """``(kind, id, path)`` references for gate names that are not built-ins."""
    refs = []
    for i, item in enumerate(items):
        if isinstance(item, str) and item not in BUILTIN_GATES:
            refs.append(("qualityRules", item, f"{path}.{i}"))
    return refs


def resolve_gates(
    items: Iterable[str | dict[str, Any]], catalog: Catalog, *, node_id: str
) -> list[Gate]:
    """Turn ``qualityGates`` entries (names, rule ids, inline objects) into gates."""
    gates = []
    for item in items:
        if isinstance(item, str) and item in BUILTIN_GATES:
            gates.append(Gate(id=item, check=item))
            continue
        res = catalog.get("qualityRules", item) if isinstance(item, str) else dict(item)
        check = res.pop("gate", None) or res.pop("check", None) or res.pop("type", None)
        gid = res.pop("id", None) or check
        if check not in BUILTIN_GATES:
            raise NodeConfigError(
                node_id,
                f"quality gate {gid!r} names check {check!r}; expected 'gate' to be one of "
                + ", ".join(BUILTIN_GATES),
            )
        severity = res.pop("severity", "block")
        if severity not in ("block", "warn"):
            raise NodeConfigError(
                node_id, f"quality gate {gid!r} severity {severity!r}; expected block or warn"
            )
        params = dict(res.pop("params", None) or {})
        res.pop("name", None)
        res.pop("description", None)
        params.update(res)
        gates.append(Gate(id=str(gid), check=check, severity=severity, params=params))
    return gates


# ---------------------------------------------------------------- streaming stats


class _Stats:
    """What the gates need, accumulated batch by batch."""

    def __init__(self, gates: list[Gate], catalog: Catalog | None = None) -> None:
        self.rows = 0
        self.nulls: dict[str, int] = {}
        self.schema: pa.Schema | None = None
        self.maxima: dict[str, Any] = {}
        self.freshness_cols = {g.params.get("column") for g in gates if g.check == "freshness"}
        self.unique_keys = [
            tuple(_as_list(g.params.get("keys"))) for g in gates if g.check == "uniqueness"
        ]
        self.hashes: dict[tuple[str, ...], list[Any]] = {k: [] for k in self.unique_keys}
        self.pii = [g for g in gates if g.check == "pii_free"]
        self.pii_scanned = 0
        self.pii_findings: dict[str, int] = {}
        self.pii_columns: dict[str, list[str]] = {}
        self.pii_error: str | None = None
        self._pii = PiiScan(self.pii[0].params, catalog) if self.pii else None

    def add(self, batch: pa.RecordBatch | pa.Table) -> None:
        if self.schema is None:
            self.schema = batch.schema
        self.rows += batch.num_rows
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            self.nulls[name] = self.nulls.get(name, 0) + col.null_count
        for c in self.freshness_cols:
            if c and c in batch.schema.names and batch.num_rows:
                m = pc.max(batch.column(c)).as_py()
                if m is not None and (self.maxima.get(c) is None or m > self.maxima[c]):
                    self.maxima[c] = m
        for keys in self.unique_keys:
            if all(k in batch.schema.names for k in keys):
                self.hashes[keys].append(_hash_rows(batch, keys))
        if self._pii is not None and self.pii_error is None:
            self._guard(lambda: self._pii.add(batch))  # type: ignore[union-attr]

    def finish(self) -> None:
        if self._pii is not None and self.pii_error is None:
            self._guard(self._pii.finish)  # type: ignore[union-attr]
        if self._pii is not None and self._pii.state is not None:
            self.pii_scanned = self._pii.state.rows
            for col, ents in self._pii.state.counts.items():
                for ent, n in ents.items():
                    self.pii_findings[ent] = self.pii_findings.get(ent, 0) + n
                    self.pii_columns.setdefault(ent, []).append(col)

    def _guard(self, fn: Any) -> None:
        try:
            fn()
        except Exception as exc:  # the scanner is the privacy package's code: report it
            self.pii_error = f"{type(exc).__name__}: {exc}"


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def _hash_rows(batch: pa.RecordBatch | pa.Table, keys: tuple[str, ...]) -> Any:
    import numpy as np
    import pandas as pd

    # One batch's key columns only (bounded by the block size), for pandas' row hashing.
    frame = pa.table({k: batch.column(k) for k in keys}).to_pandas()
    return np.asarray(pd.util.hash_pandas_object(frame, index=False), dtype=np.uint64)


# ---------------------------------------------------------------- evaluation


def _result(gate: Gate, passed: bool | None, message: str, **observed: Any) -> dict[str, Any]:
    if passed is None:
        status = "skipped"
    elif passed:
        status = "passed"
    else:
        status = "failed" if gate.severity == "block" else "warning"
    return {
        "id": gate.id,
        "check": gate.check,
        "severity": gate.severity,
        "status": status,
        "passed": bool(passed) if passed is not None else None,
        "message": message,
        "observed": observed,
    }


_TYPE_ALIASES = {
    "int": "int64",
    "integer": "int64",
    "long": "int64",
    "float": "double",
    "float64": "double",
    "float32": "float",
    "str": "string",
    "text": "string",
    "large_string": "string",
    "utf8": "string",
    "boolean": "bool",
    "timestamp": "timestamp",
    "datetime": "timestamp",
}


def _norm_type(t: str | pa.DataType) -> str:
    s = str(t).lower()
    if s.startswith("timestamp"):
        return "timestamp"
    if s.startswith("date"):
        return "date"
    if s.startswith("decimal"):
        return "decimal"
    return _TYPE_ALIASES.get(s, s)


def _compatible(expected: str, actual: pa.DataType) -> bool:
    e, a = _norm_type(expected), _norm_type(actual)
    if e == a:
        return True
    # "int"/"integer" accept any integer width; "number" accepts any numeric type
    if e in ("int64",) and pa.types.is_integer(actual):
        return expected.lower() in ("int", "integer")
    if e == "number":
        return (
            pa.types.is_integer(actual)
            or pa.types.is_floating(actual)
            or pa.types.is_decimal(actual)
        )
    return False


def _schema_gate(gate: Gate, st: _Stats, expected: list[dict[str, Any]] | None) -> dict[str, Any]:
    expected = gate.params.get("expectedSchema") or expected
    if not expected:
        return _result(gate, None, "environment has no expectedSchema; nothing to check")
    actual = st.schema or pa.schema([])
    problems = []
    for col in expected:
        name = col["name"]
        if name not in actual.names:
            problems.append(f"missing column {name!r}")
            continue
        typ = actual.field(name).type
        if col.get("type") and not _compatible(str(col["type"]), typ):
            problems.append(f"column {name!r} is {typ}, expected {col['type']}")
        if col.get("nullable") is False and st.nulls.get(name, 0):
            problems.append(f"column {name!r} has {st.nulls[name]} null(s), expected none")
    if gate.params.get("allowExtraColumns", True) is False:
        extra = sorted(set(actual.names) - {c["name"] for c in expected})
        problems += [f"unexpected column {c!r}" for c in extra]
    msg = "; ".join(problems) or "schema matches"
    return _result(gate, not problems, msg, problems=problems)


def completeness_score(st: _Stats, columns: list[str] | None = None) -> float:
    cols = columns or list(st.nulls)
    if not st.rows or not cols:
        return 1.0
    nulls = sum(st.nulls.get(c, 0) for c in cols)
    return round(1.0 - nulls / (st.rows * len(cols)), 6)


def _completeness_gate(gate: Gate, st: _Stats) -> dict[str, Any]:
    min_ratio = float(gate.params.get("minRatio", 0.95))
    cols = _as_list(gate.params.get("columns")) or list(st.nulls)
    missing = [c for c in cols if c not in st.nulls]
    ratios = {c: (1.0 - st.nulls[c] / st.rows) if st.rows else 1.0 for c in cols if c in st.nulls}
    low = {c: round(r, 6) for c, r in ratios.items() if r < min_ratio}
    ok = not low and not missing
    msg = (
        f"columns below {min_ratio}: {low}" if low else f"all columns >= {min_ratio} non-null"
    ) + (f"; missing columns {missing}" if missing else "")
    return _result(
        gate, ok, msg, ratios={c: round(r, 6) for c, r in ratios.items()}, minRatio=min_ratio
    )


def _row_count_gate(gate: Gate, st: _Stats) -> dict[str, Any]:
    lo = int(gate.params.get("min", 1))
    hi = gate.params.get("max")
    ok = st.rows >= lo and (hi is None or st.rows <= int(hi))
    return _result(
        gate,
        ok,
        f"{st.rows} rows, expected [{lo}, {hi if hi is not None else 'inf'}]",
        rows=st.rows,
    )


def _uniqueness_gate(gate: Gate, st: _Stats) -> dict[str, Any]:
    import numpy as np

    keys = tuple(_as_list(gate.params.get("keys")))
    if not keys:
        return _result(gate, False, "uniqueness gate needs 'keys' (column names)")
    absent = [k for k in keys if st.schema is not None and k not in st.schema.names]
    if absent:
        return _result(gate, False, f"key column(s) {absent} not in the output")
    parts = st.hashes.get(keys) or []
    allh = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    dups = int(allh.size - np.unique(allh).size)
    return _result(gate, dups == 0, f"{dups} duplicate key(s) on {list(keys)}", duplicates=dups)


def _freshness_gate(gate: Gate, st: _Stats, now: datetime) -> dict[str, Any]:
    col = gate.params.get("column")
    hours = float(gate.params.get("maxAgeHours", 24))
    if not col:
        return _result(gate, False, "freshness gate needs 'column' (a timestamp column)")
    newest = st.maxima.get(col)
    if newest is None:
        return _result(gate, False, f"column {col!r} has no values (or is absent)")
    if isinstance(newest, datetime):
        ts = newest if newest.tzinfo else newest.replace(tzinfo=timezone.utc)
    elif hasattr(newest, "year"):  # a date
        ts = datetime(newest.year, newest.month, newest.day, tzinfo=timezone.utc)
    else:
        try:
            ts = datetime.fromisoformat(str(newest).replace("Z", "+00:00"))
            ts = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
        except ValueError:
            return _result(gate, False, f"column {col!r} newest value is not a timestamp")
    age = now - ts
    ok = age <= timedelta(hours=hours)
    return _result(
        gate,
        ok,
        f"newest {col} is {age.total_seconds() / 3600:.2f} h old, limit {hours} h",
        newest=ts.isoformat(),
        ageHours=round(age.total_seconds() / 3600, 3),
    )


def _pii_gate(gate: Gate, st: _Stats) -> dict[str, Any]:
    if st._pii is None or not st._pii.available:
        res = _result(gate, None, "privacy detection not available; pii_free skipped")
        res["status"] = "warning" if gate.severity == "warn" else "skipped"
        return res
    if st.pii_error:
        return _result(gate, False, f"privacy scan failed: {st.pii_error}")
    wanted = set(_as_list(gate.params.get("identifiers")))
    found = {e: n for e, n in st.pii_findings.items() if not wanted or e in wanted}
    where = {e: sorted(set(st.pii_columns.get(e, []))) for e in found}
    msg = (
        f"identifiers found: {where}"
        if found
        else f"no identifiers in {st.pii_scanned} scanned rows"
    )
    return _result(gate, not found, msg, findings=found, columns=where, scannedRows=st.pii_scanned)


def evaluate(
    gates: list[Gate],
    batches: Iterable[pa.RecordBatch | pa.Table],
    *,
    expected_schema: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    catalog: Catalog | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Stream ``batches`` once and evaluate every gate.

    Returns:
        ``(results, summary)`` where summary has ``rows``, ``schema``,
        ``completenessScore`` and ``nullCounts``.
    """
    st = _Stats(gates, catalog)
    for b in batches:
        st.add(b)
    st.finish()
    now = now or datetime.now(timezone.utc)
    results = []
    for g in gates:
        if g.check == "schema_validation":
            results.append(_schema_gate(g, st, expected_schema))
        elif g.check == "completeness":
            results.append(_completeness_gate(g, st))
        elif g.check == "row_count":
            results.append(_row_count_gate(g, st))
        elif g.check == "uniqueness":
            results.append(_uniqueness_gate(g, st))
        elif g.check == "freshness":
            results.append(_freshness_gate(g, st, now))
        elif g.check == "pii_free":
            results.append(_pii_gate(g, st))
    schema = st.schema or pa.schema([])
    summary = {
        "rows": st.rows,
        "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema],
        "completenessScore": completeness_score(st),
        "nullCounts": dict(st.nulls),
        "piiFindings": dict(st.pii_findings) if st.pii else None,
    }
    return results, summary


def openlineage_assertions(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Gate results as an OpenLineage ``DataQualityAssertionsDatasetFacet`` body."""
    assertions = []
    for r in results:
        if r["status"] == "skipped":
            continue
        item: dict[str, Any] = {"assertion": r["id"], "success": r["status"] == "passed"}
        cols = r.get("observed", {}).get("columns")
        if isinstance(cols, list) and len(cols) == 1:
            item["column"] = cols[0]
        assertions.append(item)
    return {"assertions": assertions}


def blocking_failures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results that must stop a deploy."""
    return [r for r in results if r["status"] == "failed"]


def iter_written(uri: str, fmt: str, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Stream the data files of a written folder back as Arrow batches."""
    import pyarrow.dataset as pds
    import pyarrow.json as pj

    from nodes.outputs.versions import locate

    loc = locate(uri)
    import pyarrow.fs as pafs

    sel = pafs.FileSelector(loc.root, recursive=True, allow_not_found=True)
    files = sorted(
        i.path
        for i in loc.fs.get_file_info(sel)
        if i.type == pafs.FileType.File and not i.base_name.startswith(("_", "."))
    )
    if not files:
        return
    if fmt in ("parquet", "csv"):
        dataset = pds.dataset(files, format=fmt, filesystem=loc.fs)
        yield from dataset.to_batches(batch_size=batch_rows)
        return
    for path in files:  # jsonl: one streaming reader per file
        with loc.fs.open_input_stream(path) as f:
            reader = pj.open_json(f)
            yield from reader
