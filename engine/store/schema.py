"""Tables of the metadata store and the ordered migrations that create and upgrade them.

The schema is versioned: ``schema_version`` holds one row per applied migration, and
:func:`migrate` applies, in order and each in its own transaction, every migration
newer than the database. Upgrading the package therefore upgrades the database in
place and keeps its data. A migration is never edited once released; a change is a
new migration appended to :data:`MIGRATIONS`.

Timestamps are ISO 8601 UTC strings (``2026-01-15T14:30:00.123456Z``): portable
between SQLite and PostgreSQL and sortable as text. JSON documents use SQLAlchemy's
``JSON`` type (``JSONB``-compatible text on SQLite, ``JSON`` on PostgreSQL).

Other packages (webhooks, audit) keep their own tables in their own ``MetaData`` on
the same engine; they are not listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
)

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
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    if not inspect(conn).has_table(schema_version.name):
        return 0
    got = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()))
    row = got.first()
    return int(row[0]) if row else 0
