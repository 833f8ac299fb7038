"""Retries of transient failures: per-node ``retry`` policies applied to whole terminals.

A terminal is one output node (or a leaf that is only drained). The runner streams each
terminal in its own thread; when that stream fails, :class:`TerminalRecovery` decides:

1. **retry** the terminal when the failing node (named by the error, else the nearest
   ancestor that has a ``retry`` policy) allows another attempt and the error counts as
   transient for it (``retryOn``). The dataset is lazy, so a retry re-reads the sources:
   source reads and sink writes are retried as a whole stage attempt. Sinks commit
   atomically, so a failed attempt leaves nothing visible;
2. **fall back** (see :mod:`engine.run.fallback`) when the failing node, or an ancestor,
   names a ``fallback``: the branch is rebuilt with the fallback and run again;
3. otherwise re-raise.

Every retry adds 1 to the failing node's ``retries`` counter and emits a ``retry``
event. Worker crashes (a killed Ray worker process, a lost node) are not handled here:
Ray Data retries its tasks on system failures itself (tasks get ``max_retries=-1``;
actor pools ``max_restarts=-1`` and ``max_task_retries=-1`` unless a node overrides
them), and :func:`configure_ray_data` makes sure no block is ever dropped silently.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.backoff import backoff_delay
from engine.run.failures import describe, error_node, is_transient
from engine.spec.models import PipelineSpec, RetryPolicy

log = logging.getLogger(__name__)


def delays(policy: RetryPolicy, *, rng: random.Random | None = None) -> Iterator[float]:
    """Seconds to wait before attempt 2, 3, ... ``maxAttempts`` (see :mod:`engine.backoff`)."""
    for attempt in range(1, policy.maxAttempts):
        yield backoff_delay(
            attempt,
            initial=policy.initialDelaySeconds,
            max_delay=policy.maxDelaySeconds,
            multiplier=policy.backoffMultiplier,
            jitter=policy.jitter,
            rng=rng,
        )


def configure_ray_data(ctx: Any) -> None:
    """Ray Data settings for reliable runs: retry crashed tasks, never drop blocks."""
    ctx.max_errored_blocks = 0  # a block that fails for good fails the run: no silent loss


@dataclass
class RetryLedger:
    """Retries per node, shared by all terminal threads of one run."""

    counts: dict[str, int] = field(default_factory=dict)
    # Rows/bytes counted by failed attempts that were then retried or replaced: the
    # runner subtracts them so a node's figures describe the attempt that succeeded.
    wasted: dict[str, dict[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def waste(
        self,
        before: dict[str, dict[str, float]],
        after: dict[str, dict[str, float]],
        nodes: list[str],
    ) -> None:
        with self.lock:
            for nid in nodes:
                w = self.wasted.setdefault(nid, {})
                for k in ("rows", "bytes"):
                    delta = after.get(nid, {}).get(k, 0.0) - before.get(nid, {}).get(k, 0.0)
                    w[k] = w.get(k, 0.0) + max(delta, 0.0)

    def add(self, node_id: str) -> int:
        with self.lock:
            self.counts[node_id] = self.counts.get(node_id, 0) + 1
            return self.counts[node_id]


class TerminalRecovery:
    """Runs one terminal's attempts with retries and fallbacks (see module docs).

    Args:
        spec: The pipeline (for ``retry``/``fallback`` of nodes).
        ancestors: Node ids upstream of the terminal, nearest first, terminal included first.
        ledger: Where retries are counted.
        emit: Event emitter ``emit(kind, data)``.
        fallback: ``fallback(error, ancestors) -> node id substituted or None``.
        cancelled: Returns True once the run is cancelled (no more attempts).
        sleep: Injected for tests of the schedule; ``time.sleep`` by default.
    """

    def __init__(
        self,
        spec: PipelineSpec,
        ancestors: list[str],
        ledger: RetryLedger,
        emit: Callable[[str, dict[str, Any]], None],
        fallback: Callable[[BaseException], str | None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
        counters: Callable[[], dict[str, dict[str, float]]] | None = None,
    ) -> None:
        self.spec = spec
        self.ancestors = ancestors
        self.ledger = ledger
        self.emit = emit
        self.fallback = fallback
        self.cancelled = cancelled
        self.sleep = sleep
        self.counters = counters
        self.schedules: dict[str, Iterator[float]] = {}

    def _policy_node(self, exc: BaseException) -> str | None:
        named = error_node(exc)
        order = ([named] if named in self.ancestors else []) + self.ancestors
        for nid in order:
            node = self.spec.node(nid)
            if node.retry is not None:
                return nid if is_transient(exc, node.retry.retryOn) else None
        return None

    def run(self, attempt: Callable[[], Any]) -> Any:
        """Call ``attempt`` until it succeeds, retrying / falling back as policies allow."""
        while True:
            before = self.counters() if self.counters else {}
            try:
                return attempt()
            except BaseException as exc:
                if self.cancelled() or not isinstance(exc, Exception):
                    raise
                after = self.counters() if self.counters else {}
                if self._retry(exc) or (
                    self.fallback is not None and self.fallback(exc) is not None
                ):
                    self.ledger.waste(before, after, self.ancestors)
                    continue
                raise

    def _retry(self, exc: BaseException) -> bool:
        nid = self._policy_node(exc)
        if nid is None:
            return False
        policy = self.spec.node(nid).retry
        assert policy is not None
        schedule = self.schedules.setdefault(nid, delays(policy))
        delay = next(schedule, None)
        if delay is None:
            return False
        n = self.ledger.add(nid)
        msg = describe(exc)
        log.warning("node %s failed (%s); retry %d in %.2fs", nid, msg, n, delay)
        self.emit(
            "retry", {"nodeId": nid, "retry": n, "delaySeconds": round(delay, 3), "error": msg}
        )
        self.sleep(delay)
        return True


def retry_call(
    fn: Callable[[], Any],
    policy: RetryPolicy | None,
    *,
    node_id: str,
    ledger: RetryLedger | None = None,
) -> Any:
    """Call ``fn`` with ``policy`` (driver-side work such as a build or a notification)."""
    if policy is None:
        return fn()
    schedule = delays(policy)
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc, policy.retryOn):
                raise
            delay = next(schedule, None)
            if delay is None:
                raise
        if ledger is not None:
            ledger.add(node_id)
        time.sleep(delay)
