"""Live run metrics: one small Ray actor per execution collects counters from workers.

Every node's output stream passes through :func:`count_batch` (fused into the node's
own map stage by Ray Data, so it costs no extra pass); it sends the rows, bytes and
schema of each block to the actor fire-and-forget. The runner polls the actor for
progress while the run is in flight.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

import pyarrow as pa
import ray

from engine.errors import ExecutionCancelled


@ray.remote(num_cpus=0, max_concurrency=4)
class MetricsActor:
    """Holds one execution's counters, mergeable states and schemas."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.states: dict[str, dict[str, Any]] = defaultdict(dict)
        self.schemas: dict[str, list[list[str]]] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.cancelled = False

    def add(self, node_id: str, counters: dict[str, float], at: float | None = None) -> None:
        c = self.counters[node_id]
        for k, v in counters.items():
            c[k] += v
        if at is not None:
            self.first.setdefault(node_id, at)
            self.last[node_id] = max(self.last.get(node_id, at), at)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        cur = self.states[node_id].get(name)
        self.states[node_id][name] = state if cur is None else cur.merge(state)

    def set_schema(self, node_id: str, schema: list[list[str]]) -> None:
        self.schemas.setdefault(node_id, schema)

    def cancel(self) -> None:
        self.cancelled = True

    def is_cancelled(self) -> bool:
        return self.cancelled

    def snapshot(self, with_states: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "counters": {k: dict(v) for k, v in self.counters.items()},
            "schemas": dict(self.schemas),
            "first": dict(self.first),
            "last": dict(self.last),
        }
        if with_states:
            out["states"] = {
                n: {name: _state_dict(s) for name, s in d.items()} for n, d in self.states.items()
            }
        return out


def _state_dict(state: Any) -> Any:
    to_dict = getattr(state, "to_dict", None)
    return to_dict() if callable(to_dict) else state


class RayMetrics:
    """Picklable handle to a :class:`MetricsActor` (implements engine.context.Metrics)."""

    def __init__(self, actor: Any, key: str) -> None:
        self.actor = actor
        self.key = key

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        self.actor.add.remote(node_id, counters)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        self.actor.merge_state.remote(node_id, name, state)


# Per-worker-process memo: schemas already sent and the last cancellation check.
_SENT_SCHEMA: set[tuple[str, str]] = set()
_CANCEL_CHECK: dict[str, tuple[float, bool]] = {}
_CANCEL_POLL_SECONDS = 0.25
_lock = threading.Lock()


def count_batch(batch: pa.Table, *, metrics: RayMetrics, node_id: str) -> pa.Table:
    """Record rows/bytes of one block for ``node_id`` and pass it through unchanged.

    Also stops the stream within about a second when the execution was cancelled.
    """
    actor = metrics.actor
    key = metrics.key
    now = time.time()
    with _lock:
        last = _CANCEL_CHECK.get(key)
    if last is None or now - last[0] > _CANCEL_POLL_SECONDS:
        last = (now, bool(ray.get(actor.is_cancelled.remote())))
        with _lock:
            _CANCEL_CHECK[key] = last
    if last[1]:
        raise ExecutionCancelled("execution cancelled")
    actor.add.remote(node_id, {"rows": batch.num_rows, "bytes": batch.nbytes}, now)
    sk = (key, node_id)
    if sk not in _SENT_SCHEMA:
        _SENT_SCHEMA.add(sk)
        actor.set_schema.remote(node_id, [[f.name, str(f.type)] for f in batch.schema])
    return batch
