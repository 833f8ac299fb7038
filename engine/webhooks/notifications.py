"""Notification channels (``notificationChannels`` resources): webhook and Slack styles.

A channel resource::

    notificationChannels:
      - {id: slack_ml_team, type: slack, url: env:SLACK_ML_WEBHOOK_URL}
      - {id: ops_hook, type: webhook, url: https://ops.example.com/hook,
         secret: env:OPS_HOOK_SECRET, events: [deployment.completed]}

``url`` may be a secret reference (Slack incoming-webhook URLs are credentials).
Webhook channels receive the JSON payload signed per Standard Webhooks when a secret is
set; Slack channels receive ``{"text": ...}``. Targets pass the same SSRF checks as
webhook endpoints and redirects are not followed.

Notifications are best effort: :func:`notify_channels` never raises, so a failed
notification never fails the pipeline; each outcome is returned (and logged).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from engine.backoff import backoff_delay

log = logging.getLogger(__name__)

CHANNEL_TYPES = ("webhook", "slack")


def _resolve(value: str | None, what: str) -> str | None:
    if value and value.startswith(("env:", "file:")):
        from engine.secrets import resolve_secret

        return resolve_secret(value, what=what)
    return value


def slack_text(event: str, payload: dict[str, Any]) -> str:
    """A one-message summary for chat channels (no data values, only facts)."""
    qm = payload.get("qualityMetrics") or {}
    parts = [f"*{event}* pipeline `{payload.get('pipelineId')}`"]
    if payload.get("environmentId"):
        parts.append(f"environment `{payload['environmentId']}`")
    if payload.get("datasetLocation"):
        parts.append(f"location {payload['datasetLocation']}")
    if qm.get("recordCount") is not None:
        parts.append(f"{qm['recordCount']} records")
    failed = [g["id"] for g in payload.get("qualityGates") or [] if g.get("status") != "passed"]
    if failed:
        parts.append("gates not passed: " + ", ".join(failed))
    return " | ".join(parts)


def send(
    channel: dict[str, Any],
    event: str,
    payload: dict[str, Any],
    *,
    timeout: float = 5.0,
    attempts: int = 2,
) -> dict[str, Any]:
    """Send one notification; returns ``{channel, ok, statusCode, error}`` and never raises."""
    import httpx

    from engine.webhooks import ssrf
    from engine.webhooks.signing import signed_headers

    cid = channel.get("id")
    outcome: dict[str, Any] = {
        "channel": cid,
        "event": event,
        "ok": False,
        "statusCode": None,
        "error": None,
    }
    try:
        kind = channel.get("type", "webhook")
        if kind not in CHANNEL_TYPES:
            raise ValueError(f"channel type {kind!r}; expected one of {', '.join(CHANNEL_TYPES)}")
        events = channel.get("events")
        if events and event not in events:
            outcome.update(ok=True, skipped=True)
            return outcome
        url = _resolve(channel.get("url") or channel.get("webhookUrl"), f"channel {cid} url")
        if not url:
            raise ValueError("channel has no url")
        ssrf.check_url(url)
        if kind == "slack":
            body = json.dumps({"text": slack_text(event, payload)}).encode()
            headers = {"content-type": "application/json"}
        else:
            body = json.dumps(payload, sort_keys=True, default=str).encode()
            secret = _resolve(channel.get("secret"), f"channel {cid} secret")
            headers = (
                signed_headers(secret, "msg_" + uuid.uuid4().hex, body)
                if secret
                else {"content-type": "application/json"}
            )
        with ssrf.client(timeout=timeout) as client:
            for i in range(attempts):
                try:
                    resp = client.post(url, content=body, headers=headers)
                    outcome["statusCode"] = resp.status_code
                    if 200 <= resp.status_code < 300:
                        outcome.update(ok=True, error=None)
                        break
                    outcome["error"] = f"HTTP {resp.status_code}"
                    if 300 <= resp.status_code < 500:
                        break  # redirects and client errors do not get better on retry
                except httpx.HTTPError as exc:
                    outcome["error"] = f"{type(exc).__name__}: {exc}"
                if i + 1 < attempts:
                    time.sleep(backoff_delay(i + 1, initial=0.2, max_delay=2.0))
    except Exception as exc:  # best effort by contract
        outcome["error"] = f"{type(exc).__name__}: {exc}"
    if not outcome["ok"]:
        log.warning("notification %s to channel %s failed: %s", event, cid, outcome["error"])
    return outcome


def notify_channels(
    catalog: Any, channel_ids: list[str], event: str, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send ``event`` to every channel id; failures are returned, never raised."""
    results = []
    for cid in channel_ids:
        try:
            channel = catalog.get("notificationChannels", cid)
        except Exception as exc:
            results.append(
                {"channel": cid, "event": event, "ok": False, "statusCode": None, "error": str(exc)}
            )
            continue
        results.append(send(channel, event, payload))
    return results
