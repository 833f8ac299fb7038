"""Audit entries for executions (started / completed / failed / cancelled)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def audit_run(options: Any, spec: Any, execution_id: str, status: str, result: Any = None) -> None:
    """Record an execution event of a run that attached the audit observer.

    The CLI and the API set ``auditActor`` (``cli:<user>`` / the API key id); a driver
    script that attaches :func:`engine.service.observers.default_observers` is audited as
    ``driver:<user>``. An audit failure is logged, never turned into a failed run.
    """
    from engine.audit.access import identity

    actor = options.extra.get("auditActor") or identity(options)[0]
    details: dict[str, Any] = {"pipelineId": spec.id}
    if result is not None:
        details.update(
            error=result.error,
            errorNode=result.error_node,
            recordsProcessed=result.records_processed,
            retries={
                n: r.counters["retries"]
                for n, r in result.nodes.items()
                if r.counters.get("retries")
            },
            fallbacks={
                n: r.facts["fallbackUsed"]["node"]
                for n, r in result.nodes.items()
                if r.facts.get("fallbackUsed")
            },
        )
    if options.extra.get("resumed"):
        details["resumed"] = True
    if options.extra.get("triggeredBy"):
        details["triggeredBy"] = options.extra["triggeredBy"]
    try:
        from engine.audit.log import record

        record(
            f"execution.{status}",
            "execution",
            execution_id,
            actor=str(actor),
            outcome="failure" if status == "failed" else "success",
            request_id=options.extra.get("requestId"),
            details=details,
        )
    except Exception:
        log.exception("could not audit execution %s %s", execution_id, status)
