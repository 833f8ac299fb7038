"""Data governance: one data source read through the API, the CLI and a driver script;
the access listing (API and CLI) shows all three reads with the reading identity."""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import runpy
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from serve.client import Client
from tests.serve.serve_helpers import create_key

ROWS = 250


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spec(pid: str, out: str) -> dict:
    return {
        "id": pid,
        "nodes": [
            {
                "id": "load",
                "nodeType": "source",
                "category": "file",
                "config": {"dataSourceId": "ds_people"},
            },
            {
                "id": "save",
                "nodeType": "output",
                "category": "archive",
                "inputs": ["load"],
                "config": {"uri": out, "format": "parquet"},
            },
        ],
    }


@pytest.fixture(scope="module")
def server(
    ray_session, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, Path, str]]:
    from ray import serve

    from serve.app import APP_NAME, build_app

    home = tmp_path_factory.mktemp("access-home")
    data = home / "data"
    data.mkdir()
    lines = ["person_id,email,age"] + [f"P{i},p{i}@example.org,{20 + i % 50}" for i in range(ROWS)]
    (data / "people.csv").write_text("\n".join(lines) + "\n")
    db_url = f"sqlite:///{home}/metadata.db"
    admin = create_key(db_url, "admin")
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    env = {"PIPELINE_BUILDER_DATA_ROOTS": str(data)}
    serve.run(build_app(db_url, str(home), env=env), name=APP_NAME, route_prefix="/")
    try:
        yield f"http://127.0.0.1:{port}", admin, home, db_url
    finally:
        serve.shutdown()


def test_api_cli_and_driver_reads_are_all_listed(
    server: tuple[str, str, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, admin, home, db_url = server
    api = Client(base_url, admin, timeout=60)
    data = home / "data"
    source = {"id": "ds_people", "type": "file", "uri": "data/people.csv", "format": "csv"}

    # 1. the API, as a key with execute scope
    reader = api.create_key("execute", name="analyst")
    api.create_resource("data-sources", source)
    as_reader = Client(base_url, reader["key"], timeout=60)
    api.create_pipeline(_spec("p_api", "data/out_api"))
    run = as_reader.execute("p_api")
    assert as_reader.wait("p_api", run["executionId"], timeout=300)["status"] == "completed"

    # 2. the CLI, on the same metadata database and home
    monkeypatch.setenv("PIPELINE_BUILDER_HOME", str(home))
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", db_url)
    catalog = data / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"dataSources": [{**source, "uri": "people.csv"}]}))
    spec_file = data / "cli.yaml"
    spec_file.write_text(yaml.safe_dump(_spec("p_cli", str(data / "out_cli"))))
    from engine.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", str(spec_file), "--catalog", str(catalog), "--quiet"]) == 0

    # 3. a driver script (run as a script, calling the engine as drivers do)
    script = data / "driver.py"
    script.write_text(
        "from engine.catalog import load_catalog\n"
        "from engine.context import RunOptions\n"
        "from engine.run.runner import run_pipeline\n"
        "from engine.service.observers import default_observers\n"
        "from engine.spec import load_spec\n"
        f"spec = load_spec({str(data / 'driver.yaml')!r})\n"
        f"options = RunOptions(base_dir={str(data)!r})\n"
        f"result = run_pipeline(spec, load_catalog({str(catalog)!r}), options=options,\n"
        "                      observers=default_observers())\n"
        "assert result.ok, result.error\n"
    )
    (data / "driver.yaml").write_text(yaml.safe_dump(_spec("p_driver", str(data / "out_drv"))))
    runpy.run_path(str(script), run_name="__main__")

    user = getpass.getuser()
    listed = api.request("GET", "/api/data-sources/ds_people/access")
    reads = [r for r in listed["items"] if r["direction"] == "read"]
    got = {(r["interface"], r["identity"], r["pipelineId"]) for r in reads}
    assert got == {
        ("api", reader["id"], "p_api"),
        ("cli", f"cli:{user}", "p_cli"),
        ("driver", f"driver:{user}", "p_driver"),
    }, listed
    for r in reads:
        assert r["rows"] == ROWS and r["columns"] == ["person_id", "email", "age"], r
        assert r["location"].endswith("people.csv") and r["at"] and r["executionId"]

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["access", "ds_people", "--json", "--db-url", db_url]) == 0
    cli_rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {(r["interface"], r["identity"]) for r in cli_rows if r["direction"] == "read"} == {
        (i, who) for i, who, _ in got
    }

    # the listing itself needs admin
    with pytest.raises(Exception) as exc:
        as_reader.request("GET", "/api/data-sources/ds_people/access")
    assert getattr(exc.value, "status", None) == 403
