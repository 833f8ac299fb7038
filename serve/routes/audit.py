"""``GET /api/audit`` (filtered entries of the audit trail) and ``GET /api/audit/verify``.

Both need the ``admin`` scope: the trail names every key and action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from engine.store import ApiKey
from serve.auth import require_scope
from serve.deps import settings

router = APIRouter(prefix="/api/audit", tags=["audit"])


def _ts(value: str | None, name: str) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        from serve.errors import Unprocessable

        raise Unprocessable(
            f"{name} must be an ISO 8601 time such as 2026-01-31T12:00:00Z, got {value!r}"
        ) from None


def _log() -> Any:
    from engine.audit.log import _log_for

    return _log_for(settings().db_url)


@router.get("", summary="List audit entries (newest first), filtered")
def list_audit(
    actor: str | None = Query(None, description="API key id, cli:<user>, system:..."),
    action: str | None = Query(None, description="e.g. execution.failed; 'pipeline.*' = prefix"),
    resourceType: str | None = Query(None),
    resourceId: str | None = Query(None),
    outcome: str | None = Query(None, description="success, failure or denied"),
    requestId: str | None = Query(None),
    since: str | None = Query(None, description="ISO time (inclusive)"),
    until: str | None = Query(None, description="ISO time (exclusive)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    _: ApiKey = Depends(require_scope("admin")),
) -> dict[str, Any]:
    rows = _log().entries(
        actor=actor,
        action=action,
        resource_type=resourceType,
        resource_id=resourceId,
        outcome=outcome,
        request_id=requestId,
        since=_ts(since, "since"),
        until=_ts(until, "until"),
        limit=limit + 1,
        offset=offset,
    )
    more = len(rows) > limit
    return {
        "entries": [e.to_dict() for e in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "nextOffset": offset + limit if more else None,
    }


@router.get("/verify", summary="Verify the hash chain of the audit trail")
def verify_audit(_: ApiKey = Depends(require_scope("admin"))) -> dict[str, Any]:
    report = _log().verify()
    return {
        "ok": report.ok,
        "checked": report.checked,
        "firstBadSeq": report.first_bad_seq,
        "firstBadId": report.first_bad_id,
        "problem": report.problem,
        "legacyRange": list(report.legacy_range) if report.legacy_range else None,
        "message": str(report),
    }
