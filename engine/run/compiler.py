"""Compile a plan into Ray Data: one lazy ``Dataset`` per dataset node, one Sink per output.

Nothing executes here: building a Dataset only records the logical plan. Every node's
output is wrapped with :func:`engine.run.metrics.count_batch`, which Ray Data fuses into the
node's last map stage. :class:`Compiled` can rebuild part of the graph later: with a
node's fallback (:mod:`engine.run.fallback`), with a shared node's materialized result
(:mod:`engine.run.shared`), or as a private copy of one chain with config overrides
(checkpointed shards, :mod:`engine.run.checkpoint`).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.catalog import Catalog
from engine.context import BuildContext, RunOptions
from engine.errors import NodeError, PipelineBuilderError
from engine.plan.planner import Plan
from engine.registry import Registry
from engine.run.metrics import RayMetrics, count_batch
from engine.run.recovery import RetryLedger
from engine.spec.models import PipelineSpec

if TYPE_CHECKING:
    from ray.data import Dataset


@dataclass
class Compiled:
    """The compiled graph: datasets by node id, sinks by output node id."""

    plan: Plan
    spec: PipelineSpec
    catalog: Catalog
    registry: Registry
    execution_id: str
    options: RunOptions
    metrics: RayMetrics
    datasets: dict[str, Dataset] = field(default_factory=dict)
    sinks: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    contexts: dict[str, BuildContext] = field(default_factory=dict)
    substituted: dict[str, str] = field(default_factory=dict)  # node -> fallback used
    fixed: set[str] = field(default_factory=set)  # nodes replaced by a materialized result
    raw: dict[str, Any] = field(default_factory=dict)  # datasets before row counting
    lock: threading.RLock = field(default_factory=threading.RLock)
    retries: RetryLedger = field(default_factory=RetryLedger)

    def build_node(self, node_id: str) -> None:
        """(Re)build ``node_id`` on its current inputs (with its fallback once substituted)."""
        pn = self.plan.node(node_id)
        inputs = [self.datasets[i] for i in pn.inputs]
        use = self.substituted.get(node_id)
        old = self.contexts.get(node_id)
        built, ctx = _build(use or node_id, self, inputs, as_node=node_id if use else None)
        if use and old is not None and "fallbackUsed" in old.facts:
            ctx.report("fallbackUsed", old.facts["fallbackUsed"])
        self._store(node_id, built, ctx, inputs)

    def substitute(self, node_id: str, reason: str) -> str | None:
        """Switch ``node_id`` to its fallback and rebuild its branch; the fallback's id.

        Returns None when the node has no fallback or already uses it.
        """
        with self.lock:
            fb = self.spec.node(node_id).fallback
            if not fb or node_id in self.substituted or node_id in self.fixed:
                return None
            self.substituted[node_id] = fb
            self.build_node(node_id)
            self.contexts[node_id].report("fallbackUsed", {"node": fb, "reason": reason})
            self.rebuild_below(node_id)
            return fb

    def _store(self, node_id: str, built: Any, ctx: BuildContext, inputs: list[Any]) -> None:
        self.contexts[node_id] = ctx
        if self.plan.node(node_id).kind == "output":
            self.sinks[node_id] = (built, inputs[0] if len(inputs) == 1 else inputs)
        else:
            self.raw[node_id] = built
            self.datasets[node_id] = counted(built, self.metrics, node_id)

    def descendants(self, node_id: str) -> list[str]:
        """Nodes downstream of ``node_id`` in topological order."""
        down = {node_id}
        out = []
        for pn in self.plan.order:
            if pn.id != node_id and down & set(pn.inputs):
                down.add(pn.id)
                out.append(pn.id)
        return out

    def rebuild_below(self, node_id: str) -> None:
        """Rebuild every node downstream of ``node_id`` (after it changed)."""
        with self.lock:
            for nid in self.descendants(node_id):
                if nid not in self.fixed and nid in self.contexts:
                    self.build_node(nid)

    def replace(self, node_id: str, ds: Dataset) -> None:
        """Use ``ds`` (e.g. a materialized result) as ``node_id``'s output from now on."""
        with self.lock:
            self.datasets[node_id] = ds
            self.raw[node_id] = ds
            self.fixed.add(node_id)
            self.rebuild_below(node_id)

    def chain(self, terminal: str, configs: dict[str, dict[str, Any]]) -> tuple[Any, Any]:
        """A private copy of ``terminal``'s linear chain with config overrides.

        Returns ``(sink_or_None, dataset)``; the graph itself is not changed.
        """
        ids = []
        cur = terminal
        while True:
            ids.append(cur)
            ins = self.plan.node(cur).inputs
            if not ins:
                break
            cur = ins[0]
        ds: Any = None
        built: Any = None
        for nid in reversed(ids):
            node = self.spec.node(nid)
            if nid in configs:
                node = node.model_copy(update={"config": {**node.config, **configs[nid]}})
            inputs = [ds] if ds is not None else []
            built, _ctx = _build(nid, self, inputs, node=node)
            if self.plan.node(nid).kind != "output":
                ds = counted(built, self.metrics, nid)
                built = None
        return built, ds


def counted(ds: Any, metrics: RayMetrics, node_id: str) -> Any:
    """``ds`` with its rows/bytes counted under ``node_id`` (fused into its last stage)."""
    return ds.map_batches(
        functools.partial(count_batch, metrics=metrics, node_id=node_id),
        batch_format="pyarrow",
        batch_size=None,
        zero_copy_batch=True,
    )


def compile_plan(
    plan: Plan,
    spec: PipelineSpec,
    catalog: Catalog,
    registry: Registry,
    *,
    execution_id: str,
    options: RunOptions,
    metrics: RayMetrics,
) -> Compiled:
    """Build every node of ``plan`` in topological order.

    A node whose build fails and that names a ``fallback`` is replaced by the fallback
    node built on the same inputs; the substitution is recorded.
    """
    out = Compiled(
        plan=plan,
        spec=spec,
        catalog=catalog,
        registry=registry,
        execution_id=execution_id,
        options=options,
        metrics=metrics,
    )
    fallback_only = {n.fallback for n in spec.nodes if n.fallback} - {
        i for n in spec.nodes for i in n.inputs
    }
    for pn in plan.order:
        if pn.id in fallback_only:
            continue
        node = spec.node(pn.id)
        inputs = [out.datasets[i] for i in pn.inputs]
        try:
            built, ctx = _build(pn.id, out, inputs)
        except PipelineBuilderError as exc:
            if not node.fallback:
                raise
            built, ctx = _build(node.fallback, out, inputs, as_node=pn.id)
            ctx.report("fallbackUsed", {"node": node.fallback, "reason": str(exc)})
            out.substituted[pn.id] = node.fallback
        out._store(pn.id, built, ctx, inputs)
    return out


def _build(
    node_id: str,
    compiled: Compiled,
    inputs: list[Any],
    *,
    as_node: str | None = None,
    node: Any = None,
) -> tuple[Any, BuildContext]:
    node = node or compiled.spec.node(node_id)
    nt = compiled.registry.get(node.type_key)
    assert nt is not None
    config = nt.config_model.model_validate(node.config)
    if as_node is not None:
        # The fallback stands in for the failed node: metrics go under the original id.
        node = node.model_copy(update={"id": as_node})
    ctx = BuildContext(
        spec=compiled.spec,
        node=node,
        catalog=compiled.catalog,
        execution_id=compiled.execution_id,
        options=compiled.options,
        metrics=compiled.metrics,
        uncounted_inputs=[
            compiled.raw.get(i) if compiled.datasets.get(i) is ds else None
            for i, ds in zip(node.inputs, inputs, strict=False)
        ],
    )
    try:
        built = nt.build(ctx=ctx, inputs=inputs, config=config)
    except PipelineBuilderError:
        raise
    except Exception as exc:  # user or library code: wrap with the node id
        raise NodeError(node.id, f"{type(exc).__name__}: {exc}") from exc
    return built, ctx
