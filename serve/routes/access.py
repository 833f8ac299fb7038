"""Data governance: who read or wrote a data source, when, through which interface.

``GET /api/data-sources/{id}/access`` lists the access records of executions that read
(or wrote) the data source, newest first: the execution, the identity (API key id,
``cli:<user>``, ``driver:<user>``), the interface (api, cli, driver), the node, the
location, files, tables and columns, and the row count. Who read what is itself
sensitive, so the listing needs the ``admin`` scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from engine.store import ApiKey, Store
from serve.auth import require_scope
from serve.deps import Pagination, pagination, request_store
from serve.models import Page

router = APIRouter(tags=["governance"])


@router.get(
    "/api/data-sources/{resource_id}/access",
    response_model=Page[dict[str, Any]],
    summary="List who read or wrote a data source (access records, newest first)",
)
def list_access(
    resource_id: str,
    page: Pagination = Depends(pagination),
    _: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> Page[dict[str, Any]]:
    store.get_resource("dataSources", resource_id)  # 404 for an unknown data source
    items, total = store.list_access(
        data_source_id=resource_id, offset=page.offset, limit=page.limit
    )
    return Page[dict[str, Any]](
        items=[_out(r) for r in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
        nextOffset=page.next_offset(len(items), total),
    )


def _out(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": r["at"],
        "executionId": r["execution_id"],
        "pipelineId": r["pipeline_id"],
        "identity": r["identity"],
        "interface": r["interface"],
        "direction": r["direction"],
        "nodeId": r["node_id"],
        "nodeType": r["node_type"],
        "dataSourceId": r["data_source_id"],
        "location": r["location"],
        "files": r["files"],
        "tables": r["tables"],
        "columns": r["columns"],
        "rows": r["rows"],
        "status": r["status"],
    }
