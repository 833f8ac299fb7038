"""source/api against a real threaded HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from engine.errors import NodeError
from nodes.sources.api import make_reader
from nodes.sources.http_client import retry_after, same_origin, scrub_url

TOTAL = 23


def node(config: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "api",
        "nodeType": "source",
        "category": "api",
        "config": {"dataSourceId": "ds_api", **(config or {})},
        **extra,
    }


def catalog(resource: dict[str, Any]) -> dict[str, Any]:
    return {"dataSources": {resource["id"]: resource}}


@pytest.mark.parametrize(
    ("style", "pages"),
    [("page", 5), ("offset", 5), ("cursor", 5), ("link", 3)],
)
def test_every_pagination_style_reads_each_record_once(
    ray_session, kit, api_server, api_resource, style: str, pages: int
) -> None:
    ctx = kit.ctx(node(), catalog(api_resource(style)))
    table = kit.read_all(kit.build(ctx))

    assert sorted(table.column("id").to_pylist()) == list(range(TOTAL))
    assert table.schema.field("score").type == pa.float64()
    assert len(api_server.behaviour.requests) == pages
    assert kit.metrics.wait_for("api", "pages", pages) == pages
    assert ctx.facts["location"] == f"{api_server.url}/{style}"


def test_429_and_503_are_retried_and_counted(ray_session, kit, api_server, api_resource) -> None:
    api_server.behaviour.failures = [429, 503, 429, 503]
    ctx = kit.ctx(node(), catalog(api_resource("cursor")))
    table = kit.read_all(kit.build(ctx))

    assert sorted(table.column("id").to_pylist()) == list(range(TOTAL))
    assert kit.metrics.wait_for("api", "retries", 4) == 4
    assert len(api_server.behaviour.requests) == 5 + 4


def test_retry_after_is_honoured(api_server, api_resource) -> None:
    api_server.behaviour.failures = [429]
    api_server.behaviour.retry_after = "1"
    reader = make_reader(node_id="api", resource=api_resource("page"), resolve=None)
    started = time.monotonic()
    rows = sum(t.num_rows for t in reader.tables())
    assert rows == TOTAL
    assert time.monotonic() - started >= 1.0  # backoff alone would wait ~0.01s


def test_timeouts_are_retried(ray_session, kit, api_server, api_resource) -> None:
    api_server.behaviour.slow_first_seconds = 1.5
    ctx = kit.ctx(node(), catalog(api_resource("offset", timeoutSeconds=0.5)))
    table = kit.read_all(kit.build(ctx))
    assert sorted(table.column("id").to_pylist()) == list(range(TOTAL))
    assert kit.metrics.wait_for("api", "retries", 1) >= 1


def test_transient_errors_give_up_after_max_attempts(api_server, api_resource) -> None:
    api_server.behaviour.failures = [503] * 10
    resource = api_resource("page", retry={"maxAttempts": 3, "initialDelaySeconds": 0.01})
    reader = make_reader(node_id="api", resource=resource, resolve=None)
    with pytest.raises(NodeError) as info:
        list(reader.tables())
    assert str(info.value) == (
        f"node 'api': GET {api_server.url}/page?page=1&per_page=5 failed: "
        "HTTP 503 Service Unavailable (gave up after 3 attempts)"
    )


def test_auth_errors_show_url_and_status_but_no_token(
    ray_session, kit, api_server, api_resource, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_server.behaviour.token = "s3cr3t-token-value"
    monkeypatch.setenv("TEST_API_TOKEN", "wrong-token-value")
    resource = api_resource("page", auth={"type": "bearer", "token": "env:TEST_API_TOKEN"})
    ctx = kit.ctx(node(), catalog(resource))
    with pytest.raises(Exception) as info:
        kit.read_all(kit.build(ctx))
    message = str(info.value)
    assert (
        f"GET {api_server.url}/page?page=1&per_page=5 failed with HTTP 401 Unauthorized" in message
    )
    assert "wrong-token-value" not in message

    monkeypatch.setenv("TEST_API_TOKEN", "s3cr3t-token-value")
    ctx = kit.ctx(node(), catalog(resource))
    assert kit.read_all(kit.build(ctx)).num_rows == TOTAL
    assert api_server.behaviour.auth_headers[-1] == "Bearer s3cr3t-token-value"


def test_api_key_header_auth(api_server, api_resource, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_API_KEY", "key-123")
    api_server.behaviour.token = None
    resource = api_resource(
        "link", auth={"type": "header", "header": "X-Api-Key", "token": "env:TEST_API_KEY"}
    )
    reader = make_reader(
        node_id="api",
        resource=resource,
        resolve=__import__("engine.secrets").secrets.resolve_secret,
    )
    assert sum(t.num_rows for t in reader.tables()) == TOTAL


@pytest.mark.parametrize("kind", ["html", "no_records"])
def test_malformed_page_fails_under_on_error_fail(
    ray_session, kit, api_server, api_resource, kind
) -> None:
    api_server.behaviour.malformed = {2: kind}
    ctx = kit.ctx(node(), catalog(api_resource("page")))
    with pytest.raises(Exception) as info:
        kit.read_all(kit.build(ctx))
    reason = "the body is not JSON" if kind == "html" else "records path 'data.items' is missing"
    assert (
        f"page 2 ({api_server.url}/page?page=2&per_page=5, HTTP 200) is malformed: {reason}"
        in str(info.value)
    )


@pytest.mark.parametrize("policy", ["drop", "skip"])
def test_malformed_page_is_skipped_and_counted(
    ray_session, kit, api_server, api_resource, policy: str
) -> None:
    api_server.behaviour.malformed = {2: "html"}
    ctx = kit.ctx(node(onError=policy), catalog(api_resource("offset")))
    table = kit.read_all(kit.build(ctx))
    assert sorted(table.column("id").to_pylist()) == [*range(5), *range(10, TOTAL)]
    assert kit.metrics.wait_for("api", "malformedPages", 1) == 1


def test_malformed_page_is_quarantined(
    ray_session, kit, api_server, api_resource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_API_TOKEN", "tok-quarantine")
    api_server.behaviour.token = "tok-quarantine"
    api_server.behaviour.malformed = {3: "no_records"}
    resource = api_resource("link", auth={"type": "bearer", "token": "env:TEST_API_TOKEN"})
    ctx = kit.ctx(node(onError="quarantine"), catalog(resource))
    table = kit.read_all(kit.build(ctx))
    assert sorted(table.column("id").to_pylist()) == list(range(20))  # page 3 held 20..22
    assert kit.metrics.wait_for("api", "quarantinedPages", 1) == 1

    path = ctx.facts["quarantine"]
    text = Path(path).read_text(encoding="utf-8")
    assert "tok-quarantine" not in text
    [entry] = [json.loads(line) for line in text.splitlines()]
    assert entry["page"] == 3
    assert entry["url"] == f"{api_server.url}/link?page=3"
    assert entry["status"] == 200
    assert entry["reason"] == "records path 'data.items' is missing"
    assert len(entry["sha256"]) == 64 and entry["bytes"] > 0


def test_declared_schema_is_used_and_misfits_are_malformed(
    ray_session, kit, api_server, api_resource
) -> None:
    schema = {"id": "int32", "name": "string", "score": "float32"}
    ctx = kit.ctx(node(), catalog(api_resource("cursor", schema=schema)))
    table = kit.read_all(kit.build(ctx))
    assert table.schema == pa.schema(
        [("id", pa.int32()), ("name", pa.string()), ("score", pa.float32())]
    )
    assert table.num_rows == TOTAL

    ctx = kit.ctx(
        node(onError="drop"),
        catalog(api_resource("cursor", schema={"id": "int64", "name": "int64"})),
    )
    # every page's names fail to fit int64: each is malformed; the cursor walk stops at the first
    assert kit.read_all(kit.build(ctx)).num_rows == 0


def test_max_pages_bounds_the_walk(ray_session, kit, api_server, api_resource) -> None:
    ctx = kit.ctx(node({"maxPages": 2}), catalog(api_resource("page")))
    assert kit.read_all(kit.build(ctx)).num_rows == 10


def test_helpers_keep_secrets_out_of_urls() -> None:
    assert scrub_url("https://u:p@api.example.com/x?api_key=abc&q=1") == (
        "https://api.example.com/x?api_key=%2A%2A%2A&q=1"
    )
    assert same_origin("http://127.0.0.1:80/a", "http://127.0.0.1:80/b")
    assert not same_origin("http://evil.example/a", "http://127.0.0.1/b")
    assert retry_after("3") == 3.0
    assert retry_after("not a date") is None


def test_rate_limit_spaces_requests(api_server, api_resource) -> None:
    reader = make_reader(
        node_id="api", resource=api_resource("page", rateLimitPerSecond=10), resolve=None
    )
    started = time.monotonic()
    assert sum(t.num_rows for t in reader.tables()) == TOTAL
    assert time.monotonic() - started >= 0.4  # five requests, at least 0.1 s apart


def test_node_params_reach_the_api(ray_session, kit, api_server, api_resource) -> None:
    resource = api_resource("page", params={"status": "open", "kind": "a"})
    ctx = kit.ctx(node({"params": {"kind": "b"}, "maxPages": 1}), catalog(resource))
    kit.read_all(kit.build(ctx))
    assert api_server.behaviour.requests == ["/page?status=open&kind=b&page=1&per_page=5"]


def test_field_mapping_applies_while_reading(ray_session, kit, api_server, api_resource) -> None:
    mapping = {"id": "m_items", "rename": {"name": "label"}, "drop": ["score"]}
    resources = {**catalog(api_resource("page")), "fieldMappings": {"m_items": mapping}}
    ctx = kit.ctx(node({"fieldMappings": "m_items"}), resources)
    table = kit.read_all(kit.build(ctx))
    assert table.column_names == ["id", "label"] and table.num_rows == TOTAL

    ctx = kit.ctx(node({"includeTransformed": True}), catalog(api_resource("page")))
    with pytest.raises(NodeError, match="includeTransformed is true but data source 'ds_api'"):
        kit.build(ctx)


def test_redirects_are_not_followed(api_server, api_resource) -> None:
    resource = api_resource("none", path="/moved")
    reader = make_reader(node_id="api", resource=resource, resolve=None)
    with pytest.raises(NodeError) as info:
        list(reader.tables())
    assert str(info.value) == (
        f"node 'api': GET {api_server.url}/moved answered HTTP 301 (redirect to "
        "http://elsewhere.example/page); redirects are not followed, set baseUrl to the target"
    )
