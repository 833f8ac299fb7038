"""``GET /api/pipelines/{id}/execution/{executionId}/trace``: a failed run's full trace.

Status, webhooks and logs carry a sanitized one-line error; the runner keeps the whole
Python trace in the execution's ``trace.txt`` under the home. The trace names server
paths and may quote data, so it needs the ``admin`` scope.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from engine.store import ApiKey, Store
from serve.auth import require_scope
from serve.deps import request_store, settings
from serve.errors import NotFound

router = APIRouter(tags=["executions"])

MAX_TRACE_BYTES = 256 * 1024


@router.get(
    "/api/pipelines/{pipeline_id}/execution/{execution_id}/trace",
    response_class=PlainTextResponse,
    summary="Full trace of a failed execution (text)",
    responses={200: {"content": {"text/plain": {}}}},
)
def execution_trace(
    pipeline_id: str,
    execution_id: str,
    _: ApiKey = Depends(require_scope("admin")),
    store: Store = Depends(request_store),
) -> PlainTextResponse:
    rec = store.get_execution(execution_id, pipeline_id=pipeline_id)
    path = settings().home / "executions" / rec.id / "trace.txt"
    if not path.is_file():
        raise NotFound(f"execution '{rec.id}' ({rec.status}) has no recorded trace")
    with path.open("rb") as f:
        data = f.read(MAX_TRACE_BYTES + 1)
    text = data[:MAX_TRACE_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_TRACE_BYTES:
        text += f"\n… (trace cut at {MAX_TRACE_BYTES} bytes)"
    return PlainTextResponse(text)
