"""Run a pipeline: validate, plan, compile to Ray Data, stream every output, report.

``run_pipeline`` is the one entry point the CLI, the API and driver scripts share. It
returns a :class:`~engine.run.result.RunResult` whether the run succeeds or fails (only an
invalid spec raises), and emits :class:`~engine.run.result.RunEvent` s while it runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from engine.catalog import Catalog, empty_catalog
from engine.context import RunOptions
from engine.errors import ExecutionCancelled, NodeError
from engine.plan.planner import Plan, PlannedNode, plan
from engine.plan.validation import validate
from engine.registry import Registry, default_registry
from engine.run import checkpoint
from engine.run import lowered_setup_worker as lowered_setup_worker_module
from engine.run.failures import failing_node, keep_trace, message, root_error
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


def ensure_ray(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    object_store_memory: int | None = None,
    worker_niceness: int | None = None,
    **init_kwargs: Any,
) -> None:
    """Connect to ``address`` (``auto``, ``ray://...``) or start a private embedded Ray.

    ``RAY_ADDRESS`` (set by ``ray job submit`` for the job's driver) counts as an
    address. Without one a new local instance starts (``address="local"``): a run never
    joins whatever cluster happens to run on the host. A new local instance uses Ray's
    token authentication (Ray's default when ``RAY_AUTH_MODE`` is unset; the token is kept
    in ``~/.ray/auth_token``), so a process that reaches its ports cannot join it or
    submit work without the token; the dashboard is off. It listens on 127.0.0.1 only:
    Ray binds its gRPC servers to loopback when the node address is exactly 127.0.0.1,
    but ``ray.init`` replaces a loopback ``_node_ip_address`` with the host's routable
    address, so that replacement is switched off while the instance starts. See
    cluster/README.md for running Ray on a network.

    ``worker_niceness`` (a new local instance only): the nice value Ray gives its worker
    processes (Ray's own default is 15). The API starts its Ray with 0, so that its
    replicas and HTTP proxy run at normal priority above the executions
    (:mod:`engine.run.priority`).
    """
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "configure_logging": False,
        **init_kwargs,
    }
    if address:
        kwargs["address"] = address
    else:
        kwargs["address"] = "local"
        kwargs.setdefault("_node_ip_address", "127.0.0.1")
        if num_cpus:
            kwargs["num_cpus"] = num_cpus
        if object_store_memory:
            kwargs["object_store_memory"] = object_store_memory
        if worker_niceness is not None:
            kwargs["_system_config"] = {
                **kwargs.get("_system_config", {}),
                "worker_niceness": worker_niceness,
            }
        with lowered_setup_worker():
            if kwargs["_node_ip_address"] == "127.0.0.1":
                from ray._private import services

                resolve = services.resolve_ip_for_localhost
                services.resolve_ip_for_localhost = lambda host: host  # keep 127.0.0.1
                try:
                    ray.init(**kwargs)
                finally:
                    services.resolve_ip_for_localhost = resolve
            else:
                ray.init(**kwargs)
        return
    ray.init(**kwargs)


@contextlib.contextmanager
def lowered_setup_worker() -> Iterator[None]:
    """While a local Ray starts: its raylet runs :mod:`engine.run.lowered_setup_worker`
    in place of Ray's ``setup_worker.py``, so an execution's workers are lowered before
    their set-up step's imports (:mod:`engine.run.priority`).

    Ray's node takes the script's name from ``ray_constants.SETUP_WORKER_FILENAME``,
    joined to its own directory; an absolute path replaces the directory. Restored after.
    """
    from ray._private import ray_constants

    before = ray_constants.SETUP_WORKER_FILENAME
    ray_constants.SETUP_WORKER_FILENAME = os.path.abspath(lowered_setup_worker_module.__file__)
    try:
        yield
    finally:
        ray_constants.SETUP_WORKER_FILENAME = before


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
    from engine.run.operators import install_operator_watch
    from engine.run.recovery import RetryLedger
    from engine.run.scheduling import tune_streaming_scheduler

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
    tune_streaming_scheduler()  # start tasks without Ray Data's idle intervals
    install_operator_watch(ctx)  # which nodes' operators completed (progress)
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
    metrics = RayMetrics(metrics_actor(), execution_id, flush_nodes=_flush_nodes(the_plan))
    tracker = _Tracker(the_plan, execution_id)
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
        tracker.graph = graph  # the progress thread reads the sources' expected sizes
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
        result.error_node = None if cancelled else failing_node(exc, result.error)
        if not cancelled:
            keep_trace(exc, options.home, execution_id)
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


def _flush_nodes(the_plan: Plan) -> frozenset[str]:
    """Nodes whose counting sends a worker's pending figures: those outputs and leaves read."""
    return frozenset(
        {i for n in the_plan.outputs for i in n.inputs}
        | {n.id for n in the_plan.leaves if n.kind != "output"}
    )


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
    """Which nodes are pending, running or done, and what the sources are expected to read.

    A node is done when the Ray Data operator that carries it has completed and every
    node it reads is done (:class:`~engine.run.operators.OperatorWatch`), or when every
    terminal below it has finished, whichever comes first.
    """

    def __init__(self, the_plan: Plan, execution_id: str = "") -> None:
        self.plan = the_plan
        self.execution_id = execution_id
        terminals = [n.id for n in the_plan.outputs] + [n.id for n in the_plan.leaves]
        self.ancestors = {t: self._ancestors(t) | {t} for t in terminals}
        self.sources = {n.id for n in the_plan.order if n.type_key.startswith("source/")}
        self.done: set[str] = set()
        self.failed: set[str] = set()
        self.finished_terminals: set[str] = set()
        self.announced: set[str] = set()
        self.lock = threading.Lock()
        self.graph: Any = None  # the RunGraph, once compiled
        self.expected: dict[str, dict[str, int | None]] | None = None
        self.first_row_at: float | None = None
        self.counts_file: Any = False  # Path | None once known (False: not looked up yet)
        self.counts_before: dict[str, Any] = {}
        # the nodes outputs and leaves read: the last stages whose rows are counted
        self.last = {i for n in the_plan.outputs for i in n.inputs} | {
            n.id for n in the_plan.leaves if n.kind != "output"
        }

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
        """Record a finished terminal; the nodes newly done and not yet announced."""
        with self.lock:
            self.finished_terminals.add(terminal)
            for n in self.ancestors.get(terminal, {terminal}):
                users = [t for t, anc in self.ancestors.items() if n in anc]
                if all(t in self.finished_terminals for t in users):
                    self.done.add(n)
        return self.newly_done()

    def newly_done(self) -> list[str]:
        """Nodes done (by terminals or operators) that were not announced yet."""
        done = self.completed()
        with self.lock:
            newly = sorted(done - self.announced, key=lambda x: self.plan.node(x).level)
            self.announced |= set(newly)
        return newly

    def completed(self) -> set[str]:
        from engine.run.operators import OperatorWatch

        ops = OperatorWatch.nodes(self.execution_id)
        with self.lock:
            done = set(self.done)
        for pn in self.plan.order:  # topological: inputs are decided first
            info = ops.get(pn.id)
            ready = info and info.get("completed") and all(i in done for i in pn.inputs)
            if pn.id not in done and ready:
                done.add(pn.id)
        return done

    def fail(self, terminal: str) -> None:
        with self.lock:
            self.failed.add(terminal)

    def status(self, nid: str, rows: float, done: set[str] | None = None) -> str:
        if nid in (self.done if done is None else done):
            return "completed"
        if nid in self.failed:
            return "failed"
        return "running" if rows > 0 else "pending"

    def execution_counts(
        self, now: dict[str, dict[str, float]], scoped: dict[str, Any]
    ) -> dict[str, dict[str, float]]:
        """Per-node figures of the whole execution (earlier attempts' reused work added).

        For a checkpointed run, also saves them (:mod:`engine.run.counts`).
        """
        from engine.run import counts

        if self.counts_file is False:
            if self.graph is None:
                return now
            self.counts_file = counts.path_for(self.graph.current.options, self.execution_id)
            self.counts_before = counts.load(self.counts_file)
        if self.counts_file is None:
            return now
        merged, all_scoped = counts.merge(now, scoped, self.counts_before)
        counts.save(self.counts_file, merged, all_scoped)
        return merged

    def expected_input(self) -> dict[str, dict[str, int | None]]:
        """Expected rows/bytes per source, from metadata (computed once, after the start)."""
        if self.expected is None:
            from engine.run.progress import expected_input

            contexts = getattr(self.graph, "contexts", None) or {}
            found = {}
            for sid in sorted(self.sources):
                ctx = contexts.get(sid)
                try:
                    found[sid] = expected_input(dict(ctx.facts) if ctx is not None else {})
                except Exception:
                    log.debug("no expected size for %s", sid, exc_info=True)
                    found[sid] = {"rows": None, "bytes": None}
            if self.graph is None:
                return found  # not compiled yet: try again at the next event
            self.expected = found
        return self.expected


def _watch(
    metrics: Any,
    tracker: _Tracker,
    result: RunResult,
    emit: Callable[[str, dict[str, Any]], None],
    interval: float,
    stop: threading.Event,
    cancel: threading.Event | None,
) -> None:
    """Poll the metrics actor and emit progress until ``stop``; forward cancellation.

    The first event comes after a quarter of ``interval`` at most (then every
    ``interval``), so a status shows rows from the first second.
    """
    import ray

    wait_s = min(interval, 0.25)
    while not stop.wait(wait_s):
        wait_s = interval
        if cancel is not None and cancel.is_set():
            ray.get(metrics.cancel())
        try:
            snap = ray.get(metrics.snapshot(), timeout=10)
        except Exception:
            continue
        try:
            tracker.execution_counts(snap["counters"], snap.get("scoped", {}))
        except Exception:
            log.debug("could not save run counts", exc_info=True)
        emit("progress", _progress(snap, tracker, tracker.sources, result))
        for node_done in tracker.newly_done():
            emit("node_finished", {"nodeId": node_done})


def _progress(
    snap: dict[str, Any], tracker: _Tracker, sources: set[str], result: RunResult
) -> dict[str, Any]:
    """One progress event's figures (see :mod:`engine.run.progress` for the estimate)."""
    from engine.run.operators import OperatorWatch
    from engine.run.progress import estimate_completion, fraction_done
    from engine.run.result import iso

    now = time.time()
    counters = snap["counters"]
    rows = {n: int(c.get("rows", 0)) for n, c in counters.items()}
    ops = OperatorWatch.nodes(tracker.execution_id)
    done = tracker.completed()
    nodes = {}
    busy: list[tuple[int, int, int, str]] = []
    for pn in tracker.plan.order:
        r = rows.get(pn.id, 0)
        active = int(ops.get(pn.id, {}).get("activeTasks", 0))
        st = tracker.status(pn.id, r + active, done)
        nodes[pn.id] = {
            "rowsOut": r,
            "bytesOut": int(counters.get(pn.id, {}).get("bytes", 0)),
            "status": st,
            "activeTasks": active,
        }
        if st == "running":
            busy.append((active, pn.level, r, pn.id))
    # the busiest node: most tasks running, then the deepest stage, then most rows
    current = max(busy)[3] if busy else None
    read = records_processed(rows, sources)
    if read and tracker.first_row_at is None:
        firsts = [snap["first"][s] for s in sources if s in snap.get("first", {})]
        tracker.first_row_at = min(firsts) if firsts else now
    expected = tracker.expected_input()
    exp_rows = [e.get("rows") for e in expected.values()]
    exp_bytes = [e.get("bytes") for e in expected.values()]
    expected_rows = sum(r or 0 for r in exp_rows) if exp_rows and None not in exp_rows else None
    fraction = fraction_done(
        rows, sources=sources, last=tracker.last, done=done, expected=expected_rows
    )
    eta = estimate_completion(now=now, first_row_at=tracker.first_row_at, fraction=fraction)
    return {
        "recordsProcessed": read,
        "dataSize": int(sum(counters.get(s, {}).get("bytes", 0) for s in sources)),
        "expectedRecords": expected_rows,
        "expectedInputBytes": (
            sum(b or 0 for b in exp_bytes) if exp_bytes and None not in exp_bytes else None
        ),
        "completedSteps": len(done),
        "totalSteps": len(tracker.plan.order),
        "currentStep": current,
        "estimatedCompletion": iso(eta),
        "elapsedSeconds": round(now - result.started_at, 3),
        "nodes": nodes,
    }


def _collect(
    metrics: Any,
    tracker: _Tracker,
    result: RunResult,
    graph: RunGraph | None,
    ledger: RetryLedger,
) -> None:
    """Fill the result's per-node figures from the metrics actor and node contexts.

    Rows and bytes are those of committed blocks (each counted once, see
    :mod:`engine.run.metrics`), less what failed attempts of retried or replaced
    terminals counted; an output's rows are what it committed.
    """
    import ray

    from engine.run.metrics import flush_pending
    from engine.run.progress import committed_output

    flush_pending()  # figures this process recorded (driver-side sinks) reach the actor first
    try:
        snap = ray.get(metrics.snapshot(True), timeout=30)
    except Exception:
        snap = {"counters": {}, "states": {}, "schemas": {}, "first": {}, "last": {}}
    done = tracker.completed()
    now: dict[str, dict[str, float]] = {}
    for nid, got in snap["counters"].items():
        c = dict(got)
        wasted = ledger.wasted.get(nid, {})
        for k in ("rows", "bytes"):
            if k in c:
                c[k] -= wasted.get(k, 0.0)
        now[nid] = c
    try:
        figures = tracker.execution_counts(now, snap.get("scoped", {}))
    except Exception:
        log.warning("could not merge the counts of earlier attempts", exc_info=True)
        figures = now
    for nid, nr in result.nodes.items():
        c = dict(figures.get(nid, {}))
        nr.rowsOut = int(c.pop("rows", 0))
        nr.bytesOut = int(c.pop("bytes", 0))
        if ledger.counts.get(nid):
            c["retries"] = ledger.counts[nid]
        nr.counters = c
        nr.states = snap.get("states", {}).get(nid, {})
        nr.schema = snap["schemas"].get(nid)
        if nid in snap["first"]:
            nr.seconds = round(snap["last"][nid] - snap["first"][nid], 3)
        if graph is not None and nid in graph.contexts:
            nr.facts = _jsonable(graph.contexts[nid].facts)
        nr.status = tracker.status(nid, nr.rowsOut, done)  # type: ignore[assignment]
        if result.status == "completed":
            nr.status = "completed"
        elif nr.status == "running":
            nr.status = "failed" if nid == result.error_node else "cancelled"
        if nid == result.error_node:
            nr.status, nr.error = "failed", result.error
    committed: dict[str, dict[str, int]] = {}
    for out in result.outputs:
        try:
            committed[out["nodeId"]] = committed_output(out)
        except Exception:
            log.debug("could not read what %s committed", out["nodeId"], exc_info=True)
    for nid, nr in result.nodes.items():
        pn = tracker.plan.node(nid)
        nr.rowsIn = sum(result.nodes[i].rowsOut for i in pn.inputs)
        if pn.kind == "output":
            nr.rowsOut = committed.get(nid, {}).get("rows", nr.rowsIn)
            nr.bytesOut = committed.get(nid, {}).get("size", nr.bytesOut)
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
        got = committed.get(out["nodeId"], {})
        if "rows" in got:
            out["rows"] = got["rows"]
        out.setdefault("rows", nr.rowsIn)
        if "size" in got:
            out["size"] = got["size"]
            out.setdefault("fileCount", got["fileCount"])
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
