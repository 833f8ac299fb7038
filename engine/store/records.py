"""Plain records returned by the store (no SQLAlchemy objects leak out of it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.store.times import now_iso as now_iso  # the stored-time convention

# Scopes are ordered: a key with a scope holds every lower one too.
SCOPES: tuple[str, ...] = ("read", "execute", "admin")

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scopes_for(scope: str) -> list[str]:
    """Every scope a key of level ``scope`` holds (``execute`` -> read, execute)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
    return list(SCOPES[: SCOPES.index(scope) + 1])


@dataclass(frozen=True)
class PipelineRecord:
    id: str
    name: str | None
    version: int
    latest_version: int
    spec: dict[str, Any]
    created_at: str
    updated_at: str
    version_created_at: str


@dataclass(frozen=True)
class ResourceRecord:
    kind: str
    id: str
    body: dict[str, Any]
    version: int
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    pipeline_id: str
    pipeline_version: int
    status: str
    triggered_by: str | None
    context: dict[str, Any]
    idempotency_key: str | None
    created_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    updated_at: str
    progress: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    result: dict[str, Any] | None = None
    cancel_requested: bool = False
    runner: str | None = None
    request_hash: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class ApiKey:
    """An API key as the server sees it (never the key itself, only its hash)."""

    id: str
    name: str | None
    scope: str
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None
    created_by: str | None = None

    @property
    def scopes(self) -> list[str]:
        return scopes_for(self.scope)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class NodeTemplateRecord:
    """A configured node saved for reuse (a row of ``node_templates``)."""

    id: str
    name: str
    description: str
    node_type: str
    category: str
    config: dict[str, Any]
    created_by: str | None
    created_at: str
    updated_at: str
