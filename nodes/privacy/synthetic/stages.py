"""The synthetic node's run-time stages: sample, gather, fit, generate.

Nothing is read while the graph is built. The node's Dataset is::

    input ─ map_batches(block sample) ─ map_batches(merge, 1 actor) ─┐
                                                                     ├ repartition(1)
    one marker row ──────────────────────────────────────────────────┘
        ─ map_batches(fit, one task) ─ map_batches(generate, tasks) ─> synthetic rows

* **block sample**: every input block keeps its ``k`` rows with the smallest keys
  (``reservoir``): a bottom-k sample, mergeable and independent of block order;
* **merge**: one actor keeps the ``k`` smallest keys seen so far and passes on only the
  rows that enter them, so about ``k * (1 + ln(blocks))`` rows reach the barrier, however
  large the input;
* **repartition(1)**: the barrier that brings the bounded sample together (the marker
  row makes sure the fit stage runs, and reports an empty input, when no block does);
* **fit**: the final bottom-k sample; the stored model is reused when its fingerprint
  (input schema + fit settings) matches, else the columns are classified, the model is
  fitted and stored; quality and privacy are scored on bounded samples and the privacy
  check may fail the run; then a few task rows per worker leave, each naming a range
  of chunks of ``blockRows`` and carrying the model;
* **repartition(tasks)** and **generate**: one block per task row, so the generation
  tasks (``generate.generate_chunks``, at most ``workers`` at a time) spread over the
  CPUs; each yields its chunks one at a time. Tasks, not actors: an actor pool would
  hold its CPUs while the input is still being read and starve the stages before it.

Input rows are read once by the pipeline (counted by their own node); this node counts
only the synthetic rows it emits. Run-time facts reach the run result as the node's
``synthetic`` state (``metrics.merge_state``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import NodeError
from nodes.privacy.synthetic.reservoir import BottomKSample
from nodes.privacy.synthetic.template import SyntheticTemplate

KEY = "__synthetic_key"
MARKER = "__synthetic_marker"
TASKS_PER_WORKER = 4


class RunFacts:
    """What the fit stage learned, sent to the run's metrics as the node's state."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts

    def merge(self, other: RunFacts) -> RunFacts:
        return other  # a retried fit stage reports again: the latest report stands

    def to_dict(self) -> dict[str, Any]:
        return self.facts


def block_sample(
    batch: pa.Table, *, size: int, seed: int, metrics: Any = None, node_id: str = ""
) -> pa.Table:
    """The ``size`` rows of one block with the smallest keys, with their keys."""
    sample = BottomKSample(size, seed)
    sample.add(batch)
    table, keys = sample.keyed()
    if metrics is not None:
        metrics.add(node_id, {"synthetic.rowsSampledFrom": batch.num_rows})
    if table is None:
        return batch.append_column(KEY, pa.array([], pa.uint64()))
    return table.append_column(KEY, pa.array(keys, pa.uint64()))


class SampleMerge:
    """One actor: passes on only the rows that enter the ``size`` smallest keys so far."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self.keys = np.empty(0, dtype=np.uint64)

    def __call__(self, batch: pa.Table) -> pa.Table:
        if batch.num_rows == 0:
            return batch
        incoming = batch.column(KEY).to_numpy(zero_copy_only=False).astype(np.uint64)
        every = np.concatenate([self.keys, incoming])
        if len(every) > self.size:
            threshold = np.partition(every, self.size - 1)[self.size - 1]
            self.keys = every[every <= threshold][: self.size * 2]
            return batch.filter(pa.array(incoming <= threshold))
        self.keys = every
        return batch


def marker_table() -> pa.Table:
    """The one row that makes the fit stage run even when the input has no rows."""
    return pa.table({KEY: pa.array([np.iinfo(np.uint64).max], pa.uint64()), MARKER: [True]})


def gathered_sample(batch: pa.Table, size: int) -> pa.Table:
    """The final bottom-k sample from the gathered block, ordered by key, keys removed."""
    if MARKER in batch.column_names:
        batch = batch.filter(pc.invert(pc.fill_null(batch.column(MARKER), False)))
        batch = batch.drop_columns([MARKER])
    keys = batch.column(KEY).to_numpy(zero_copy_only=False).astype(np.uint64)
    batch = batch.drop_columns([KEY])
    if len(keys) > size:
        keep = np.argpartition(keys, size - 1)[:size]
        batch, keys = batch.take(pa.array(keep)), keys[keep]
    order = np.argsort(keys, kind="stable")
    return batch.take(pa.array(order)).combine_chunks()


@dataclass
class FitPlan:
    """Everything the fit stage needs, decided while building (no data involved)."""

    node_id: str
    template: SyntheticTemplate
    location: str
    preserve_distribution: bool
    refit: bool
    seed: int
    record_count: int
    block_rows: int
    tasks: int = 1
    detection: dict[str, Any] | None = None
    metrics: Any = None
    facts: dict[str, Any] = field(default_factory=dict)


def fit_stage(batch: pa.Table, *, plan: FitPlan) -> Iterator[pa.Table]:
    """Fit (or reuse) the model on the gathered sample, score it, then emit chunk rows."""
    import cloudpickle

    from nodes.privacy.synthetic import model as store

    template = plan.template
    sample = gathered_sample(batch, template.fitSampleSize)
    if sample.num_rows == 0:
        raise NodeError(plan.node_id, "the input is empty: nothing to learn from")
    fields = [(f.name, str(f.type)) for f in sample.schema]
    detection = json.dumps(plan.detection, sort_keys=True, default=str)
    fingerprint = template.fit_fingerprint(
        [
            *fields,
            ("preserveDistribution", str(plan.preserve_distribution)),
            ("upstreamDetection", hashlib.sha256(detection.encode()).hexdigest()),
        ]
    )
    facts: dict[str, Any] = {**plan.facts, "fingerprint": fingerprint}
    try:
        manifest = store.read_manifest(plan.location, template)
        if manifest is not None and manifest.get("fingerprint") == fingerprint and not plan.refit:
            blob = store.load_model_blob(plan.location, template)
            model = cloudpickle.loads(blob)
            facts.update(refitted=False)
        else:
            model = store.build_model(
                template,
                sample.schema,
                sample,
                preserve_distribution=plan.preserve_distribution,
                detection=plan.detection,
                fingerprint=fingerprint,
            )
            blob = cloudpickle.dumps(model)
            store.save_model(model, plan.location, template)
            facts.update(refitted=True)
    except NodeError:
        raise
    except Exception as exc:
        raise NodeError(plan.node_id, f"synthetic model could not be prepared: {exc}") from exc
    facts.update(
        fittedRows=model.fitted_rows,
        fittedAt=model.created_at,
        rowsInSample=sample.num_rows,
        synthesizer=template.synthesizer if model.synthesizer is not None else "metadata_only",
        columns={c.name: c.describe() for c in model.columns},
        reasons={c.name: c.reason for c in model.columns},
        dropped={c.name: c.reason for c in model.columns if c.role == "drop"},
    )
    quality, privacy = score(model, sample, plan)
    facts["quality"], facts["privacy"] = quality, privacy
    if plan.metrics is not None:
        plan.metrics.merge_state(plan.node_id, "synthetic", RunFacts(facts))
    limit = template.maxLeakage
    if limit is not None and privacy["leakage"] > limit:
        raise NodeError(
            plan.node_id,
            f"{privacy['leakage']:.2%} of {privacy['syntheticSampleRows']} sampled synthetic "
            f"rows copy a real row (or lie within {template.minDistance} of one); template "
            f"'{template.id}' allows at most {limit:.2%} (maxLeakage)",
        )
    yield task_rows(plan.record_count, plan.block_rows, plan.tasks, blob)


def task_rows(record_count: int, block_rows: int, tasks: int, blob: bytes) -> pa.Table:
    """One row per generation task: its first chunk, how many chunks, and the model.

    A few tasks per worker (not one row per chunk) keep the model's copies few; each
    task still yields one chunk at a time.
    """
    chunks = math.ceil(record_count / block_rows)
    tasks = max(1, min(tasks, chunks))
    bounds = np.linspace(0, chunks, tasks + 1).round().astype(np.int64)
    firsts, counts = bounds[:-1], np.diff(bounds)
    return pa.table(
        {
            "id": pa.array(firsts, pa.int64()),
            "count": pa.array(counts, pa.int64()),
            "model": pa.array([blob] * tasks, pa.binary()),
        }
    )


def score(model: Any, sample: pa.Table, plan: FitPlan) -> tuple[dict, dict]:
    """sdmetrics quality and the privacy report on bounded samples of both tables."""
    from nodes.privacy.synthetic.encode import encode_table
    from nodes.privacy.synthetic.generate import ChunkGenerator
    from nodes.privacy.synthetic.scores import privacy_report, quality_report

    template = plan.template
    generator = ChunkGenerator(
        model.columns, model.synthesizer, seed=plan.seed, locale=template.locale, pools=model.pools
    )
    n = min(template.qualitySampleSize, plan.record_count)
    synthetic = generator.rows(0, n)
    names = generator.schema.names
    real = sample.slice(0, template.qualitySampleSize).select(names).cast(generator.schema)
    learned = [c.name for c in model.columns if c.role == "learned"]
    generated = [c.name for c in model.columns if c.role == "fake" and c.sdtype != "null"]
    quality: dict[str, Any] = {"score": None, "properties": {}, "columns": {}}
    if learned:
        quality = quality_report(
            encode_table(real, learned), encode_table(synthetic, learned), model.metadata
        )
    privacy = privacy_report(
        real, synthetic, names, learned, generated=generated, min_distance=template.minDistance
    )
    privacy["maxLeakage"] = template.maxLeakage
    return quality, privacy


def synthetic_dataset(
    source: Any,
    plan: FitPlan,
    *,
    locale: str,
    workers: int | None,
    actor_cpus: float,
) -> Any:
    """The node's Dataset: the stages of the module docstring over ``source``."""
    import ray

    from nodes.privacy.synthetic.generate import generate_chunks

    chunks = math.ceil(plan.record_count / plan.block_rows)
    if workers is None:
        workers = max(1, int(ray.available_resources().get("CPU", 1)))
    workers = max(1, min(workers, chunks))
    plan.tasks = min(chunks, workers * TASKS_PER_WORKER)
    size = plan.template.fitSampleSize
    sampled = source.map_batches(
        block_sample,
        batch_size=None,
        batch_format="pyarrow",
        # A light pass beside the upstream stages: a quarter CPU each, so it runs even
        # while upstream actor pools hold most of the CPUs.
        num_cpus=0.25,
        fn_kwargs={
            "size": size,
            "seed": plan.template.seed,
            "metrics": plan.metrics,
            "node_id": plan.node_id,
        },
    )
    merged = sampled.map_batches(
        SampleMerge,
        batch_size=None,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=1),
        num_cpus=0,
        fn_constructor_kwargs={"size": size},
    )
    gathered = merged.union(ray.data.from_arrow(marker_table())).repartition(1)
    chunk_rows = gathered.map_batches(
        fit_stage,
        batch_size=None,
        batch_format="pyarrow",
        fn_kwargs={"plan": plan},
        # One task per run, started when the input is read: no CPU reserved, so the
        # actor pools upstream can never block it.
        num_cpus=0,
    )
    # One block per task row, so the generation tasks spread over the workers.
    spread = chunk_rows.repartition(plan.tasks)
    generated = spread.map_batches(
        generate_chunks,
        batch_size=1,
        batch_format="pyarrow",
        num_cpus=actor_cpus,
        concurrency=workers,
        fn_kwargs={
            "seed": plan.seed,
            "locale": locale,
            "record_count": plan.record_count,
            "block_rows": plan.block_rows,
            "metrics": plan.metrics,
            "node_id": plan.node_id,
        },
    )
    # Ray Data joins the tables a task yields into blocks of up to its target block
    # size (128 MiB), so a task of many chunks stores large blocks. A streaming
    # repartition splits them back into chunks of ``blockRows`` before they leave the
    # node (Ray 2.60 runs it as its own stage; it does not fuse it into the task).
    return generated.repartition(target_num_rows_per_block=plan.block_rows)
