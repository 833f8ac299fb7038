"""The metadata store on a real SQLite file: migrations, versions, executions, keys. Ray-free."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, select

from engine.errors import ResourceNotFound
from engine.plan.validation import check
from engine.spec.loader import parse_spec
from engine.store import (
    ConflictError,
    NotFoundError,
    Store,
    StoreCatalog,
    database_url,
    get_engine,
    hash_key,
    migrate,
)
from engine.store import schema as s

SPEC = {
    "id": "p1",
    "nodes": [
        {
            "id": "load",
            "nodeType": "source",
            "category": "file",
            "config": {"dataSourceId": "ds1"},
        },
        {
            "id": "out",
            "nodeType": "output",
            "category": "archive",
            "inputs": ["load"],
            "config": {"uri": "out/p1"},
        },
    ],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The store on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return Store(get_engine(f"sqlite:///{tmp_path}/metadata.db"))
    return Store(get_engine(request.getfixturevalue("pg_store_url")))


def test_database_url_defaults_to_the_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_BUILDER_DB_URL", raising=False)
    assert database_url() == f"sqlite:///{home / 'metadata.db'}"
    monkeypatch.setenv("PIPELINE_BUILDER_DB_URL", "postgresql://db/pb")
    assert database_url() == "postgresql://db/pb"
    assert get_engine("sqlite:///" + str(home / "x.db")) is get_engine(
        "sqlite:///" + str(home / "x.db")
    )


def test_upgrade_from_version_1_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    eng = create_engine(url)
    assert migrate(eng, target=1) == 1
    with eng.begin() as conn:
        assert "last_used_at" not in {c["name"] for c in inspect(conn).get_columns("pb_api_keys")}
        conn.execute(
            insert(s.pipelines).values(
                id="old", name="Old", latest_version=1, created_at="t", updated_at="t"
            )
        )
        conn.execute(
            insert(s.pipeline_versions).values(
                pipeline_id="old", version=1, spec={"id": "old"}, created_at="t"
            )
        )
        conn.execute(
            insert(s._api_keys_v1).values(
                id="key_old", key_hash=hash_key("pbk_old"), scope="admin", created_at="t"
            )
        )
    assert migrate(eng) == s.LATEST_VERSION
    store = Store(get_engine(url))
    assert store.schema_version() == s.LATEST_VERSION
    assert store.get_pipeline("old").spec == {"id": "old"}
    key = store.authenticate("pbk_old")
    assert key is not None and key.scopes == ["read", "execute", "admin"]
    assert migrate(eng) == s.LATEST_VERSION  # idempotent
    with eng.connect() as conn:
        versions = [r.version for r in conn.execute(select(s.schema_version.c.version))]
    assert versions == [m.version for m in s.MIGRATIONS]


def test_pipeline_versions_are_immutable(store: Store) -> None:
    v1 = store.create_pipeline(SPEC, created_by="key_a")
    with pytest.raises(ConflictError):
        store.create_pipeline(SPEC)
    v2 = store.add_pipeline_version({**SPEC, "name": "second"})
    assert (v1.version, v2.version, v2.latest_version) == (1, 2, 2)
    assert store.get_pipeline("p1", 1).spec == SPEC
    assert [v["version"] for v in store.list_pipeline_versions("p1")] == [1, 2]
    store.delete_pipeline("p1")
    with pytest.raises(NotFoundError):
        store.get_pipeline("p1")
    again = store.create_pipeline(SPEC)  # re-created after delete: numbering continues
    assert again.version == 3
    items, total = store.list_pipelines(limit=10)
    assert total == 1 and items[0].id == "p1"


def test_store_catalog_resolves_for_validation(store: Store) -> None:
    spec = parse_spec(SPEC)
    catalog = StoreCatalog(store)
    problems = check(spec, catalog)
    assert [p.node_id for p in problems] == ["load"] and "ds1" in problems[0].message
    store.create_resource("dataSources", {"id": "ds1", "uri": "data/a.csv"})
    assert check(spec, catalog) == []
    assert catalog.get("dataSources", "ds1")["uri"] == "data/a.csv"
    with pytest.raises(ResourceNotFound):
        catalog.get("dataSources", "nope")
    snap = catalog.snapshot()
    assert snap.get("dataSources", "ds1")["uri"] == "data/a.csv"
    updated = store.replace_resource("dataSources", {"id": "ds1", "uri": "data/b.csv"})
    assert updated.version == 2


def test_idempotency_and_cancel(store: Store) -> None:
    store.create_pipeline(SPEC)
    kwargs = dict(pipeline_id="p1", pipeline_version=1, triggered_by="t", context={"a": 1})
    _first, created = store.create_execution(
        execution_id="e1", idempotency_key="k1", request_hash="h1", **kwargs
    )
    same, created_again = store.create_execution(
        execution_id="e2", idempotency_key="k1", request_hash="h1", **kwargs
    )
    assert created and not created_again and same.id == "e1"
    with pytest.raises(ConflictError):
        store.create_execution(execution_id="e3", idempotency_key="k1", request_hash="h2", **kwargs)
    store.update_execution("e1", status="running", metrics={"recordsProcessed": 10})
    assert store.request_cancel("e1").cancel_requested
    assert store.cancel_requested("e1")
    store.update_execution("e1", status="cancelled")
    store.update_execution("e1", status="running")  # late writes lose once terminal
    assert store.get_execution("e1").status == "cancelled"
    with pytest.raises(ConflictError):
        store.request_cancel("e1")
    with pytest.raises(NotFoundError):
        store.get_execution("e1", pipeline_id="other")
    items, total = store.list_executions(pipeline_id="p1", status="cancelled")
    assert total == 1 and items[0].id == "e1"


def test_api_keys_are_hashed_and_revocable(store: Store) -> None:
    key, token = store.create_api_key("execute", name="ci")
    assert token.startswith("pbk_") and len(token) > 40
    with store.engine.connect() as conn:
        stored = conn.execute(select(s.api_keys.c.key_hash)).scalar_one()
    assert stored == hash_key(token) and token not in stored
    got = store.authenticate(token)
    assert got is not None and got.scopes == ["read", "execute"] and not got.allows("admin")
    assert store.authenticate("pbk_wrong") is None
    store.revoke_api_key(key.id)
    assert store.authenticate(token) is None
    with pytest.raises(NotFoundError):
        store.revoke_api_key(key.id)
