"""Tables of the metadata store and the ordered migrations that create and upgrade them.

The schema is versioned: ``schema_version`` holds one row per applied migration, and
:func:`migrate` applies, in order and each in its own transaction, every migration
newer than the database. Upgrading the package therefore upgrades the database in
place and keeps its data. A migration is never edited once released; a change is a
new migration appended to :data:`MIGRATIONS`.

Every table of the engine is here, the audit log's and the webhook outbox's too: their
packages (:mod:`engine.audit`, :mod:`engine.webhooks`) import these tables and call
:func:`engine.store.migrate` instead of creating tables of their own.

Timestamps are ISO 8601 UTC strings (``2026-01-15T14:30:00.123456Z``, see
:mod:`engine.store.times`): portable between SQLite and PostgreSQL and sortable as
text. JSON documents use SQLAlchemy's ``JSON`` type (``JSONB``-compatible text on
SQLite, ``JSON`` on PostgreSQL).

Migration 4 adopts the audit and outbox tables, which earlier releases created outside
this list (``create_all``) with epoch-seconds floats: it creates them on a database
that lacks them, and converts an existing one's time columns in place to ISO text
(exactly: see :func:`engine.store.times.iso_from_epoch`), keeping every row.

Migration 5 adopts the node templates table the same way: earlier releases created it
with ``create_all`` and the same columns (times already ISO text), so it is made only
where it is missing and an existing one is kept with its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    inspect,
    select,
    update,
)

from engine.store.times import iso_from_epoch

metadata = MetaData()

schema_version = Table(
    "pb_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

pipelines = Table(
    "pb_pipelines",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(300)),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("deleted_at", String(40)),
)

pipeline_versions = Table(
    "pb_pipeline_versions",
    metadata,
    Column("pipeline_id", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(64)),
)

resources = Table(
    "pb_resources",
    metadata,
    Column("kind", String(40), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

executions = Table(
    "pb_executions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("pipeline_id", String(128), nullable=False),
    Column("pipeline_version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("triggered_by", String(200)),
    Column("context", JSON),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    Column("created_by", String(64)),
    Column("created_at", String(40), nullable=False),
    Column("started_at", String(40)),
    Column("finished_at", String(40)),
    Column("updated_at", String(40), nullable=False),
    Column("progress", JSON),
    Column("metrics", JSON),
    Column("nodes", JSON),
    Column("error", Text),
    Column("result", JSON),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("runner", String(200)),
    UniqueConstraint("pipeline_id", "idempotency_key", name="uq_pb_exec_idempotency"),
    Index("ix_pb_exec_pipeline_created", "pipeline_id", "created_at"),
    Index("ix_pb_exec_status", "status"),
)

api_keys = Table(
    "pb_api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200)),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scope", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
    Column("last_used_at", String(40)),
    Column("created_by", String(40)),
)

# The api-keys table as release 1 created it (migration 2 adds last_used_at); migrations
# use such frozen snapshots so that replaying them builds exactly the old schema.
_api_keys_v1 = Table(
    "pb_api_keys",
    MetaData(),
    Column("id", String(40), primary_key=True),
    Column("name", String(200)),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scope", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

lineage_events = Table(
    "pb_lineage_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(64), nullable=False),
    Column("event_type", String(20), nullable=False),
    Column("event_time", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Index("ix_pb_lineage_execution", "execution_id", "seq"),
)


# What each execution read and wrote, under which identity (data governance): one row
# per node and location. Written by the access observer at the end of every run.
access_records = Table(
    "pb_access",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("execution_id", String(64), nullable=False),
    Column("pipeline_id", String(128)),
    Column("identity", String(200), nullable=False),
    Column("interface", String(20), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("node_type", String(80)),
    Column("data_source_id", String(128)),
    Column("location", Text),
    Column("files", JSON),
    Column("tables", JSON),
    Column("columns", JSON),
    Column("rows", Integer),
    Column("status", String(20)),
    Index("ix_pb_access_source", "data_source_id", "seq"),
    Index("ix_pb_access_execution", "execution_id"),
)


# The audit log (engine.audit): an HMAC-keyed hash chain and its head.
audit_entries = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("entry_id", String(40), nullable=False, unique=True),
    Column("at", String(40), nullable=False, index=True),
    Column("actor", String(200), nullable=False, index=True),
    Column("action", String(100), nullable=False, index=True),
    Column("resource_type", String(100), nullable=False),
    Column("resource_id", String(200), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("request_id", String(100)),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("first_seq", Integer, nullable=False),
    Column("first_prev_hash", String(64), nullable=False),
)

# The webhook outbox (engine.webhooks): endpoints, messages, deliveries, attempts.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)
webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("message_id", String(64), nullable=False, index=True),
    Column("endpoint_id", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(40), nullable=False),
    Column("locked_until", String(40)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", String(40), nullable=False),
    Column("delivered_at", String(40)),
)
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", String(40), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Float),
    Column("response_excerpt", Text),
)

# Configured nodes saved for reuse (``/api/node-templates``); releases before migration 5
# created this table outside the list (``create_all``), already with ISO text times.
node_templates = Table(
    "node_templates",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("node_type", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_by", String(64)),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# The time columns that releases before migration 4 stored as epoch-seconds floats.
_EPOCH_TIME_COLUMNS: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (audit_entries, ("at",)),
    (webhook_endpoints, ("created_at", "updated_at")),
    (webhook_messages, ("created_at",)),
    (webhook_deliveries, ("next_attempt_at", "locked_until", "created_at", "delivered_at")),
    (webhook_attempts, ("at",)),
)


@dataclass(frozen=True)
class Migration:
    """One schema change: ``apply(conn)`` runs inside the migration's transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create(*tables: Table) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for t in tables:
            t.create(conn, checkfirst=True)

    return apply


def _add_column(table: Table, column: Column) -> Callable[[Connection], None]:  # type: ignore[type-arg]
    def apply(conn: Connection) -> None:
        existing = {c["name"] for c in inspect(conn).get_columns(table.name)}
        if column.name in existing:
            return
        ddl = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {ddl}")

    return apply


def _migration_2(conn: Connection) -> None:
    _create(lineage_events)(conn)
    _add_column(api_keys, api_keys.c.last_used_at)(conn)


def _migration_3(conn: Connection) -> None:
    _create(access_records)(conn)
    _add_column(api_keys, api_keys.c.created_by)(conn)


def _migration_4(conn: Connection) -> None:
    _create(audit_head)(conn)  # no time column: made if missing, else kept as it is
    for table, columns in _EPOCH_TIME_COLUMNS:
        if not inspect(conn).has_table(table.name):
            table.create(conn)
            continue
        for name in columns:
            _epoch_column_to_iso(conn, table, name)


def _epoch_column_to_iso(conn: Connection, table: Table, name: str) -> None:
    """Turn one epoch-seconds column into ISO text in place (a no-op if it is text).

    A text column ``<name>__iso`` is added and filled row by row (in primary-key order,
    a page at a time), the float column and its indexes are dropped, the new column
    takes the old name and the table's indexes on it are made again. On a migrated
    database the column therefore comes last and carries ``DEFAULT ''``.
    """
    info = {c["name"]: c for c in inspect(conn).get_columns(table.name)}
    if name not in info or isinstance(info[name]["type"], String):
        return
    temp = f"{name}__iso"
    column = table.c[name]
    not_null = "" if column.nullable else " NOT NULL DEFAULT ''"
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {temp} VARCHAR(40){not_null}")
    _copy_as_iso(conn, table, name, temp)
    for found in inspect(conn).get_indexes(table.name):
        if name in found["column_names"]:
            conn.exec_driver_sql(f"DROP INDEX {found['name']}")
    conn.exec_driver_sql(f"ALTER TABLE {table.name} DROP COLUMN {name}")
    conn.exec_driver_sql(f"ALTER TABLE {table.name} RENAME COLUMN {temp} TO {name}")
    for index in table.indexes:
        if name in {c.name for c in index.columns}:
            index.create(conn, checkfirst=True)


def _copy_as_iso(conn: Connection, table: Table, name: str, temp: str, page: int = 1000) -> None:
    """Fill ``temp`` with the ISO text of the float column ``name``, a page at a time."""
    (key,) = table.primary_key.columns
    raw = Table(table.name, MetaData(), Column(key.name, key.type), Column(name, Float()))
    target = Table(table.name, MetaData(), Column(key.name, key.type), Column(temp, String(40)))
    change = (
        update(target)
        .where(target.c[key.name] == bindparam("_key"))
        .values({temp: bindparam("_iso")})
    )
    last = None
    while True:
        query = select(raw.c[key.name], raw.c[name]).order_by(raw.c[key.name]).limit(page)
        if last is not None:
            query = query.where(raw.c[key.name] > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        values = [{"_key": k, "_iso": None if ts is None else iso_from_epoch(ts)} for k, ts in rows]
        conn.execute(change, values)
        last = rows[-1][0]


# Version 1 is the first release's schema; version 2 shows (and tests) the upgrade path:
# it adds lineage events and the last-use time of API keys to a version-1 database.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "pipelines, versions, resources, executions, api keys",
        _create(pipelines, pipeline_versions, resources, executions, _api_keys_v1),
    ),
    Migration(
        2,
        "lineage events; api_keys.last_used_at",
        lambda conn: _migration_2(conn),
    ),
    Migration(
        3,
        "access records; api_keys.created_by",
        lambda conn: _migration_3(conn),
    ),
    Migration(
        4,
        "audit log and webhook outbox tables; their times as ISO 8601 UTC text",
        lambda conn: _migration_4(conn),
    ),
    Migration(
        5,
        "node templates table (made if missing, an existing one kept as it is)",
        _create(node_templates),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    if not inspect(conn).has_table(schema_version.name):
        return 0
    got = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()))
    row = got.first()
    return int(row[0]) if row else 0
