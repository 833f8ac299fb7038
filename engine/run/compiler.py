"""Compile a plan into Ray Data: one lazy ``Dataset`` per dataset node, one Sink per output.

:func:`compile_plan` is a pure function of the plan (and the run's :class:`Overrides`):
nothing executes and nothing is read, building a Dataset only records the logical plan,
and the :class:`Compiled` graph it returns is never changed afterwards. Recovery builds a
new graph: the runner's :class:`~engine.run.graph.RunGraph` recompiles with new overrides
(a node switched to its fallback, a shared node replaced by its materialized result), and
:func:`compile_chain` builds a private copy of one linear chain with config overrides
(checkpointed shards, :mod:`engine.run.checkpoint`).

Every node's output is wrapped with :func:`engine.run.metrics.count_batch`, which Ray
Data fuses into the node's last map stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from engine.catalog import Catalog
from engine.context import BuildContext, RunOptions
from engine.errors import NodeError, PipelineBuilderError
from engine.plan.planner import Plan
from engine.registry import Registry
from engine.run.metrics import RayMetrics, counter_fn
from engine.spec.models import PipelineSpec

if TYPE_CHECKING:
    from ray.data import Dataset


@dataclass(frozen=True)
class Overrides:
    """What recovery changed in the graph; :func:`compile_plan` applies it.

    Attributes:
        substituted: node id -> ``(fallback node id, reason)``: build the fallback instead.
        fixed: node id -> a Dataset (a materialized shared result) used as that node's
            output; the node and its inputs are not built again.
    """

    substituted: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def with_fallback(self, node_id: str, fallback: str, reason: str) -> Overrides:
        return Overrides({**self.substituted, node_id: (fallback, reason)}, self.fixed)

    def with_fixed(self, node_id: str, ds: Any) -> Overrides:
        return Overrides(self.substituted, {**self.fixed, node_id: ds})


@dataclass(frozen=True)
class Compiled:
    """The compiled graph: datasets by node id, sinks by output node id. Read-only."""

    plan: Plan
    spec: PipelineSpec
    catalog: Catalog
    registry: Registry
    execution_id: str
    options: RunOptions
    metrics: RayMetrics
    datasets: Mapping[str, Dataset]
    sinks: Mapping[str, tuple[Any, Any]]
    contexts: Mapping[str, BuildContext]
    raw: Mapping[str, Any]  # datasets before row counting
    overrides: Overrides = field(default_factory=Overrides)

    @property
    def substituted(self) -> Mapping[str, str]:
        """node id -> the fallback node built in its place."""
        return {k: v[0] for k, v in self.overrides.substituted.items()}

    @property
    def fixed(self) -> set[str]:
        """Nodes whose output is a materialized result."""
        return set(self.overrides.fixed)


def counted(ds: Any, metrics: RayMetrics, node_id: str, scope: str | None = None) -> Any:
    """``ds`` with its rows/bytes counted under ``node_id`` (fused into its last stage).

    ``scope`` also keeps them apart under that name (a private chain, e.g. one
    checkpointed shard, so a resumed run can add what an earlier attempt committed).

    The counting function sees whole blocks (``batch_size=None``, zero-copy): it neither
    splits nor copies them, and Ray Data fuses it into the node's last map stage. Its
    name tells :class:`engine.run.metrics.OperatorWatch` which operator carries the node.
    """
    return ds.map_batches(
        counter_fn(metrics.scoped(scope) if scope else metrics, node_id),
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
    overrides: Overrides | None = None,
) -> Compiled:
    """Build every node of ``plan`` in topological order into a new :class:`Compiled`.

    A node whose build fails and that names a ``fallback`` is replaced by the fallback
    node built on the same inputs; the substitution is recorded in its facts.
    """
    overrides = overrides or Overrides()
    fallback_only = {n.fallback for n in spec.nodes if n.fallback} - {
        i for n in spec.nodes for i in n.inputs
    }
    datasets: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    sinks: dict[str, tuple[Any, Any]] = {}
    contexts: dict[str, BuildContext] = {}
    env = _Env(plan, spec, catalog, registry, execution_id, options, metrics)
    needed = _needed(plan, overrides)
    for pn in plan.order:
        if pn.id in fallback_only or pn.id not in needed:
            continue
        if pn.id in overrides.fixed:
            datasets[pn.id] = raw[pn.id] = overrides.fixed[pn.id]
            continue
        inputs = [datasets[i] for i in pn.inputs]
        uncounted = [raw.get(i) for i in pn.inputs]
        node = spec.node(pn.id)
        if pn.id in overrides.substituted:
            fb, reason = overrides.substituted[pn.id]
            built, ctx = env.build(fb, inputs, uncounted, as_node=pn.id)
            ctx.report("fallbackUsed", {"node": fb, "reason": reason})
        else:
            try:
                built, ctx = env.build(pn.id, inputs, uncounted)
            except PipelineBuilderError as exc:
                if not node.fallback:
                    raise
                built, ctx = env.build(node.fallback, inputs, uncounted, as_node=pn.id)
                ctx.report("fallbackUsed", {"node": node.fallback, "reason": str(exc)})
                overrides = overrides.with_fallback(pn.id, node.fallback, str(exc))
        contexts[pn.id] = ctx
        if pn.kind == "output":
            sinks[pn.id] = (built, inputs[0] if len(inputs) == 1 else inputs)
        else:
            raw[pn.id] = built
            datasets[pn.id] = counted(built, metrics, pn.id)
    return Compiled(
        plan=plan,
        spec=spec,
        catalog=catalog,
        registry=registry,
        execution_id=execution_id,
        options=options,
        metrics=metrics,
        datasets=MappingProxyType(datasets),
        sinks=MappingProxyType(sinks),
        contexts=MappingProxyType(contexts),
        raw=MappingProxyType(raw),
        overrides=overrides,
    )


def compile_chain(
    compiled: Compiled, terminal: str, configs: dict[str, dict[str, Any]]
) -> tuple[Any, Any]:
    """A private copy of ``terminal``'s linear chain with config overrides.

    Returns ``(sink_or_None, dataset)``; ``compiled`` itself is not changed.
    """
    env = _Env(
        compiled.plan,
        compiled.spec,
        compiled.catalog,
        compiled.registry,
        compiled.execution_id,
        compiled.options,
        compiled.metrics,
    )
    ids = []
    cur = terminal
    while True:
        ids.append(cur)
        ins = compiled.plan.node(cur).inputs
        if not ins:
            break
        cur = ins[0]
    ds: Any = None
    raw_ds: Any = None
    built: Any = None
    for nid in reversed(ids):
        inputs = [ds] if ds is not None else []
        built, _ctx = env.build(nid, inputs, [raw_ds], config=configs.get(nid))
        if compiled.plan.node(nid).kind != "output":
            raw_ds = built
            ds = counted(built, compiled.metrics, nid, scope=_scope(configs))
            built = None
    return built, ds


def _scope(configs: dict[str, dict[str, Any]]) -> str:
    """The counting scope of a private chain: its config overrides, as canonical JSON."""
    import json

    return json.dumps(configs, sort_keys=True, default=str)


def _needed(plan: Plan, overrides: Overrides) -> set[str]:
    """Nodes to build: all but those only upstream of materialized (fixed) results."""
    needed: set[str] = set()
    stack = [n.id for n in plan.order if not n.consumers]
    while stack:
        nid = stack.pop()
        if nid in needed:
            continue
        needed.add(nid)
        if nid not in overrides.fixed:
            stack.extend(plan.node(nid).inputs)
    return needed


@dataclass(frozen=True)
class _Env:
    plan: Plan
    spec: PipelineSpec
    catalog: Catalog
    registry: Registry
    execution_id: str
    options: RunOptions
    metrics: RayMetrics

    def build(
        self,
        node_id: str,
        inputs: list[Any],
        uncounted: list[Any],
        *,
        as_node: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> tuple[Any, BuildContext]:
        node = self.spec.node(node_id)
        nt = self.registry.get(node.type_key)
        assert nt is not None, f"unvalidated spec: {node.type_key}"
        parsed: BaseModel
        if config:  # a private chain's override: validated here, once
            node = node.model_copy(update={"config": {**node.config, **config}})
            parsed = nt.config_model.model_validate(node.config)
        else:  # parsed once by validation, carried by the plan
            parsed = self.plan.node(node_id).config
        if as_node is not None:
            # The fallback stands in for the failed node: metrics go under the original id.
            node = node.model_copy(update={"id": as_node})
        ctx = BuildContext(
            spec=self.spec,
            node=node,
            catalog=self.catalog,
            execution_id=self.execution_id,
            options=self.options,
            metrics=self.metrics,
            uncounted_inputs=uncounted,
        )
        try:
            built = nt.build(ctx=ctx, inputs=inputs, config=parsed)
        except PipelineBuilderError:
            raise
        except Exception as exc:  # user or library code: wrap with the node id
            raise NodeError(
                node.id, f"{type(exc).__name__}: {exc}", cause_type=type(exc).__name__
            ) from exc
        return built, ctx
