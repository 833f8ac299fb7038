"""``GET /health``: liveness and database reachability, no key needed."""

from __future__ import annotations

from fastapi import APIRouter

from engine import __version__
from serve.deps import get_store
from serve.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Service health (no API key needed)")
def health() -> Health:
    version = get_store().schema_version()
    return Health(status="ok", version=__version__, schemaVersion=version)
