"""Observers attached to runs started by the CLI, the API and driver scripts.

:func:`default_observers` is the set every entry point attaches: the audit trail
(:class:`AuditObserver`) and the access records (:class:`AccessObserver`: which data
sources, files, tables and columns the run read and wrote, under which identity).

:func:`with_webhooks` wraps an event hook so that the run's lifecycle reaches the durable
webhook outbox (``execution.started`` / ``completed`` / ``failed``, deployment and
quality-gate events). Observers never break a run: a failure to enqueue is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from engine.run.hooks import RunObserver
from engine.run.result import RunEvent, RunResult, iso

log = logging.getLogger(__name__)
EventHook = Callable[[RunEvent], None]


def with_webhooks(hook: EventHook | None = None, *, pipeline_id: str | None = None) -> EventHook:
    """An event hook that enqueues webhook events, then calls ``hook``."""

    def on_event(event: RunEvent) -> None:
        try:
            if event.kind == "started":
                _emit(
                    {
                        "status": "running",
                        "executionId": event.execution_id,
                        "pipelineId": event.data.get("pipelineId", pipeline_id),
                        "startedAt": iso(event.at),
                    }
                )
            elif event.kind in ("completed", "failed", "cancelled"):
                _emit(event.data["result"])
        except Exception:
            log.exception("could not enqueue webhook events for %s", event.execution_id)
        if hook is not None:
            hook(event)

    return on_event


def _emit(result: dict[str, Any]) -> None:
    from engine.webhooks import emit_run

    emit_run(result)


class AuditObserver(RunObserver):
    """Audit entries for a run's start and end (runs whose options name ``auditActor``)."""

    def run_started(self, *, execution_id: str, spec: Any, options: Any, **future: Any) -> None:
        from engine.audit.runs import audit_run

        audit_run(options, spec, execution_id, "started")

    def run_finished(
        self, *, execution_id: str, spec: Any, options: Any, result: RunResult, **future: Any
    ) -> None:
        from engine.audit.runs import audit_run

        audit_run(options, spec, execution_id, result.status, result)


class AccessObserver(RunObserver):
    """Access records (data governance): what the run read and wrote, under which identity."""

    def run_finished(
        self, *, execution_id: str, spec: Any, options: Any, result: RunResult, **future: Any
    ) -> None:
        from engine.audit.access import record_run

        record_run(execution_id=execution_id, spec=spec, options=options, result=result)


class OpenLineageObserver(RunObserver):
    """OpenLineage RunEvents of the run: START, one RUNNING once rows flow, the end.

    Sent through the transport configured like the OpenLineage client
    (:mod:`engine.lineage.transport`: ``OPENLINEAGE_URL``, ``OPENLINEAGE_CONFIG`` or
    ``openlineage.yml`` with the http, file or console transport); ``record`` also gets
    every event (the API stores them for its lineage endpoint). At the end each output
    gets a ``schemaUri``: a JSON document of its schema in the run's artifacts, so that
    lineage offers the schema inline and by URI.
    """

    def __init__(self, record: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.record = record
        self.running_sent: set[str] = set()
        self.pipelines: dict[str, str] = {}

    def _send(self, execution_id: str, event: dict[str, Any]) -> None:
        from engine.lineage import transport

        if self.record is not None:
            try:
                self.record(execution_id, event)
            except Exception:
                log.exception("could not record the lineage event of %s", execution_id)
        transport.emit(event)

    def run_started(self, *, execution_id: str, spec: Any, **future: Any) -> None:
        from engine.lineage.openlineage import start_event
        from engine.run.result import iso

        self.pipelines[execution_id] = spec.id
        event = start_event(
            execution_id=execution_id,
            pipeline_id=spec.id,
            at=iso(time.time()) or "",
            spec=spec.model_dump(mode="json", exclude_none=True),
        )
        self._send(execution_id, event)

    def run_event(self, *, event: RunEvent, **future: Any) -> None:
        if event.kind != "progress" or event.execution_id in self.running_sent:
            return
        if not event.data.get("recordsProcessed"):
            return
        from engine.lineage.openlineage import running_event

        self.running_sent.add(event.execution_id)
        self._send(
            event.execution_id,
            running_event(
                execution_id=event.execution_id,
                pipeline_id=self.pipelines.get(event.execution_id, ""),
                at=iso(event.at) or "",
                progress=event.data,
            ),
        )

    def run_finished(
        self, *, execution_id: str, spec: Any, options: Any, result: RunResult, **future: Any
    ) -> None:
        from engine.lineage.openlineage import terminal_event

        _write_schema_documents(options, result)
        self.running_sent.discard(execution_id)
        self.pipelines.pop(execution_id, None)
        self._send(
            execution_id,
            terminal_event(result.to_dict(), spec.model_dump(mode="json", exclude_none=True)),
        )


def _write_schema_documents(options: Any, result: RunResult) -> None:
    """Write each output's schema as JSON next to the run's artifacts; set ``schemaUri``."""
    import json

    from engine.lineage.openlineage import _fields

    for out in result.outputs:
        fields = _fields(out.get("schema"))
        if not fields or out.get("schemaUri"):
            continue
        try:
            folder = options.home / "artifacts" / result.execution_id / out["nodeId"]
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "schema.json"
            doc = {
                "nodeId": out["nodeId"],
                "location": out.get("environmentUri") or out.get("location"),
                "fields": fields,
            }
            path.write_text(json.dumps(doc, indent=2))
            out["schemaUri"] = path.resolve().as_uri()
        except OSError:
            log.warning("could not write the schema document of %s", out["nodeId"])


class ExecutionStoreObserver(RunObserver):
    """Keeps the metadata store's execution record in step, whoever runs the execution.

    The API records an execution before it runs; a run of that execution id from any
    entry point (the API's runner, ``pipeline-builder resume`` on the command line, a
    ``ray job submit`` or a driver script) moves the same record: ``running``, then the
    progress events, then the final status, counts and result. A run whose id the
    store does not know (a plain CLI run) touches nothing.
    """

    def __init__(self) -> None:
        from engine.service.records import StoreRecorder

        self.recorders: dict[str, StoreRecorder] = {}

    def run_started(self, *, execution_id: str, spec: Any, **future: Any) -> None:
        from engine.service.records import StoreRecorder

        rec = StoreRecorder.for_execution(execution_id)
        if rec is not None:
            self.recorders[execution_id] = rec
            rec.started(total_steps=len(spec.nodes))

    def run_event(self, *, event: RunEvent, **future: Any) -> None:
        rec = self.recorders.get(event.execution_id)
        if rec is not None and event.kind == "progress":
            rec.progress(event.data)

    def run_finished(self, *, execution_id: str, result: RunResult, **future: Any) -> None:
        rec = self.recorders.pop(execution_id, None)
        if rec is not None:
            rec.finished(result.to_dict())

    def record_lineage(self, execution_id: str, event: dict[str, Any]) -> None:
        """Store a lineage event with the execution (when the store knows it)."""
        rec = self.recorders.get(execution_id)
        if rec is None:
            from engine.service.records import StoreRecorder

            rec = StoreRecorder.for_execution(execution_id, reopen=False)
        if rec is not None:
            rec.lineage(event)


def default_observers() -> list[RunObserver]:
    """The observers every entry point attaches to a run.

    Audit and access records, the execution record in the metadata store (when the
    store knows the execution) and OpenLineage events (stored with that record, and sent
    wherever the OpenLineage configuration says).
    """
    store = ExecutionStoreObserver()
    # lineage first: at the end it adds each output's schemaUri to the result the store keeps
    return [AuditObserver(), AccessObserver(), OpenLineageObserver(store.record_lineage), store]
