"""Database and API sources in whole runs (run_pipeline -> output/archive), plus the CLI."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from engine.catalog import DictCatalog
from engine.cli import main as cli_main
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from engine.spec.models import PipelineSpec

pytestmark = pytest.mark.usefixtures("ray_session")

MAPPING = {"id": "people_mapping", "rename": {"name": "full_name"}, "drop": ["secret_note"]}


def read_rows(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in sorted(folder.rglob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def spec(source: dict[str, Any], out: Path) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "id": "sources_e2e",
            "nodes": [
                {"id": "load", "nodeType": "source", **source},
                {
                    "id": "out",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["load"],
                    "config": {"uri": str(out)},
                },
            ],
        }
    )


def people_table(engine: sa.Engine, table: str, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER, name TEXT, secret_note TEXT)"))
        conn.execute(
            sa.text(f"INSERT INTO {table} VALUES (:id, :name, :note)"),
            [{"id": i, "name": f"person {i}", "note": "x"} for i in range(rows)],
        )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_database_source_runs_to_an_archive_with_a_stored_mapping(
    request, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    table = f"people_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        admin = f"sqlite:///{tmp_path / 'people.db'}"
        resource: dict[str, Any] = {"url": admin}
    else:
        full = sa.make_url(request.getfixturevalue("pg_url"))
        monkeypatch.setenv("E2E_PG_PASSWORD", full.password or "")
        admin = full.render_as_string(hide_password=False)
        resource = {
            "url": full._replace(password=None).render_as_string(hide_password=False),
            "password": "env:E2E_PG_PASSWORD",
        }
    engine = sa.create_engine(admin)
    people_table(engine, table, 2500)
    resource.update(
        id="ds_people",
        type="database",
        fieldMappings="people_mapping",
        partitionColumn="id",
        partitions=3,
        fetchSize=500,
        queries={
            "adults": {
                "sql": f"SELECT id, name, secret_note FROM {table} WHERE id >= :min_id",
                "params": {"min_id": {"type": "int"}},
            }
        },
    )
    catalog = DictCatalog(
        {"dataSources": {"ds_people": resource}, "fieldMappings": {"people_mapping": MAPPING}}
    )
    source = {
        "category": "database",
        "config": {
            "dataSourceId": "ds_people",
            "params": {"min_id": 100},
            "includeTransformed": True,
        },
    }
    try:
        result = run_pipeline(
            spec(source, tmp_path / "out"), catalog, options=RunOptions(home=home)
        )
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {table}"))
        engine.dispose()
    assert result.ok, result.error
    rows = read_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == list(range(100, 2500))
    assert set(rows[0]) == {"id", "full_name"}
    d = result.to_dict()
    assert d["nodes"]["load"]["rowsOut"] == 2400
    assert d["nodes"]["load"]["facts"]["partitions"] == 3
    assert d["sources"][0]["dataSourceId"] == "ds_people"
    if kind == "postgresql":
        assert f":{full.password}@" not in json.dumps(d)
        assert d["sources"][0]["location"] == resource["url"]


def test_api_source_runs_to_an_archive_with_retries_and_a_dropped_page(
    tmp_path: Path, home: Path, api_server, api_resource
) -> None:
    api_server.behaviour.failures = [503, 429]
    api_server.behaviour.malformed = {4: "html"}
    catalog = DictCatalog({"dataSources": {"ds_api": api_resource("page")}})
    source = {"category": "api", "onError": "drop", "config": {"dataSourceId": "ds_api"}}
    result = run_pipeline(spec(source, tmp_path / "out"), catalog, options=RunOptions(home=home))

    assert result.ok, result.error
    rows = read_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == [*range(15), *range(20, 23)]
    counters = result.to_dict()["nodes"]["load"]["counters"]
    assert counters["retries"] == 2
    assert counters["malformedPages"] == 1
    assert counters["pages"] == 5


def test_api_source_failure_fails_the_run_with_the_page(
    tmp_path: Path, home: Path, api_server, api_resource
) -> None:
    api_server.behaviour.malformed = {2: "no_records"}
    catalog = DictCatalog({"dataSources": {"ds_api": api_resource("offset")}})
    source = {"category": "api", "config": {"dataSourceId": "ds_api"}}
    result = run_pipeline(spec(source, tmp_path / "out"), catalog, options=RunOptions(home=home))
    assert not result.ok
    assert "page 2" in result.error and "records path 'data.items' is missing" in result.error
    assert not (tmp_path / "out").exists() or not read_rows(tmp_path / "out")


def write_catalog(path: Path, sources: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"dataSources": sources}), encoding="utf-8")
    return path


def test_cli_sources_test_for_each_kind(
    tmp_path: Path, api_server, api_resource, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "app.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    people_table(engine, "people", 20)
    engine.dispose()
    (tmp_path / "people.csv").write_text("id,name\n1,a\n2,b\n", encoding="utf-8")
    cat = write_catalog(
        tmp_path / "catalog.json",
        [
            {
                "id": "ds_db",
                "type": "database",
                "url": "sqlite:///app.db",  # relative to the catalog's folder
                "queries": {
                    "few": {
                        "sql": "SELECT id, name FROM people WHERE id < :n",
                        "params": {"n": {"type": "int", "default": 10}},
                    }
                },
            },
            api_resource("cursor"),
            {"id": "ds_file", "type": "file", "uri": str(tmp_path / "people.csv"), "format": "csv"},
            {"id": "ds_odd", "type": "ftp"},
        ],
    )
    assert cli_main(["sources", "test", "ds_db", "--catalog", str(cat), "--param", "n=3"]) == 0
    out = capsys.readouterr().out
    assert "ok: data source 'ds_db' (database) read 3 row(s)" in out
    assert "  id: int64" in out and "  name: string" in out

    assert cli_main(["sources", "test", "ds_api", "--catalog", str(cat), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and [r["id"] for r in doc["rows"]] == [0, 1, 2, 3, 4]
    assert {"name": "score", "type": "double"} in doc["schema"]

    assert cli_main(["sources", "test", "ds_file", "--catalog", str(cat), "--limit", "1"]) == 0
    assert "(file) read 1 row(s)" in capsys.readouterr().out

    assert cli_main(["sources", "test", "ds_odd", "--catalog", str(cat)]) == 1
    err = capsys.readouterr().err
    assert "has type 'ftp'; expected one of " in err
    expected = err.split("expected one of ", 1)[1].split()[0:3]
    assert sorted(k.strip(",") for k in expected) == ["api", "database", "file"]


def test_cli_reports_a_failing_source_without_secrets(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLI_BAD_PASSWORD", "not-the-Password-42")
    url = sa.make_url(pg_url)._replace(password=None).render_as_string(hide_password=False)
    cat = write_catalog(
        tmp_path / "catalog.json",
        [
            {
                "id": "ds_pg",
                "type": "database",
                "url": url,
                "password": "env:CLI_BAD_PASSWORD",
                "queries": {"q": "SELECT 1 AS x"},
            }
        ],
    )
    assert cli_main(["sources", "test", "ds_pg", "--catalog", str(cat)]) == 1
    err = capsys.readouterr().err
    assert "FAILED: data source 'ds_pg' (database)" in err
    assert "password authentication failed" in err
    assert "not-the-Password-42" not in err
