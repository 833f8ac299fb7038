"""Signed, durable webhooks (Standard Webhooks) for execution and deployment events.

Public surface::

    emit(event_type, payload) -> message id      enqueue to the durable outbox
    deliver_pending() -> int                     one delivery pass (default store)
    Dispatcher(store).start() / .stop()          background delivery thread
    start_background_dispatcher()                one daemon dispatcher per process
    events_from_run(result_dict)                 RunResult.to_dict() -> [(type, payload)]
    WebhookStore                                 endpoint CRUD, delivery log, redelivery

Errors::

    WebhookError            (engine.errors.PipelineBuilderError)
    ├── SignatureError      a signature does not verify
    ├── UnsafeTarget        a URL points at a private/loopback/link-local target
    └── EndpointNotFound    no endpoint/delivery with that id

May import: ``engine.run`` and everything below it (``engine.plan``, ``engine.store``,
the SDK modules, ``engine.spec``, ``engine.errors``). Never its sibling observers
``engine.lineage`` and ``engine.audit``, nor ``engine.service``, ``engine.cli``,
``nodes`` or ``serve``.
"""

from __future__ import annotations

from typing import Any

from engine.webhooks.dispatcher import Dispatcher, RetryPolicy
from engine.webhooks.events import events_from_run
from engine.webhooks.outbox import EVENT_TYPES, EndpointNotFound, WebhookStore, get_db_engine
from engine.webhooks.signing import SignatureError, WebhookError, generate_secret, sign, verify
from engine.webhooks.ssrf import UnsafeTarget, check_url


def emit(event_type: str, payload: dict[str, Any], *, store: WebhookStore | None = None) -> str:
    """Enqueue one event for every subscribed endpoint; returns the message id."""
    return (store or WebhookStore()).enqueue(event_type, payload)


def emit_run(result: dict[str, Any], *, store: WebhookStore | None = None) -> list[str]:
    """Enqueue every event :func:`events_from_run` derives from a run result."""
    s = store or WebhookStore()
    return [s.enqueue(t, p) for t, p in events_from_run(result)]


def deliver_pending(*, store: WebhookStore | None = None, policy: RetryPolicy | None = None) -> int:
    """One delivery pass over due deliveries; returns how many were attempted."""
    d = Dispatcher(store, policy=policy)
    try:
        return d.deliver_pending()
    finally:
        d.stop()


__all__ = [
    "EVENT_TYPES",
    "Dispatcher",
    "EndpointNotFound",
    "RetryPolicy",
    "SignatureError",
    "UnsafeTarget",
    "WebhookError",
    "WebhookStore",
    "check_url",
    "deliver_pending",
    "emit",
    "emit_run",
    "events_from_run",
    "generate_secret",
    "get_db_engine",
    "sign",
    "start_background_dispatcher",
    "verify",
]


_BACKGROUND: Dispatcher | None = None


def start_background_dispatcher(poll_interval: float = 1.0) -> Dispatcher:
    """Start (once per process) a daemon Dispatcher on the default store; returns it."""
    global _BACKGROUND
    if _BACKGROUND is None:
        _BACKGROUND = Dispatcher(poll_interval=poll_interval).start()
    return _BACKGROUND
