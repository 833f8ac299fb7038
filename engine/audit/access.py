"""Data governance: what every execution read and wrote, under which identity.

:class:`AccessObserver` (attached by :func:`engine.service.observers.default_observers`
to runs from the CLI, the API and driver scripts) writes one access record per source
and output node when a run ends: the data source or environment id, the location, the
files (up to :data:`MAX_FILES` names of a local folder), tables, columns and rows, the
identity (the API key id, ``cli:<user>`` or ``driver:<user>``), the interface and the
run's status. ``GET /api/data-sources/{id}/access`` and ``pipeline-builder access ID``
list them.
"""

from __future__ import annotations

import getpass
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

MAX_FILES = 200


def identity(options: Any) -> tuple[str, str]:
    """``(identity, interface)`` of a run: the API key, the CLI user or the driver's user."""
    extra = getattr(options, "extra", {}) or {}
    actor = extra.get("auditActor")
    api = os.environ.get("PIPELINE_BUILDER_INTERFACE", "").lower() == "api"
    if actor:
        actor = str(actor)
        if actor.startswith("cli:"):
            return actor, "cli"
        return actor, "api" if api or actor.startswith("key_") else "service"
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"driver:{user}", "driver"


def _files(location: str | None) -> list[str] | None:
    if not location or "://" in location or not os.path.isdir(location):
        return None
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(location):
        for f in sorted(files):
            if f.startswith((".", "_")):
                continue
            out.append(os.path.relpath(os.path.join(dirpath, f), location))
            if len(out) >= MAX_FILES:
                return out
    return out


def records_for(*, execution_id: str, spec: Any, options: Any, result: Any) -> list[dict[str, Any]]:
    """The access records of a finished run (one per source and output node)."""
    who, interface = identity(options)
    out: list[dict[str, Any]] = []
    for node in spec.nodes:
        kind = node.nodeType
        if kind not in ("source", "output"):
            continue
        nr = result.nodes.get(node.id)
        facts = dict(getattr(nr, "facts", {}) or {})
        cfg = node.config or {}
        schema = getattr(nr, "schema", None)
        if schema is None and kind == "output":
            for up in node.inputs or []:
                ur = result.nodes.get(up)
                if ur is not None and ur.schema:
                    schema = ur.schema
                    break
        columns = [c[0] for c in schema] if schema else None
        location = facts.get("location") or facts.get("environmentUri")
        if location is None and kind == "output":
            location = cfg.get("uri") or cfg.get("location")
        ds = facts.get("dataSourceId") or cfg.get("dataSourceId") or cfg.get("environmentId")
        tables: list[str] | None = None
        for key in ("table", "query", "queryTemplate"):
            if facts.get(key) or cfg.get(key):
                tables = [str(facts.get(key) or cfg.get(key))]
                break
        rows = (nr.rowsOut if kind == "source" else nr.rowsIn) if nr is not None else None
        out.append(
            {
                "execution_id": execution_id,
                "pipeline_id": spec.id,
                "identity": who,
                "interface": interface,
                "direction": "read" if kind == "source" else "write",
                "node_id": node.id,
                "node_type": node.type_key if hasattr(node, "type_key") else kind,
                "data_source_id": ds,
                "location": str(location) if location is not None else None,
                "tables": tables,
                "columns": columns,
                "rows": int(rows) if rows is not None else None,
                "status": getattr(nr, "status", None) or result.status,
                "files": _files(str(location)) if location else None,
            }
        )
    return out


def record_run(*, execution_id: str, spec: Any, options: Any, result: Any) -> None:
    """Store the access records of a finished run (logged, never raised)."""
    try:
        records = records_for(execution_id=execution_id, spec=spec, options=options, result=result)
        from engine.store import open_store

        open_store().add_access_records(records)
    except Exception:
        log.exception("could not record data access of execution %s", execution_id)
