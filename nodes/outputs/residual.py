"""Residual scan: every row an output writes, scanned for identifiers its frameworks forbid.

A pipeline subject to a compliance framework (``complianceFramework`` on a node, or a
``compliance:<FRAMEWORK>`` tag) has its outputs' written rows scanned on their way to the
writer: :meth:`ResidualScan.wrap` adds one ``map_batches`` step (fused with the write by
Ray Data) that runs the privacy detection scanner (:func:`nodes.privacy.batch.scan_batch`,
the same scanner spec the detection node builds, over every column of every batch) and
counts the findings of every entity type the frameworks require removed. Counts (never
values) go to a small tally actor; :meth:`ResidualScan.finish` reads them once the write
is done and before the sink commits:

* no residue: the facts record the evidence (``residualScan: {rowsScanned, findings,
  ...}``) and the certifications it backs (``<FRAMEWORK>_compliant``);
* residue, ``onResidue: fail`` (default): the node fails, naming the columns and entity
  types and their counts, and the sink publishes nothing;
* residue, ``onResidue: quarantine``: rows holding a residue are not written to the
  output but to ``<artifact dir>/quarantine/`` (Parquet), counted and reported; the
  written output is clean and certified. The quarantine never holds an identifier in
  clear: every span the scan finds in a held row is replaced by its type tag (a typed
  cell holding one is null), as the report's ``quarantineMasking`` says.

What the redaction itself writes is not residue: replacement tags (``<US_SSN>``) are
blanked before the scan, and generalized values the frameworks allow (a ZIP3 ``021``, a
year ``2021``, an age up to 89 or ``90+``) are not counted, nor are machine timestamps
of log lines, which a date generalization leaves (:func:`nodes.privacy.batch.treats`).
A column the scanner cannot read (binary, nested) is reported as unscanned and fails the
certification.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from engine.context import BuildContext
from engine.errors import NodeError
from engine.spec.models import NodeSpec, PipelineSpec

if TYPE_CHECKING:
    import pyarrow as pa
    from ray.data import Dataset

OnResidue = Literal["fail", "quarantine"]


def on_residue_field() -> Any:
    """The ``onResidue`` config field shared by the output nodes."""
    return Field(
        "fail",
        description="Under a compliance framework, what a residual identifier in the written "
        "rows does: fail the node (default) or quarantine the rows holding it.",
    )


# Values the frameworks' generalizations produce, which are not identifiers any more.
_GENERALIZED = {
    "US_ZIP": re.compile(r"\d{3}\**"),
    "DATE_TIME": re.compile(r"\d{4}(-\d{2})?"),
    "AGE": re.compile(r"([0-8]?\d|90\+|\d{1,2}-\d{1,2})"),
}
DETECTION = "privacy/detection"


@dataclass
class Evidence:
    """What a residual scan saw: rows, residue per column and entity (counts only)."""

    rows: int = 0
    findings: dict[str, dict[str, int]] = field(default_factory=dict)
    unscanned: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0

    def add(self, column: str, entity: str, n: int) -> None:
        if n:
            col = self.findings.setdefault(column, {})
            col[entity] = col.get(entity, 0) + int(n)

    def merge(self, other: Evidence) -> Evidence:
        out = Evidence(self.rows + other.rows, {}, dict(self.unscanned),
                       self.quarantined + other.quarantined)  # fmt: skip
        for src in (self.findings, other.findings):
            for col, ents in src.items():
                for ent, n in ents.items():
                    out.add(col, ent, n)
        for col, n in other.unscanned.items():
            out.unscanned[col] = out.unscanned.get(col, 0) + n
        return out

    @property
    def total(self) -> int:
        return sum(n for ents in self.findings.values() for n in ents.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rowsScanned": self.rows,
            "findings": {c: dict(sorted(e.items())) for c, e in sorted(self.findings.items())},
            "unscannedColumns": dict(sorted(self.unscanned.items())),
            "quarantinedRows": self.quarantined,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        return cls(
            int(d.get("rowsScanned", 0)),
            {c: {e: int(n) for e, n in ents.items()} for c, ents in d.get("findings", {}).items()},
            {c: int(n) for c, n in d.get("unscannedColumns", {}).items()},
            int(d.get("quarantinedRows", 0)),
        )

    def describe(self) -> str:
        parts = [
            f"{c}: " + ", ".join(f"{e} x{n}" for e, n in sorted(ents.items()))
            for c, ents in sorted(self.findings.items())
        ]
        parts += [f"{c}: cannot be scanned ({n} rows)" for c, n in sorted(self.unscanned.items())]
        return "; ".join(parts)


def frameworks_of(spec: PipelineSpec) -> list[str]:
    """The frameworks a pipeline is subject to (node configs and ``compliance:`` tags)."""
    from nodes.privacy.frameworks import get_framework

    names = [str(n.config["complianceFramework"]) for n in spec.nodes
             if n.config.get("complianceFramework")]  # fmt: skip
    names += [t.split(":", 1)[1] for t in spec.tags if t.lower().startswith("compliance:")]
    out = set()
    for name in names:
        try:
            fw = get_framework(name)
        except ValueError:
            continue  # validation reports unknown frameworks
        if fw is not None:
            out.add(fw.name)
    return sorted(out)


def upstream_detection(spec: PipelineSpec, node: NodeSpec) -> NodeSpec | None:
    """The nearest privacy detection node upstream of ``node`` (its scanner settings)."""
    queue, seen = list(node.inputs), set()
    while queue:
        nid = queue.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        n = spec.node(nid)
        if n.type_key == DETECTION:
            return n
        queue.extend(n.inputs)
    return None


def residual_spec(ctx: BuildContext, required: list[str]) -> dict[str, Any]:
    """The scanner spec: the upstream detection's library and settings, every entity
    the frameworks require, every column (the detection's own restrictions do not apply)."""
    from nodes.privacy.detection import DetectionConfig, scanner_setup

    det = upstream_detection(ctx.spec, ctx.node)
    raw = dict(det.config) if det is not None else {}
    for key in ("entities", "columns", "workers", "complianceFramework"):
        raw.pop(key, None)
    config = DetectionConfig.model_validate({**raw, "entities": sorted(required)})
    spec, _notes = scanner_setup(config, ctx.catalog.get, ctx.node_id)
    return spec


def _is_residue(text: str, entity: str, required: frozenset[str]) -> bool:
    if entity not in required:
        return False
    allowed = _GENERALIZED.get(entity)
    return not (allowed is not None and allowed.fullmatch(text.strip()))


def scan_rows(
    batch: pa.Table, scanner: Any, required: frozenset[str], columns: list[str] | None = None
) -> tuple[Evidence, pa.Array | None]:
    """Residue in one batch: the evidence and a per-row mask of rows holding any."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from nodes.privacy.batch import is_text, scan_batch
    from nodes.privacy.recognizers import EVENT_TIMESTAMP

    tags = "<(?:" + "|".join(sorted(re.escape(e) for e in _tag_names(scanner, required))) + ")>"
    view = batch.select(columns) if columns else batch
    for i, name in enumerate(view.column_names):  # the redaction's own tags are not residue
        arr = view.column(i)
        if is_text(arr.type):
            if pa.types.is_dictionary(arr.type):
                arr = arr.cast(arr.type.value_type)
            view = view.set_column(i, name, pc.replace_substring_regex(arr, tags, " "))
    scanned, unscanned = scan_batch(view, scanner)
    ev = Evidence(rows=batch.num_rows, unscanned={c: batch.num_rows for c in unscanned})
    mask = None
    for name, col in scanned.items():
        flags = []
        for value, found in zip(col.values, col.findings, strict=True):
            ents = {f.entity for f in found if f.source != EVENT_TIMESTAMP
                    and _is_residue(value[f.start : f.end], f.entity, required)}  # fmt: skip
            flags.append(sorted(ents))
        if not any(flags):
            continue
        rows_per_value = pc.value_counts(col.indices.drop_null())
        for idx, n in zip(rows_per_value.field("values").to_pylist(),
                          rows_per_value.field("counts").to_pylist(), strict=True):  # fmt: skip
            for ent in flags[idx]:
                ev.add(name, ent, n)
        hit = pc.fill_null(pc.take(pa.array([bool(f) for f in flags]), col.indices), False)
        mask = hit if mask is None else pc.or_(mask, hit)
    return ev, mask


QUARANTINE_MASKING = (
    "every identifier the scan finds in a quarantined row is replaced by its type tag "
    "(<US_SSN>); a typed cell holding one is null"
)


def mask_findings(batch: pa.Table, scanner: Any) -> pa.Table:
    """``batch`` with every span the scanner finds replaced by its type tag (a typed
    cell holding a finding becomes null): what the quarantine keeps of a held row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from nodes.privacy.batch import is_text, scan_batch
    from nodes.privacy.recognizers import EVENT_TIMESTAMP

    scanned, unscanned = scan_batch(batch, scanner)
    for name in unscanned:  # binary/nested cells cannot be checked: not kept
        i = batch.schema.get_field_index(name)
        batch = batch.set_column(i, name, pa.nulls(batch.num_rows, batch.schema.field(i).type))
    for name, col in scanned.items():
        found = [[f for f in fs if f.source != EVENT_TIMESTAMP] for fs in col.findings]
        if not any(found):
            continue
        i = batch.schema.get_field_index(name)
        arr = batch.column(i)
        if is_text(arr.type):
            new: list[str | None] = []
            for v, fs in zip(col.values, found, strict=True):
                for f in sorted(fs, key=lambda f: f.start, reverse=True):
                    v = v[: f.start] + f"<{f.entity}>" + v[f.end :]
                new.append(v)
            out = pc.take(pa.array(new, pa.string()), col.indices)
        else:
            clean = pc.take(pa.array([not fs for fs in found], pa.bool_()), col.indices)
            out = pc.if_else(pc.fill_null(clean, True), arr, pa.nulls(len(arr), arr.type))
        batch = batch.set_column(i, name, out)
    return batch


def _tag_names(scanner: Any, required: frozenset[str]) -> set[str]:
    names = set(required) | {"REDACTED"}
    with contextlib.suppress(Exception):  # the scanner's entity list is a convenience
        names |= set(scanner.entities)
    return names


class _Step:
    """The ``map_batches`` function: scan, tally, and (quarantine) divert residue rows."""

    def __init__(self, spec: dict[str, Any], required: list[str], tally: Any,
                 quarantine_dir: str | None, columns: list[str] | None) -> None:  # fmt: skip
        self.spec, self.required, self.tally = spec, frozenset(required), tally
        self.quarantine_dir, self.columns = quarantine_dir, columns

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow.compute as pc
        import ray

        from nodes.privacy.library import scanner_for

        scanner = scanner_for(self.spec)
        ev, mask = scan_rows(batch, scanner, self.required, self.columns)
        if mask is not None and self.quarantine_dir is not None:
            held = batch.filter(mask)
            if held.num_rows:
                held = mask_findings(held, scanner)
                import pyarrow.parquet as pq

                os.makedirs(self.quarantine_dir, exist_ok=True)
                pq.write_table(held, os.path.join(self.quarantine_dir,
                                                  f"part-{uuid.uuid4().hex}.parquet"))  # fmt: skip
                ev.quarantined += held.num_rows
                batch = batch.filter(pc.invert(mask))
        ray.get(self.tally.add.remote(ev))  # counted before the batch reaches the writer
        return batch


_TALLY: Any = None


def _tally_actor() -> Any:
    global _TALLY
    if _TALLY is None:
        import ray

        @ray.remote(num_cpus=0)
        class Tally:
            def __init__(self) -> None:
                self.evidence = Evidence()

            def add(self, ev: Evidence) -> None:
                self.evidence = self.evidence.merge(ev)

            def get(self) -> Evidence:
                return self.evidence

        _TALLY = Tally
    return _TALLY.remote()


class ResidualScan:
    """One output write's residual scan (see module docs). Inactive without a framework."""

    def __init__(self, ctx: BuildContext, on_residue: OnResidue = "fail") -> None:
        from engine.registry import default_registry

        self.ctx = ctx
        self.on_residue = on_residue
        self.frameworks = frameworks_of(ctx.spec)
        registry = default_registry()
        self.required = sorted(
            {e for fw in self.frameworks for e in registry.frameworks.get(fw, ())}
        )
        self.spec: dict[str, Any] | None = None
        self._tally: Any = None
        self.quarantine_dir: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.frameworks)

    def wrap(self, ds: Dataset, columns: list[str] | None = None) -> Dataset:
        """``ds`` with every batch scanned on its way to the writer (``columns``: only
        those the sink writes)."""
        if not self.active:
            return ds
        if self.spec is None:
            self.spec = residual_spec(self.ctx, self.required)
        self._tally = _tally_actor()
        if self.on_residue == "quarantine":
            self.quarantine_dir = str(self.ctx.artifact_dir() / "quarantine" / uuid.uuid4().hex[:8])
        step = _Step(self.spec, self.required, self._tally, self.quarantine_dir, columns)
        return ds.map_batches(step, **self.ctx.map_options(batch_format="pyarrow"))

    def evidence(self) -> Evidence:
        import ray

        if self._tally is None:
            return Evidence()
        try:
            return ray.get(self._tally.get.remote())  # type: ignore[no-any-return]
        finally:
            ray.kill(self._tally)
            self._tally = None

    def finish(self, cleanup: Callable[[], Any] | None = None) -> dict[str, Any]:
        """After the write, before the commit: the facts, or a NodeError on residue.

        ``cleanup`` runs before the error (e.g. removing an unpublished version).
        """
        if not self.active:
            return {}
        return self.verdict(self.evidence(), cleanup)

    def verdict(self, ev: Evidence, cleanup: Callable[[], Any] | None = None) -> dict[str, Any]:
        """Facts for ``ev``; raises NodeError when it shows residue that was written."""
        body = {
            **ev.to_dict(),
            "frameworks": self.frameworks,
            "entities": self.required,
            "onResidue": self.on_residue,
        }
        if self.quarantine_dir and ev.quarantined:
            body["quarantine"] = self.quarantine_dir
            body["quarantineMasking"] = QUARANTINE_MASKING
        self.ctx.report("residualScan", body)
        if ev.unscanned or (ev.total and self.on_residue == "fail"):
            if cleanup is not None:
                cleanup()
            raise NodeError(
                self.ctx.node_id,
                f"residual identifiers in the rows written under {', '.join(self.frameworks)} "
                f"({ev.rows} rows scanned): {ev.describe()}; nothing was published",
            )
        certs = [f"{fw}_compliant" for fw in self.frameworks]
        self.ctx.report("certifications", certs)
        return {"residualScan": body, "certifications": certs}


def shard_facts(
    ctx: BuildContext, on_residue: OnResidue, markers: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The residual facts of a shard-committed output: the shards' evidence summed.

    Each shard was scanned (and refused on residue) when it was written; its evidence is
    in its marker. A shard without evidence (written without a scan) leaves the output
    uncertified.
    """
    scan = ResidualScan(ctx, on_residue)
    if not scan.active:
        return {}
    total = Evidence()
    missing = []
    for shard, marker in sorted(markers.items()):
        got = marker.get("residualScan")
        if isinstance(got, dict):
            total = total.merge(Evidence.from_dict(got))
        else:
            missing.append(shard)
    if missing:
        body = {**total.to_dict(), "frameworks": scan.frameworks, "unscannedShards": missing}
        ctx.report("residualScan", body)
        ctx.report("certifications", [])
        return {"residualScan": body}
    return scan.verdict(total)
