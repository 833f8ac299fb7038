"""Shared dependencies of the API routers: settings, the store, the store catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import Query

from engine.context import pipeline_home
from engine.store import DB_URL_ENV, Store, StoreCatalog, database_url, get_engine
from serve.errors import ApiError

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


async def request_store() -> Store:
    """:func:`get_store` as a FastAPI dependency: it does no I/O, so it runs on the event
    loop instead of taking a worker thread per request."""
    return get_store()


def get_catalog() -> StoreCatalog:
    """The stored resources as an engine catalog (relative paths resolve in the home)."""
    return StoreCatalog(get_store(), base_dir=settings().home)


MAX_OFFSET = 1_000_000_000
MAX_LIMIT = 100_000  # accepted (and capped by each endpoint to its page size)


def check_page_params(params: dict[str, str]) -> str | None:
    """Why ``limit``/``offset`` query values are unacceptable, or None when they are fine.

    Every list endpoint's ``limit`` and ``offset`` are checked with this before the route
    runs (see :class:`serve.app.BoundedQuery`), so no value reaches a database query
    out of range.
    """
    for name, lo, hi in (("limit", 1, MAX_LIMIT), ("offset", 0, MAX_OFFSET)):
        raw = params.get(name)
        if raw is None:
            continue
        text = raw.strip()
        if not text.lstrip("-").isdigit() or len(text) > 12:
            return f"{name} must be an integer between {lo} and {hi}, not {raw[:40]!r}"
        if not lo <= int(text) <= hi:
            return f"{name} must be between {lo} and {hi}, not {text}"
    return None


@dataclass(frozen=True)
class Pagination:
    """``?limit=&offset=``; limits above :data:`MAX_PAGE_SIZE` are capped to it."""

    limit: int
    offset: int

    def next_offset(self, returned: int, total: int) -> int | None:
        nxt = self.offset + returned
        return nxt if returned and nxt < total else None


async def pagination(
    limit: int = Query(
        DEFAULT_PAGE_SIZE,
        description=f"Items per page, 1..{MAX_LIMIT} (pages hold at most {MAX_PAGE_SIZE}).",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
    offset: int = Query(
        0,
        description=f"Items to skip, 0..{MAX_OFFSET}.",
        json_schema_extra={"minimum": 0, "maximum": MAX_OFFSET},
    ),
) -> Pagination:
    """FastAPI dependency reading ``limit`` (capped to 200) and ``offset``; out-of-range
    values are a 400 problem document."""
    problem = check_page_params({"limit": str(limit), "offset": str(offset)})
    if problem:
        raise BadRequest(problem, rule="bounded-list")
    return Pagination(limit=min(limit, MAX_PAGE_SIZE), offset=offset)


class BadRequest(ApiError):
    status, title, type_slug = 400, "Bad Request", "bad-request"
