"""Hostile-tenant cases through the real HTTP API: each is refused with a problem
document naming the rule, and nothing is read, written, deleted or sent.

Runs in order against one server (module fixture ``hostile``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve.client import ApiRequestError, Client
from tests.security.conftest import ALLOWED_HOST, Hostile

METADATA_TOKENS = ("pb_api_keys", "key_hash")


@pytest.fixture(scope="module")
def api(hostile: Hostile) -> Client:
    return hostile.client()


def refused(call: Any, status: int, rule: str) -> dict[str, Any]:
    """Run ``call``; it must fail with ``status`` and a problem document naming ``rule``."""
    with pytest.raises(ApiRequestError) as exc:
        call()
    p = exc.value.problem
    assert exc.value.status == status, p
    assert p["status"] == status and p["type"].endswith("/" + rule), p
    assert p.get("rule") == rule and rule in p["detail"], p
    return p


def _ds(api: Client, body: dict[str, Any]) -> Any:
    return lambda: api.create_resource("data-sources", body)


# -- files: data roots ---------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    ["/etc/passwd", "../../../../../../etc/passwd", "file:///etc/shadow", "file:/etc/hostname"],
)
def test_file_sources_outside_the_roots_are_refused(api: Client, uri: str) -> None:
    refused(
        _ds(api, {"id": "ds_steal", "type": "file", "uri": uri, "format": "csv"}), 422, "data-root"
    )
    with pytest.raises(ApiRequestError) as exc:
        api.get_resource("data-sources", "ds_steal")
    assert exc.value.status == 404  # nothing stored


def test_a_symlink_out_of_the_root_is_refused(api: Client, hostile: Hostile) -> None:
    (hostile.data / "innocent.csv").symlink_to("/etc/passwd")
    folder = hostile.data / "mixed"
    folder.mkdir()
    (folder / "ok.csv").write_text("a\n1\n")
    (folder / "sneaky.csv").symlink_to("/etc/hostname")
    refused(
        _ds(api, {"id": "ds_link", "type": "file", "uri": "data/innocent.csv", "format": "csv"}),
        422,
        "data-root",
    )
    refused(
        _ds(api, {"id": "ds_link", "type": "file", "uri": "data/mixed", "format": "csv"}),
        422,
        "data-root",
    )


def test_the_metadata_store_is_never_a_data_source(api: Client, hostile: Hostile) -> None:
    refused(
        _ds(
            api,
            {"id": "ds_meta", "type": "database", "url": f"sqlite:///{hostile.home}/metadata.db"},
        ),
        422,
        "metadata-store",
    )
    refused(
        _ds(api, {"id": "ds_meta", "type": "file", "uri": str(hostile.home), "format": "csv"}),
        422,
        "metadata-store",
    )


def test_environments_outside_the_roots_are_refused(api: Client, tmp_path: Path) -> None:
    refused(
        lambda: api.create_resource(
            "environments", {"id": "env_evil", "uri": str(tmp_path), "format": "parquet"}
        ),
        422,
        "data-root",
    )


def _run(api: Client, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        api.create_pipeline(spec)
    except ApiRequestError as exc:
        assert exc.status == 409  # the same pipeline, run again
    run = api.execute(spec["id"])
    return api.wait(spec["id"], run["executionId"], timeout=240)


def _copy_pipeline(pid: str, out_uri: str) -> dict[str, Any]:
    return {
        "id": pid,
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_good"},
            },
            {
                "id": "save",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["load"],
                "config": {"uri": out_uri, "format": "csv", "mode": "overwrite"},
            },
        ],
    }


def test_outputs_never_delete_what_they_did_not_write(
    api: Client, hostile: Hostile, tmp_path: Path
) -> None:
    (hostile.data / "good.csv").write_text("id,name\n1,a\n2,b\n")
    api.create_resource(
        "data-sources", {"id": "ds_good", "type": "file", "uri": "data/good.csv", "format": "csv"}
    )
    victim = hostile.data / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "important.txt").write_text("keep me")
    st = _run(api, _copy_pipeline("p_overwrite", str(victim)))
    assert st["status"] == "failed" and "output-ownership" in st["error"], st
    assert (victim / "important.txt").read_text() == "keep me" and (victim / "sub").is_dir()
    assert sorted(p.name for p in victim.iterdir()) == ["important.txt", "sub"]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.txt").write_text("x")
    p = refused(
        lambda: api.create_pipeline(_copy_pipeline("p_outside", str(outside))), 422, "data-root"
    )
    assert {"nodeId": "save", "path": "config.uri"} in [
        {k: x[k] for k in ("nodeId", "path")} for x in p["problems"]
    ], p
    assert sorted(p.name for p in outside.iterdir()) == ["x.txt"]

    # the same pipeline writing inside the root works, and may replace its own output
    for _ in range(2):
        st = _run(api, _copy_pipeline("p_ok", str(hostile.data / "copy")))
        assert st["status"] == "completed", st
    assert any(p.suffix == ".csv" for p in (hostile.data / "copy").iterdir())


def test_inline_locations_are_refused_when_the_spec_is_validated(
    api: Client, hostile: Hostile, tmp_path: Path
) -> None:
    # A FIFO outside the roots: reading it would block the request, so a prompt answer
    # shows the refusal came from the spec alone.
    fifo = tmp_path / "outside.csv"
    os.mkfifo(fifo)
    cases = [
        (str(fifo), "data-root"),
        ("../../../../../../etc/passwd", "data-root"),
        (f"file://{hostile.home}/metadata.db", "metadata-store"),
        ("http://169.254.169.254/latest/meta-data/x.csv", "egress"),
    ]
    for uri, rule in cases:
        spec = {
            "id": "p_inline",
            "nodes": [
                {
                    "id": "steal",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"uri": uri, "format": "csv"},
                },
                {
                    "id": "save",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["steal"],
                    "config": {"uri": str(hostile.data / "inline-out"), "format": "csv"},
                },
            ],
        }
        started = time.monotonic()
        report = api.validate(spec)
        assert report["valid"] is False, (uri, report)
        mine = [x for x in report["problems"] if x["nodeId"] == "steal"]
        assert [x["path"] for x in mine] == ["config.uri"] and rule in mine[0]["message"], report
        assert not any(x["nodeId"] == "save" for x in report["problems"]), report
        p = refused(lambda spec=spec: api.create_pipeline(spec), 422, rule)
        assert "steal" in p["detail"] and "config.uri" in p["detail"], p
        assert time.monotonic() - started < 30
    with pytest.raises(ApiRequestError) as exc:
        api.request("GET", "/api/pipelines/p_inline")
    assert exc.value.status == 404  # nothing stored
    assert not (hostile.data / "inline-out").exists()


# -- secrets ----------------------------------------------------------------------


@pytest.mark.parametrize("token", ["env:SECRET_DB_PW", "file:/etc/passwd", "file:../metadata.db"])
def test_secret_references_outside_the_namespace_are_refused(
    api: Client, listener_factory: Any, token: str
) -> None:
    rx = listener_factory(ALLOWED_HOST)
    body = {
        "id": "ds_exfil",
        "type": "api",
        "baseUrl": rx.url,
        "auth": {"type": "header", "header": "X-Leak", "token": token},
    }
    refused(_ds(api, body), 422, "secret-namespace")
    assert rx.requests == []


def test_a_secret_goes_only_to_the_origin_it_was_created_with(
    api: Client, listener_factory: Any
) -> None:
    good = listener_factory(ALLOWED_HOST)
    body = {
        "id": "ds_bound",
        "type": "api",
        "baseUrl": good.url,
        "auth": {"type": "bearer", "token": "env:PB_SECRET_SOURCE_TOKEN"},
    }
    made = api.create_resource("data-sources", body)
    assert made["resource"]["boundOrigin"] == f"http://{ALLOWED_HOST}:{good.port}"
    moved = {**body, "baseUrl": f"http://{ALLOWED_HOST}:{good.port + 1}/"}
    refused(lambda: api.put_resource("data-sources", moved), 409, "secret-origin")
    # a stored boundOrigin cannot be forged by the caller either
    forged = {**body, "boundOrigin": "http://attacker.example:80"}
    out = api.put_resource("data-sources", forged)
    assert out["resource"]["boundOrigin"] == f"http://{ALLOWED_HOST}:{good.port}"
    assert good.requests == []


def test_a_deleted_and_recreated_source_does_not_rebind_its_secret(
    api: Client, listener_factory: Any
) -> None:
    good = listener_factory(ALLOWED_HOST)
    other = listener_factory(ALLOWED_HOST)  # allow-listed too: only the binding stops it
    auth = {"type": "bearer", "token": "env:PB_SECRET_REBIND_TOKEN"}
    body = {"id": "ds_rebind", "type": "api", "baseUrl": good.url, "auth": auth}
    api.create_resource("data-sources", body)
    api.request("DELETE", "/api/data-sources/ds_rebind")
    moved = {**body, "baseUrl": other.url + "/"}
    p = refused(lambda: api.create_resource("data-sources", moved), 409, "secret-origin")
    assert "env:PB_SECRET_REBIND_TOKEN" in p["detail"] and good.url in p["detail"], p
    # nor through a second resource naming the same reference
    twin = {**moved, "id": "ds_twin"}
    refused(lambda: api.create_resource("data-sources", twin), 409, "secret-origin")
    for rid in ("ds_rebind", "ds_twin"):
        with pytest.raises(ApiRequestError) as exc:
            api.get_resource("data-sources", rid)
        assert exc.value.status == 404  # nothing stored
    # the origin it was created with still works; a new reference may go elsewhere
    again = api.create_resource("data-sources", body)
    assert again["resource"]["boundOrigin"] == f"http://{ALLOWED_HOST}:{good.port}"
    fresh = {**twin, "auth": {**auth, "token": "env:PB_SECRET_REBIND_TOKEN_2"}}
    assert api.create_resource("data-sources", fresh)["resource"]["boundOrigin"] == (
        f"http://{ALLOWED_HOST}:{other.port}"
    )
    assert good.requests == [] and other.requests == []


# -- egress (one guard: sources, storage, databases, channels, webhooks) -------------

HOSTILE_HOSTS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://127.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://localhost:{port}/",
    "http://127.1:{port}/",
    "http://10.0.0.7/",
    "http://[::ffff:127.0.0.1]:{port}/",
]


@pytest.mark.parametrize("target", HOSTILE_HOSTS)
def test_every_outbound_kind_refuses_internal_targets(
    api: Client, listener_factory: Any, target: str
) -> None:
    rx = listener_factory("127.0.0.1")
    url = target.format(port=rx.port)
    cases = [
        ("data-sources", {"id": "ds_ssrf", "type": "api", "baseUrl": url}),
        ("data-sources", {"id": "ds_ssrf", "type": "file", "uri": url + "x.csv", "format": "csv"}),
        (
            "data-sources",
            {
                "id": "ds_ssrf",
                "type": "file",
                "uri": "s3://b/k.csv",
                "format": "csv",
                "storage": {"endpointUrl": url},
            },
        ),
        ("notification-channels", {"id": "ch_ssrf", "type": "webhook", "url": url}),
    ]
    for slug, body in cases:
        refused(lambda slug=slug, body=body: api.create_resource(slug, body), 422, "egress")
    with pytest.raises(ApiRequestError) as exc:
        api.request("POST", "/api/webhooks", json={"url": url})
    assert exc.value.status == 422 and "egress" in exc.value.problem["detail"]
    assert rx.requests == []


def test_a_host_name_resolving_inside_is_refused_for_storage_and_sources(
    api: Client, listener_factory: Any
) -> None:
    import ipaddress
    import socket

    name = socket.gethostname()  # the system resolver maps it to this machine
    ips = {ipaddress.ip_address(i[4][0]) for i in socket.getaddrinfo(name, 80)}
    assert ips and not any(ip.is_global for ip in ips), (name, ips)
    rx = listener_factory("127.0.0.1")
    url = f"http://{name}:{rx.port}/"
    storage = {"endpointUrl": url}
    cases = [
        {
            "id": "ds_name",
            "type": "file",
            "uri": "s3://b/k.csv",
            "format": "csv",
            "storage": storage,
        },
        {"id": "ds_name", "type": "api", "baseUrl": url},
    ]
    for body in cases:
        p = refused(_ds(api, body), 422, "egress")
        assert name.lower() in p["detail"].lower(), p
    assert rx.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u@169.254.169.254:5432/db",
        "postgresql+psycopg://u@127.0.0.1:22/db",
        "postgresql+psycopg://u@localhost/db",
        "postgresql+psycopg://u@/db?host=/var/run/postgresql",
    ],
)
def test_database_hosts_pass_the_egress_guard(api: Client, url: str) -> None:
    refused(_ds(api, {"id": "ds_db", "type": "database", "url": url}), 422, "egress")


def test_redirects_are_rechecked_on_every_hop(
    api: Client, hostile: Hostile, listener_factory: Any
) -> None:
    inner = listener_factory("127.0.0.2")  # not allow-listed
    hop = listener_factory(ALLOWED_HOST, redirect_to=inner.url + "/secret.csv")
    api.create_resource(
        "data-sources",
        {"id": "ds_redirect", "type": "file", "uri": hop.url + "/data.csv", "format": "csv"},
    )
    spec = _copy_pipeline("p_redirect", str(hostile.data / "redir"))
    spec["nodes"][0]["config"]["dataSourceId"] = "ds_redirect"
    st = _run(api, spec)
    assert st["status"] == "failed" and "egress" in st["error"] and "127.0.0.2" in st["error"]
    assert len(hop.requests) >= 1 and inner.requests == []
    assert not (hostile.data / "redir").exists()


# -- keys ------------------------------------------------------------------------------


def test_revocation_is_immediate_and_takes_minted_keys_with_it(
    api: Client, hostile: Hostile
) -> None:
    made = api.create_key("admin", name="tenant")
    tenant = hostile.client(made["key"])
    minted = [tenant.create_key("admin", name=f"m{i}") for i in range(3)]
    grandchild = hostile.client(minted[0]["key"]).create_key("read", name="gc")
    api.request("DELETE", f"/api/keys/{made['id']}")
    for token in [made["key"], *(m["key"] for m in minted), grandchild["key"]]:
        with pytest.raises(ApiRequestError) as exc:
            hostile.client(token).request("GET", "/api/whoami")
        assert exc.value.status == 401  # the very next request
    ids = {k["id"]: k for k in api.request("GET", "/api/keys")}
    assert all(ids[m["id"]]["revokedAt"] for m in minted)


def test_the_last_admin_key_cannot_be_revoked(api: Client) -> None:
    keys = [k for k in api.request("GET", "/api/keys") if not k["revokedAt"]]
    me = api.request("GET", "/api/whoami")
    admins = [k for k in keys if k["scope"] == "admin"]
    assert [k["id"] for k in admins] == [me["id"]] or len(admins) == 1
    refused(lambda: api.request("DELETE", f"/api/keys/{admins[0]['id']}"), 409, "last-admin")
    assert api.request("GET", "/api/whoami")["id"] == me["id"]


# -- request handling ---------------------------------------------------------------------

LIST_ENDPOINTS = [
    "/api/pipelines",
    "/api/executions",
    "/api/data-sources",
    "/api/environments",
    "/api/audit",
    "/api/data-sources/ds_good/access",
]


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
@pytest.mark.parametrize(
    "query", ["offset=9223372036854775808", "offset=-1", "limit=0", "limit=abc", "offset=1e3"]
)
def test_list_parameters_are_bounded(hostile: Hostile, path: str, query: str) -> None:
    r = httpx.get(
        f"{hostile.base_url}{path}?{query}",
        headers={"Authorization": f"Bearer {hostile.admin_key}"},
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["rule"] == "bounded-list"


def test_auth_comes_before_the_body(hostile: Hostile) -> None:
    r = httpx.post(
        f"{hostile.base_url}/api/pipelines",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 401 and r.json()["type"].endswith("/unauthorized")


def test_oversized_bodies_are_413_chunked_or_not(hostile: Hostile) -> None:
    auth = {"Authorization": f"Bearer {hostile.admin_key}", "Content-Type": "application/json"}
    big = b'{"id": "x", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}'

    def chunks():
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    r = httpx.post(f"{hostile.base_url}/api/pipelines", content=big, headers=auth)
    assert r.status_code == 413, r.text
    r = httpx.post(f"{hostile.base_url}/api/pipelines", content=chunks(), headers=auth)
    assert r.status_code == 413, r.text
    assert r.json()["type"].endswith("/payload-too-large")


def test_sqlite_sources_cannot_attach_other_files(tmp_path: Path, monkeypatch) -> None:
    """The read-only SQLite connection refuses ATTACH (which could create any file)."""
    import sqlite3

    from sqlalchemy import text

    from nodes.sources.sql_connect import connection_info

    monkeypatch.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(tmp_path))
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
    info = connection_info(
        node_id="n",
        resource={"id": "d", "url": f"sqlite:///{db}"},
        resolve_secret=None,
        base_dir=tmp_path,
    )
    planted = tmp_path / "created.db"
    with info.connect() as conn, pytest.raises(Exception) as exc:
        conn.execute(text(f"ATTACH 'file:{planted}?mode=rwc' AS x"))
    assert "not authorized" in str(exc.value)
    assert not planted.exists()


def test_nothing_was_read_from_outside(hostile: Hostile) -> None:
    """No execution of this module's server ever reported a location outside its root."""
    time.sleep(0.5)
    api = hostile.client()
    for ex in api.executions():
        for node in (ex.get("nodes") or {}).values() if isinstance(ex.get("nodes"), dict) else []:
            loc = (node.get("facts") or {}).get("location") or ""
            assert not loc or loc.startswith(str(hostile.data)) or "://" in loc, loc
    assert os.path.exists(hostile.home / "metadata.db")
