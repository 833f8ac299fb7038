"""``privacy/detection``: find personal data in every cell of every column, while streaming.

Fail closed. Nothing is decided from a sample and no data is read while the graph is
built: the build resolves the pattern library, the recognizers and the NER model into a
picklable scanner spec and writes a report of *what will be looked for*. At run time,
every batch (``map_batches``, ``batch_format="pyarrow"``) is scanned cell by cell
(:mod:`nodes.privacy.batch`): free text, short strings, and integer/decimal/other typed
columns as their text. Findings become metrics: ``privacy.<ENTITY>`` counters,
``privacy.rows``/``privacy.cellsScanned`` and a mergeable ``privacyFindings`` state (per
column and entity counts, unscannable columns), reported with the run's results.

When every consumer of this node is a ``privacy/redaction`` that uses it, the redaction
does the one scan (it must examine every cell it writes anyway) and reports the findings
under this node's id; this node then passes its input through. Otherwise this node scans
and counts itself (:func:`scan_stage`: one scanner and NER model per worker process, or a
pool of ``workers`` scanner actors).

No value ever reaches a report, metric or log: only column names, entity types and counts.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from engine.context import BuildContext
from engine.errors import NodeConfigError
from engine.registry import NodeConfig, ResourceRef, register
from engine.spec.models import NodeSpec, PipelineSpec
from nodes.privacy import patterns as _patterns  # noqa: F401  (registers built-ins)
from nodes.privacy.batch import ScanActor
from nodes.privacy.frameworks import get_framework
from nodes.privacy.library import check_library, resolve_library, scanner_spec
from nodes.privacy.report import write_report

if TYPE_CHECKING:
    from ray.data import Dataset

log = logging.getLogger(__name__)

FrameworkName = Literal["HIPAA", "GDPR", "PCI-DSS", "CCPA"]
PASS_THROUGH_TYPES = {"privacy/redaction", "privacy/synthetic"}
REDACTION = "privacy/redaction"


class DetectionConfig(NodeConfig):
    """Config of ``privacy/detection``."""

    patternLibraryId: Annotated[str, ResourceRef("patternLibraries")] = "patterns_default"
    confidenceThreshold: float = Field(0.5, ge=0.0, le=1.0)
    contextualAnalysis: bool = True
    complianceFramework: FrameworkName | None = None
    entities: list[str] | None = Field(None, description="Only these entity types.")
    columns: list[str] | None = Field(
        None,
        description="Only these columns (default all). Ignored under a compliance framework, "
        "which scans every column.",
    )
    nerModel: str | None = Field(
        "en_core_web_sm", description="Installed spaCy model for PERSON/LOCATION; null = off."
    )
    workers: int | None = Field(
        None, ge=1, description="A fixed pool of scanner actors (default: Ray tasks)."
    )


def scanner_setup(
    config: DetectionConfig, catalog_get: Any, node_id: str
) -> tuple[dict[str, Any], list[str]]:
    """The picklable scanner spec of a detection config, and warnings (no data read)."""
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
    if spec["ner_model"]:
        from nodes.privacy.presidio_bridge import installed_model_name, load_spacy

        if installed_model_name(spec["ner_model"]) is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                load_spacy(spec["ner_model"])
            notes += [str(w.message) for w in caught]
            for n in notes:
                log.warning("node '%s': %s", node_id, n)
            spec = {**spec, "ner_model": None}  # workers need not retry a missing model
    return spec, notes


def scanned_entities(spec: dict[str, Any]) -> list[str]:
    """Every entity type a scanner spec can report."""
    from nodes.privacy.recognizers import RECOGNIZERS

    ents = {p["entity"] for p in spec["patterns"]} | set(spec["deny"])
    ents |= {e for r in spec.get("recognizers", []) for e in RECOGNIZERS[r].entities}
    ents |= {h["entity"] for h in spec.get("hints", [])}
    if spec.get("ner_model"):
        ents |= set(spec.get("ner_entities", []))
    return sorted(ents)


# Rows per block handed to the scan. One block is scanned by one worker, and Ray Data may
# deliver a few large ones: its Parquet reader packs small files into 128 MiB read units
# (8 files of free text came as one block), and a read task fuses with the map after it.
# Scanning costs far more per row than reading, so the input is cut (streaming, bounded)
# into blocks of at most this many rows first, and every CPU gets a share.
SCAN_BLOCK_ROWS = 2048


def scan_stage(
    ds: Any, ctx: BuildContext, workers: int | None, kwargs: dict[str, Any], **extra: Any
) -> Any:
    """The per-batch scan as a ``map_batches`` stage, over blocks of at most
    ``SCAN_BLOCK_ROWS`` rows (or the node's ``resources.batchSize``).

    Default: Ray tasks; each worker process builds the scanner (and loads the NER model)
    once and keeps it (:func:`nodes.privacy.library.scanner_for`), and Ray schedules as
    many tasks as there are free CPUs, so the scan scales with cores without holding a
    CPU per actor. ``workers: N`` (or the node's ``resources.concurrency``) runs a fixed
    pool of N scanner actors instead.
    """
    opts = ctx.map_options(batch_format="pyarrow", **extra)
    size = opts.pop("concurrency", None) or workers
    # strict: a stage of its own (a non-strict repartition fuses into the map before it,
    # and the scan into it, so the cut blocks would stay in one task).
    rows = opts.get("batch_size") or SCAN_BLOCK_ROWS
    ds = ds.repartition(target_num_rows_per_block=rows, strict=True)
    if size:
        return ds.map_batches(
            ScanActor, fn_constructor_kwargs=kwargs, concurrency=int(size), **opts
        )
    spec = kwargs

    def scan(batch: Any) -> Any:
        return _task_actor(spec)(batch)

    return ds.map_batches(scan, **opts)


_TASK_ACTORS: dict[tuple[str, str, str, str], ScanActor] = {}


def _task_actor(kwargs: dict[str, Any]) -> ScanActor:
    """One ScanActor per worker process and stage (the scanner inside is cached too)."""
    run = str(getattr(kwargs["metrics"], "key", None) or id(kwargs))  # one per execution
    key = (kwargs["spec"]["fingerprint"], kwargs["node_id"], kwargs["mode"], run)
    found = _TASK_ACTORS.get(key)
    if found is None:
        if len(_TASK_ACTORS) > 64:
            _TASK_ACTORS.clear()
        found = _TASK_ACTORS[key] = ScanActor(**kwargs)
    return found


def redaction_consumers(spec: PipelineSpec, node_id: str) -> bool:
    """True when every consumer of ``node_id`` is a redaction that uses this detection."""
    consumers = list(spec.consumers(node_id))
    if not consumers:
        return False
    for cid in consumers:
        c = spec.node(cid)
        if c.type_key != REDACTION:
            return False
        ref = c.config.get("detectionNodeId")
        if ref and ref != node_id:
            return False
    return True


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
    privacy_role="detect",
    lineage_name="pii_detection",
    config=DetectionConfig,
    checks=(_framework_checks,),
    description="Find personal data in every cell (patterns, validators, recognizers, NER); "
    "rows unchanged, findings as run metrics.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: DetectionConfig) -> Dataset:
    """Plan the scan (no data read); scan and count every batch at run time."""
    framework = get_framework(config.complianceFramework)
    spec, notes = scanner_setup(config, ctx.catalog.get, ctx.node_id)
    entities = scanned_entities(spec)
    deferred = redaction_consumers(ctx.spec, ctx.node_id)
    required = []
    if framework:
        required = [
            {"entity": e, "identifier": framework.identifiers.get(e, e)}
            for e in entities
            if framework.treatment(e) is not None
        ]
    body = {
        "node": ctx.node_id,
        "executionId": ctx.execution_id,
        "pipelineId": ctx.spec.id,
        "patternLibrary": config.patternLibraryId,
        "confidenceThreshold": config.confidenceThreshold,
        "contextualAnalysis": config.contextualAnalysis,
        "complianceFramework": config.complianceFramework,
        "ner": spec.get("ner_model"),
        "recognizers": spec.get("recognizers", []),
        "entities": entities,
        "scope": "every cell of every column, every batch",
        "scannedBy": "downstream privacy/redaction" if deferred else ctx.node_id,
        "findings": "run metrics: privacyFindings state and privacy.* counters of this node",
        "warnings": notes,
        "requiredTreatment": required,
    }
    path = write_report(ctx.artifact_dir() / "privacy-report.json", body)
    ctx.report("privacyReport", str(path))
    ctx.report("entities", entities)
    ctx.report("scannedBy", body["scannedBy"])
    if notes:
        ctx.report("warnings", notes)
    if deferred:
        return inputs[0]
    columns = None if framework else config.columns
    kwargs = {
        "spec": spec,
        "node_id": ctx.node_id,
        "metrics": ctx.metrics,
        "mode": "count",
        "columns": columns,
    }
    return scan_stage(inputs[0], ctx, config.workers, kwargs, zero_copy_batch=True)
