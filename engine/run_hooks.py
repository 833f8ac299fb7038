"""Observers attached to runs started by the CLI and the API.

:func:`with_webhooks` wraps an event hook so that the run's lifecycle reaches the durable
webhook outbox (``execution.started`` / ``completed`` / ``failed``, deployment and
quality-gate events). Observers never break a run: a failure to enqueue is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engine.result import RunEvent, iso

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
