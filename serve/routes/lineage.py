"""``GET /api/pipelines/{id}/lineage``: the integration design's shape or OpenLineage RunEvents.

Lineage of the latest successful execution, or of ``?executionId=`` (any status).
``?format=openlineage`` returns the RunEvents recorded for that run (START, RUNNING,
COMPLETE / FAIL / ABORT) with schema, columnLineage, outputStatistics and
dataQualityMetrics facets.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from engine.lineage.summary import run_id, seed_lineage
from engine.store import ApiKey, Store
from serve.auth import require_scope
from serve.deps import request_store
from serve.errors import Conflict, NotFound

router = APIRouter(tags=["lineage"])


@router.get("/api/pipelines/{pipeline_id}/lineage", summary="Data lineage of an execution")
def lineage(
    pipeline_id: str,
    execution_id: str | None = Query(None, alias="executionId"),
    fmt: str = Query("seed", alias="format", pattern="^(seed|openlineage)$"),
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(request_store),
) -> dict[str, Any]:
    store.get_pipeline(pipeline_id)
    if execution_id:
        rec = store.get_execution(execution_id, pipeline_id=pipeline_id)
    else:
        found = store.latest_execution(pipeline_id, status="completed")
        if found is None:
            raise NotFound(
                f"pipeline '{pipeline_id}' has no completed execution yet; "
                "pass ?executionId= for another one"
            )
        rec = found
    if fmt == "openlineage":
        return {
            "executionId": rec.id,
            "runId": run_id(rec.id),
            "events": store.lineage_events(rec.id),
        }
    if rec.result is None:
        raise Conflict(
            f"execution '{rec.id}' is {rec.status}; its lineage is complete when it ends",
            executionStatus=rec.status,
        )
    spec = store.get_pipeline(pipeline_id, rec.pipeline_version).spec
    return {**seed_lineage(rec.result, spec), "pipelineVersion": rec.pipeline_version}
