"""Live run metrics: one small Ray actor per driver collects counters from workers.

Every node's output stream passes through :func:`count_batch` (fused into the node's
own map stage by Ray Data, so it costs no extra pass); it sends the rows, bytes and
schema of each block to the actor fire-and-forget. The runner polls the actor for
progress while the run is in flight. The actor is reused by every run of the driver
(starting an actor costs a worker process), and keeps each execution's figures apart.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

import pyarrow as pa
import ray

from engine.errors import ExecutionCancelled


class _Execution:
    def __init__(self) -> None:
        self.counters: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.states: dict[str, dict[str, Any]] = defaultdict(dict)
        self.schemas: dict[str, list[list[str]]] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.cancelled = False


@ray.remote(num_cpus=0)
class MetricsActor:
    """Holds counters, mergeable states and schemas, per execution id."""

    def __init__(self) -> None:
        self.runs: dict[str, _Execution] = defaultdict(_Execution)

    def add(
        self, key: str, node_id: str, counters: dict[str, float], at: float | None = None
    ) -> None:
        run = self.runs[key]
        c = run.counters[node_id]
        for k, v in counters.items():
            c[k] += v
        if at is not None:
            run.first.setdefault(node_id, at)
            run.last[node_id] = max(run.last.get(node_id, at), at)

    def merge_state(self, key: str, node_id: str, name: str, state: Any) -> None:
        states = self.runs[key].states[node_id]
        cur = states.get(name)
        states[name] = state if cur is None else cur.merge(state)

    def set_schema(self, key: str, node_id: str, schema: list[list[str]]) -> None:
        self.runs[key].schemas.setdefault(node_id, schema)

    def cancel(self, key: str) -> None:
        self.runs[key].cancelled = True

    def is_cancelled(self, key: str) -> bool:
        return key in self.runs and self.runs[key].cancelled

    def snapshot(self, key: str, with_states: bool = False) -> dict[str, Any]:
        run = self.runs[key]
        out: dict[str, Any] = {
            "counters": {k: dict(v) for k, v in run.counters.items()},
            "schemas": dict(run.schemas),
            "first": dict(run.first),
            "last": dict(run.last),
        }
        if with_states:
            out["states"] = {
                n: {name: _state_dict(s) for name, s in d.items()} for n, d in run.states.items()
            }
        return out

    def forget(self, key: str) -> None:
        self.runs.pop(key, None)


def _state_dict(state: Any) -> Any:
    to_dict = getattr(state, "to_dict", None)
    return to_dict() if callable(to_dict) else state


_ACTOR: Any = None
_ACTOR_LOCK = threading.Lock()


def metrics_actor() -> Any:
    """This driver's metrics actor (created on first use)."""
    global _ACTOR
    with _ACTOR_LOCK:
        if _ACTOR is None:
            # Pinned to the driver's node: losing a worker node must not lose the figures.
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = ray.get_runtime_context().get_node_id()
            _ACTOR = MetricsActor.options(  # type: ignore[attr-defined]
                scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
            ).remote()
        return _ACTOR


def reset_metrics_actor() -> None:
    """Forget the cached actor (after ``ray.shutdown``)."""
    global _ACTOR
    with _ACTOR_LOCK:
        _ACTOR = None


class RayMetrics:
    """Picklable handle for one execution (implements engine.context.Metrics)."""

    def __init__(self, actor: Any, key: str) -> None:
        self.actor = actor
        self.key = key

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        self.actor.add.remote(self.key, node_id, counters)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        self.actor.merge_state.remote(self.key, node_id, name, state)

    def cancel(self) -> Any:
        return self.actor.cancel.remote(self.key)

    def snapshot(self, with_states: bool = False) -> Any:
        return self.actor.snapshot.remote(self.key, with_states)

    def forget(self) -> None:
        self.actor.forget.remote(self.key)


# Per-worker-process memo: schemas already sent and the last cancellation check.
_SENT_SCHEMA: set[tuple[str, str]] = set()
_CANCEL_CHECK: dict[str, tuple[float, bool]] = {}
_CANCEL_POLL_SECONDS = 0.25
_lock = threading.Lock()


def count_batch(batch: pa.Table, *, metrics: RayMetrics, node_id: str) -> pa.Table:
    """Record rows/bytes of one block for ``node_id`` and pass it through unchanged.

    Also stops the stream within a fraction of a second once the execution is cancelled.
    """
    actor, key = metrics.actor, metrics.key
    now = time.time()
    with _lock:
        last = _CANCEL_CHECK.get(key)
    if last is None or now - last[0] > _CANCEL_POLL_SECONDS:
        last = (now, bool(ray.get(actor.is_cancelled.remote(key))))
        with _lock:
            _CANCEL_CHECK[key] = last
    if last[1]:
        raise ExecutionCancelled("execution cancelled")
    actor.add.remote(key, node_id, {"rows": batch.num_rows, "bytes": batch.nbytes}, now)
    sk = (key, node_id)
    if sk not in _SENT_SCHEMA:
        _SENT_SCHEMA.add(sk)
        actor.set_schema.remote(key, node_id, [[f.name, str(f.type)] for f in batch.schema])
    return batch
