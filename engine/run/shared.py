"""Shared results: a node read by several downstream nodes is computed once.

Ray Data datasets are lazy: two sinks reading one upstream node would each execute it,
reading the source twice. Before the terminals start, :func:`share_results` executes each
shared node once with ``Dataset.materialize()`` and the run graph is recompiled with the
materialized result in the node's place (:meth:`engine.run.graph.RunGraph.fix`). The
blocks live in Ray's object store, which spills to local disk
when it fills, so a shared result larger than memory is kept on disk, not in the
driver's memory. This is done ONLY for shared nodes (a node with one consumer streams).

``benchmarks/parallel_branches.py`` compares this with the alternative (no sharing: each
branch re-executes the upstream part): see its figures.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.run.graph import RunGraph


def share_results(
    graph: RunGraph,
    *,
    recovery: Callable[[str], Any],
    skip: set[str] = frozenset(),  # type: ignore[assignment]
    emit: Callable[[str, dict[str, Any]], None] | None = None,
) -> list[str]:
    """Materialize every shared dataset node once, level by level; the ids done.

    Args:
        graph: The run's graph (recompiled below each shared node).
        recovery: ``recovery(node_id)`` -> a TerminalRecovery for retries/fallbacks.
        skip: Terminals already finished (a shared node only they use is not computed).
        emit: Event emitter (``shared_materialized`` events).
    """
    if graph.current.options.extra.get("shareResults", True) is False:
        return []
    plan = graph.current.plan
    done: list[str] = []
    levels: dict[int, list[str]] = {}
    for pn in plan.order:
        if pn.kind == "output" or len(pn.consumers) < 2 or pn.id not in graph.current.datasets:
            continue
        users = _terminals_below(plan, pn.id)
        if users and users <= skip:
            continue
        levels.setdefault(pn.level, []).append(pn.id)

    def one(nid: str) -> None:
        # Whole-dataset materialization, on purpose and only for shared nodes: the blocks
        # stay in Ray's object store (spread over the nodes, spilled to disk beyond its
        # limit), never on one process, so several consumers read one computed result.
        ds = recovery(nid).run(lambda: graph.current.datasets[nid].materialize())
        graph.fix(nid, ds)
        if emit is not None:
            emit(
                "shared_materialized", {"nodeId": nid, "consumers": list(plan.node(nid).consumers)}
            )

    for level in sorted(levels):
        ids = levels[level]
        with ThreadPoolExecutor(max_workers=len(ids), thread_name_prefix="pb-shared") as pool:
            for fut in [pool.submit(one, nid) for nid in ids]:
                fut.result()
        done += ids
    return done


def _terminals_below(plan: Any, node_id: str) -> set[str]:
    out = set()
    stack = [node_id]
    while stack:
        pn = plan.node(stack.pop())
        if not pn.consumers:
            out.add(pn.id)
        stack.extend(pn.consumers)
    return out
