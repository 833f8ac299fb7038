"""Execute a pipeline, watch its status, list and cancel executions.

``POST /api/pipelines/{id}/execute`` records the execution, starts its detached actor
(see :mod:`engine.executions`) and answers 202 at once. With an ``Idempotency-Key``
header the same key returns the same execution (a different body with the same key
is 409). ``execute`` and ``cancel`` need the ``execute`` scope; reads need ``read``.
"""

from __future__ import annotations

import hashlib
import json
import logging

from fastapi import APIRouter, Depends, Header, Query, Response

from engine.result import new_execution_id
from engine.store import ApiKey, Store, StoreCatalog
from serve.auth import require_scope
from serve.deps import Pagination, get_catalog, get_store, pagination, settings
from serve.errors import ApiError
from serve.models import ExecuteAccepted, ExecuteRequest, ExecutionStatus, Page
from serve.routes.pipelines import valid_spec

log = logging.getLogger(__name__)
router = APIRouter(tags=["executions"])
_STATUSES = "^(queued|running|completed|failed|cancelled)$"


@router.post(
    "/api/pipelines/{pipeline_id}/execute",
    status_code=202,
    response_model=ExecuteAccepted,
    summary="Start an execution of the pipeline's latest version",
)
def execute(
    pipeline_id: str,
    response: Response,
    body: ExecuteRequest | None = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    key: ApiKey = Depends(require_scope("execute")),
    store: Store = Depends(get_store),
    catalog: StoreCatalog = Depends(get_catalog),
) -> ExecuteAccepted:
    body = body or ExecuteRequest()
    request_hash = hashlib.sha256(
        json.dumps([pipeline_id, body.model_dump(mode="json")], sort_keys=True).encode()
    ).hexdigest()
    pipeline = store.get_pipeline(pipeline_id)
    # Resources may have changed since the pipeline was saved: check before queueing.
    spec = valid_spec(pipeline.spec, catalog)
    rec, created = store.create_execution(
        execution_id=new_execution_id(),
        pipeline_id=pipeline_id,
        pipeline_version=pipeline.version,
        triggered_by=body.triggeredBy or key.id,
        context=body.context,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=key.id,
        total_steps=len(spec.nodes),
    )
    if created:
        _launch(store, rec.id)
    status_url = f"/api/pipelines/{pipeline_id}/execution/{rec.id}"
    response.headers["Location"] = status_url
    return ExecuteAccepted(
        executionId=rec.id,
        pipelineId=pipeline_id,
        pipelineVersion=rec.pipeline_version,
        status=store.get_execution(rec.id).status,
        statusUrl=status_url,
        replayed=not created,
    )


def _launch(store: Store, execution_id: str) -> None:
    from engine.executions import launch

    cfg = settings()
    try:
        name = launch(execution_id, db_url=cfg.db_url, home=cfg.home)
    except Exception as exc:
        log.exception("could not start execution %s", execution_id)
        store.update_execution(
            execution_id,
            status="failed",
            error=f"could not start the execution: {type(exc).__name__}",
        )
        raise ApiError("the execution could not be started; see the server log") from exc
    store.update_execution(execution_id, runner=name)


@router.get(
    "/api/pipelines/{pipeline_id}/execution/{execution_id}",
    response_model=ExecutionStatus,
    summary="Status, progress and metrics of an execution",
)
def execution_status(
    pipeline_id: str,
    execution_id: str,
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(get_store),
) -> ExecutionStatus:
    rec = store.get_execution(execution_id, pipeline_id=pipeline_id)
    if not rec.terminal:
        from engine.executions import reap_if_lost

        reap_if_lost(store, execution_id)
        rec = store.get_execution(execution_id)
    return ExecutionStatus.of(rec)


@router.get(
    "/api/pipelines/{pipeline_id}/executions",
    response_model=Page[ExecutionStatus],
    summary="Executions of a pipeline, newest first",
)
def list_pipeline_executions(
    pipeline_id: str,
    status: str | None = Query(None, pattern=_STATUSES),
    page: Pagination = Depends(pagination),
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(get_store),
) -> Page[ExecutionStatus]:
    store.get_pipeline(pipeline_id)
    return _page(store, page, pipeline_id=pipeline_id, status=status)


@router.get(
    "/api/executions",
    response_model=Page[ExecutionStatus],
    summary="Executions of every pipeline, newest first",
)
def list_executions(
    status: str | None = Query(None, pattern=_STATUSES),
    page: Pagination = Depends(pagination),
    _: ApiKey = Depends(require_scope("read")),
    store: Store = Depends(get_store),
) -> Page[ExecutionStatus]:
    return _page(store, page, pipeline_id=None, status=status)


def _page(
    store: Store, page: Pagination, *, pipeline_id: str | None, status: str | None
) -> Page[ExecutionStatus]:
    items, total = store.list_executions(
        pipeline_id=pipeline_id, status=status, offset=page.offset, limit=page.limit
    )
    return Page[ExecutionStatus](
        items=[ExecutionStatus.of(r) for r in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
        nextOffset=page.next_offset(len(items), total),
    )


@router.post(
    "/api/pipelines/{pipeline_id}/execution/{execution_id}/cancel",
    status_code=202,
    response_model=ExecutionStatus,
    summary="Cancel a queued or running execution",
)
def cancel_execution(
    pipeline_id: str,
    execution_id: str,
    _: ApiKey = Depends(require_scope("execute")),
    store: Store = Depends(get_store),
) -> ExecutionStatus:
    store.get_execution(execution_id, pipeline_id=pipeline_id)
    return ExecutionStatus.of(store.request_cancel(execution_id))
