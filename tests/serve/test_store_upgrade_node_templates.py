"""A database whose node templates table was made outside the migration list upgrades.

Releases before schema migration 5 created ``node_templates`` from the API route with
``create_all`` (times already ISO text). The old table is made here from a frozen copy
of that definition and its rows written with SQL, not by the code under test. Opening
the store must adopt the table, keep every row and serve it like a new one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.store import NotFoundError, Store, get_engine, migrate
from engine.store import schema as s

old = sa.MetaData()
old_templates = sa.Table(
    "node_templates",
    old,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("node_type", sa.String(64), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
OLD_ROWS = (
    {
        "id": "pii_strict", "name": "PII strict", "description": "HIPAA, 0.9",
        "node_type": "privacy", "category": "detection",
        "config": {"patternLibraryId": "patterns_healthcare", "confidenceThreshold": 0.9},
        "created_by": "key_old", "created_at": "2026-01-15T14:30:00.123456Z",
        "updated_at": "2026-01-16T09:00:00.000000Z",
    },
    {
        "id": "drop_nulls", "name": "Drop nulls", "description": "",
        "node_type": "transform", "category": "filter", "config": {"condition": "x IS NOT NULL"},
        "created_by": None, "created_at": "2026-01-17T08:00:00.000000Z",
        "updated_at": "2026-01-17T08:00:00.000000Z",
    },
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.db"
    return str(request.getfixturevalue("pg_store_url"))


def _make_old_database(eng: sa.Engine) -> None:
    """The database as release 4 left it: store schema 4 and the route's create_all table."""
    assert migrate(eng, target=4) == 4
    old.create_all(eng)
    with eng.begin() as conn:
        conn.execute(old_templates.insert(), list(OLD_ROWS))


def test_old_node_templates_table_is_adopted_with_its_rows(db_url: str) -> None:
    eng = get_engine(db_url)
    _make_old_database(eng)

    store = Store(eng)  # opening the store migrates it
    assert store.schema_version() == s.LATEST_VERSION
    saved = {t.id: t for t in store.list_node_templates()}
    assert set(saved) == {r["id"] for r in OLD_ROWS}
    for row in OLD_ROWS:
        got = saved[row["id"]]
        assert (got.name, got.description, got.node_type, got.category) == (
            row["name"], row["description"], row["node_type"], row["category"],
        )  # fmt: skip
        assert got.config == row["config"]
        assert (got.created_by, got.created_at, got.updated_at) == (
            row["created_by"], row["created_at"], row["updated_at"],
        )  # fmt: skip
    assert [t.name for t in store.list_node_templates()] == ["Drop nulls", "PII strict"]

    changed = store.replace_node_template(
        "pii_strict", name="PII strict", description="HIPAA, 0.95", node_type="privacy",
        category="detection", config={"confidenceThreshold": 0.95},
    )  # fmt: skip
    assert changed.config == {"confidenceThreshold": 0.95}
    assert changed.created_at == OLD_ROWS[0]["created_at"]
    assert changed.updated_at > OLD_ROWS[0]["updated_at"]
    added = store.create_node_template(
        "new_one", name="New", description="", node_type="transform", category="filter",
        config={}, created_by="key_new",
    )  # fmt: skip
    assert added.created_at.endswith("Z")
    store.delete_node_template("drop_nulls")
    with pytest.raises(NotFoundError, match="node template 'drop_nulls' not found"):
        store.get_node_template("drop_nulls")
    assert [t.id for t in store.list_node_templates()] == ["new_one", "pii_strict"]


def test_a_database_without_the_table_gets_it(db_url: str) -> None:
    eng = get_engine(db_url)
    assert migrate(eng, target=4) == 4
    assert not sa.inspect(eng).has_table(s.node_templates.name)
    assert migrate(eng) == s.LATEST_VERSION
    assert sa.inspect(eng).has_table(s.node_templates.name)
    assert migrate(eng) == s.LATEST_VERSION  # idempotent
