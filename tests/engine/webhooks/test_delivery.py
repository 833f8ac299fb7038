"""Webhook delivery against real HTTP receivers on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import sqlalchemy as sa

from engine.webhooks import (
    Dispatcher,
    RetryPolicy,
    UnsafeTarget,
    WebhookError,
    WebhookStore,
    check_url,
    emit,
    events_from_run,
)

FAST = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2, disable_after=50, timeout=5)


def _independent_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the spec, not from engine code."""
    h = {k.lower(): v for k, v in headers.items()}
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        s.split(",", 1)[0] == "v1" and hmac.compare_digest(s.split(",", 1)[1], expected)
        for s in h["webhook-signature"].split()
    )


def _drain(dispatcher: Dispatcher, store: WebhookStore, message_id: str, timeout: float = 10):
    end = time.time() + timeout
    while time.time() < end:
        dispatcher.deliver_pending()
        d = store.list_deliveries(message_id=message_id)
        if d and all(x["status"] in ("delivered", "failed") for x in d):
            return d
        time.sleep(0.05)
    raise AssertionError(f"not delivered: {store.list_deliveries(message_id=message_id)}")


PAYLOAD = {
    "pipelineId": "pipeline_prod_training",
    "datasetLocation": "s3://ml-data/customer_features_v2.1.parquet",
    "qualityMetrics": {"recordCount": 1000, "completenessScore": 0.98, "privacyCompliance": "GDPR"},
    "modelCompatibility": {"frameworks": ["tensorflow", "pytorch"], "version": "2.1.0"},
}


def test_signature_verifies_with_standard_algorithm(store, receiver_factory):
    rx = receiver_factory([200])
    ep = store.create_endpoint(rx.url, event_types=["execution.completed"])
    assert ep["secret"].startswith("whsec_")
    mid = emit("execution.completed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=FAST)
    try:
        [delivery] = _drain(d, store, mid)
    finally:
        d.stop()
    assert delivery["status"] == "delivered"
    [req] = rx.requests
    assert req["headers"]["webhook-id"] == mid
    assert abs(int(req["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert _independent_verify(ep["secret"], req["headers"], req["body"])
    assert not _independent_verify(
        "whsec_" + base64.b64encode(b"x" * 24).decode(), req["headers"], req["body"]
    )
    body = json.loads(req["body"])
    # subscribed under the earlier dotted name; delivered under the design's name
    assert body["event"] == "execution_completed"
    assert body["modelCompatibility"] == PAYLOAD["modelCompatibility"]
    # the listing never shows the secret
    assert "secret" not in store.get_endpoint(ep["id"])


def test_unsubscribed_endpoint_gets_nothing(store, receiver_factory):
    rx = receiver_factory([200])
    store.create_endpoint(rx.url, event_types=["deployment.completed"])
    mid = emit("execution.failed", PAYLOAD, store=store)
    assert store.list_deliveries(message_id=mid) == []


def test_fails_twice_then_delivered_exactly_once(store, receiver_factory):
    rx = receiver_factory([500, 503, 200])
    store.create_endpoint(rx.url)
    mid = emit("deployment.completed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=FAST)
    try:
        [delivery] = _drain(d, store, mid)
        for _ in range(5):  # further passes must not send again
            d.deliver_pending()
    finally:
        d.stop()
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [a["statusCode"] for a in delivery["log"]] == [500, 503, 200]
    assert len(rx.requests) == 3 and len(rx.delivered) == 1
    assert len({r["headers"]["webhook-id"] for r in rx.requests}) == 1  # same id for dedupe
    assert store.get_endpoint(delivery["endpointId"])["consecutiveFailures"] == 0


def test_restart_mid_retry_still_delivers(db_url, receiver_factory):
    rx = receiver_factory([500, 200])
    first = WebhookStore(sa.create_engine(db_url))
    first.create_endpoint(rx.url)
    mid = emit("execution.completed", PAYLOAD, store=first)
    d1 = Dispatcher(first, policy=FAST)
    assert d1.deliver_pending() == 1
    d1.stop()  # the "process" goes away after one failed attempt
    first.db.dispose()
    [pending] = first.list_deliveries(message_id=mid)
    assert pending["status"] == "pending" and pending["attempts"] == 1

    second = WebhookStore(sa.create_engine(db_url))  # a new process on the same database
    d2 = Dispatcher(second, policy=FAST, poll_interval=0.05).start()
    try:
        end = time.time() + 10
        while (
            time.time() < end and second.list_deliveries(message_id=mid)[0]["status"] != "delivered"
        ):
            time.sleep(0.05)
    finally:
        d2.stop()
    [done] = second.list_deliveries(message_id=mid)
    assert done["status"] == "delivered" and done["attempts"] == 2
    assert len(rx.delivered) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://192.168.0.10/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_ssrf_targets_refused(url, store, monkeypatch):
    monkeypatch.delenv("PIPELINE_BUILDER_WEBHOOK_ALLOW", raising=False)
    with pytest.raises(UnsafeTarget):
        check_url(url)
    with pytest.raises(UnsafeTarget):
        store.create_endpoint(url)


def test_allowlist_permits_listed_targets_only(monkeypatch):
    monkeypatch.setenv("PIPELINE_BUILDER_WEBHOOK_ALLOW", "127.0.0.1, 10.9.0.0/16")
    check_url("http://127.0.0.1:1234/x")
    check_url("http://10.9.3.4/x")
    with pytest.raises(UnsafeTarget):
        check_url("http://10.8.3.4/x")
    with pytest.raises(UnsafeTarget):
        check_url("http://169.254.169.254/")


def test_redirects_are_not_followed(store, receiver_factory):
    target = receiver_factory([200])
    redirector = receiver_factory([302], location=target.url)
    store.create_endpoint(redirector.url)
    mid = emit("execution.completed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
    try:
        [delivery] = _drain(d, store, mid)
    finally:
        d.stop()
    assert delivery["status"] == "failed"
    assert "redirect" in delivery["lastError"] and delivery["lastStatusCode"] == 302
    assert target.requests == []


def test_delivery_time_ssrf_check_blocks_changed_target(store, receiver_factory, monkeypatch):
    rx = receiver_factory([200])
    store.create_endpoint(rx.url)
    mid = emit("execution.completed", PAYLOAD, store=store)
    monkeypatch.delenv("PIPELINE_BUILDER_WEBHOOK_ALLOW")  # operator removed the allowance
    d = Dispatcher(store, policy=FAST)
    try:
        [delivery] = _drain(d, store, mid)
    finally:
        d.stop()
    assert delivery["status"] == "failed" and "non-public" in delivery["lastError"]
    assert rx.requests == []


def test_endpoint_disabled_after_repeated_failures_and_reenabled(store, receiver_factory):
    rx = receiver_factory([500])
    ep = store.create_endpoint(rx.url)
    policy = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.02, disable_after=3)
    mid = emit("execution.failed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=policy)
    try:
        end = time.time() + 10
        while time.time() < end and store.get_endpoint(ep["id"])["active"]:
            d.deliver_pending()
            time.sleep(0.03)
        got = store.get_endpoint(ep["id"])
        assert not got["active"] and "3 consecutive" in got["disabledReason"]
        sent = len(rx.requests)
        time.sleep(0.05)
        d.deliver_pending()
        assert len(rx.requests) == sent  # disabled endpoints get nothing
        [pending] = store.list_deliveries(message_id=mid)
        assert pending["status"] == "pending"
        # re-enable after the receiver is fixed: the queued event goes out
        rx.statuses = [200]
        store.update_endpoint(ep["id"], active=True)
        [done] = _drain(d, store, mid)
        assert done["status"] == "delivered"
    finally:
        d.stop()


def test_manual_redelivery_resends_same_message(store, receiver_factory):
    rx = receiver_factory([200])
    store.create_endpoint(rx.url)
    mid = emit("quality_gate.failed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=FAST)
    try:
        [first] = _drain(d, store, mid)
        again = store.redeliver(first["id"])
        assert again["status"] == "pending"
        [second] = _drain(d, store, mid)
    finally:
        d.stop()
    assert second["status"] == "delivered" and len(rx.delivered) == 2
    assert rx.requests[0]["headers"]["webhook-id"] == rx.requests[1]["headers"]["webhook-id"]
    assert len(second["log"]) == 2


def test_unknown_event_type_rejected(store, receiver_factory):
    rx = receiver_factory([200])
    with pytest.raises(WebhookError, match="unknown webhook event"):
        store.create_endpoint(rx.url, event_types=["execution.exploded"])
    with pytest.raises(WebhookError):
        emit("nope", {}, store=store)


def test_events_from_run_maps_seed_payload():
    result = {
        "executionId": "exec_1",
        "pipelineId": "pipeline_prod_training",
        "status": "completed",
        "finishedAt": "2026-01-01T00:00:00Z",
        "outputs": [{"nodeId": "deploy", "location": "/data/env/versions/v2", "rows": 1000}],
        "metrics": {"recordsProcessed": 1000},
        "nodes": {
            "detect": {"status": "completed", "type": "privacy/detection", "facts": {}},
            "deploy": {
                "status": "completed",
                "facts": {
                    "deployment": {
                        "environmentId": "env",
                        "version": "v2",
                        "location": "/data/env/versions/v2",
                    },
                    "modelCompatibility": {"frameworks": ["tensorflow"], "version": "2.1.0"},
                    "qualityMetrics": {"recordCount": 1000, "completenessScore": 0.98},
                    "qualityGates": [{"id": "completeness", "status": "warning", "message": "low"}],
                },
            },
        },
    }
    events = dict(events_from_run(result))
    assert set(events) == {"execution_completed", "deployment_completed", "quality_gate_failed"}
    done = events["execution_completed"]
    assert done["event"] == "execution_completed"
    assert done["pipelineId"] == "pipeline_prod_training"
    assert done["datasetLocation"] == "/data/env/versions/v2"
    assert done["qualityMetrics"] == {
        "recordCount": 1000,
        "completenessScore": 0.98,
        "accuracy": 1.0,  # no validator, no rejected rows
        "privacyCompliance": "not_assessed",  # no residual scan: nothing is certified
    }
    assert done["modelCompatibility"] == {"frameworks": ["tensorflow"], "version": "2.1.0"}
    assert "outputs" not in done  # one output: the top-level fields say it all
    assert events["quality_gate_failed"]["blocking"] is False
    failed = dict(
        events_from_run(
            {**result, "status": "failed", "error": "\x1b[31mnode 'x': /srv/data/a.csv bad\x1b[0m"}
        )
    )
    assert "execution_failed" in failed and "deployment_completed" not in failed
    assert failed["execution_failed"]["error"] == "node 'x': a.csv bad"
    assert [t for t, _ in events_from_run({**result, "status": "running"})] == ["execution_started"]


def test_several_outputs_get_one_entry_each_and_the_top_level_describes_one():
    result = {
        "executionId": "exec_2",
        "pipelineId": "p",
        "status": "completed",
        "metrics": {"recordsProcessed": 90},
        "outputs": [
            {"nodeId": "archive", "location": "s3://lake/raw", "format": "parquet", "rows": 90},
            {"nodeId": "train", "location": "s3://ml/train", "format": "tfrecord", "rows": 80},
        ],
        "nodes": {
            "load": {"counters": {"droppedRows": 10}},
            "train": {"facts": {"modelCompatibility": {"frameworks": ["tensorflow"]}}},
        },
    }
    [(_, p)] = [e for e in events_from_run(result) if e[0] == "execution_completed"]
    assert p["datasetLocation"] == "s3://ml/train"  # the same output as modelCompatibility
    assert p["modelCompatibility"] == {"frameworks": ["tensorflow"]}
    assert p["qualityMetrics"]["recordCount"] == 80
    assert p["qualityMetrics"]["accuracy"] == 0.9  # 90 of 100 rows read were kept
    assert [(o["nodeId"], o["datasetLocation"], o["recordCount"]) for o in p["outputs"]] == [
        ("archive", "s3://lake/raw", 90),
        ("train", "s3://ml/train", 80),
    ]
    assert p["outputs"][0]["modelCompatibility"] is None


def test_gone_disables_the_endpoint_at_once(store, receiver_factory):
    rx = receiver_factory([410])
    ep = store.create_endpoint(rx.url)
    mid = emit("execution_completed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=FAST)
    try:
        [delivery] = _drain(d, store, mid)
        assert delivery["status"] == "failed" and delivery["attempts"] == 1
        got = store.get_endpoint(ep["id"])
        assert got["active"] is False and "410 Gone" in got["disabledReason"]
        later = emit("execution_failed", PAYLOAD, store=store)
        for _ in range(3):
            d.deliver_pending()
        assert len(rx.requests) == 1  # nothing more is sent to a receiver that is gone
        assert [x["status"] for x in store.list_deliveries(message_id=later)] == ["pending"]
    finally:
        d.stop()


def test_retry_after_is_honoured(store, receiver_factory):
    rx = receiver_factory([503, 200], headers={"Retry-After": "2"})
    store.create_endpoint(rx.url)
    mid = emit("execution_completed", PAYLOAD, store=store)
    d = Dispatcher(store, policy=FAST)  # its own backoff would retry within 0.2 s
    try:
        sent_at = time.time()
        d.deliver_pending()
        [waiting] = store.list_deliveries(message_id=mid)
        assert waiting["status"] == "pending"
        end = time.time() + 1.5
        while time.time() < end:
            d.deliver_pending()
            time.sleep(0.05)
        assert len(rx.requests) == 1  # still waiting as the receiver asked
        [done] = _drain(d, store, mid)
    finally:
        d.stop()
    assert done["status"] == "delivered" and len(rx.requests) == 2
    assert time.time() - sent_at >= 2


def test_retry_after_http_date():
    from email.utils import formatdate

    from engine.webhooks.dispatcher import parse_retry_after

    now = time.time()
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now) == pytest.approx(30, abs=1)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("soon") is None


def test_delivered_messages_verify_with_the_standardwebhooks_library(store, receiver_factory):
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    rx = receiver_factory([200])
    ep = store.create_endpoint(rx.url)
    result = {
        "executionId": "exec_3",
        "pipelineId": "p",
        "status": "completed",
        "outputs": [{"nodeId": "out", "location": "s3://b/x", "rows": 5}],
        "metrics": {"recordsProcessed": 5},
        "nodes": {},
    }
    [(name, payload)] = events_from_run(result)
    mid = emit(name, payload, store=store)
    d = Dispatcher(store, policy=FAST)
    try:
        _drain(d, store, mid)
    finally:
        d.stop()
    [req] = rx.requests
    verified = Webhook(ep["secret"]).verify(req["body"], req["headers"])
    assert verified["event"] == "execution_completed" and verified["executionId"] == "exec_3"
    assert verified["qualityMetrics"]["privacyCompliance"] == "not_assessed"
    tampered = req["body"].replace(b"exec_3", b"exec_4")
    with pytest.raises(WebhookVerificationError):
        Webhook(ep["secret"]).verify(tampered, req["headers"])


def test_outbox_on_postgresql_retries_and_survives_restart(pg_schema_url, receiver_factory):
    rx = receiver_factory([500, 502, 200])
    first = WebhookStore(sa.create_engine(pg_schema_url))
    first.create_endpoint(rx.url, event_types=["*"])
    mid = emit("deployment.completed", PAYLOAD, store=first)
    d1 = Dispatcher(first, policy=FAST)
    d1.deliver_pending()
    d1.stop()
    first.db.dispose()
    second = WebhookStore(sa.create_engine(pg_schema_url))
    d2 = Dispatcher(second, policy=FAST)
    try:
        [done] = _drain(d2, second, mid)
    finally:
        d2.stop()
        second.db.dispose()
    assert done["status"] == "delivered" and done["attempts"] == 3
    assert len(rx.delivered) == 1
