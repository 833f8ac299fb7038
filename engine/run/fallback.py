"""Run-time fallbacks: switch a failing node to the node its ``fallback`` names.

At build time the compiler already substitutes a node whose build fails. At run time a
node can still fail for good while its output streams (a replica needed because the
primary database is down, a model that cannot load on the workers). When a terminal's
stream fails after its retries, :func:`fallback_for` picks the node to switch: the node
the error names if it has a fallback, else the nearest upstream node with an unused
fallback. The run graph is recompiled with that node's fallback
(:meth:`engine.run.graph.RunGraph.substitute`) and the terminal runs again. The node's
facts record ``fallbackUsed`` (which node ran instead, and why), so status and lineage
show which path produced the output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engine.run.failures import describe, error_node
from engine.run.graph import RunGraph

log = logging.getLogger(__name__)


def fallback_for(
    graph: RunGraph, ancestors: list[str], emit: Callable[[str, dict[str, Any]], None]
) -> Callable[[BaseException], str | None]:
    """A hook for :class:`engine.run.recovery.TerminalRecovery` that substitutes fallbacks.

    Args:
        graph: The run's graph (recompiled with the fallback).
        ancestors: The terminal and its upstream node ids, nearest first.
        emit: Event emitter; a ``fallback`` event is sent for each switch.
    """

    def switch(exc: BaseException) -> str | None:
        named = error_node(exc)
        candidates = ([named] if named in ancestors else []) + ancestors
        reason = describe(exc)
        for nid in candidates:
            used = graph.substitute(nid, reason)
            if used is not None:
                log.warning("node %s failed for good (%s); using fallback %s", nid, reason, used)
                emit("fallback", {"nodeId": nid, "fallback": used, "error": reason})
                return used
        return None

    return switch


def upstream(plan: Any, node_id: str) -> list[str]:
    """``node_id`` and every node upstream of it, nearest first (breadth-first)."""
    out: list[str] = []
    queue = [node_id]
    while queue:
        nid = queue.pop(0)
        if nid in out:
            continue
        out.append(nid)
        queue.extend(plan.node(nid).inputs)
    return out
