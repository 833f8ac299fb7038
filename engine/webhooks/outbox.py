"""Durable webhook outbox: endpoints, messages, deliveries and the delivery log in SQL.

The tables are part of the metadata store's schema (:mod:`engine.store.schema`, created
and upgraded by its migrations) on the engine of the metadata store, so an event
enqueued by :func:`WebhookStore.enqueue` survives a restart and is delivered by
whichever :class:`engine.webhooks.dispatcher.Dispatcher` runs next (at least once).

Signing secrets are sealed by :mod:`engine.webhooks.sealing` (references kept, literal
secrets encrypted); the API returns a secret only once, when the endpoint is created.

Times are stored as ISO 8601 UTC text of fixed width (:mod:`engine.store.times`), so
due and lease comparisons (``next_attempt_at <= now``) are text comparisons in SQL; the
methods still take epoch seconds (``now``, ``next_attempt_at``) and convert them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from typing import Any

import sqlalchemy as sa

from engine.store import schema
from engine.store.store import migrate
from engine.store.times import epoch_from_iso, iso_from_epoch
from engine.webhooks import ssrf
from engine.webhooks.events import EVENT_TYPES, LEGACY_NAMES, canonical
from engine.webhooks.sealing import seal as _seal
from engine.webhooks.sealing import unseal as _unseal
from engine.webhooks.signing import WebhookError, generate_secret

log = logging.getLogger(__name__)


endpoints = schema.webhook_endpoints
messages = schema.webhook_messages
deliveries = schema.webhook_deliveries
attempts = schema.webhook_attempts

_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def get_db_engine() -> sa.Engine:
    """The metadata-store engine (``engine.store.get_engine`` when present)."""
    try:
        from engine.store import get_engine  # type: ignore[attr-defined]

        return get_engine()
    except (ImportError, AttributeError):
        pass
    from engine.context import pipeline_home

    url = os.environ.get("PIPELINE_BUILDER_DB_URL") or f"sqlite:///{pipeline_home()}/metadata.db"
    with _LOCK:
        if url not in _ENGINES:
            if url.startswith("sqlite:///"):
                os.makedirs(os.path.dirname(url[len("sqlite:///") :]) or ".", exist_ok=True)
            _ENGINES[url] = sa.create_engine(url, future=True)
        return _ENGINES[url]


def _stored(ts: float) -> str:
    """Epoch seconds as the stored time (ISO text at the microsecond)."""
    return iso_from_epoch(round(ts, 6))


def _now() -> str:
    return _stored(time.time())


def _iso(stored: str | None) -> str | None:
    """A stored time as the API shows it (ISO 8601 UTC; whole seconds when exact)."""
    if stored is None:
        return None
    from datetime import datetime, timezone

    when = datetime.fromtimestamp(epoch_from_iso(stored), tz=timezone.utc)
    return when.isoformat().replace("+00:00", "Z")


class EndpointNotFound(WebhookError):
    """No webhook endpoint / delivery with that id."""


class WebhookStore:
    """Endpoint CRUD, the outbox and the delivery log on one SQLAlchemy engine."""

    def __init__(self, db: sa.Engine | None = None) -> None:
        self.db = db or get_db_engine()
        migrate(self.db)

    # ------------------------------------------------------------ endpoints

    def create_endpoint(
        self,
        url: str,
        *,
        event_types: list[str] | None = None,
        secret: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Register an endpoint; the returned dict holds the secret (shown only here)."""
        ssrf.check_url(url)
        types = _check_types(event_types)
        secret = secret or generate_secret()
        eid = "ep_" + uuid.uuid4().hex[:16]
        now = _now()
        with self.db.begin() as c:
            c.execute(
                endpoints.insert().values(
                    id=eid,
                    url=url,
                    secret=_seal(secret),
                    event_types=types,
                    description=description,
                    active=True,
                    consecutive_failures=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        out = self.get_endpoint(eid)
        out["secret"] = secret if not secret.startswith(("env:", "file:")) else None
        return out

    def get_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        with self.db.connect() as c:
            row = (
                c.execute(endpoints.select().where(endpoints.c.id == endpoint_id))
                .mappings()
                .first()
            )
        if row is None:
            raise EndpointNotFound(f"webhook endpoint {endpoint_id!r} not found")
        return _endpoint_dict(row)

    def list_endpoints(self) -> list[dict[str, Any]]:
        with self.db.connect() as c:
            rows = c.execute(endpoints.select().order_by(endpoints.c.created_at)).mappings().all()
        return [_endpoint_dict(r) for r in rows]

    def update_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: list[str] | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> dict[str, Any]:
        """Change an endpoint; ``active=True`` re-enables it and resets its failure count."""
        self.get_endpoint(endpoint_id)
        values: dict[str, Any] = {"updated_at": _now()}
        if url is not None:
            ssrf.check_url(url)
            values["url"] = url
        if event_types is not None:
            values["event_types"] = _check_types(event_types)
        if description is not None:
            values["description"] = description
        if active is not None:
            values["active"] = active
            if active:
                values.update(consecutive_failures=0, disabled_reason=None)
        with self.db.begin() as c:
            c.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(**values))
        return self.get_endpoint(endpoint_id)

    def delete_endpoint(self, endpoint_id: str) -> None:
        self.get_endpoint(endpoint_id)
        with self.db.begin() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.status == "pending")
                .values(status="cancelled")
            )
            c.execute(endpoints.delete().where(endpoints.c.id == endpoint_id))

    def signing_secret(self, endpoint_id: str) -> str:
        with self.db.connect() as c:
            stored = c.execute(
                sa.select(endpoints.c.secret).where(endpoints.c.id == endpoint_id)
            ).scalar_one_or_none()
        if stored is None:
            raise EndpointNotFound(f"webhook endpoint {endpoint_id!r} not found")
        return _unseal(stored)

    # ------------------------------------------------------------ outbox

    def enqueue(self, event_type: str, payload: dict[str, Any]) -> str:
        """Store one event and a pending delivery per subscribed active endpoint."""
        event_type = _check_types([event_type])[0]
        mid = "msg_" + uuid.uuid4().hex
        now = _now()
        body = json.dumps({**payload, "event": event_type}, sort_keys=True, default=str)
        with self.db.begin() as c:
            c.execute(
                messages.insert().values(id=mid, event_type=event_type, body=body, created_at=now)
            )
            targets = c.execute(sa.select(endpoints.c.id, endpoints.c.event_types)).all()
            for eid, types in targets:
                subscribed = {canonical(t) for t in types or []}
                if subscribed and event_type not in subscribed and "*" not in subscribed:
                    continue
                c.execute(
                    deliveries.insert().values(
                        id="dlv_" + uuid.uuid4().hex[:20],
                        message_id=mid,
                        endpoint_id=eid,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        return mid

    def claim_due(self, *, now: float, lease: float, limit: int = 50) -> list[dict[str, Any]]:
        """Lock up to ``limit`` due deliveries of active endpoints for ``lease`` seconds."""
        now_at, until = _stored(now), _stored(now + lease)
        q = (
            sa.select(deliveries.c.id)
            .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= now_at,
                sa.or_(deliveries.c.locked_until.is_(None), deliveries.c.locked_until < now_at),
                endpoints.c.active.is_(True),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
        claimed = []
        with self.db.begin() as c:
            for (did,) in c.execute(q).all():
                # the conditional update is the lock: only one dispatcher wins a row
                res = c.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.id == did,
                        deliveries.c.status == "pending",
                        sa.or_(
                            deliveries.c.locked_until.is_(None),
                            deliveries.c.locked_until < now_at,
                        ),
                    )
                    .values(locked_until=until)
                )
                if res.rowcount == 1:
                    claimed.append(did)
        if not claimed:
            return []
        with self.db.connect() as c:
            rows = (
                c.execute(
                    sa.select(
                        deliveries,
                        messages.c.body,
                        messages.c.event_type,
                        endpoints.c.url,
                    )
                    .join(messages, messages.c.id == deliveries.c.message_id)
                    .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                    .where(deliveries.c.id.in_(claimed))
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def record_attempt(
        self,
        delivery: dict[str, Any],
        *,
        ok: bool,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        excerpt: str | None,
        next_attempt_at: float | None,
        disable_after: int,
        permanent: bool = False,
        disable_reason: str | None = None,
    ) -> str:
        """Log one attempt and move the delivery on; returns its new status.

        ``disable_reason`` disables the endpoint at once (a receiver that answered
        410 Gone): it is recorded as the endpoint's ``disabledReason`` and its pending
        deliveries wait until the endpoint is re-enabled.
        """
        now = _now()
        attempt = int(delivery["attempts"]) + 1
        if ok:
            status = "delivered"
        elif permanent or next_attempt_at is None:
            status = "failed"
        else:
            status = "pending"
        with self.db.begin() as c:
            c.execute(
                attempts.insert().values(
                    delivery_id=delivery["id"],
                    attempt=attempt,
                    at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=round(duration_ms, 2),
                    response_excerpt=excerpt,
                )
            )
            c.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery["id"])
                .values(
                    status=status,
                    attempts=attempt,
                    locked_until=None,
                    last_status_code=status_code,
                    last_error=error,
                    next_attempt_at=(
                        _stored(next_attempt_at)
                        if status == "pending" and next_attempt_at is not None
                        else now
                    ),
                    delivered_at=now if ok else None,
                )
            )
            ep = endpoints.c
            if disable_reason:
                c.execute(
                    sa.update(endpoints)
                    .where(ep.id == delivery["endpoint_id"])
                    .values(active=False, disabled_reason=disable_reason, updated_at=now)
                )
            if ok:
                c.execute(
                    sa.update(endpoints)
                    .where(ep.id == delivery["endpoint_id"])
                    .values(consecutive_failures=0)
                )
            else:
                c.execute(
                    sa.update(endpoints)
                    .where(ep.id == delivery["endpoint_id"])
                    .values(consecutive_failures=ep.consecutive_failures + 1)
                )
                c.execute(
                    sa.update(endpoints)
                    .where(
                        ep.id == delivery["endpoint_id"],
                        ep.consecutive_failures >= disable_after,
                        ep.active.is_(True),
                    )
                    .values(
                        active=False,
                        disabled_reason=f"disabled after {disable_after} consecutive failures",
                        updated_at=now,
                    )
                )
        return status

    # ------------------------------------------------------------ delivery log

    def list_deliveries(
        self,
        *,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Deliveries, newest first, each with its attempts (status codes, errors)."""
        q = (
            sa.select(deliveries, messages.c.event_type)
            .join(messages, messages.c.id == deliveries.c.message_id)
            .order_by(deliveries.c.created_at.desc())
            .limit(limit)
        )
        if endpoint_id:
            q = q.where(deliveries.c.endpoint_id == endpoint_id)
        if message_id:
            q = q.where(deliveries.c.message_id == message_id)
        if status:
            q = q.where(deliveries.c.status == status)
        with self.db.connect() as c:
            rows = c.execute(q).mappings().all()
            ids = [r["id"] for r in rows]
            tries = (
                c.execute(
                    attempts.select().where(attempts.c.delivery_id.in_(ids)).order_by(attempts.c.id)
                )
                .mappings()
                .all()
                if ids
                else []
            )
        by_delivery: dict[str, list[dict[str, Any]]] = {}
        for t in tries:
            by_delivery.setdefault(t["delivery_id"], []).append(
                {
                    "attempt": t["attempt"],
                    "at": _iso(t["at"]),
                    "statusCode": t["status_code"],
                    "error": t["error"],
                    "durationMs": t["duration_ms"],
                    "response": t["response_excerpt"],
                }
            )
        return [_delivery_dict(r, by_delivery.get(r["id"], [])) for r in rows]

    def get_delivery(self, delivery_id: str) -> dict[str, Any]:
        with self.db.connect() as c:
            row = c.execute(
                sa.select(deliveries.c.message_id).where(deliveries.c.id == delivery_id)
            ).first()
        if row is None:
            raise EndpointNotFound(f"webhook delivery {delivery_id!r} not found")
        found = [
            d for d in self.list_deliveries(message_id=row[0], limit=1000) if d["id"] == delivery_id
        ]
        return found[0]

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        """Queue a delivery again now (same message id, so receivers can de-duplicate)."""
        self.get_delivery(delivery_id)
        with self.db.begin() as c:
            c.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(status="pending", next_attempt_at=_now(), locked_until=None, attempts=0)
            )
        return self.get_delivery(delivery_id)


def _check_types(event_types: list[str] | None) -> list[str]:
    """The design's names of ``event_types`` (earlier dotted names are accepted)."""
    types = [canonical(t) for t in event_types or []]
    bad = [t for t in types if t not in EVENT_TYPES and t != "*"]
    if bad:
        raise WebhookError(
            f"unknown webhook event type(s) {bad}; expected some of {', '.join(EVENT_TYPES)}"
        )
    return types


__all__ = ["EVENT_TYPES", "LEGACY_NAMES", "EndpointNotFound", "WebhookStore", "get_db_engine"]


def _endpoint_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "eventTypes": list(row["event_types"] or []),
        "description": row["description"],
        "active": bool(row["active"]),
        "disabledReason": row["disabled_reason"],
        "consecutiveFailures": row["consecutive_failures"],
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
    }


def _delivery_dict(row: Any, tries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "messageId": row["message_id"],
        "endpointId": row["endpoint_id"],
        "eventType": row["event_type"],
        "status": row["status"],
        "attempts": row["attempts"],
        "nextAttemptAt": _iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
        "lastStatusCode": row["last_status_code"],
        "lastError": row["last_error"],
        "createdAt": _iso(row["created_at"]),
        "deliveredAt": _iso(row["delivered_at"]),
        "log": tries,
    }
