"""``privacy/detection``: find which columns hold personal data, and how much.

How it works (and how the redaction node learns the result):

1. At build time, on the driver, a sample (``sampleRows``, default 1,000) of the input
   is classified per column (:mod:`nodes.privacy.classify`): *structured* columns get
   one entity type and a confidence, *text* columns are marked for cell-by-cell scans.
2. The classification is stored as a :class:`DetectionResult` in a per-process registry
   keyed by ``(execution_id, node_id)`` (the compiler builds nodes in topological order
   in one driver process), reported as facts (``columns``, ``findings``,
   ``privacyReport``) and written to ``<artifact_dir>/privacy-report.json``.
   A downstream ``privacy/redaction`` node finds its upstream detection node in
   ``ctx.spec`` and reads the result with :func:`result_for`; if it is absent (another
   process) it re-derives it from its own input with the same config.
3. At run time the node passes rows through unchanged and counts findings per column
   and entity (vectorized: structured columns count non-null cells, text columns use
   the RE2 fast path) into ``ctx.metrics`` counters and a ``privacyFindings`` state.

No value ever reaches a report, metric or log: only column names, entity types,
counts and scores.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from engine.context import BuildContext
from engine.errors import NodeConfigError
from engine.registry import NodeConfig, ResourceRef, register
from engine.spec.models import NodeSpec, PipelineSpec
from nodes.privacy import patterns as _patterns  # noqa: F401  (registers built-ins)
from nodes.privacy.classify import ColumnClass, classify_table
from nodes.privacy.frameworks import get_framework
from nodes.privacy.library import check_library, resolve_library, scanner_for, scanner_spec
from nodes.privacy.report import FindingsState, summarize, write_report

if TYPE_CHECKING:
    from ray.data import Dataset

log = logging.getLogger(__name__)

FrameworkName = Literal["HIPAA", "GDPR", "PCI-DSS", "CCPA"]
PASS_THROUGH_TYPES = {"privacy/redaction", "privacy/synthetic"}


class DetectionConfig(NodeConfig):
    """Config of ``privacy/detection``."""

    patternLibraryId: Annotated[str, ResourceRef("patternLibraries")] = "patterns_default"
    confidenceThreshold: float = Field(0.5, ge=0.0, le=1.0)
    contextualAnalysis: bool = True
    complianceFramework: FrameworkName | None = None
    entities: list[str] | None = Field(None, description="Only these entity types.")
    columns: list[str] | None = Field(None, description="Only these columns (default all).")
    sampleRows: int = Field(1000, ge=10, le=1_000_000)
    nerModel: str | None = Field(
        "en_core_web_sm", description="Installed spaCy model for PERSON/LOCATION; null = off."
    )


@dataclass
class DetectionResult:
    """What a detection node decided at build time (no values)."""

    node_id: str
    scanner: dict[str, Any]
    columns: dict[str, ColumnClass]
    framework: str | None
    library: str
    hints: list[dict[str, Any]]
    warnings: list[str]

    def affected(self) -> dict[str, ColumnClass]:
        return {k: c for k, c in self.columns.items() if c.mode != "none"}


_RESULTS: dict[tuple[str, str], DetectionResult] = {}
_RESULTS_LOCK = threading.Lock()
_RESULTS_LIMIT = 256


def remember(execution_id: str, result: DetectionResult) -> None:
    with _RESULTS_LOCK:
        if len(_RESULTS) >= _RESULTS_LIMIT:  # old executions: forget the oldest
            _RESULTS.pop(next(iter(_RESULTS)))
        _RESULTS[(execution_id, result.node_id)] = result


def result_for(execution_id: str, node_id: str) -> DetectionResult | None:
    """The detection result of node ``node_id`` in this execution, if built here."""
    return _RESULTS.get((execution_id, node_id))


def sample_table(ds: Dataset, rows: int) -> pa.Table | None:
    """Up to ``rows`` rows of ``ds`` as one Arrow table (streams only what it needs)."""
    parts = [b for b in ds.limit(rows).iter_batches(batch_format="pyarrow", batch_size=rows)]
    if not parts:
        return None
    return pa.concat_tables(parts, promote_options="permissive")


def detect(
    *, ds: Dataset, config: DetectionConfig, catalog_get: Any, node_id: str
) -> DetectionResult:
    """Resolve the library, build the scanner and classify a sample of ``ds``."""
    try:
        lib = resolve_library(catalog_get, config.patternLibraryId)
    except ValueError as exc:
        raise NodeConfigError(node_id, str(exc)) from None
    problems = check_library(lib)
    if problems:
        raise NodeConfigError(
            node_id, f"pattern library {config.patternLibraryId!r}: " + "; ".join(problems)
        )
    spec = scanner_spec(
        lib,
        threshold=config.confidenceThreshold,
        contextual=config.contextualAnalysis,
        entities=config.entities,
        ner_model=config.nerModel,
    )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scanner = scanner_for(spec)
    for w in caught:
        notes.append(str(w.message))
        log.warning("node '%s': %s", node_id, w.message)
    if spec["ner_model"] and scanner.ner is None:
        spec = {**spec, "ner_model": None}  # workers need not retry a missing model
    hints = [h for h in lib["columnHints"] if not config.entities or h["entity"] in config.entities]
    sample = sample_table(ds, config.sampleRows)
    classes: dict[str, ColumnClass] = {}
    if sample is not None:
        if config.columns:
            missing = [c for c in config.columns if c not in sample.column_names]
            if missing:
                raise NodeConfigError(
                    node_id,
                    f"columns {missing} not in the input; available: {sample.column_names}",
                )
            sample = sample.select(config.columns)
        classes = classify_table(
            sample,
            scanner,
            hints,
            contextual=config.contextualAnalysis,
            threshold=config.confidenceThreshold,
        )
    return DetectionResult(
        node_id=node_id,
        scanner=spec,
        columns=classes,
        framework=config.complianceFramework,
        library=config.patternLibraryId,
        hints=hints,
        warnings=notes,
    )


def count_findings(
    batch: pa.Table, scanner_desc: dict[str, Any], columns: dict[str, ColumnClass]
) -> FindingsState:
    """Per column/entity counts in one batch (structured: non-null cells)."""
    state = FindingsState(rows=batch.num_rows)
    scanner = scanner_for(scanner_desc)
    for name, c in columns.items():
        if name not in batch.column_names or c.mode == "none":
            continue
        arr = batch.column(name)
        if c.mode == "structured" and c.entity:
            state.add(name, c.entity, len(arr) - arr.null_count)
            continue
        indices, _values, findings = scanner.scan_array(arr, name)
        vc = pc.value_counts(indices.drop_null())
        for idx, n in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            for f in findings[idx]:
                state.add(name, f.entity, n)
    return state


def _framework_checks(*, spec: PipelineSpec, node: NodeSpec, config: DetectionConfig) -> list[str]:
    """A framework pipeline must not reach an output without a redaction step."""
    if not config.complianceFramework:
        return []
    problems = []
    seen: set[str] = set()
    stack = list(spec.consumers(node.id))
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        n = spec.node(nid)
        if n.type_key in PASS_THROUGH_TYPES:
            continue
        if n.nodeType == "output":
            problems.append(
                f"{config.complianceFramework} requires removing identifiers before output "
                f"'{nid}', but no privacy/redaction node lies between '{node.id}' and '{nid}'"
            )
            continue
        stack.extend(spec.consumers(nid))
    return problems


@register(
    "privacy",
    "detection",
    config=DetectionConfig,
    checks=(_framework_checks,),
    description="Find personal data per column (patterns + validators + NER); rows unchanged.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: DetectionConfig) -> Dataset:
    """Classify columns from a sample, report findings, count them while streaming."""
    if config.complianceFramework:
        get_framework(config.complianceFramework)
    result = detect(
        ds=ctx.preview_input(inputs),
        config=config,
        catalog_get=ctx.catalog.get,
        node_id=ctx.node_id,
    )
    remember(ctx.execution_id, result)
    summary = summarize(result.columns)
    framework = get_framework(config.complianceFramework)
    required = []
    if framework:
        for col, c in result.affected().items():
            for ent in c.entities or ({c.entity: 1} if c.entity else {}):
                if framework.treatment(ent) is not None:
                    required.append(
                        {
                            "column": col,
                            "entity": ent,
                            "identifier": framework.identifiers.get(ent, ent),
                        }
                    )
    body = {
        "node": ctx.node_id,
        "executionId": ctx.execution_id,
        "pipelineId": ctx.spec.id,
        "patternLibrary": config.patternLibraryId,
        "confidenceThreshold": config.confidenceThreshold,
        "contextualAnalysis": config.contextualAnalysis,
        "complianceFramework": config.complianceFramework,
        "ner": result.scanner.get("ner_model"),
        "warnings": result.warnings,
        "requiredTreatment": required,
        **summary,
    }
    path = write_report(ctx.artifact_dir() / "privacy-report.json", body)
    ctx.report("privacyReport", str(path))
    ctx.report("findings", summary)
    ctx.report("columns", {k: c.to_dict() for k, c in result.columns.items()})
    if result.warnings:
        ctx.report("warnings", result.warnings)

    scanner_desc, columns, node_id, metrics = (
        result.scanner,
        result.affected(),
        ctx.node_id,
        ctx.metrics,
    )

    def count(batch: pa.Table) -> pa.Table:
        state = count_findings(batch, scanner_desc, columns)
        metrics.merge_state(node_id, "privacyFindings", state)
        counters = {"privacy.rows": float(batch.num_rows)}
        for ents in state.counts.values():
            for ent, n in ents.items():
                counters[f"privacy.{ent}"] = counters.get(f"privacy.{ent}", 0.0) + n
        metrics.add(node_id, counters)
        return batch

    if not columns:
        return inputs[0]
    return inputs[0].map_batches(
        count, **ctx.map_options(batch_format="pyarrow", zero_copy_batch=True)
    )
