"""Run stored executions outside the HTTP request: one detached Ray actor per execution.

The API records an execution as ``queued`` and calls :func:`launch`, which starts a
*detached*, named actor (``pb-exec-<executionId>`` in namespace ``pipeline-builder``)
and returns at once. The actor is owned by no replica, so the run outlives the Serve
replica that accepted it; it reads the pinned pipeline version and a snapshot of the
stored catalog, runs :func:`engine.run.runner.run_pipeline`, writes every progress event
to the store (so status polls see ``recordsProcessed`` grow), records OpenLineage
events, and exits. Cancellation goes through the store (``cancel_requested``), which
every replica and the actor share, so any replica can cancel any run.

Runs are checkpointed (``RunOptions.extra["checkpoint"]``) and audited as the API key
that started them (``auditActor``, ``requestId``); their events go to the webhook outbox
(:func:`engine.service.observers.with_webhooks`). A failed or cancelled execution is
:func:`reopen`-ed and launched again with ``resume=True``, which continues from its
checkpoint (:func:`engine.service.resume.resume`). :func:`reap_lost_runners`, called
periodically by the API, marks executions whose runner died ``failed`` (resumable).
The actor sets the starting process's ``PIPELINE_BUILDER_*`` / ``OPENLINEAGE_*``
variables in its own environment (see :func:`forwarded_env`).

Executions run at a lower CPU priority than the API (:mod:`engine.run.priority`): the
actor and the worker processes of its Ray Data tasks have a higher nice value than the
replica that started them, so a status request is served first however busy the node
is. Status is read from the store alone; nothing on the request path asks the actor.

Why an actor and not a Ray job: starting an actor costs one worker process and no
driver or dashboard; a job needs the Ray dashboard's job server (absent in embedded
and test sessions), a new driver per run, and gives no faster path to progress.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from engine.run.priority import NICE_ENV, lower_priority
from engine.service.records import PROGRESS_SECONDS, StoreRecorder
from engine.store import DB_URL_ENV, Store, get_engine, now_iso
from engine.store.records import TERMINAL_STATUSES

log = logging.getLogger(__name__)

NAMESPACE = "pipeline-builder"
CANCEL_POLL_SECONDS = 0.5
# Progress events (each one a store write) while a run is in flight.
# A queued/running execution whose row has not moved for this long and whose actor is
# gone is marked failed (its node died); progress normally updates every 0.5 s.
STALE_SECONDS = 60.0


def actor_name(execution_id: str) -> str:
    return f"pb-exec-{execution_id}"


def launch(
    execution_id: str,
    *,
    db_url: str,
    home: str | os.PathLike[str],
    run_extra: dict[str, Any] | None = None,
    resume: bool = False,
) -> str:
    """Start the detached actor that runs ``execution_id``; return the actor's name.

    Args:
        execution_id: A ``queued`` execution already recorded in the store.
        db_url: The metadata database (the actor may run on another node).
        home: ``PIPELINE_BUILDER_HOME`` for the run (artifacts, relative paths).
        run_extra: Added to ``RunOptions.extra`` (``auditActor``, ``requestId``...).
        resume: Resume the execution from its checkpoint instead of starting it afresh.
    """
    import ray

    name = actor_name(execution_id)
    if resume:
        _release_name(execution_id)
    from engine.run import priority

    options: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "lifetime": "detached",
        "num_cpus": 0,  # a driver-like process: Ray Data tasks reserve their own CPUs
        "max_restarts": 0,
        "max_concurrency": 2,
    }
    # The run and every task it submits run at a lower CPU priority than this process
    # (the API replica): a runtime environment whose worker processes lower their nice
    # value at start, inherited by the run's Ray Data tasks. It is the same for every
    # execution, so all of them share one pool of lowered workers.
    env = priority.runtime_env()
    if env is not None:
        options["runtime_env"] = env
    runner_cls = ray.remote(ExecutionRunner).options(**options)  # type: ignore[attr-defined]
    # Workers inherit the environment of the Ray node, not of this process: pass on the
    # settings the run needs (webhook allowlist, sealing key, OpenLineage...) to the
    # actor itself. Not in the runtime environment: it would differ between API
    # processes and split the lowered workers into one pool per environment.
    # The actor starts the run itself, once it is up: Ray creates a detached actor
    # whatever happens to this process, whereas a method call sent from here would be
    # lost with this process if it ended (a replica replaced) before the actor was up.
    runner_cls.remote(
        db_url,
        str(home),
        forwarded_env(db_url=db_url, home=home),
        start={"execution_id": execution_id, "run_extra": run_extra, "resume": resume},
    )
    return name


def _release_name(execution_id: str, wait_s: float = 10.0) -> None:
    """Free the actor name of a finished attempt before a resume takes it.

    A finished runner ends itself a moment after its run; one still there after
    ``wait_s`` has nothing left to do (its execution is terminal) and is stopped.
    """
    import ray

    deadline = time.monotonic() + wait_s
    while is_alive(execution_id):
        if time.monotonic() > deadline:
            try:
                ray.kill(ray.get_actor(actor_name(execution_id), namespace=NAMESPACE))
            except ValueError:
                return
            time.sleep(0.2)
            return
        time.sleep(0.1)


FORWARDED_PREFIXES = ("PIPELINE_BUILDER_", "OPENLINEAGE_")


def forwarded_env(*, db_url: str, home: str | os.PathLike[str]) -> dict[str, str]:
    """Environment variables an execution actor gets from the process that starts it."""
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}
    env.update({DB_URL_ENV: db_url, "PIPELINE_BUILDER_HOME": str(home)})
    return env


def reap_lost_runners(store: Store, home: Path, max_age_s: float = 15.0) -> list[str]:
    """Mark executions whose runner died ``failed`` (resumable) in the store too.

    :func:`engine.service.resume.reap_stale` finds checkpointed runs whose heartbeat stopped
    (or whose process is gone on this host), marks their run records failed and sends the
    ``execution.failed`` webhook and audit entry; this copies the verdict to the store.
    Executions lost before their checkpoint existed are caught by :func:`reap_if_lost`
    (row unchanged for ``max_age_s`` and no actor).
    """
    from engine.run.checkpoint import load_record
    from engine.service.resume import reap_stale

    # Only the executions the store lists as running are looked at: the API calls this
    # every few seconds, and reading every run record of the home's history would cost
    # more with every execution ever run.
    running, _ = store.list_executions(status="running", limit=200)
    reaped = reap_stale(max_age_s, home, only=[r.id for r in running], alive=is_alive)
    for execution_id in reaped:
        try:
            error = load_record(execution_id, home).get("error")
            store.update_execution(
                execution_id,
                status="failed",
                finished_at=now_iso(),
                error=error or "the process running this execution was lost",
            )
        except Exception:
            log.exception("could not mark lost execution %s failed", execution_id)
    for status in ("running", "queued"):
        items, _ = store.list_executions(status=status, limit=200)
        for rec in items:
            if rec.id not in reaped and reap_if_lost(store, rec.id, stale_s=max_age_s):
                reaped.append(rec.id)
    return reaped


def is_alive(execution_id: str) -> bool:
    """Whether the execution's actor still exists."""
    import ray

    try:
        ray.get_actor(actor_name(execution_id), namespace=NAMESPACE)
        return True
    except ValueError:
        return False


def reap_if_lost(store: Store, execution_id: str, stale_s: float = STALE_SECONDS) -> bool:
    """Mark a non-terminal execution failed when its row is stale and its actor is gone.

    Covers runners lost before their checkpoint record existed (which
    :func:`engine.service.resume.reap_stale` cannot see). Sends the ``execution.failed``
    webhook and audits the loss. Returns whether the execution was marked failed.
    """
    rec = store.get_execution(execution_id)
    if rec.terminal:
        return False
    from engine.store.records import parse_iso

    updated = parse_iso(rec.updated_at)
    if updated is None or time.time() - updated.timestamp() < stale_s:
        return False
    if is_alive(execution_id):
        return False
    error = "the process running this execution was lost (node failure or shutdown)"
    store.update_execution(execution_id, status="failed", finished_at=now_iso(), error=error)
    if store.get_execution(execution_id).status != "failed":
        return False  # it finished meanwhile
    _announce_lost(rec.pipeline_id, execution_id, rec.started_at, error)
    return True


def _announce_lost(pipeline_id: str, execution_id: str, started_at: str | None, error: str) -> None:
    """Failure webhook and audit entry for a lost execution (best effort)."""
    result: dict[str, Any] = {
        "executionId": execution_id,
        "pipelineId": pipeline_id,
        "status": "failed",
        "error": error,
        "startedAt": started_at,
        "finishedAt": now_iso(),
        "nodes": {},
        "outputs": [],
        "sources": [],
        "metrics": {"recordsProcessed": 0, "dataSize": 0, "qualityScore": None},
    }
    try:
        from engine.webhooks import emit_run

        emit_run(result)
    except Exception:
        log.exception("could not enqueue the failure webhook of %s", execution_id)
    try:
        from engine.audit import record

        record(
            "execution.failed",
            "execution",
            execution_id,
            actor="system:reaper",
            outcome="failure",
            details={"pipelineId": pipeline_id, "error": error, "runnerLost": True},
        )
    except Exception:
        log.exception("could not audit the lost execution %s", execution_id)


class ExecutionRunner:
    """Body of the per-execution actor (plain class so it is testable without Ray)."""

    def __init__(
        self,
        db_url: str,
        home: str,
        env: dict[str, str] | None = None,
        *,
        start: dict[str, Any] | None = None,
    ) -> None:
        """``start``: :meth:`run`'s arguments, to run them in a thread of this actor now."""
        os.environ.update(env or {})
        if os.environ.get(NICE_ENV):  # started lowered: threads started since, too
            lower_priority()
        os.environ["PIPELINE_BUILDER_HOME"] = home
        # audit entries and webhook events go to the same database as the execution
        os.environ[DB_URL_ENV] = db_url
        self.db_url = db_url
        self.home = Path(home)
        self.store = Store(get_engine(db_url))
        self.run_extra: dict[str, Any] = {"checkpoint": True}
        self.resume = False
        if start is not None:
            threading.Thread(
                target=self.run,
                args=(start["execution_id"],),
                kwargs={"run_extra": start.get("run_extra"), "resume": bool(start.get("resume"))},
                daemon=True,
                name="pb-execution",
            ).start()

    def _lineage(self, execution_id: str, event: dict[str, Any]) -> None:
        """Store a RunEvent and send it to the configured OpenLineage transport."""
        from engine.lineage import transport

        self.store.add_lineage_event(execution_id, event)
        transport.emit(event)

    def run(
        self,
        execution_id: str,
        *,
        run_extra: dict[str, Any] | None = None,
        resume: bool = False,
        exit_when_done: bool = True,
    ) -> str:
        """Run (or resume) the execution to its end; return its final status.

        Runs are checkpointed (``extra["checkpoint"]``) so a failed or lost run resumes,
        and their events reach the webhook outbox.
        """
        self.run_extra = {"checkpoint": True, **(run_extra or {})}
        self.resume = resume
        try:
            return self._run(execution_id)
        except Exception as exc:
            log.exception("execution %s crashed", execution_id)
            self._finish_without_run(
                execution_id, "failed", f"internal error: {type(exc).__name__}: {exc}"
            )
            return "failed"
        finally:
            if exit_when_done:
                _exit_actor()

    def _run(self, execution_id: str) -> str:
        from engine.context import RunOptions
        from engine.errors import PipelineBuilderError
        from engine.run.checkpoint import record_path
        from engine.run.runner import run_pipeline
        from engine.service.observers import default_observers, with_webhooks
        from engine.service.resume import resume
        from engine.spec.loader import parse_spec
        from engine.store import StoreCatalog

        rec = self.store.get_execution(execution_id)
        if rec.terminal:
            return rec.status
        if rec.cancel_requested:
            self._finish_without_run(
                execution_id, "cancelled", "execution cancelled before it started"
            )
            return "cancelled"
        pipeline = self.store.get_pipeline(rec.pipeline_id, rec.pipeline_version)
        started = now_iso()
        self.store.update_execution(execution_id, status="running", started_at=started)
        try:
            spec = _with_overrides(parse_spec(pipeline.spec), self.run_extra.get("configOverrides"))
            catalog = StoreCatalog(self.store, base_dir=self.home).snapshot()
        except PipelineBuilderError as exc:
            self._finish_without_run(execution_id, "failed", str(exc))
            return "failed"
        cancel = threading.Event()
        done = threading.Event()
        watcher = threading.Thread(
            target=self._watch_cancel, args=(execution_id, cancel, done), daemon=True
        )
        watcher.start()
        # Status, progress, the result and lineage reach the store through the run's
        # observers (ExecutionStoreObserver, OpenLineageObserver), as for every entry point.
        on_event = with_webhooks(None, pipeline_id=rec.pipeline_id)
        try:
            if self.resume and record_path(execution_id, self.home).exists():
                result = resume(
                    execution_id,
                    home=self.home,
                    on_event=on_event,
                    cancel=cancel,
                    actor=self.run_extra.get("auditActor"),
                )
            else:  # a first run, or a resume of a run that failed before its checkpoint
                result = run_pipeline(
                    spec,
                    catalog,
                    options=RunOptions(
                        home=self.home,
                        base_dir=self.home,
                        extra=dict(self.run_extra),
                        progress_interval=PROGRESS_SECONDS,
                    ),
                    execution_id=execution_id,
                    on_event=on_event,
                    cancel=cancel,
                    observers=default_observers(),
                )
        except PipelineBuilderError as exc:  # invalid spec against the current catalog
            done.set()
            self._finish_without_run(execution_id, "failed", str(exc))
            return "failed"
        finally:
            done.set()
        if not self.store.get_execution(execution_id).terminal:  # an observer failed
            StoreRecorder(self.store, execution_id).finished(result.to_dict())
        return result.status

    def _watch_cancel(
        self, execution_id: str, cancel: threading.Event, done: threading.Event
    ) -> None:
        while not done.wait(CANCEL_POLL_SECONDS):
            try:
                if self.store.cancel_requested(execution_id):
                    cancel.set()
                    return
            except Exception:
                log.warning("cancel poll failed for %s", execution_id, exc_info=True)

    def _finish_without_run(self, execution_id: str, status: str, error: str) -> None:
        from engine.lineage.summary import terminal_event

        rec = self.store.get_execution(execution_id)
        if rec.status in TERMINAL_STATUSES:
            return
        now = now_iso()
        result = {
            "executionId": execution_id,
            "pipelineId": rec.pipeline_id,
            "status": status,
            "startedAt": rec.started_at or now,
            "finishedAt": now,
            "error": error,
            "nodes": {},
            "outputs": [],
            "sources": [],
            "metrics": {"recordsProcessed": 0, "dataSize": 0, "qualityScore": None},
        }
        self._lineage(execution_id, terminal_event(result))
        try:  # the run never started, so no run event carried this to the outbox
            from engine.webhooks import emit_run

            emit_run(result)
        except Exception:
            log.exception("could not enqueue webhook events for %s", execution_id)
        self.store.update_execution(
            execution_id,
            status=status,
            finished_at=now,
            error=error,
            result=result,
            started_at=rec.started_at or now,
        )


def _exit_actor() -> None:
    """End the detached actor once its run is over (outside Ray this does nothing)."""
    try:
        import ray

        if ray.is_initialized() and ray.get_runtime_context().get_actor_id():
            # Exit from a helper thread a moment later so this method's reply is sent first.
            threading.Timer(0.5, lambda: ray.kill(ray.get_runtime_context().current_actor)).start()
    except Exception:
        log.debug("could not stop execution actor", exc_info=True)


def _with_overrides(spec: Any, overrides: dict[str, dict[str, Any]] | None) -> Any:
    """``spec`` with node config keys replaced for this run (``context.dataRequirements``
    the API honours, e.g. a model-training node's ``format``)."""
    if not overrides:
        return spec
    nodes = [
        n.model_copy(update={"config": {**n.config, **overrides[n.id]}}) if n.id in overrides else n
        for n in spec.nodes
    ]
    return spec.model_copy(update={"nodes": nodes})
