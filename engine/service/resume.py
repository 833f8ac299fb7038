"""Resume and reaping of checkpointed executions, whichever entry point started them.

:func:`resume` reruns a failed or killed execution under the same id from its run
record (see :mod:`engine.run.checkpoint` for what is reused). :func:`reap_stale` marks
running records whose runner died ``failed`` and resumable, and sends the failure
webhook and audit entry for each.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from engine.context import RunOptions, pipeline_home
from engine.errors import ResumeError
from engine.registry import Registry
from engine.run.checkpoint import (
    HEARTBEAT_SECONDS,
    _pid_alive,
    _write_json,
    list_records,
    load_record,
    record_path,
)

log = logging.getLogger(__name__)

# A runner whose process still exists on this host is reaped only when it has not beaten
# for this long: at its lowered priority a busy machine can hold it off the CPU for tens
# of seconds, and failing a run that is still working would lose it.
LIVE_MAX_AGE_S = 600.0


def reap_stale(
    max_age_s: float = 30.0,
    home: Path | None = None,
    *,
    notify: bool = True,
    only: Iterable[str] | None = None,
    alive: Callable[[str], bool] | None = None,
) -> list[str]:
    """Mark running executions whose runner died ``failed`` (resumable); their ids.

    A record written on this host is stale when its process no longer exists; one whose
    process still exists only when its heartbeat is older than :data:`LIVE_MAX_AGE_S`
    too (a runner starved of CPU by a busy machine, at its low priority, beats late but
    is not dead). A record of another host is stale when its heartbeat is older than
    ``max_age_s`` and ``alive`` (when given: whether the runner's actor still exists)
    does not say otherwise. With ``notify`` the ``execution.failed`` webhook event is
    enqueued and the failure audited for each. ``only``: look at the records of these
    executions alone (those a store lists as running), instead of reading every record
    under ``home``.
    """
    now = time.time()
    reaped = []
    here = socket.gethostname()
    for rec in list_records(home) if only is None else _records(only, home):
        if rec.get("status") != "running":
            continue
        age = now - float(rec.get("heartbeatAt") or 0)
        if rec.get("host") == here:
            if _pid_alive(int(rec["pid"])) and age <= max(max_age_s, LIVE_MAX_AGE_S):
                continue
        elif age <= max_age_s or (alive is not None and alive(rec["executionId"])):
            continue
        rec.update(
            status="failed",
            finishedAt=now,
            resumable=True,
            error=f"the runner of this execution stopped (pid {rec.get('pid')} on "
            f"{rec.get('host')}, last heartbeat {age:.0f}s ago); "
            "resume it with: pipeline-builder resume " + rec["executionId"],
        )
        _write_json(record_path(rec["executionId"], home), rec)
        reaped.append(rec["executionId"])
        if notify:
            _notify_lost(rec)
    return reaped


def _records(ids: Iterable[str], home: Path | None) -> list[dict[str, Any]]:
    out = []
    for execution_id in ids:
        try:
            out.append(load_record(execution_id, home))
        except (ResumeError, OSError, ValueError):  # not checkpointed (yet), or unreadable
            continue
    return out


def _notify_lost(rec: dict[str, Any]) -> None:
    """Failure webhook + audit entry for an execution whose runner died (best effort)."""
    from engine.run.result import iso

    result = {
        "executionId": rec["executionId"],
        "pipelineId": rec.get("pipelineId"),
        "status": "failed",
        "error": rec["error"],
        "errorNode": None,
        "startedAt": iso(rec.get("startedAt")),
        "finishedAt": iso(rec["finishedAt"]),
        "nodes": {},
        "outputs": [],
        "sources": [],
        "metrics": {"recordsProcessed": 0, "dataSize": 0, "qualityScore": None},
    }
    try:
        from engine.webhooks import emit_run

        emit_run(result)
    except Exception:
        log.exception("could not enqueue the failure webhook of %s", rec["executionId"])
    try:
        from engine.audit import record

        record(
            "execution.failed",
            "execution",
            rec["executionId"],
            actor="system:reaper",
            outcome="failure",
            details={
                "pipelineId": rec.get("pipelineId"),
                "error": rec["error"],
                "runnerLost": True,
            },
        )
    except Exception:
        log.exception("could not audit the lost execution %s", rec["executionId"])


def resume(
    execution_id: str,
    *,
    home: Path | None = None,
    on_event: Any = None,
    cancel: threading.Event | None = None,
    force: bool = False,
    actor: str | None = None,
    observers: Any = None,
    registry: Registry | None = None,
) -> Any:
    """Run a failed or killed checkpointed execution again until it completes.

    Args:
        execution_id: The execution to resume.
        home: ``PIPELINE_BUILDER_HOME`` holding its record (default: the environment's).
        on_event: Event hook passed to :func:`engine.run.runner.run_pipeline`.
        cancel: Cancellation event passed through.
        force: Resume even when the record still says ``running`` with a fresh heartbeat.
        actor: Who resumes it, for the audit trail (none: not audited).
        observers: Run observers (default: :func:`engine.service.observers.default_observers`).
        registry: Node types, passed to ``run_pipeline`` (the default registry when None).

    Returns:
        The RunResult of the resumed attempt (same execution id).

    Raises:
        ResumeError: no record, already completed, or still running.
    """
    from engine.catalog import DictCatalog
    from engine.run.runner import run_pipeline
    from engine.spec import parse_spec

    home = home or pipeline_home()
    reap_stale(max_age_s=max(3 * HEARTBEAT_SECONDS, 10.0), home=home)
    rec = load_record(execution_id, home)
    if rec.get("status") == "completed":
        raise ResumeError(f"execution {execution_id!r} already completed; nothing to resume")
    if rec.get("status") == "running" and not force:
        raise ResumeError(
            f"execution {execution_id!r} is still running (heartbeat "
            f"{time.time() - float(rec.get('heartbeatAt') or 0):.0f}s ago)"
        )
    spec = parse_spec(rec["spec"])
    catalog = DictCatalog(
        {k: {r["id"]: r for r in v} for k, v in (rec.get("catalog") or {}).items()},
        base_dir=Path(rec["catalogBaseDir"]) if rec.get("catalogBaseDir") else None,
    )
    o = rec.get("options") or {}
    extra: dict[str, Any] = {"checkpoint": True, "resumed": True}
    if o.get("address"):
        extra["address"] = o["address"]
    if actor:
        extra["auditActor"] = actor
    options = RunOptions(
        home=home,
        base_dir=Path(o.get("baseDir") or Path.cwd()),
        object_store_memory=o.get("objectStoreMemory"),
        extra=extra,
    )
    from engine.service.observers import default_observers

    return run_pipeline(
        spec,
        catalog,
        options=options,
        execution_id=execution_id,
        on_event=on_event,
        cancel=cancel,
        observers=default_observers() if observers is None else observers,
        registry=registry,
    )
