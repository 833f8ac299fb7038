"""Observers attached to runs started by the CLI, the API and driver scripts.

:func:`default_observers` is the set every entry point attaches: the audit trail
(:class:`AuditObserver`, for runs that name an ``auditActor``).

:func:`with_webhooks` wraps an event hook so that the run's lifecycle reaches the durable
webhook outbox (``execution.started`` / ``completed`` / ``failed``, deployment and
quality-gate events). Observers never break a run: a failure to enqueue is logged.
"""

from __future__ import annotations

import logging
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


def default_observers() -> list[RunObserver]:
    """The observers every entry point attaches to a run."""
    return [AuditObserver()]
