"""The served OpenAPI document is valid, and every error the API answers is documented.

The document is checked with ``openapi-spec-validator``; real error responses (401,
403, 404, 409, 413, 422) from the app are validated with ``jsonschema`` against the
schema the document gives for that operation and status. The app runs in-process
(FastAPI's TestClient): no Ray is needed to refuse a request.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from tests.serve.serve_helpers import create_key

SPEC = {
    "id": "docs_check",
    "nodes": [
        {
            "id": "load",
            "nodeType": "source",
            "category": "file",
            "config": {"uri": "data/in.csv", "format": "csv"},
        },
        {
            "id": "out",
            "nodeType": "output",
            "category": "archive",
            "inputs": ["load"],
            "config": {"uri": "out/archive"},
        },
    ],
}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import serve.deps as deps

    home = tmp_path_factory.mktemp("openapi-home")
    db_url = f"sqlite:///{home}/metadata.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("PIPELINE_BUILDER_DATA_ROOTS", str(home))
    mp.setenv("PIPELINE_BUILDER_REAPER", "0")
    deps.configure(home=home, db_url=db_url)
    from serve.app import create_app

    client = TestClient(create_app(), raise_server_exceptions=False)
    keys = {scope: create_key(db_url, scope) for scope in ("admin", "read")}
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "in.csv").write_text("id\n1\n")
    yield client, keys, home
    mp.undo()


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method in ops:
            return ops[method]
    raise AssertionError(f"{method.upper()} {path} is not in the document")


def _check_documented(doc: dict[str, Any], method: str, path: str, resp: Any) -> None:
    op = _operation(doc, method, path)
    documented = op["responses"].get(str(resp.status_code))
    assert documented, f"{method.upper()} {path} answered {resp.status_code}, undocumented"
    media = resp.headers["content-type"].split(";")[0]
    assert media in documented["content"], (media, list(documented["content"]))
    schema = documented["content"][media]["schema"]
    resolver_doc = {"components": doc["components"], **schema}
    jsonschema.validate(resp.json(), resolver_doc, cls=jsonschema.Draft202012Validator)


def test_document_is_valid_openapi(app_client) -> None:
    client, _, _ = app_client
    doc = client.get("/openapi.json").json()
    validate(doc)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not path.startswith("/api/"):
                continue
            for code in ("401", "403", "404", "409", "413", "422"):
                content = op["responses"][code]["content"]
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }, (method, path, code)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no key", 401),
        ("read key executes", 403),
        ("unknown pipeline", 404),
        ("pipeline id taken", 409),
        ("body too large", 413),
        ("invalid spec", 422),
        ("invalid request body", 422),
        ("requirement the pipeline cannot meet", 422),
    ],
)
def test_error_responses_match_the_document(app_client, case: str, status: int) -> None:
    client, keys, _ = app_client
    doc = client.get("/openapi.json").json()
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    client.post("/api/pipelines", json=SPEC, headers=admin)  # exists for the cases below
    method, path, kwargs = {
        "no key": ("get", "/api/pipelines", {}),
        "read key executes": (
            "post",
            "/api/pipelines/docs_check/execute",
            {"headers": {"Authorization": f"Bearer {keys['read']}"}, "json": {}},
        ),
        "unknown pipeline": ("get", "/api/pipelines/nope", {"headers": admin}),
        "pipeline id taken": ("post", "/api/pipelines", {"headers": admin, "json": SPEC}),
        "body too large": (
            "post",
            "/api/pipelines/validate",
            {"headers": admin, "content": b"{" + b" " * (64 * 1024 * 1024) + b"}"},
        ),
        "invalid spec": (
            "post",
            "/api/pipelines/validate",
            {"headers": admin, "json": {"id": "x", "nodes": [{"id": "a", "nodeType": "nope"}]}},
        ),
        "invalid request body": (
            "post",
            "/api/pipelines/docs_check/execute",
            {"headers": admin, "json": {"triggeredBy": 5, "unexpected": True}},
        ),
        "requirement the pipeline cannot meet": (
            "post",
            "/api/pipelines/docs_check/execute",
            {
                "headers": admin,
                "json": {"context": {"dataRequirements": {"format": "tensorflow_records"}}},
            },
        ),
    }[case]
    resp = getattr(client, method)(path, **kwargs)
    if case == "invalid spec" and resp.status_code == 200:
        # ``validate`` reports problems in a 200 body; saving the same spec is the 422.
        method, path = "post", "/api/pipelines"
        resp = client.post(path, json=kwargs["json"], headers=admin)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    _check_documented(doc, method, path, resp)
    body = resp.json()
    assert body["status"] == status and body["detail"]
    if case == "requirement the pipeline cannot meet":
        assert body["requirement"] == "format"
        assert "dataRequirements.format 'tensorflow_records'" in body["detail"]
        assert "model_training" in body["detail"]


def test_requirements_are_honoured_or_refused_by_name(app_client) -> None:
    client, keys, _ = app_client
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    client.post("/api/pipelines", json=SPEC, headers=admin)
    for reqs, name in [
        ({"privacy_level": "high"}, "privacy_level"),
        ({"size": "100GB"}, "size"),
        ({"colour": "blue"}, "colour"),
        ({"privacy_level": "extreme"}, "privacy_level"),
    ]:
        resp = client.post(
            "/api/pipelines/docs_check/execute",
            json={"context": {"dataRequirements": reqs}},
            headers=admin,
        )
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["requirement"] == name
        assert body["problems"][0]["path"] == f"context.dataRequirements.{name}"


def test_requirement_resolution_overrides_the_training_format() -> None:
    from engine.spec import parse_spec
    from serve.routes._requirements import resolve

    spec = parse_spec(
        {
            "id": "t",
            "tags": ["compliance:GDPR"],
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file",
                 "config": {"uri": "a.csv"}},
                {"id": "train", "nodeType": "output", "category": "model_training",
                 "inputs": ["load"], "config": {"location": "out", "format": "parquet"}},
            ],
        }
    )  # fmt: skip
    res = resolve(
        spec, {"dataRequirements": {"format": "tensorflow_records", "privacy_level": "high"}}
    )
    assert res.overrides == {"train": {"format": "tfrecord"}}
    assert [h["requirement"] for h in res.honoured] == ["format", "privacy_level"]
    assert res.honoured[1]["frameworks"] == ["GDPR"]


def test_low_privacy_needs_nothing(tmp_path: Path) -> None:
    from engine.spec import parse_spec
    from serve.routes._requirements import resolve

    spec = parse_spec(SPEC)
    assert resolve(spec, {"dataRequirements": {"privacy_level": "low"}}).overrides == {}


def test_format_already_written_by_every_output_is_met() -> None:
    from engine.spec import parse_spec
    from serve.routes._requirements import RequirementUnmet, resolve

    def spec(fmt: str):
        return parse_spec(
            {
                "id": "t",
                "nodes": [
                    {"id": "load", "nodeType": "source", "category": "file",
                     "config": {"uri": "a.csv"}},
                    {"id": "out", "nodeType": "output", "category": "archive",
                     "inputs": ["load"], "config": {"uri": "out", "format": fmt}},
                ],
            }
        )  # fmt: skip

    res = resolve(spec("parquet"), {"dataRequirements": {"format": "parquet"}})
    assert res.overrides == {}
    assert res.honoured == [
        {"requirement": "format", "value": "parquet", "nodes": ["out"], "format": "parquet"}
    ]
    with pytest.raises(RequirementUnmet, match="model_training"):
        resolve(spec("csv"), {"dataRequirements": {"format": "parquet"}})
