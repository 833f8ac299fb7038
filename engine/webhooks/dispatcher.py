"""Delivery worker: sends due outbox deliveries, retries with backoff, disables bad endpoints.

:meth:`Dispatcher.deliver_pending` does one pass (usable from tests, cron or a CLI);
:meth:`Dispatcher.start` runs passes on a daemon thread until :meth:`Dispatcher.stop`.
Several dispatchers may share one database: a delivery is claimed with a lease before it
is sent, so each attempt goes out once; a dispatcher that dies mid-send loses the lease
and the delivery is retried by the next one (at-least-once).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx

from engine.backoff import backoff_delay
from engine.webhooks import ssrf
from engine.webhooks.outbox import WebhookStore
from engine.webhooks.signing import signed_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter between attempts of one delivery.

    Attempt ``n`` (1-based) that fails is retried after a random delay in
    ``[d/2, d]`` with ``d = min(max_delay, base_delay * 2 ** (n - 1))``; after
    ``max_attempts`` attempts the delivery is ``failed`` (manual redelivery still works).
    A ``Retry-After`` header (seconds or an HTTP date) on a failed answer sets the delay
    instead. An endpoint whose last ``disable_after`` attempts all failed is disabled;
    one that answers ``410 Gone`` is disabled at once (its ``disabledReason`` says so).
    """

    max_attempts: int = 8
    base_delay: float = 5.0
    max_delay: float = 3600.0
    disable_after: int = 20
    timeout: float = 10.0
    max_retry_after: float = 86400.0

    def after(self, attempt: int, retry_after: float | None) -> float:
        """Seconds until the next attempt: the receiver's ``Retry-After`` when it gave one
        (up to ``max_retry_after``), else the backoff delay."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.delay(attempt)

    def delay(self, attempt: int) -> float:
        return backoff_delay(attempt, initial=self.base_delay, max_delay=self.max_delay)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _iso_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Dispatcher:
    """Sends pending webhook deliveries from the outbox."""

    def __init__(
        self,
        store: WebhookStore | None = None,
        *,
        policy: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.store = store or WebhookStore()
        self.policy = policy or RetryPolicy()
        self.poll_interval = poll_interval
        self._client = ssrf.client(timeout=self.policy.timeout, transport=transport)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_pending(self, limit: int = 50) -> int:
        """Send every due delivery once; returns how many were attempted."""
        due = self.store.claim_due(now=time.time(), lease=self.policy.timeout + 30, limit=limit)
        for d in due:
            if self._stop.is_set() and self._thread is not None:
                break
            self._send(d)
        return len(due)

    def _send(self, d: dict) -> None:
        body = d["body"].encode()
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        excerpt: str | None = None
        permanent = False
        retry_after: float | None = None
        disable_reason: str | None = None
        try:
            ssrf.check_url(d["url"])
            headers = signed_headers(
                self.store.signing_secret(d["endpoint_id"]), d["message_id"], body
            )
            resp = self._client.post(d["url"], content=body, headers=headers)
            code = resp.status_code
            excerpt = resp.text[:500] if resp.text else None
            if 300 <= code < 400:
                error = f"redirect to {resp.headers.get('location')!r} not followed"
            elif code == 410:
                error, permanent = "HTTP 410 Gone", True
                disable_reason = f"receiver answered 410 Gone on {_iso_now()}; endpoint disabled"
            elif not 200 <= code < 300:
                error = f"HTTP {code}"
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
        except ssrf.UnsafeTarget as exc:
            error, permanent = str(exc), True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bad secret etc.: log it on the delivery, keep the worker alive
            error = f"{type(exc).__name__}: {exc}"
        ok = error is None
        attempt = int(d["attempts"]) + 1
        next_at = None
        if not ok and not permanent and attempt < self.policy.max_attempts:
            next_at = time.time() + self.policy.after(attempt, retry_after)
        status = self.store.record_attempt(
            d,
            ok=ok,
            status_code=code,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
            excerpt=excerpt,
            next_attempt_at=next_at,
            disable_after=self.policy.disable_after,
            permanent=permanent,
            disable_reason=disable_reason,
        )
        log.info("webhook %s attempt %d -> %s (%s)", d["id"], attempt, status, error or code)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.deliver_pending()
            except Exception:  # the database may be briefly unavailable; keep polling
                log.exception("webhook dispatcher pass failed")
                n = 0
            if n == 0:
                self._stop.wait(self.poll_interval)

    def start(self) -> Dispatcher:
        """Run delivery passes on a daemon thread."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run_forever, name="webhook-dispatcher", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the current attempt; pending deliveries stay queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.close()
