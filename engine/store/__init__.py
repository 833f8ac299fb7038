"""The persistent metadata store (SQLAlchemy): SQLite file by default, PostgreSQL by URL.

The database URL comes from ``PIPELINE_BUILDER_DB_URL``; without it the store is the
embedded file ``$PIPELINE_BUILDER_HOME/metadata.db``. :func:`get_engine` returns one
cached engine per URL for the process and :func:`open_store` a :class:`Store` on it.

Every table lives in :mod:`engine.store.schema` with the one ordered list of migrations
that creates and upgrades them; :func:`migrate` applies that list (a :class:`Store`
migrates its database on first use). Packages with tables of their own (webhooks,
audit) import them from there and call :func:`migrate` on the same engine; none
creates tables outside the list.

Usage::

    from engine.store import Store, get_engine
    store = Store(get_engine())

May import: the SDK modules (``engine.context``, ``engine.catalog``...), ``engine.spec``
and ``engine.errors``. Never ``engine.plan``, ``engine.run``, ``engine.lineage``,
``engine.webhooks``, ``engine.audit``, ``engine.service``, ``engine.cli``, ``nodes`` or
``serve``.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event

from engine.context import pipeline_home
from engine.store.catalog import StoreCatalog
from engine.store.errors import ConflictError, NotFoundError, StoreError
from engine.store.records import (
    SCOPES,
    ApiKey,
    ExecutionRecord,
    NodeTemplateRecord,
    PipelineRecord,
    ResourceRecord,
    now_iso,
    scopes_for,
)
from engine.store.store import Store, hash_key, migrate

DB_URL_ENV = "PIPELINE_BUILDER_DB_URL"


def database_url() -> str:
    """``$PIPELINE_BUILDER_DB_URL`` or ``sqlite:///$PIPELINE_BUILDER_HOME/metadata.db``."""
    url = os.environ.get(DB_URL_ENV)
    if url:
        return url
    return f"sqlite:///{pipeline_home() / 'metadata.db'}"


def get_engine(url: str | None = None) -> Engine:
    """The process-wide SQLAlchemy engine for ``url`` (default :func:`database_url`)."""
    return _engine(url or database_url())


@functools.lru_cache(maxsize=16)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    """SQLite tuned for several processes (API replicas, execution actors) on one file.

    WAL lets readers run beside the one writer; write transactions start with
    ``BEGIN IMMEDIATE`` so they queue on the busy timeout instead of failing when a
    read lock cannot be upgraded; read-only connections use a plain ``BEGIN``.
    """
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    eng = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(eng, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(eng, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get("pb_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return eng


def open_store(url: str | None = None) -> Store:
    """A :class:`Store` on :func:`get_engine` (``url`` or the configured database)."""
    return Store(get_engine(url))


__all__ = [
    "DB_URL_ENV",
    "SCOPES",
    "ApiKey",
    "ConflictError",
    "ExecutionRecord",
    "NodeTemplateRecord",
    "NotFoundError",
    "PipelineRecord",
    "ResourceRecord",
    "Store",
    "StoreCatalog",
    "StoreError",
    "database_url",
    "get_engine",
    "hash_key",
    "migrate",
    "now_iso",
    "open_store",
    "scopes_for",
]
