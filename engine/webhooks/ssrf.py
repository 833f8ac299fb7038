"""Webhook and notification targets pass the product's one egress guard (:mod:`engine.egress`).

A URL is allowed when its scheme is http(s) and every address its host resolves to is
public, or allow-listed by the operator in ``PIPELINE_BUILDER_EGRESS_ALLOW`` (every
outbound connection) or ``PIPELINE_BUILDER_WEBHOOK_ALLOW`` (webhooks and notification
channels only), e.g. ``PIPELINE_BUILDER_WEBHOOK_ALLOW=127.0.0.1`` for a local receiver.
Checks run when an endpoint is registered and again on every delivery, where
:func:`client` pins the connection to the checked address (no DNS rebinding between
check and connect). Redirects are never followed.
"""

from __future__ import annotations

from typing import Any

from engine import egress
from engine.webhooks.signing import WebhookError

ALLOW_ENV = "PIPELINE_BUILDER_WEBHOOK_ALLOW"


class UnsafeTarget(WebhookError, egress.EgressRefused):
    """A webhook URL points somewhere the service must not send requests."""

    def __init__(self, message: str, *, target: str = "", address: str | None = None) -> None:
        egress.EgressRefused.__init__(self, message, target=target, address=address)

    def __reduce__(self):
        return (UnsafeTarget, (str(self),), {"target": self.target, "address": self.address})


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise :class:`UnsafeTarget` unless ``url`` is an allowed webhook target.

    Args:
        url: The target URL.
        resolve: Kept for callers; host names are always resolved and checked.
    """
    try:
        egress.check_url(url, what="webhook", extra_allow_envs=(ALLOW_ENV,))
    except egress.EgressRefused as exc:
        raise UnsafeTarget(str(exc), target=exc.target, address=exc.address) from None


def client(*, timeout: float, transport: Any = None) -> Any:
    """An httpx client for deliveries: every request checked and pinned, no redirects."""
    return egress.http_client(
        what="webhook", extra_allow_envs=(ALLOW_ENV,), inner=transport, timeout=timeout
    )
