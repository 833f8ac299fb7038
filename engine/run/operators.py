"""Which nodes' Ray Data operators completed: an execution callback of the driver.

:class:`OperatorWatch` is a Ray Data execution callback: at every step of a streaming
execution it looks at the physical operators (the counting function of node ``n`` of
execution ``e`` is named ``pb_count[e:n]``, see :func:`engine.run.metrics.counter_fn`,
so the operator that carries it is known), and records which nodes' operators have
completed and how many tasks each runs. The runner reads it for ``completedSteps`` and
``currentStep``. Driver-side only (it imports Ray Data; workers never load it).
"""

from __future__ import annotations

import re
import threading
from typing import Any

_NAME = re.compile(r"pb_count\[([^:\]]+):([^\]]+)\]")

try:  # Ray Data's execution callbacks (internal API; progress degrades without them)
    from ray.data._internal.execution.execution_callback import ExecutionCallback
except ImportError:  # pragma: no cover - older/newer Ray without the hook
    ExecutionCallback = object  # type: ignore[misc,assignment]


class OperatorWatch(ExecutionCallback):  # type: ignore[misc,valid-type]
    """Ray Data execution callback: which nodes' operators completed, tasks per node.

    Registered once per driver (:func:`install_operator_watch`); Ray Data makes one
    instance per execution. Figures are kept per execution id, in this process.
    """

    _lock = threading.Lock()
    # execution -> node -> {"completed": bool, "activeTasks": int, "operator": str}
    _nodes: dict[str, dict[str, dict[str, Any]]] = {}

    def before_execution_starts(self, executor: Any) -> None:
        self.on_execution_step(executor)

    def on_execution_step(self, executor: Any) -> None:
        try:
            topology = getattr(executor, "_topology", None) or {}
            for op in list(topology):
                self._record(op, executor)
        except Exception:  # never break an execution
            pass

    def after_execution_succeeds(self, executor: Any) -> None:
        self.on_execution_step(executor)

    def _record(self, op: Any, executor: Any) -> None:
        found = _NAME.findall(op.name)
        if not found:
            return
        done = bool(op.has_completed())
        active = int(op.num_active_tasks())
        with OperatorWatch._lock:
            for key, node_id in found:
                nodes = OperatorWatch._nodes.setdefault(key, {})
                cur = nodes.setdefault(node_id, {"completed": False, "activeTasks": 0})
                cur["completed"] = cur["completed"] or done
                cur["activeTasks"] = 0 if done else active
                cur["operator"] = op.name

    @classmethod
    def nodes(cls, key: str) -> dict[str, dict[str, Any]]:
        """A copy of what is known of execution ``key``'s nodes."""
        with cls._lock:
            return {n: dict(v) for n, v in cls._nodes.get(key, {}).items()}

    @classmethod
    def reset(cls, key: str, node_ids: list[str]) -> None:
        """Forget the completion of ``node_ids`` (their branch runs again)."""
        with cls._lock:
            for n in node_ids:
                cls._nodes.get(key, {}).pop(n, None)

    @classmethod
    def forget(cls, key: str) -> None:
        with cls._lock:
            cls._nodes.pop(key, None)


def install_operator_watch(ctx: Any) -> None:
    """Add :class:`OperatorWatch` to a Ray Data ``DataContext`` (once)."""
    classes = getattr(ctx, "custom_execution_callback_classes", None)
    usable = ExecutionCallback is not object
    if usable and isinstance(classes, list) and OperatorWatch not in classes:
        # a new list: a copied context may share the list with the one it was copied from
        ctx.custom_execution_callback_classes = [*classes, OperatorWatch]
