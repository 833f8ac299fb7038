"""The API behind the builder: node types, node and pipeline templates, whoami (no browser).

Config schemas are checked with the ``jsonschema`` package, an implementation of JSON
Schema independent of pydantic, which generated them.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import jsonschema
import pytest

from serve.client import ApiRequestError
from tests.browser.conftest import documented_operations, is_documented
from tests.serve.serve_helpers import create_key

UI_JS = Path(__file__).resolve().parents[2] / "serve" / "ui" / "js"


def test_node_types_are_the_registry_with_usable_schemas(api_server) -> None:
    api = api_server.client()
    types = api.request("GET", "/api/node-types")
    keys = [t["key"] for t in types]
    assert {"source/file", "privacy/detection", "privacy/redaction", "output/environment"} <= set(
        keys
    )
    families = [t["nodeType"] for t in types]
    order = ["source", "transform", "privacy", "output"]
    assert [f for f in order if f in families] == sorted(set(families), key=order.index)
    by_key = {t["key"]: t for t in types}
    for t in types:
        jsonschema.Draft202012Validator.check_schema(t["configSchema"])
    detection = by_key["privacy/detection"]
    assert detection["resourceRefs"]["patternLibraryId"] == {
        "kind": "patternLibraries",
        "many": False,
        "builtins": [],
    }
    env = by_key["output/environment"]["resourceRefs"]
    assert env["notificationChannels"]["many"] is True
    assert "schema_validation" in env["qualityGates"]["builtins"]
    # the schema and the server agree on a wrong value
    bad = {"confidenceThreshold": 1.8}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, detection["configSchema"])
    report = api.validate(
        {
            "id": "p",
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file", "config": {"uri": "x"}},
                {
                    "id": "detect",
                    "nodeType": "privacy",
                    "category": "detection",
                    "inputs": ["load"],
                    "config": bad,
                },
            ],
        }
    )
    assert any(
        p["nodeId"] == "detect" and p["path"] == "config.confidenceThreshold"
        for p in report["problems"]
    )


def test_builtin_node_templates_match_their_schemas(api_server) -> None:
    api = api_server.client()
    schemas = {t["key"]: t["configSchema"] for t in api.request("GET", "/api/node-types")}
    templates = [t for t in api.request("GET", "/api/node-templates") if t["builtin"]]
    assert [t["nodeType"] + "/" + t["category"] for t in templates] == [
        "source/file",
        "privacy/detection",
        "privacy/synthetic",
        "output/environment",
    ]
    for t in templates:
        jsonschema.validate(t["config"], schemas[f"{t['nodeType']}/{t['category']}"])
    pii = next(t for t in templates if t["category"] == "detection")
    assert pii["name"] == "PII detector — HIPAA, healthcare patterns, 0.8"
    assert pii["config"]["confidenceThreshold"] == 0.8


def test_node_template_crud_scopes_and_checks(api_server) -> None:
    api = api_server.client()
    reader = api_server.client(create_key(api_server.db_url, "read"))
    body = {
        "name": "PII detector — GDPR, default patterns, 0.9",
        "nodeType": "privacy",
        "category": "detection",
        "config": {"confidenceThreshold": 0.9, "complianceFramework": "GDPR"},
    }
    with pytest.raises(ApiRequestError) as denied:
        reader.request("POST", "/api/node-templates", json=body)
    assert denied.value.status == 403
    created = api.request("POST", "/api/node-templates", json=body)
    assert created["id"] == "pii_detector_gdpr_default_patterns_0_9" and not created["builtin"]
    listed = reader.request("GET", "/api/node-templates")
    assert created["id"] in [t["id"] for t in listed]
    with pytest.raises(ApiRequestError) as conflict:
        api.request("POST", "/api/node-templates", json=body)
    assert conflict.value.status == 409
    # a wrong config names the field; an unknown type names the closest ones
    bad = {**body, "id": "bad", "config": {"confidenceThreshold": 2}}
    with pytest.raises(ApiRequestError) as invalid:
        api.request("POST", "/api/node-templates", json=bad)
    assert invalid.value.status == 422
    assert [p["path"] for p in invalid.value.problem["problems"]] == ["config.confidenceThreshold"]
    typo = {**body, "id": "typo", "category": "detecton"}
    with pytest.raises(ApiRequestError) as unknown:
        api.request("POST", "/api/node-templates", json=typo)
    assert "privacy/detection" in unknown.value.problem["problems"][0]["message"]
    secret = {**body, "id": "leak", "nodeType": "source", "category": "api"}
    secret["config"] = {"dataSourceId": "x", "params": {"apiKey": "plain-text"}}
    with pytest.raises(ApiRequestError) as leak:
        api.request("POST", "/api/node-templates", json=secret)
    assert leak.value.status == 422
    replaced = api.request(
        "PUT",
        f"/api/node-templates/{created['id']}",
        json={**body, "config": {"confidenceThreshold": 0.95}},
    )
    assert replaced["config"] == {"confidenceThreshold": 0.95}
    api.request("DELETE", f"/api/node-templates/{created['id']}")
    with pytest.raises(ApiRequestError) as gone:
        api.request("GET", f"/api/node-templates/{created['id']}")
    assert gone.value.status == 404
    with pytest.raises(ApiRequestError) as builtin:
        api.request("DELETE", "/api/node-templates/builtin.pii_detector_hipaa")
    assert builtin.value.status == 409


def test_whoami_and_resource_kinds(api_server) -> None:
    key = create_key(api_server.db_url, "execute")
    me = api_server.client(key).request("GET", "/api/whoami")
    assert me["scope"] == "execute" and me["scopes"] == ["read", "execute"]
    kinds = {k["kind"]: k for k in api_server.client().request("GET", "/api/resource-kinds")}
    assert kinds["dataSources"]["path"] == "/api/data-sources"
    assert "patterns_healthcare" in kinds["patternLibraries"]["builtinIds"]
    assert httpx.get(api_server.base_url + "/api/whoami").status_code == 401


def test_pages_are_served_and_use_only_documented_endpoints(api_server) -> None:
    for path in ("/", "/ui", "/ui/"):
        r = httpx.get(api_server.base_url + path)
        assert r.status_code == 200 and '<script type="module"' in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    js = httpx.get(api_server.base_url + "/ui/js/app.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert httpx.get(api_server.base_url + "/ui/../pyproject.toml").status_code == 404
    assert httpx.get(api_server.base_url + "/ui/js/missing.js").status_code == 404
    operations = documented_operations(api_server)
    slugs = [k["path"][5:] for k in api_server.client().request("GET", "/api/resource-kinds")]
    used: set[tuple[str, str]] = set()
    for f in UI_JS.glob("*.js"):
        text = f.read_text(encoding="utf-8")
        assert "https://" not in text and "http://" not in text.replace("http://www.w3.org", "")
        for method, path in _api_calls(text):
            # resource pages build /api/${slug}: every catalog kind's collection
            for concrete in [path.replace("${slug}", s) for s in slugs]:
                # ${id} after a slash is a path segment; elsewhere it adds a query string
                segment = re.sub(r"(?<=/)\$\{[^}]+\}(?=/|$)", "*", concrete)
                used.add((method, re.sub(r"\$\{[^}]+\}", "", segment)))
    assert len(used) >= 15, used
    assert {m for m, _ in used} == {"GET", "POST", "PUT", "DELETE"}
    undocumented = [u for u in sorted(used) if not is_documented(*u, operations)]
    assert undocumented == []


# the request helpers of serve/ui/js/api.js: get/post/put/del/all(path, ...), api(METHOD, path, ...)
_HELPERS = {"get": "GET", "post": "POST", "put": "PUT", "del": "DELETE", "all": "GET"}
_CALL = re.compile(r'(?<![.\w])(?:(?P<fn>get|post|put|del|all)\(|api\(\s*"(?P<method>[A-Z]+)",)')
_PREFIX = re.compile(r"\bconst (\w+) = `(/api/[^`]*)`;")


def _api_calls(text: str) -> list[tuple[str, str]]:
    """(method, path literal) of every request helper call whose path argument names /api/."""
    prefixes = dict(_PREFIX.findall(text))  # e.g. const base = `/api/pipelines/${id}`;
    calls = []
    for m in _CALL.finditer(text):
        method = m.group("method") or _HELPERS[m.group("fn")]
        argument = _first_argument(text, m.end())
        for name, prefix in prefixes.items():
            argument = argument.replace("${" + name + "}", prefix)
        calls += [(method, p) for p in re.findall(r"[`\"](/api/[^`\"?]*)", argument)]
    return calls


def _first_argument(text: str, i: int) -> str:
    """The JavaScript expression from ``i`` up to the call's next top-level ``,`` or ``)``."""
    start, stack = i, []  # open brackets, template literals (`) and their ${ parts
    while i < len(text):
        c = text[i]
        if stack and stack[-1] == "`":
            if c == "\\":
                i += 1
            elif c == "`":
                stack.pop()
            elif text.startswith("${", i):
                stack.append("${")
                i += 1
        elif c in "\"'":
            i = text.index(c, i + 1)
            while text[i - 1] == "\\":
                i = text.index(c, i + 1)
        elif c in "`([{":
            stack.append(c)
        elif c in ")]}":
            if not stack:
                return text[start:i]
            stack.pop()
        elif c == "," and not stack:
            return text[start:i]
        i += 1
    raise AssertionError(f"unterminated call at {start}")


def test_pipeline_templates_validate_once_their_resources_exist(api_server) -> None:
    api = api_server.client()
    templates = {t["id"]: t for t in api.request("GET", "/api/pipeline-templates")}
    design = templates["discovery_privacy_deployment"]["spec"]
    before = api.validate(design)
    assert not before["valid"]
    missing = {(p["nodeId"], p["path"]) for p in before["problems"]}
    assert ("load", "config.dataSourceId") in missing
    assert ("deploy", "config.environmentId") in missing
    for kind, res in [
        ("data-sources", {"id": "ds_12345", "type": "file", "uri": "data/seed", "format": "csv"}),
        ("environments", {"id": "env_prod_ml", "uri": "envs/prod_ml", "format": "parquet"}),
        (
            "notification-channels",
            {"id": "slack_ml_team", "type": "slack", "url": "env:PB_SECRET_SLACK_URL"},
        ),
    ]:
        try:
            api.create_resource(kind, res)
        except ApiRequestError as exc:
            assert exc.status == 409
    after = api.validate(design)
    assert after == {"valid": True, "problems": []}
