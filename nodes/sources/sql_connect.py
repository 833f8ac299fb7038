"""Opening read-only database connections without ever showing the password.

A database data source holds an SQLAlchemy URL *without* a password plus a secret
reference (``password: env:NAME``). :class:`ConnectionInfo` carries both to Ray tasks
(each task opens its own connection) and renders only the password-free form.
Connections are read-only where the driver allows it: SQLite opens the file with
``mode=ro``; PostgreSQL sessions start with ``default_transaction_read_only=on``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import egress, roots
from engine.errors import NodeConfigError, NodeError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


class Secret:
    """A secret value that prints as ``***`` (repr, str, f-strings)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class ConnectionInfo:
    """Everything a worker needs to open a connection; safe to pickle and to print.

    Attributes:
        node_id: The node reading (error messages start with it).
        url: SQLAlchemy URL without password (already made read-only for SQLite).
        password: The resolved password, or None.
        display_url: The URL as the data source spells it (never holds a password).
    """

    node_id: str
    url: str
    password: Secret | None = field(default=None, repr=False)
    display_url: str = ""
    # the operator's egress allow-list as the driver saw it (workers may lack the env)
    allow: Any = field(default=None, repr=False)

    @property
    def dialect(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).get_backend_name()

    def create_engine(self) -> Engine:
        """A pool-less engine (one task, one connection) with read-only sessions."""
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        url = make_url(self.url)
        if self.password is not None:
            url = url.set(password=self.password.reveal())
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            # Every transaction of the session is read-only: the source can never write.
            connect_args["options"] = "-c default_transaction_read_only=on"
            connect_args.setdefault("connect_timeout", 10)
            # Connect to the address the egress guard checked (no DNS rebinding).
            if url.host:
                ips = egress.check_host(
                    url.host, int(url.port or 5432), what="database", allow=self.allow
                )
                connect_args["hostaddr"] = str(ips[0])
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        if url.get_backend_name() == "sqlite":
            from sqlalchemy import event

            event.listen(engine, "connect", _deny_attach)
        return engine

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection; connection failures become a NodeError without secrets."""
        engine = self.create_engine()
        try:
            try:
                conn = engine.connect()
            except Exception as exc:
                raise NodeError(
                    self.node_id,
                    f"cannot connect to database {self.display_url}: {self.scrub_error(exc)}",
                ) from None
            try:
                yield conn
            finally:
                conn.close()
        finally:
            engine.dispose()

    def scrub_error(self, exc: BaseException) -> str:
        """The driver's message, with the SQL echo, parameters and secrets removed."""
        orig = getattr(exc, "orig", None)
        text = str(orig if orig is not None else exc)
        # SQLAlchemy appends the statement, bound parameters (user data) and a help link.
        text = re.split(r"\n?\[SQL: |\n?\[parameters: |\n?\(Background on this error", text)[0]
        text = " ".join(text.split())
        secret = self.password.reveal() if self.password is not None else ""
        if secret:
            text = text.replace(secret, "***")
        # Any URL echoed with inline credentials keeps its user but loses the password.
        text = re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)
        return text or type(exc).__name__


def connection_info(
    *,
    node_id: str,
    resource: dict[str, Any],
    resolve_secret: Any,
    base_dir: Path | None,
) -> ConnectionInfo:
    """Build the :class:`ConnectionInfo` of a database data-source resource.

    Args:
        node_id: The reading node (or the resource id for CLI checks).
        resource: The data-source resource (``url``, optional ``password`` reference).
        resolve_secret: ``(ref, what=...) -> str`` resolving secret references.
        base_dir: Folder relative SQLite paths resolve against (the catalog's folder).

    Raises:
        NodeConfigError: no URL, an unparseable URL, or a password written in the URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = resource.get("url")
    rid = resource.get("id")
    if not isinstance(raw, str) or not raw:
        raise NodeConfigError(
            node_id,
            f"data source '{rid}' has no 'url'; expected an SQLAlchemy URL such as "
            "'postgresql+psycopg://user@host:5432/db' or 'sqlite:///data/app.db'",
        )
    try:
        url = make_url(raw)
    except ArgumentError:
        raise NodeConfigError(
            node_id,
            f"data source '{rid}': url is not an SQLAlchemy URL; expected "
            "'dialect+driver://user@host:port/database'",
        ) from None
    if url.password is not None:
        raise NodeConfigError(
            node_id,
            f"data source '{rid}': the url must not contain a password; put a secret "
            "reference in 'password' (for example password: env:DB_PASSWORD)",
        )
    password = None
    ref = resource.get("password")
    if ref is not None:
        password = Secret(resolve_secret(ref, what=f"password of data source '{rid}'"))
    try:
        if url.get_backend_name() == "sqlite":
            url = _read_only_sqlite(url, base_dir)
            _check_sqlite_path(url, rid, base_dir)
        else:
            egress.check_database_url(raw, what=f"data source '{rid}' database")
            _refuse_metadata_store(url, rid)
    except (egress.EgressRefused, roots.OutsideDataRoots) as exc:
        raise NodeConfigError(node_id, str(exc)) from None
    raw = make_url(raw).render_as_string(hide_password=True)
    return ConnectionInfo(
        node_id=node_id,
        url=url.render_as_string(hide_password=False),
        password=password,
        display_url=raw,
        allow=egress.allowlist(),
    )


def _deny_attach(dbapi_conn: Any, _record: Any) -> None:
    """SQLite sources cannot ATTACH other files (which could create or read any file)."""
    import sqlite3

    def authorize(action: int, *_args: Any) -> int:
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    dbapi_conn.set_authorizer(authorize)


def _check_sqlite_path(url: Any, rid: Any, base_dir: Path | None) -> None:
    """The SQLite file must be inside the data roots and never the metadata store."""
    database = url.database or ""
    if not database or database == ":memory:":
        return
    path = database[len("file:") :] if database.startswith("file:") else database
    path = path.split("?", 1)[0]
    roots.check(path, base_dir=base_dir, what=f"data source '{rid}' database file")


def _refuse_metadata_store(url: Any, rid: Any) -> None:
    """A network database source may not be the product's own metadata database."""
    import os

    from sqlalchemy.engine import make_url

    meta = os.environ.get("PIPELINE_BUILDER_DB_URL")
    if not meta or meta.startswith("sqlite"):
        return
    try:
        m = make_url(meta)
    except Exception:
        return
    same = (
        (m.host or "").lower() == (url.host or "").lower()
        and int(m.port or 5432) == int(url.port or 5432)
        and (m.database or "") == (url.database or "")
    )
    if same:
        raise roots.OutsideDataRoots(
            f"{roots.PROTECTED_RULE}: data source '{rid}' points at the product's metadata "
            "database, which is never a data source",
            location=str(url.host),
            rule=roots.PROTECTED_RULE,
        )


def _read_only_sqlite(url: Any, base_dir: Path | None) -> Any:
    """``sqlite:///file:/abs/path?mode=ro&uri=true``: the file opens read-only."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    path = Path(database)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    query = dict(url.query)
    query.update({"mode": "ro", "uri": "true"})
    return url.set(database=f"file:{path.resolve()}", query=query)
