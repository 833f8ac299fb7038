"""Execute a pipeline, watch its status, list, cancel and resume executions.

``POST /api/pipelines/{id}/execute`` records the execution, starts its detached actor
(see :mod:`engine.service.executions`) and answers 202 at once. With an ``Idempotency-Key``
header the same key returns the same execution (a different body with the same key
is 409). ``context.dataRequirements`` is honoured for the run or refused with a 422
naming the requirement (:mod:`serve.routes._requirements`). Runs are checkpointed
and audited with the API key as actor; a ``failed`` or ``cancelled`` execution
resumes from its checkpoint under the same id
(``POST .../execution/{executionId}/resume``). While the API runs, a reaper marks
executions whose runner died ``failed`` (resumable) within :data:`REAP_MAX_AGE_SECONDS`
plus :data:`REAP_INTERVAL_SECONDS`. ``execute``, ``cancel`` and ``resume`` need the
``execute`` scope; reads need ``read``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Response

from engine.run.result import new_execution_id
from engine.store import ApiKey, Store, StoreCatalog
from serve.audit_trail import audited, request_id
from serve.auth import require_scope
from serve.deps import Pagination, get_catalog, get_store, pagination, request_store, settings
from serve.errors import ApiError, Conflict
from serve.models import ExecuteAccepted, ExecuteRequest, ExecutionStatus, Page
from serve.routes._requirements import resolve as resolve_requirements
from serve.routes.pipelines import valid_spec

log = logging.getLogger(__name__)
REAPER_ENV = "PIPELINE_BUILDER_REAPER"
REAP_INTERVAL_SECONDS = 5.0
# Checkpoint heartbeats come every 2 s; a runner silent for this long is taken for dead
# (a runner process that is gone on this host is detected at the next pass).
REAP_MAX_AGE_SECONDS = 15.0


def _reap_forever(stop: threading.Event) -> None:
    from engine.service.executions import reap_lost_runners

    while not stop.wait(REAP_INTERVAL_SECONDS):
        try:
            reaped = reap_lost_runners(get_store(), settings().home, REAP_MAX_AGE_SECONDS)
            if reaped:
                log.warning("marked executions with a lost runner failed: %s", reaped)
        except Exception:
            log.exception("execution reaper pass failed")


@contextlib.asynccontextmanager
async def _reap_while_serving(app: FastAPI) -> AsyncIterator[None]:
    """Run the lost-runner reaper while the API runs (``PIPELINE_BUILDER_REAPER=0``: off)."""
    stop = threading.Event()
    if os.environ.get(REAPER_ENV, "1") != "0":
        threading.Thread(target=_reap_forever, args=(stop,), daemon=True, name="pb-reaper").start()
    try:
        yield
    finally:
        stop.set()


router = APIRouter(tags=["executions"], lifespan=_reap_while_serving)
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
    req_id: str | None = Depends(request_id),
    body: ExecuteRequest | None = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
    key: ApiKey = Depends(require_scope("execute")),
    store: Store = Depends(request_store),
    catalog: StoreCatalog = Depends(get_catalog),
) -> ExecuteAccepted:
    body = body or ExecuteRequest()
    triggered_by = body.triggeredBy or key.id
    request_hash = hashlib.sha256(
        json.dumps([pipeline_id, body.model_dump(mode="json")], sort_keys=True).encode()
    ).hexdigest()
    with audited(
        req_id, key.id, "pipeline.execute", "pipeline", pipeline_id, triggeredBy=triggered_by
    ) as details:
        pipeline = store.get_pipeline(pipeline_id)
        # Resources may have changed since the pipeline was saved: check before queueing.
        spec = valid_spec(pipeline.spec, catalog)
        honoured = resolve_requirements(spec, body.context)  # 422 names what it cannot meet
        rec, created = store.create_execution(
            execution_id=new_execution_id(),
            pipeline_id=pipeline_id,
            pipeline_version=pipeline.version,
            triggered_by=triggered_by,
            context=body.context,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            created_by=key.id,
            total_steps=len(spec.nodes),
        )
        details.update(
            executionId=rec.id, pipelineVersion=rec.pipeline_version, replayed=not created
        )
        if honoured.honoured:
            details["dataRequirements"] = honoured.honoured
        if created:
            extra = _run_extra(req_id, key, triggered_by)
            if honoured.overrides:
                extra["configOverrides"] = honoured.overrides
            _launch(store, rec.id, extra)
    status_url = f"/api/pipelines/{pipeline_id}/execution/{rec.id}"
    response.headers["Location"] = status_url
    return ExecuteAccepted(
        executionId=rec.id,
        pipelineId=pipeline_id,
        pipelineVersion=rec.pipeline_version,
        status=store.get_execution(rec.id).status,
        statusUrl=status_url,
        replayed=not created,
        dataRequirements=honoured.honoured,
    )


def _run_extra(req_id: str | None, key: ApiKey, triggered_by: str | None) -> dict[str, Any]:
    """Run options of an API execution: audited as the key, tied to this request."""
    return {"auditActor": key.id, "requestId": req_id, "triggeredBy": triggered_by}


def _launch(
    store: Store, execution_id: str, run_extra: dict[str, Any], *, resume: bool = False
) -> None:
    from engine.service.executions import launch

    cfg = settings()
    try:
        name = launch(
            execution_id, db_url=cfg.db_url, home=cfg.home, run_extra=run_extra, resume=resume
        )
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
    store: Store = Depends(request_store),
) -> ExecutionStatus:
    # From the store alone (one read; SQLite in WAL mode: never waits for the runs'
    # writes); lost runners are marked failed by the reaper, off the request path.
    return ExecutionStatus.of(store.get_execution(execution_id, pipeline_id=pipeline_id))


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
    store: Store = Depends(request_store),
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
    store: Store = Depends(request_store),
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
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("execute")),
    store: Store = Depends(request_store),
) -> ExecutionStatus:
    with audited(
        req_id, key.id, "execution.cancel", "execution", execution_id, pipelineId=pipeline_id
    ):
        store.get_execution(execution_id, pipeline_id=pipeline_id)
        return ExecutionStatus.of(store.request_cancel(execution_id))


@router.post(
    "/api/pipelines/{pipeline_id}/execution/{execution_id}/resume",
    status_code=202,
    response_model=ExecutionStatus,
    summary="Resume a failed or cancelled execution from its checkpoint",
    description="Runs the execution again under the same id in a new detached actor: "
    "outputs finished by the earlier attempt and committed input shards are reused. "
    "409 when the execution is queued, running or completed.",
)
def resume_execution(
    pipeline_id: str,
    execution_id: str,
    response: Response,
    req_id: str | None = Depends(request_id),
    key: ApiKey = Depends(require_scope("execute")),
    store: Store = Depends(request_store),
) -> ExecutionStatus:
    from engine.service.records import reopen

    with audited(
        req_id, key.id, "execution.resume", "execution", execution_id, pipelineId=pipeline_id
    ) as details:
        rec = store.get_execution(execution_id, pipeline_id=pipeline_id)
        details["previousStatus"] = rec.status
        if not reopen(store, execution_id):
            current = store.get_execution(execution_id).status
            raise Conflict(
                f"execution '{execution_id}' is {current}; only a failed or cancelled "
                "execution can be resumed",
                currentStatus=current,
            )
        _launch(store, execution_id, _run_extra(req_id, key, rec.triggered_by), resume=True)
    response.headers["Location"] = f"/api/pipelines/{pipeline_id}/execution/{execution_id}"
    return ExecutionStatus.of(store.get_execution(execution_id))
