"""Shared dependencies of the API routers: settings, the store, the store catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.context import pipeline_home
from engine.store import DB_URL_ENV, Store, StoreCatalog, database_url, get_engine

MAX_BODY_ENV = "PIPELINE_BUILDER_MAX_BODY_BYTES"
DEFAULT_MAX_BODY = 1024 * 1024
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass
class Settings:
    """Where the API keeps its state; set once per process by :func:`configure`."""

    db_url: str
    home: Path
    max_body_bytes: int = DEFAULT_MAX_BODY


_settings: Settings | None = None


def configure(db_url: str | None = None, home: str | os.PathLike[str] | None = None) -> Settings:
    """Fix the database and home for this process (the Serve replica calls it at start).

    Values are also written to the environment so engine code run here sees them.
    """
    global _settings
    if home is not None:
        os.environ["PIPELINE_BUILDER_HOME"] = str(home)
    if db_url is not None:
        os.environ[DB_URL_ENV] = db_url
    _settings = Settings(
        db_url=database_url(),
        home=pipeline_home(),
        max_body_bytes=int(os.environ.get(MAX_BODY_ENV, DEFAULT_MAX_BODY)),
    )
    _settings.home.mkdir(parents=True, exist_ok=True)
    return _settings


def settings() -> Settings:
    return _settings or configure()


def get_store() -> Store:
    """The metadata store of this process (FastAPI dependency)."""
    return Store(get_engine(settings().db_url))


def get_catalog() -> StoreCatalog:
    """The stored resources as an engine catalog (relative paths resolve in the home)."""
    return StoreCatalog(get_store(), base_dir=settings().home)


@dataclass(frozen=True)
class Pagination:
    """``?limit=&offset=``; limits above :data:`MAX_PAGE_SIZE` are capped to it."""

    limit: int
    offset: int

    def next_offset(self, returned: int, total: int) -> int | None:
        nxt = self.offset + returned
        return nxt if returned and nxt < total else None


def pagination(limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> Pagination:
    """FastAPI dependency reading ``limit`` (1..200, capped) and ``offset`` (>= 0)."""
    from serve.errors import Unprocessable

    if limit < 1 or offset < 0:
        raise Unprocessable(
            "limit must be >= 1 and offset >= 0",
            problems=[
                {"nodeId": None, "path": "query.limit", "message": "limit >= 1, offset >= 0"}
            ],
        )
    return Pagination(limit=min(limit, MAX_PAGE_SIZE), offset=offset)
