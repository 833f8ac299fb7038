"""The metadata store's execution record, kept in step by whichever entry point runs it.

:class:`StoreRecorder` writes one run's status, progress, result and lineage to its
execution record; :func:`reopen` moves a failed or cancelled execution back to
``queued`` for a resume. Used by :mod:`engine.service.executions` (the API's runner) and
:class:`engine.service.observers.ExecutionStoreObserver` (every entry point).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from engine.store import Store, get_engine, now_iso

log = logging.getLogger(__name__)

# Progress is written at most this often (seconds).
PROGRESS_SECONDS = 0.25
RESUMABLE_STATUSES = ("failed", "cancelled")


def reopen(store: Store, execution_id: str) -> bool:
    """Move a ``failed``/``cancelled`` execution back to ``queued`` for a resume.

    One conditional update, so two concurrent resume requests cannot both win.
    Returns whether the execution was reopened.
    """
    from sqlalchemy import update

    from engine.store import schema

    table = schema.executions
    with store.engine.begin() as conn:
        res = conn.execute(
            update(table)
            .where(table.c.id == execution_id, table.c.status.in_(RESUMABLE_STATUSES))
            .values(
                status="queued",
                cancel_requested=False,
                error=None,
                finished_at=None,
                updated_at=now_iso(),
            )
        )
    return bool(res.rowcount)


# ``StoreRecorder.for_execution`` has a ``reopen`` flag; the function under another name.
_reopen = reopen


class StoreRecorder:
    """Writes one run's status, progress, result and lineage to its execution record.

    Used by :class:`engine.service.observers.ExecutionStoreObserver` for every entry
    point. Progress writes are at most one per ``PROGRESS_SECONDS``.
    """

    def __init__(self, store: Store, execution_id: str) -> None:
        self.store = store
        self.execution_id = execution_id
        self.last_progress = 0.0

    @classmethod
    def for_execution(cls, execution_id: str, *, reopen: bool = True) -> StoreRecorder | None:
        """A recorder when the metadata store holds ``execution_id``, else None.

        With ``reopen``, a ``failed``/``cancelled`` record (a resume from another entry
        point) is reopened first; a ``completed`` one is left alone (None).
        """
        from engine.store import database_url
        from engine.store.errors import NotFoundError

        url = database_url()
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
            return None  # no store here: nothing to keep in step (no file is created)
        try:
            store = Store(get_engine(url))
            rec = store.get_execution(execution_id)
        except NotFoundError:
            return None
        except Exception:
            log.warning("metadata store unavailable for %s", execution_id, exc_info=True)
            return None
        if reopen and rec.status == "completed":
            return None
        if reopen and rec.status in RESUMABLE_STATUSES:
            _reopen(store, execution_id)
        return cls(store, execution_id)

    def started(self, *, total_steps: int) -> None:
        rec = self.store.get_execution(self.execution_id)
        self.store.update_execution(
            self.execution_id,
            status="running",
            started_at=rec.started_at or now_iso(),
            progress={"completedSteps": 0, "totalSteps": total_steps, "currentStep": None},
        )

    def progress(self, data: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_progress < 0.8 * PROGRESS_SECONDS:  # events come every interval
            return
        self.last_progress = now
        keys = ("completedSteps", "totalSteps", "currentStep", "estimatedCompletion")
        metrics = {
            "recordsProcessed": data.get("recordsProcessed", 0),
            "dataSize": data.get("dataSize", 0),
            "qualityScore": None,
        }
        self.store.update_execution(
            self.execution_id,
            progress={k: data.get(k) for k in keys},
            metrics=metrics,
            nodes=data.get("nodes", {}),
        )

    def finished(self, data: dict[str, Any]) -> None:
        nodes = {
            nid: {
                k: n.get(k)
                for k in ("type", "status", "rowsIn", "rowsOut", "bytesOut", "seconds", "error")
            }
            for nid, n in data.get("nodes", {}).items()
        }
        completed = sum(1 for n in nodes.values() if n["status"] == "completed")
        self.store.update_execution(
            self.execution_id,
            status=data["status"],
            finished_at=data.get("finishedAt") or now_iso(),
            result=data,
            metrics=data.get("metrics"),
            nodes=nodes,
            error=data.get("error"),
            progress={"completedSteps": completed, "totalSteps": len(nodes), "currentStep": None},
        )

    def lineage(self, event: dict[str, Any]) -> None:
        self.store.add_lineage_event(self.execution_id, event)
