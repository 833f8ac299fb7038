"""Run a pipeline: validate, plan, compile to Ray Data, stream every output, report.

``run_pipeline`` is the one entry point the CLI, the API and driver scripts share. It
returns a :class:`~engine.run.result.RunResult` whether the run succeeds or fails (only an
invalid spec raises), and emits :class:`~engine.run.result.RunEvent` s while it runs.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from engine.catalog import Catalog, empty_catalog
from engine.context import RunOptions
from engine.errors import ExecutionCancelled, NodeError
from engine.plan.planner import Plan, PlannedNode, plan
from engine.plan.validation import validate
from engine.registry import Registry, default_registry
from engine.run import checkpoint
from engine.run.failures import failing_node, message, root_error
from engine.run.graph import RunGraph
from engine.run.hooks import RunObserver, notify
from engine.run.recovery import RetryLedger, configure_ray_data
from engine.run.result import (
    NodeResult,
    RunEvent,
    RunResult,
    new_execution_id,
    quality_score,
    records_processed,
)
from engine.spec.models import PipelineSpec

log = logging.getLogger(__name__)
EventHook = Callable[[RunEvent], None]


def ensure_ray(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Connect to ``address`` (``auto``, ``ray://...``) or start a local embedded Ray."""
    import ray

    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "configure_logging": False}
    if address:
        kwargs["address"] = address
    elif num_cpus:
        kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)


def run_pipeline(
    spec: PipelineSpec,
    catalog: Catalog | None = None,
    *,
    options: RunOptions | None = None,
    execution_id: str | None = None,
    on_event: EventHook | None = None,
    cancel: threading.Event | None = None,
    registry: Registry | None = None,
    observers: Sequence[RunObserver] = (),
) -> RunResult:
    """Validate, compile and run ``spec`` to completion.

    Args:
        spec: The pipeline.
        catalog: Resources the nodes reference (built-ins only when None).
        options: Run options (object-store limit, home, base folder for relative paths).
        execution_id: Id to use; a new one is made when None.
        on_event: Called with every RunEvent (started, progress, node_finished, ...).
            Exceptions it raises are logged and ignored: observers never break a run.
        cancel: Set it to stop the run; the result's status is then ``cancelled``.
        registry: Node types (the default registry with every plug-in when None).
        observers: Lifecycle observers (audit, webhooks, lineage, stores); see
            :mod:`engine.run.hooks`. None attach unless the caller passes them.

    Returns:
        The RunResult (status ``completed``, ``failed`` or ``cancelled``).

    Raises:
        ValidationFailed: the spec has problems (nothing ran).
    """
    from ray.data import DataContext

    from engine.run.compiler import Overrides, compile_plan
    from engine.run.graph import RunGraph
    from engine.run.metrics import RayMetrics, metrics_actor
    from engine.run.recovery import RetryLedger

    catalog = catalog if catalog is not None else empty_catalog()
    options = options or RunOptions()
    registry = registry if registry is not None else default_registry()
    configs = validate(spec, catalog, registry)
    the_plan = plan(spec, configs, registry)
    execution_id = execution_id or new_execution_id()
    ensure_ray(options.extra.get("address"))
    # The run's settings go on a copy of the caller's DataContext; datasets built while it
    # is current keep it, and the caller's context is restored when the run ends.
    callers_ctx = DataContext.get_current()
    ctx = callers_ctx.copy()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    configure_ray_data(ctx)
    if options.object_store_memory:
        ctx.execution_options.resource_limits = ctx.execution_options.resource_limits.copy(
            object_store_memory=options.object_store_memory
        )
    DataContext._set_current(ctx)

    result = RunResult(
        execution_id=execution_id,
        pipeline_id=spec.id,
        status="running",
        started_at=time.time(),
        nodes={
            n.id: NodeResult(id=n.id, type=n.type_key, transformation=_lineage_name(registry, n))
            for n in the_plan.order
        },
    )
    emit = _emitter(on_event, execution_id, observers)
    ckpt = checkpoint.for_run(options, execution_id, emit)
    ckpt.begin(spec, catalog)
    notify(
        observers,
        "run_started",
        execution_id=execution_id,
        spec=spec,
        catalog=catalog,
        options=options,
    )
    emit("started", {"pipelineId": spec.id, "totalSteps": len(the_plan.order)})
    metrics = RayMetrics(metrics_actor(), execution_id)
    tracker = _Tracker(the_plan)
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch,
        args=(metrics, tracker, result, emit, options.progress_interval, stop, cancel),
        daemon=True,
    )
    ledger = RetryLedger()
    graph: RunGraph | None = None

    def build(overrides: Overrides) -> Any:
        return compile_plan(
            the_plan,
            spec,
            catalog,
            registry,
            execution_id=execution_id,
            options=options,
            metrics=metrics,
            overrides=overrides,
        )

    try:
        graph = RunGraph(build)
        if cancel is not None and cancel.is_set():
            raise ExecutionCancelled("execution cancelled before it started")
        watcher.start()
        _execute(graph, ledger, the_plan, tracker, result, emit, metrics, ckpt, cancel)
        result.status = "completed"
    except BaseException as exc:
        err = root_error(exc)
        cancelled = (
            isinstance(err, ExecutionCancelled)
            or "ExecutionCancelled" in str(err)
            or bool(cancel and cancel.is_set())
        )
        result.status = "cancelled" if cancelled else "failed"
        result.error = "execution cancelled" if cancelled else message(err)
        result.error_node = None if cancelled else failing_node(err, result.error)
        if not isinstance(exc, Exception):
            raise
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(timeout=5)
        result.finished_at = time.time()
        _collect(metrics, tracker, result, graph, ledger)
        metrics.forget()
        DataContext._set_current(callers_ctx)
        ckpt.end(result.status, result.error)
        notify(
            observers,
            "run_finished",
            execution_id=execution_id,
            spec=spec,
            options=options,
            result=result,
        )
    emit(result.status, {"result": result.to_dict()})
    return result


def _execute(
    graph: RunGraph,
    ledger: RetryLedger,
    the_plan: Plan,
    tracker: _Tracker,
    result: RunResult,
    emit: Callable[[str, dict[str, Any]], None],
    metrics: Any,
    ckpt: Any,
    cancel: threading.Event | None,
) -> None:
    """Stream every sink and drain every leaf, concurrently; first failure stops all.

    Shared nodes are computed once first (:mod:`engine.run.shared`); each terminal runs
    with retries and fallbacks (:mod:`engine.run.recovery`, :mod:`engine.run.fallback`) and
    through the run's checkpoint (:mod:`engine.run.checkpoint`: reuse, shard commits).
    """
    from engine.run.fallback import fallback_for, upstream
    from engine.run.recovery import TerminalRecovery
    from engine.run.shared import share_results

    def recovery(nid: str) -> TerminalRecovery:
        anc = upstream(the_plan, nid)
        return TerminalRecovery(
            graph.current.spec,
            anc,
            ledger,
            emit,
            fallback=fallback_for(graph, anc, emit),
            cancelled=lambda: bool(cancel and cancel.is_set()),
            counters=lambda: _counters(metrics),
        )

    done = ckpt.done_terminals(graph.current)
    share_results(graph, recovery=recovery, skip=done, emit=emit)
    jobs: dict[str, Callable[[], dict[str, Any] | None]] = {}
    # Each attempt reads the graph current at that moment: a fallback switch or a shared
    # result replaces the graph, and the next attempt streams the new one.
    for node_id in graph.current.sinks:
        jobs[node_id] = functools.partial(
            lambda nid: recovery(nid).run(lambda: ckpt.write_terminal(graph.current, nid)),
            node_id,
        )
    for leaf in the_plan.leaves:
        if leaf.id in graph.current.datasets:
            jobs[leaf.id] = functools.partial(
                lambda nid: recovery(nid).run(lambda: _drain(graph.current.datasets[nid])),
                leaf.id,
            )
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="pb-sink") as pool:
        futures: dict[Future[Any], str] = {pool.submit(fn): nid for nid, fn in jobs.items()}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in finished:
                nid = futures[fut]
                exc = fut.exception()
                if exc is not None:
                    if not ckpt.enabled:  # checkpointed: let the others finish and be kept
                        metrics.cancel()  # stop the other streams promptly
                    tracker.fail(nid)
                    wait(pending)
                    raise exc
                facts = fut.result()
                if facts:
                    result.outputs.append({"nodeId": nid, **facts})
                for node_done in tracker.finish(nid):
                    emit("node_finished", {"nodeId": node_done})


def _lineage_name(registry: Registry, pn: PlannedNode) -> str | None:
    nt = registry.get(pn.type_key)
    return nt.transformation if nt is not None else None


def _counters(metrics: Any) -> dict[str, dict[str, float]]:
    import ray

    try:
        return dict(ray.get(metrics.snapshot(), timeout=30)["counters"])
    except Exception:
        return {}


def _drain(ds: Any) -> None:
    for _ in ds.iter_internal_ref_bundles():
        pass


class _Tracker:
    """Which nodes are pending, running or done, from which terminals have finished."""

    def __init__(self, the_plan: Plan) -> None:
        self.plan = the_plan
        terminals = [n.id for n in the_plan.outputs] + [n.id for n in the_plan.leaves]
        self.ancestors = {t: self._ancestors(t) | {t} for t in terminals}
        self.done: set[str] = set()
        self.failed: set[str] = set()
        self.finished_terminals: set[str] = set()
        self.lock = threading.Lock()

    def _ancestors(self, nid: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.plan.node(nid).inputs)
        while stack:
            n = stack.pop()
            if n not in out:
                out.add(n)
                stack.extend(self.plan.node(n).inputs)
        return out

    def finish(self, terminal: str) -> list[str]:
        with self.lock:
            self.finished_terminals.add(terminal)
            newly = []
            for n in self.ancestors.get(terminal, {terminal}):
                if n in self.done:
                    continue
                users = [t for t, anc in self.ancestors.items() if n in anc]
                if all(t in self.finished_terminals for t in users):
                    self.done.add(n)
                    newly.append(n)
            return sorted(newly, key=lambda x: self.plan.node(x).level)

    def fail(self, terminal: str) -> None:
        with self.lock:
            self.failed.add(terminal)

    def status(self, nid: str, rows: float) -> str:
        if nid in self.done:
            return "completed"
        if nid in self.failed:
            return "failed"
        return "running" if rows > 0 else "pending"


def _watch(
    metrics: Any,
    tracker: _Tracker,
    result: RunResult,
    emit: Callable[[str, dict[str, Any]], None],
    interval: float,
    stop: threading.Event,
    cancel: threading.Event | None,
) -> None:
    """Poll the metrics actor and emit progress until ``stop``; forward cancellation."""
    import ray

    sources = {n.id for n in tracker.plan.order if n.type_key.startswith("source/")}
    while not stop.wait(interval):
        if cancel is not None and cancel.is_set():
            ray.get(metrics.cancel())
        try:
            snap = ray.get(metrics.snapshot(), timeout=10)
        except Exception:
            continue
        emit("progress", _progress(snap, tracker, sources, result))


def _progress(
    snap: dict[str, Any], tracker: _Tracker, sources: set[str], result: RunResult
) -> dict[str, Any]:
    counters = snap["counters"]
    rows = {n: int(c.get("rows", 0)) for n, c in counters.items()}
    nodes = {}
    current = None
    for pn in tracker.plan.order:
        r = rows.get(pn.id, 0)
        st = tracker.status(pn.id, r)
        nodes[pn.id] = {
            "rowsOut": r,
            "bytesOut": int(counters.get(pn.id, {}).get("bytes", 0)),
            "status": st,
        }
        if st == "running":
            current = pn.id
    return {
        "recordsProcessed": records_processed(rows, sources),
        "dataSize": int(sum(counters.get(s, {}).get("bytes", 0) for s in sources)),
        "completedSteps": len(tracker.done),
        "totalSteps": len(tracker.plan.order),
        "currentStep": current,
        "elapsedSeconds": round(time.time() - result.started_at, 3),
        "nodes": nodes,
    }


def _collect(
    metrics: Any,
    tracker: _Tracker,
    result: RunResult,
    graph: RunGraph | None,
    ledger: RetryLedger,
) -> None:
    """Fill the result's per-node figures from the metrics actor and node contexts."""
    import ray

    try:
        snap = ray.get(metrics.snapshot(True), timeout=30)
    except Exception:
        snap = {"counters": {}, "states": {}, "schemas": {}, "first": {}, "last": {}}
    for nid, nr in result.nodes.items():
        c = dict(snap["counters"].get(nid, {}))
        wasted = ledger.wasted.get(nid, {})
        nr.rowsOut = int(c.pop("rows", 0) - wasted.get("rows", 0))
        nr.bytesOut = int(c.pop("bytes", 0) - wasted.get("bytes", 0))
        if ledger.counts.get(nid):
            c["retries"] = ledger.counts[nid]
        nr.counters = c
        nr.states = snap.get("states", {}).get(nid, {})
        nr.schema = snap["schemas"].get(nid)
        if nid in snap["first"]:
            nr.seconds = round(snap["last"][nid] - snap["first"][nid], 3)
        if graph is not None and nid in graph.contexts:
            nr.facts = _jsonable(graph.contexts[nid].facts)
        nr.status = tracker.status(nid, nr.rowsOut)  # type: ignore[assignment]
        if result.status == "completed":
            nr.status = "completed"
        elif nr.status == "running":
            nr.status = "failed" if nid == result.error_node else "cancelled"
        if nid == result.error_node:
            nr.status, nr.error = "failed", result.error
    for nid, nr in result.nodes.items():
        pn = tracker.plan.node(nid)
        nr.rowsIn = sum(result.nodes[i].rowsOut for i in pn.inputs)
        if pn.kind == "output":
            nr.rowsOut = nr.rowsIn
            nr.schema = nr.schema or (result.nodes[pn.inputs[0]].schema if pn.inputs else None)
        if pn.type_key.startswith("source/"):
            result.sources.append(
                {
                    "nodeId": nid,
                    "location": nr.facts.get("location"),
                    "format": nr.facts.get("format"),
                    "dataSourceId": nr.facts.get("dataSourceId"),
                    "schema": nr.schema,
                }
            )
    for out in result.outputs:
        nr = result.nodes[out["nodeId"]]
        out.setdefault("rows", nr.rowsIn)
        out.setdefault("schema", nr.schema)
    _ = quality_score  # re-exported for callers computing scores from partial results


def _jsonable(obj: Any) -> Any:
    import json

    try:
        json.dumps(obj)
        return obj
    except TypeError:
        return json.loads(json.dumps(obj, default=str))


def _emitter(
    hook: EventHook | None, execution_id: str, observers: Sequence[RunObserver] = ()
) -> Callable[[str, dict[str, Any]], None]:
    def emit(kind: str, data: dict[str, Any]) -> None:
        if hook is None and not observers:
            return
        event = RunEvent(kind=kind, execution_id=execution_id, at=time.time(), data=data)  # type: ignore[arg-type]
        notify(observers, "run_event", event=event)
        if hook is None:
            return
        try:
            hook(event)
        except Exception:
            log.exception("run event hook failed for %s", kind)

    return emit


__all__ = ["NodeError", "RunEvent", "RunResult", "ensure_ray", "run_pipeline"]
