"""Executions and their lineage events in the metadata store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.store import schema as s
from engine.store.base import StoreBase
from engine.store.errors import ConflictError, NotFoundError
from engine.store.records import TERMINAL_STATUSES, ExecutionRecord, now_iso


class ExecutionStore(StoreBase):
    """Queued/running/finished executions, idempotency keys, cancellation, lineage."""

    # -- executions -----------------------------------------------------------------
    def create_execution(
        self,
        *,
        execution_id: str,
        pipeline_id: str,
        pipeline_version: int,
        triggered_by: str | None,
        context: dict[str, Any] | None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        created_by: str | None = None,
        total_steps: int = 0,
    ) -> tuple[ExecutionRecord, bool]:
        """Record a queued execution; with an idempotency key, return the earlier one.

        Returns:
            ``(record, created)``; ``created`` is False when the key was used before.

        Raises:
            ConflictError: the key was used before with a different request.
        """
        if idempotency_key:
            found = self._by_idempotency_key(pipeline_id, idempotency_key)
            if found is not None:
                return self._same_request(found, request_hash), False
        now = now_iso()
        try:
            with self._write() as conn:
                conn.execute(
                    insert(s.executions).values(
                        id=execution_id,
                        pipeline_id=pipeline_id,
                        pipeline_version=pipeline_version,
                        status="queued",
                        triggered_by=triggered_by,
                        context=context or {},
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        created_by=created_by,
                        created_at=now,
                        updated_at=now,
                        progress={
                            "completedSteps": 0,
                            "totalSteps": total_steps,
                            "currentStep": None,
                        },
                        metrics={"recordsProcessed": 0, "dataSize": 0, "qualityScore": None},
                        nodes={},
                        cancel_requested=False,
                    )
                )
        except IntegrityError:
            found = self._by_idempotency_key(pipeline_id, idempotency_key or "")
            if found is None:
                raise
            return self._same_request(found, request_hash), False
        return self.get_execution(execution_id), True

    @staticmethod
    def _same_request(found: ExecutionRecord, request_hash: str | None) -> ExecutionRecord:
        if request_hash and found.request_hash and request_hash != found.request_hash:
            raise ConflictError(
                f"Idempotency-Key was already used for execution '{found.id}' with a "
                "different request body; use a new key for a different request"
            )
        return found

    def _by_idempotency_key(self, pipeline_id: str, key: str) -> ExecutionRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(s.executions).where(
                    s.executions.c.pipeline_id == pipeline_id,
                    s.executions.c.idempotency_key == key,
                )
            ).first()
        return _execution(row) if row is not None else None

    def get_execution(
        self, execution_id: str, *, pipeline_id: str | None = None
    ) -> ExecutionRecord:
        with self._read() as conn:
            row = conn.execute(
                select(s.executions).where(s.executions.c.id == execution_id)
            ).first()
        if row is None or (pipeline_id is not None and row.pipeline_id != pipeline_id):
            where = f" of pipeline '{pipeline_id}'" if pipeline_id else ""
            raise NotFoundError(f"execution '{execution_id}'{where} not found")
        return _execution(row)

    def list_executions(
        self,
        *,
        pipeline_id: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ExecutionRecord], int]:
        """A page of executions, newest first, and the total matching."""
        conds = []
        if pipeline_id is not None:
            conds.append(s.executions.c.pipeline_id == pipeline_id)
        if status is not None:
            conds.append(s.executions.c.status == status)
        with self._read() as conn:
            total = conn.execute(
                select(func.count()).select_from(s.executions).where(*conds)
            ).scalar_one()
            rows = conn.execute(
                select(s.executions)
                .where(*conds)
                .order_by(s.executions.c.created_at.desc(), s.executions.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [_execution(r) for r in rows], int(total)

    def latest_execution(
        self, pipeline_id: str, *, status: str = "completed"
    ) -> ExecutionRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(s.executions)
                .where(s.executions.c.pipeline_id == pipeline_id, s.executions.c.status == status)
                .order_by(s.executions.c.finished_at.desc())
                .limit(1)
            ).first()
        return _execution(row) if row is not None else None

    def update_execution(self, execution_id: str, **values: Any) -> None:
        """Set columns of a running execution (``status``, ``progress``, ``metrics``...).

        A terminal execution is never changed again: late progress events lose.
        """
        values["updated_at"] = now_iso()
        with self._write() as conn:
            conn.execute(
                update(s.executions)
                .where(
                    s.executions.c.id == execution_id,
                    s.executions.c.status.not_in(list(TERMINAL_STATUSES)),
                )
                .values(**values)
            )

    def request_cancel(self, execution_id: str) -> ExecutionRecord:
        """Ask a queued or running execution to stop.

        Raises:
            ConflictError: the execution already ended.
        """
        with self._write() as conn:
            res = conn.execute(
                update(s.executions)
                .where(
                    s.executions.c.id == execution_id,
                    s.executions.c.status.not_in(list(TERMINAL_STATUSES)),
                )
                .values(cancel_requested=True, updated_at=now_iso())
            )
        rec = self.get_execution(execution_id)
        if res.rowcount == 0:
            raise ConflictError(
                f"execution '{execution_id}' already ended with status '{rec.status}'"
            )
        return rec

    def cancel_requested(self, execution_id: str) -> bool:
        with self._read() as conn:
            got = conn.execute(
                select(s.executions.c.cancel_requested).where(s.executions.c.id == execution_id)
            ).scalar()
        return bool(got)

    # -- lineage --------------------------------------------------------------------
    def add_lineage_event(self, execution_id: str, event: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                insert(s.lineage_events).values(
                    execution_id=execution_id,
                    event_type=event.get("eventType", "OTHER"),
                    event_time=event.get("eventTime") or now_iso(),
                    payload=event,
                )
            )

    def lineage_events(self, execution_id: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                select(s.lineage_events.c.payload)
                .where(s.lineage_events.c.execution_id == execution_id)
                .order_by(s.lineage_events.c.seq)
            ).all()
        return [r.payload for r in rows]


def _execution(row: Any) -> ExecutionRecord:
    return ExecutionRecord(
        id=row.id,
        pipeline_id=row.pipeline_id,
        pipeline_version=row.pipeline_version,
        status=row.status,
        triggered_by=row.triggered_by,
        context=row.context or {},
        idempotency_key=row.idempotency_key,
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        progress=row.progress or {},
        metrics=row.metrics or {},
        nodes=row.nodes or {},
        error=row.error,
        result=row.result,
        cancel_requested=bool(row.cancel_requested),
        runner=row.runner,
        request_hash=row.request_hash,
    )
