"""Live run metrics: one small Ray actor per driver collects counters from workers.

Every node's output stream passes through a counting function (:func:`counter_fn`,
fused into the node's own map stage by Ray Data, so it costs no extra pass); it sends
the rows, bytes and schema of each block to the actor fire-and-forget. The runner polls
the actor for progress while the run is in flight. The actor is reused by every run of
the driver (starting an actor costs a worker process), and keeps each execution's
figures apart.

**Counted once per block.** Each figure sent from inside a Ray task is keyed by the task
(its id, which Ray keeps when it re-executes a task: a retry, a crashed worker, a lost
object rebuilt from lineage), the attempt number and the block's position in the task.
The actor keeps, per task, only the figures of the latest attempt it has heard from, so
a re-executed task replaces what its earlier attempt counted instead of adding to it.
Work done while the graph is built (previews, samples) runs on uncounted datasets and
never reaches the actor.

**Which nodes are done.** The counting function of node ``n`` of execution ``e`` is
named ``pb_count[e:n]``, so the Ray Data operator that carries it is known
(:mod:`engine.run.operators`). This module imports no Ray Data: worker processes and
the metrics actor stay light.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ray

from engine.errors import ExecutionCancelled

if TYPE_CHECKING:
    import pyarrow as pa


class _Execution:
    def __init__(self) -> None:
        # node -> task -> (attempt, {seq: counters}); totals kept up to date incrementally
        self.blocks: dict[str, dict[str, tuple[int, dict[int, dict[str, float]]]]] = defaultdict(
            dict
        )
        self.counters: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        # scope (a private chain: one checkpointed shard) -> node -> counters
        self.scoped: dict[str, dict[str, dict[str, float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        self.states: dict[str, dict[str, Any]] = defaultdict(dict)
        # (node, state name) -> task -> (attempt, state merged over that attempt's blocks)
        self.task_states: dict[tuple[str, str], dict[str, tuple[int, Any]]] = defaultdict(dict)
        self.schemas: dict[str, list[list[str]]] = {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.cancelled = False


def _apply(total: dict[str, float], counters: dict[str, float], sign: float) -> None:
    for k, v in counters.items():
        total[k] += sign * v


@ray.remote(num_cpus=0)
class MetricsActor:
    """Holds counters, mergeable states and schemas, per execution id."""

    def __init__(self) -> None:
        self.runs: dict[str, _Execution] = defaultdict(_Execution)

    def add(
        self, key: str, node_id: str, counters: dict[str, float], at: float | None = None
    ) -> None:
        """Add figures that are not tied to a task (driver-side facts)."""
        run = self.runs[key]
        _apply(run.counters[node_id], counters, 1.0)
        self._seen(run, node_id, at)

    def add_block(
        self,
        key: str,
        node_id: str,
        task: str,
        attempt: int,
        seq: int,
        counters: dict[str, float],
        at: float | None = None,
        scope: str | None = None,
    ) -> bool:
        """Record block ``seq`` of ``task``'s attempt ``attempt`` (replacing, not adding).

        A later attempt of the same task discards everything the earlier attempt
        recorded; figures from an earlier attempt that arrive late are ignored.
        Returns whether the execution was cancelled (the sender stops its stream).
        """
        run = self.runs[key]
        totals = [run.counters[node_id]]
        if scope is not None:
            totals.append(run.scoped[scope][node_id])
        tasks = run.blocks[node_id]
        cur = tasks.get(task)
        if cur is None or attempt > cur[0]:
            if cur is not None:
                for old in cur[1].values():
                    for total in totals:
                        _apply(total, old, -1.0)
            cur = (attempt, {})
            tasks[task] = cur
        elif attempt < cur[0]:
            return run.cancelled
        prev = cur[1].get(seq)
        for total in totals:
            if prev is not None:
                _apply(total, prev, -1.0)
            _apply(total, counters, 1.0)
        cur[1][seq] = dict(counters)
        self._seen(run, node_id, at)
        return run.cancelled

    def add_blocks(self, entries: list[tuple[Any, ...]]) -> list[str]:
        """Several :meth:`add_block` calls in one (a worker process sends them together).

        Returns the executions among them that were cancelled.
        """
        cancelled = set()
        for entry in entries:
            if self.add_block(*entry):
                cancelled.add(entry[0])
        return sorted(cancelled)

    @staticmethod
    def _seen(run: _Execution, node_id: str, at: float | None) -> None:
        if at is not None:
            run.first.setdefault(node_id, at)
            run.last[node_id] = max(run.last.get(node_id, at), at)

    def merge_state(
        self,
        key: str,
        node_id: str,
        name: str,
        state: Any,
        task: str | None = None,
        attempt: int = 0,
    ) -> None:
        """Merge a state; from a task, only the latest attempt of that task is kept."""
        run = self.runs[key]
        if task is None:
            states = run.states[node_id]
            cur = states.get(name)
            states[name] = state if cur is None else cur.merge(state)
            return
        per_task = run.task_states[(node_id, name)]
        prev = per_task.get(task)
        if prev is None or attempt > prev[0]:
            per_task[task] = (attempt, state)
        elif attempt == prev[0]:
            per_task[task] = (attempt, prev[1].merge(state))

    def _states(self, run: _Execution) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {n: dict(d) for n, d in run.states.items()}
        for (node_id, name), per_task in run.task_states.items():
            merged = out.setdefault(node_id, {}).get(name)
            for _attempt, st in per_task.values():
                merged = st if merged is None else merged.merge(st)
            out[node_id][name] = merged
        return out

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
            "blocks": {k: sum(len(b[1]) for b in v.values()) for k, v in run.blocks.items()},
            "scoped": {
                sc: {n: dict(c) for n, c in nodes.items()} for sc, nodes in run.scoped.items()
            },
            "schemas": dict(run.schemas),
            "first": dict(run.first),
            "last": dict(run.last),
        }
        if with_states:
            out["states"] = {
                n: {name: _state_dict(s) for name, s in d.items()}
                for n, d in self._states(run).items()
            }
        return out

    def forget(self, key: str) -> None:
        self.runs.pop(key, None)


def _state_dict(state: Any) -> Any:
    to_dict = getattr(state, "to_dict", None)
    return to_dict() if callable(to_dict) else state


_ACTOR: Any = None
_ACTOR_LOCK = threading.Lock()


# Bumped whenever MetricsActor's methods change: a running actor of another version is
# never reused (its name differs).
_ACTOR_VERSION = 3


def metrics_actor() -> Any:
    """The metrics actor of this driver's node (found or created on first use).

    One named, detached actor per node and version, shared by every driver on the node
    (CLI runs, the API's execution runners): a run does not pay for starting a process.
    Each run's figures are kept apart by execution id and forgotten at its end.
    """
    global _ACTOR
    with _ACTOR_LOCK:
        if _ACTOR is None:
            # Pinned to the driver's node: losing a worker node must not lose the figures.
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = ray.get_runtime_context().get_node_id()
            _ACTOR = MetricsActor.options(  # type: ignore[attr-defined]
                name=f"pb-metrics-v{_ACTOR_VERSION}-{here[:16]}",
                namespace="pipeline-builder",
                lifetime="detached",
                get_if_exists=True,
                scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
            ).remote()
        return _ACTOR


def reset_metrics_actor() -> None:
    """Forget the cached actor (after ``ray.shutdown``)."""
    global _ACTOR
    with _ACTOR_LOCK:
        _ACTOR = None


# -- where a call runs: task id, attempt, position in the task ----------------------------

_SEQ: dict[tuple[str, str, str, int], int] = {}
_SEQ_LIMIT = 20_000  # entries kept per worker process before the oldest are dropped
_lock = threading.Lock()


def _task_position(key: str, node_id: str, stream: str) -> tuple[str, int, int] | None:
    """``(task id, attempt, seq)`` of this call inside the current Ray task, else None.

    ``seq`` numbers the calls of one attempt of one task for ``(node_id, stream)``; a
    deterministic task makes the same calls in the same order on every attempt.
    """
    try:
        worker = ray._private.worker.global_worker
        if worker.mode != ray.WORKER_MODE:
            return None
        core = worker.core_worker  # type: ignore[attr-defined]
        task = core.get_current_task_id().hex()
        attempt = int(core.get_current_task_attempt_number())
    except Exception:
        return None
    k = (key, f"{node_id}\x00{stream}", task, attempt)
    with _lock:
        seq = _SEQ.get(k, 0)
        _SEQ[k] = seq + 1
        if len(_SEQ) > _SEQ_LIMIT:
            for old in list(_SEQ)[: _SEQ_LIMIT // 2]:
                _SEQ.pop(old, None)
    return task, attempt, seq


class _Pending:
    """Figures a worker process has yet to send, sent together in one actor call.

    A flushing node's count sends everything pending at once (one call per block for a
    fused chain instead of one per node); a sender thread sends what is left after
    ``FLUSH_SECONDS`` (a process whose last stage is not a flushing node).
    """

    FLUSH_SECONDS = 0.01

    def __init__(self) -> None:
        self.entries: dict[int, tuple[Any, list[tuple[Any, ...]]]] = {}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def put(self, actor: Any, entry: tuple[Any, ...], *, now: bool) -> None:
        with self.lock:
            self.entries.setdefault(id(actor), (actor, []))[1].append(entry)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, daemon=True, name="pb-counts")
                self.thread.start()
        if now:
            self.flush()
        else:
            self.wake.set()

    def flush(self) -> None:
        with self.lock:
            batches, self.entries = list(self.entries.values()), {}
        for actor, entries in batches:
            # The reply names the executions that were cancelled; it is read when it
            # arrives (a callback), so sending never waits on the actor.
            actor.add_blocks.remote(entries).future().add_done_callback(_note_cancelled)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            time.sleep(self.FLUSH_SECONDS)
            with contextlib.suppress(Exception):  # a dead actor: the run is over
                self.flush()


_PENDING = _Pending()


def flush_pending() -> None:
    """Send what this process has pending now (before a final snapshot)."""
    _PENDING.flush()


class RayMetrics:
    """Picklable handle for one execution (implements engine.context.Metrics)."""

    def __init__(
        self,
        actor: Any,
        key: str,
        scope: str | None = None,
        flush_nodes: frozenset[str] = frozenset(),
    ) -> None:
        self.actor = actor
        self.key = key
        self.scope = scope  # rows/bytes are also kept apart under this name
        # Nodes whose counting sends this process's pending figures at once (the nodes
        # outputs and leaves read: the last counted stage of a fused chain); figures of
        # the others wait for it, or for the process's sender, a few milliseconds.
        self.flush_nodes = flush_nodes
        self._pickled: tuple[str, bytes] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Every task of a run unpickles its functions, and with them this handle: the
        # actor handle inside is unpickled once per worker process and reused (cached
        # by actor id), instead of registering a new handle with Ray in every task.
        if self._pickled is None:
            import ray.cloudpickle

            self._pickled = (self.actor._actor_id.hex(), ray.cloudpickle.dumps(self.actor))
        actor_id, handle = self._pickled
        return (_unpickle_metrics, (actor_id, handle, self.key, self.scope, self.flush_nodes))

    def scoped(self, scope: str) -> RayMetrics:
        """The same execution's handle whose rows/bytes are also kept under ``scope``."""
        return RayMetrics(self.actor, self.key, scope, self.flush_nodes)

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        """Add ``counters`` to ``node_id``; inside a task, counted once per task attempt."""
        self._send(node_id, "c", counters, None)

    def _send(
        self, node_id: str, stream: str, counters: dict[str, float], at: float | None
    ) -> None:
        pos = _task_position(self.key, node_id, stream)
        if pos is None:
            self.actor.add.remote(self.key, node_id, counters, at)
        else:
            task, attempt, seq = pos
            # the stream is part of the task key: rows and node counters keep their own seq
            scope = self.scope if stream == "rows" else None
            entry = (self.key, node_id, f"{task}/{stream}", attempt, seq, counters, at, scope)
            _PENDING.put(self.actor, entry, now=stream == "rows" and node_id in self.flush_nodes)

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        """Merge ``state``; inside a task, a re-executed task replaces its earlier attempt."""
        pos = _task_position(self.key, node_id, f"state:{name}")
        if pos is None:
            self.actor.merge_state.remote(self.key, node_id, name, state)
        else:
            task, attempt, _seq = pos
            self.actor.merge_state.remote(self.key, node_id, name, state, task, attempt)

    def cancel(self) -> Any:
        return self.actor.cancel.remote(self.key)

    def snapshot(self, with_states: bool = False) -> Any:
        return self.actor.snapshot.remote(self.key, with_states)

    def forget(self) -> None:
        self.actor.forget.remote(self.key)
        from engine.run.operators import OperatorWatch

        OperatorWatch.forget(self.key)


_HANDLES: dict[str, Any] = {}  # actor id -> the handle unpickled in this process


def _unpickle_metrics(
    actor_id: str, handle: bytes, key: str, scope: str | None, flush_nodes: frozenset[str]
) -> RayMetrics:
    actor = _HANDLES.get(actor_id)
    if actor is None:
        import ray.cloudpickle

        actor = _HANDLES[actor_id] = ray.cloudpickle.loads(handle)
    return RayMetrics(actor, key, scope, flush_nodes)


# Per-worker-process memo: schemas already sent, executions known to be cancelled.
_SENT_SCHEMA: set[tuple[str, str]] = set()
_CANCELLED: set[str] = set()


def _note_cancelled(reply: Any) -> None:
    """Done-callback of a figures message: remember the executions it says were cancelled.

    Every block's figures reach the actor in a message whose reply says whether the
    execution was cancelled, so a process learns it from the answers to what it sends
    anyway (no extra message, no waiting): the stream stops at the process's next block.
    """
    with contextlib.suppress(Exception):  # a dead actor, a failed call: nothing learned
        _CANCELLED.update(reply.result())


def count_batch(batch: pa.Table, *, metrics: RayMetrics, node_id: str) -> pa.Table:
    """Record rows/bytes of one block for ``node_id`` and pass it through unchanged.

    Also stops the stream once the execution is cancelled: at the next block of this
    process after a reply to its figures said so (see :func:`_note_cancelled`).
    """
    actor, key = metrics.actor, metrics.key
    if key in _CANCELLED:
        raise ExecutionCancelled("execution cancelled")
    now = time.time()
    metrics._send(node_id, "rows", {"rows": batch.num_rows, "bytes": batch.nbytes}, now)
    sk = (key, node_id)
    if sk not in _SENT_SCHEMA:
        _SENT_SCHEMA.add(sk)
        actor.set_schema.remote(key, node_id, [[f.name, str(f.type)] for f in batch.schema])
    return batch


def counter_fn(metrics: RayMetrics, node_id: str) -> Callable[[pa.Table], pa.Table]:
    """The counting function of ``node_id``, named ``pb_count[<execution>:<node>]``.

    Ray Data names operators after their functions, so :class:`OperatorWatch` can tell
    which operator carries which node.
    """

    def count(batch: pa.Table) -> pa.Table:
        return count_batch(batch, metrics=metrics, node_id=node_id)

    count.__name__ = count.__qualname__ = f"pb_count[{metrics.key}:{node_id}]"
    return count
