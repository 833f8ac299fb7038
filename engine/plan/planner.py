"""Plan a validated pipeline: topological order, sinks, leaves and fan-out. Ray-free.

The :class:`Plan` carries every node's parsed config; it is the only hand-off from
validation to compilation (the compiler never re-reads or re-parses the spec's configs).
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass

from pydantic import BaseModel

from engine.registry import Registry, default_registry
from engine.spec.models import PipelineSpec


@dataclass(frozen=True)
class PlannedNode:
    id: str
    type_key: str
    kind: str
    inputs: tuple[str, ...]
    consumers: tuple[str, ...]
    config: BaseModel
    level: int  # longest distance from a source; nodes of one level can run at once


@dataclass(frozen=True)
class Plan:
    """The execution plan of one pipeline."""

    pipeline_id: str
    order: tuple[PlannedNode, ...]

    def node(self, node_id: str) -> PlannedNode:
        for n in self.order:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def outputs(self) -> list[PlannedNode]:
        return [n for n in self.order if n.kind == "output"]

    @property
    def leaves(self) -> list[PlannedNode]:
        """Dataset nodes no one consumes: drained so their work and checks still run."""
        return [n for n in self.order if n.kind != "output" and not n.consumers]

    @property
    def shared(self) -> list[PlannedNode]:
        """Dataset nodes read by more than one downstream node."""
        return [n for n in self.order if len(n.consumers) > 1]


def plan(
    spec: PipelineSpec, configs: dict[str, BaseModel], registry: Registry | None = None
) -> Plan:
    """Order the nodes of a validated spec so every node comes after its inputs.

    Nodes used only as another node's ``fallback`` are kept in the plan but not
    scheduled as roots of their own (the compiler builds them on demand).
    """
    registry = registry or default_registry()
    by_id = {n.id: n for n in spec.nodes}
    # The graph is built once; graphlib orders it (validation has ruled out cycles).
    sorter = graphlib.TopologicalSorter({n.id: n.inputs for n in spec.nodes})
    level: dict[str, int] = {}
    for nid in sorter.static_order():
        ins = by_id[nid].inputs
        level[nid] = 0 if not ins else 1 + max(level[i] for i in ins)
    index = {n.id: i for i, n in enumerate(spec.nodes)}
    ordered = sorted(spec.nodes, key=lambda n: (level[n.id], index[n.id]))
    planned = []
    for n in ordered:
        nt = registry.get(n.type_key)
        assert nt is not None, f"unvalidated spec: {n.type_key}"
        planned.append(
            PlannedNode(
                id=n.id,
                type_key=n.type_key,
                kind=nt.kind,
                inputs=tuple(n.inputs),
                consumers=tuple(spec.consumers(n.id)),
                config=configs[n.id],
                level=level[n.id],
            )
        )
    return Plan(pipeline_id=spec.id, order=tuple(planned))
