"""Compile a plan into Ray Data: one lazy ``Dataset`` per dataset node, one Sink per output.

Nothing executes here: building a Dataset only records the logical plan. Every node's
output is wrapped with :func:`engine.metrics.count_batch`, which Ray Data fuses into the
node's last map stage.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.catalog import Catalog
from engine.context import BuildContext, RunOptions
from engine.errors import NodeError, PipelineBuilderError
from engine.metrics import RayMetrics, count_batch
from engine.planner import Plan
from engine.registry import Registry
from engine.spec.models import PipelineSpec

if TYPE_CHECKING:
    from ray.data import Dataset


@dataclass
class Compiled:
    """The compiled graph: datasets by node id, sinks by output node id."""

    datasets: dict[str, Dataset] = field(default_factory=dict)
    sinks: dict[str, tuple[Any, Dataset]] = field(default_factory=dict)
    contexts: dict[str, BuildContext] = field(default_factory=dict)
    substituted: dict[str, str] = field(default_factory=dict)  # node -> fallback used


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
    out = Compiled()
    fallback_only = {n.fallback for n in spec.nodes if n.fallback} - {
        i for n in spec.nodes for i in n.inputs
    }
    for pn in plan.order:
        if pn.id in fallback_only:
            continue
        inputs = [out.datasets[i] for i in pn.inputs]
        node = spec.node(pn.id)
        try:
            built, ctx = _build(
                pn.id, spec, catalog, registry, inputs, execution_id, options, metrics
            )
        except PipelineBuilderError as exc:
            if not node.fallback:
                raise
            built, ctx = _build(
                node.fallback,
                spec,
                catalog,
                registry,
                inputs,
                execution_id,
                options,
                metrics,
                as_node=pn.id,
            )
            ctx.report("fallbackUsed", {"node": node.fallback, "reason": str(exc)})
            out.substituted[pn.id] = node.fallback
        out.contexts[pn.id] = ctx
        if pn.kind == "output":
            out.sinks[pn.id] = (built, inputs[0])
        else:
            out.datasets[pn.id] = built.map_batches(
                functools.partial(count_batch, metrics=metrics, node_id=pn.id),
                batch_format="pyarrow",
                batch_size=None,
                zero_copy_batch=True,
            )
    return out


def _build(
    node_id: str,
    spec: PipelineSpec,
    catalog: Catalog,
    registry: Registry,
    inputs: list[Any],
    execution_id: str,
    options: RunOptions,
    metrics: RayMetrics,
    *,
    as_node: str | None = None,
) -> tuple[Any, BuildContext]:
    node = spec.node(node_id)
    nt = registry.get(node.type_key)
    assert nt is not None
    config = nt.config_model.model_validate(node.config)
    if as_node is not None:
        # The fallback stands in for the failed node: metrics go under the original id.
        node = node.model_copy(update={"id": as_node})
    ctx = BuildContext(
        spec=spec,
        node=node,
        catalog=catalog,
        execution_id=execution_id,
        options=options,
        metrics=metrics,
    )
    try:
        built = nt.build(ctx=ctx, inputs=inputs, config=config)
    except PipelineBuilderError:
        raise
    except Exception as exc:  # user or library code: wrap with the node id
        raise NodeError(node.id, f"{type(exc).__name__}: {exc}") from exc
    return built, ctx
