"""source/database against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.errors import NodeConfigError, NodeError

ROWS = 1000
INJECTION = "'; DROP TABLE {table}; --"


def expected_id(i: int) -> int | None:
    return None if i % 97 == 0 else i


@dataclass
class Db:
    """A table of ROWS rows in a real database, plus its data-source resource."""

    kind: str
    url: str  # without password
    admin_url: str  # with password, for the test's own setup
    password_ref: str | None
    table: str

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.admin_url)

    def count(self) -> int:
        eng = self.engine()
        with eng.connect() as conn:
            n = conn.execute(sa.text(f"SELECT COUNT(*) FROM {self.table}")).scalar_one()
        eng.dispose()
        return int(n)

    def resource(self, sql: str | None = None, **extra: Any) -> dict[str, Any]:
        res: dict[str, Any] = {
            "id": "ds_db",
            "type": "database",
            "url": self.url,
            "queries": {
                "all_rows": {"sql": sql or f"SELECT id, name, day, amount FROM {self.table}"},
                "by_name": {
                    "sql": f"SELECT id, name FROM {self.table} WHERE name = :name",
                    "params": {"name": {"type": "str"}},
                },
                "above": {
                    "sql": f"SELECT id FROM {self.table} WHERE amount > :min",
                    "params": {"min": {"type": "float", "default": 0}},
                },
            },
            "fetchSize": 64,
        }
        if self.password_ref:
            res["password"] = self.password_ref
        res.update(extra)
        return res


def _fill(engine: sa.Engine, table: str, kind: str) -> None:
    day_type = "TEXT" if kind == "sqlite" else "DATE"
    rows = []
    for i in range(ROWS):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i % 365)
        rows.append(
            {
                "id": expected_id(i),
                "name": f"name-{i}",
                "day": day.isoformat() if kind == "sqlite" else day,
                "amount": i * 1.5,
            }
        )
    rows.append({"id": ROWS, "name": INJECTION.format(table=table), "day": None, "amount": -1.0})
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} "
                f"(id INTEGER, name TEXT, day {day_type}, amount DOUBLE PRECISION)"
            )
        )
        conn.execute(
            sa.text(
                f"INSERT INTO {table} (id, name, day, amount) VALUES (:id, :name, :day, :amount)"
            ),
            rows,
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Db]:
    table = f"items_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        _fill(engine, table, "sqlite")
        engine.dispose()
        yield Db("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", None, table)
        return
    full = sa.make_url(request.getfixturevalue("pg_url"))
    monkeypatch.setenv("TEST_PG_PASSWORD", full.password or "")
    engine = sa.create_engine(full)
    _fill(engine, table, "postgresql")
    admin = full.render_as_string(hide_password=False)
    yield Db(
        "postgresql",
        full._replace(password=None).render_as_string(hide_password=False),
        admin,
        "env:TEST_PG_PASSWORD",
        table,
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def node(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "load", "nodeType": "source", "category": "database", "config": config, **extra}


def test_partitioned_read_returns_every_row_exactly_once(ray_session, kit, db: Db) -> None:
    res = db.resource(partitionColumn="id", partitions=4)
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "all_rows"}), {"dataSources": {"ds_db": res}}
    )
    ds = kit.build(ctx)
    table = kit.read_all(ds)

    assert ctx.facts["partitions"] == 5  # four key ranges + the NULL keys
    assert "ReadSQL: 5 tasks executed" in ds.stats()  # one Ray task per partition
    assert table.num_rows == ROWS + 1
    ids = table.column("id").to_pylist()
    want = [expected_id(i) for i in range(ROWS)] + [ROWS]
    assert sorted(i for i in ids if i is not None) == sorted(i for i in want if i is not None)
    assert ids.count(None) == want.count(None)
    assert sorted(table.column("name").to_pylist()) == sorted(
        [f"name-{i}" for i in range(ROWS)] + [INJECTION.format(table=db.table)]
    )


def test_date_key_partitions_cover_every_row_once(ray_session, kit, db: Db) -> None:
    res = db.resource(partitionColumn="day", partitions=3)
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "all_rows"}), {"dataSources": {"ds_db": res}}
    )
    table = kit.read_all(kit.build(ctx))

    assert ctx.facts["partitions"] == 4  # three date ranges + the row without a day
    assert table.num_rows == ROWS + 1
    assert sorted(table.column("name").to_pylist()) == sorted(
        [f"name-{i}" for i in range(ROWS)] + [INJECTION.format(table=db.table)]
    )


def test_sql_in_a_parameter_is_only_data(ray_session, kit, db: Db) -> None:
    res = db.resource(partitionColumn="id", partitions=2)
    before = db.count()
    payload = INJECTION.format(table=db.table)
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "by_name", "params": {"name": payload}}),
        {"dataSources": {"ds_db": res}},
    )
    table = kit.read_all(kit.build(ctx))
    assert table.column("name").to_pylist() == [payload]  # matched as a plain string
    assert db.count() == before  # the table is still there, untouched

    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "by_name", "params": {"name": "x' OR '1'='1"}}),
        {"dataSources": {"ds_db": res}},
    )
    assert kit.read_all(kit.build(ctx)).num_rows == 0


def test_typed_parameters_are_bound(ray_session, kit, db: Db) -> None:
    res = db.resource()
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "above", "params": {"min": "1497"}}),
        {"dataSources": {"ds_db": res}},
    )
    table = kit.read_all(kit.build(ctx))
    assert sorted(table.column("id").to_pylist()) == [999]


def test_connection_is_read_only(ray_session, kit, db: Db) -> None:
    from engine.secrets import resolve_secret
    from nodes.sources.sql_connect import connection_info

    if db.kind == "sqlite":
        writing_query = f"DELETE FROM {db.table} RETURNING id"
    else:  # server-side cursors refuse DELETE; nextval() is a write PostgreSQL checks
        with db.engine().begin() as conn:
            conn.execute(sa.text(f"CREATE SEQUENCE {db.table}_seq"))
        writing_query = f"SELECT nextval('{db.table}_seq') AS n"
    res = db.resource(sql=writing_query)
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "all_rows"}), {"dataSources": {"ds_db": res}}
    )
    with pytest.raises(Exception, match=r"(?i)read-?only"):
        kit.read_all(kit.build(ctx))

    info = connection_info(node_id="t", resource=res, resolve_secret=resolve_secret, base_dir=None)
    with info.connect() as conn, pytest.raises(sa.exc.DBAPIError, match=r"(?i)read-?only"):
        conn.execute(sa.text(f"DELETE FROM {db.table}"))
    assert db.count() == ROWS + 1


def test_wrong_password_gives_clear_error_without_the_password(
    ray_session, kit, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Wr0ng-Pa55-" + uuid.uuid4().hex[:6]
    monkeypatch.setenv("TEST_PG_BAD_PASSWORD", secret)
    url = sa.make_url(pg_url)._replace(password=None).render_as_string(hide_password=False)
    res = {
        "id": "ds_pg",
        "type": "database",
        "url": url,
        "password": "env:TEST_PG_BAD_PASSWORD",
        "queries": {"one": "SELECT 1 AS x"},
        "partitionColumn": "x",
    }
    ctx = kit.ctx(node({"dataSourceId": "ds_pg"}), {"dataSources": {"ds_pg": res}})
    with pytest.raises(NodeError) as info:
        kit.build(ctx)
    message = str(info.value)
    assert message.startswith("node 'load': cannot connect to database postgresql+psycopg://")
    assert "password authentication failed" in message
    assert secret not in message
    assert secret not in repr(info.value.__cause__) and info.value.__suppress_context__


def test_partition_read_without_key_column_streams_one_task(ray_session, kit, db: Db) -> None:
    ctx = kit.ctx(
        node({"dataSourceId": "ds_db", "query": "all_rows"}),
        {"dataSources": {"ds_db": db.resource()}},
    )
    table = kit.read_all(kit.build(ctx))
    assert ctx.facts["partitions"] == 1
    assert table.num_rows == ROWS + 1


@pytest.mark.parametrize(
    ("resource_patch", "config_patch", "message"),
    [
        ({}, {"query": "nope"}, "has no query 'nope'; known queries: above, all_rows, by_name"),
        ({}, {"query": "by_name"}, "needs parameter 'name'"),
        ({}, {"query": "above", "params": {"min": "lots"}}, "value 'lots' is not a valid float"),
        ({}, {"query": "above", "params": {"max": 1}}, "has no parameter(s) max"),
        (
            {"queries": {"q": {"sql": "SELECT 1 WHERE 1 = :x"}}},
            {},
            "undeclared parameter(s) x",
        ),
        ({"partitionColumn": "id; DROP"}, {"query": "all_rows"}, "must be a plain column name"),
        ({"type": "api"}, {"query": "all_rows"}, "needs a data source of type 'database'"),
    ],
)
def test_misconfiguration_is_reported(
    ray_session, kit, tmp_path: Path, resource_patch, config_patch, message
) -> None:
    path = tmp_path / "x.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    res = {
        "id": "ds_db",
        "type": "database",
        "url": f"sqlite:///{path}",
        "queries": {
            "all_rows": "SELECT 1 AS id",
            "by_name": {"sql": "SELECT :name AS n", "params": {"name": {"type": "str"}}},
            "above": {"sql": "SELECT :min AS m", "params": {"min": {"type": "float"}}},
        },
        **resource_patch,
    }
    ctx = kit.ctx(node({"dataSourceId": "ds_db", **config_patch}), {"dataSources": {"ds_db": res}})
    with pytest.raises(NodeConfigError) as info:
        kit.build(ctx)
    assert message in str(info.value)


def test_password_inside_the_url_is_refused(ray_session, kit) -> None:
    res = {
        "id": "ds_db",
        "type": "database",
        "url": "postgresql+psycopg://app:hunter2@127.0.0.1:1/db",
        "queries": {"q": "SELECT 1"},
    }
    ctx = kit.ctx(node({"dataSourceId": "ds_db"}), {"dataSources": {"ds_db": res}})
    with pytest.raises(NodeConfigError) as info:
        kit.build(ctx)
    assert "must not contain a password" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_missing_sqlite_file_is_a_clear_error(ray_session, kit, tmp_path: Path) -> None:
    res = {
        "id": "ds_db",
        "type": "database",
        "url": f"sqlite:///{tmp_path}/missing.db",
        "queries": {"q": "SELECT 1 AS x"},
        "partitionColumn": "x",
    }
    ctx = kit.ctx(node({"dataSourceId": "ds_db"}), {"dataSources": {"ds_db": res}})
    with pytest.raises(NodeError, match=r"cannot connect to database sqlite:///.*missing\.db"):
        kit.build(ctx)
