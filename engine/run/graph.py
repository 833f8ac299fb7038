"""The graph a run streams, replaced (never edited) when recovery changes it.

The runner holds one :class:`RunGraph`. Recovery asks it for a new graph: a node switched
to its fallback (:mod:`engine.run.fallback`), a shared node replaced by its materialized
result (:mod:`engine.run.shared`). Each change recompiles the plan with new
:class:`~engine.run.compiler.Overrides`; the old :class:`~engine.run.compiler.Compiled`
is left as it was, so a terminal thread that still streams it is not disturbed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.context import BuildContext
from engine.run.compiler import Compiled, Overrides


class RunGraph:
    """The run's current compiled graph, and the node contexts of every graph it had."""

    def __init__(self, build: Callable[[Overrides], Compiled]) -> None:
        self._build = build
        self._lock = threading.RLock()
        self.current = build(Overrides())
        # Nodes not rebuilt by a later graph (upstream of a materialized result) keep
        # the context, and so the facts, of the graph that built them.
        self.contexts: dict[str, BuildContext] = dict(self.current.contexts)

    def _replace(self, overrides: Overrides) -> Compiled:
        self.current = self._build(overrides)
        self.contexts.update(self.current.contexts)
        return self.current

    def substitute(self, node_id: str, reason: str) -> str | None:
        """Switch ``node_id`` to its fallback (new graph); the fallback's id, or None.

        None when the node has no fallback, already uses it, or is a materialized result.
        """
        with self._lock:
            cur = self.current
            fb = cur.spec.node(node_id).fallback
            if not fb or node_id in cur.overrides.substituted or node_id in cur.overrides.fixed:
                return None
            self._replace(cur.overrides.with_fallback(node_id, fb, reason))
            return fb

    def fix(self, node_id: str, ds: Any) -> None:
        """Use ``ds`` (a materialized result) as ``node_id``'s output from now on."""
        with self._lock:
            self._replace(self.current.overrides.with_fixed(node_id, ds))
