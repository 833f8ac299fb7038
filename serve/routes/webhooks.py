"""Webhook endpoints (CRUD), their delivery log and manual redelivery. Admin scope.

Payloads are signed per Standard Webhooks; the signing secret (``whsec_...``) is returned
once, when the endpoint is created, unless the request gives a reference (``env:NAME``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.store import ApiKey, get_engine
from engine.webhooks import (
    Dispatcher,
    EndpointNotFound,
    UnsafeTarget,
    WebhookError,
    WebhookStore,
)
from serve.auth import require_scope
from serve.deps import settings
from serve.errors import NotFound, Unprocessable

log = logging.getLogger(__name__)
DISPATCHER_ENV = "PIPELINE_BUILDER_WEBHOOK_DISPATCHER"


@contextlib.asynccontextmanager
async def _deliver_while_serving(app: FastAPI) -> AsyncIterator[None]:
    """Run a delivery thread while the API runs (``PIPELINE_BUILDER_WEBHOOK_DISPATCHER=0``
    turns it off). Several replicas may each run one: deliveries are claimed with leases."""
    dispatcher = None
    if os.environ.get(DISPATCHER_ENV, "1") != "0":
        try:
            dispatcher = Dispatcher(get_webhook_store(), poll_interval=1.0).start()
        except Exception:  # the API still serves; deliveries wait in the outbox
            log.exception("webhook dispatcher did not start")
    try:
        yield
    finally:
        if dispatcher is not None:
            dispatcher.stop()


router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], lifespan=_deliver_while_serving)


class EndpointIn(BaseModel):
    """A webhook endpoint to register."""

    model_config = ConfigDict(extra="forbid")
    url: str
    eventTypes: list[str] = Field(default_factory=list, description="Empty = every event")
    secret: str | None = Field(
        None, description="'whsec_...' or an env:/file: reference; generated when absent"
    )
    description: str | None = None


class EndpointPatch(BaseModel):
    """Fields to change; ``active: true`` re-enables a disabled endpoint."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    eventTypes: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def get_webhook_store() -> WebhookStore:
    return WebhookStore(get_engine(settings().db_url))


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, EndpointNotFound):
        return NotFound(str(exc))
    if isinstance(exc, UnsafeTarget):
        return Unprocessable(
            str(exc), problems=[{"nodeId": None, "path": "url", "message": str(exc)}]
        )
    return Unprocessable(str(exc))


def _checked_delivery(store: WebhookStore, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    delivery = store.get_delivery(delivery_id)
    if delivery["endpointId"] != endpoint_id:
        raise EndpointNotFound(f"delivery {delivery_id!r} does not belong to {endpoint_id!r}")
    return delivery


@router.post("", status_code=201, summary="Register a webhook endpoint (secret shown once)")
def create_endpoint(
    body: EndpointIn,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> dict[str, Any]:
    try:
        return store.create_endpoint(
            body.url, event_types=body.eventTypes, secret=body.secret, description=body.description
        )
    except WebhookError as exc:
        raise _translate(exc) from None


@router.get("", summary="List webhook endpoints")
def list_endpoints(
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> list[dict[str, Any]]:
    return store.list_endpoints()


@router.get("/{endpoint_id}", summary="One webhook endpoint")
def get_endpoint(
    endpoint_id: str,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> dict[str, Any]:
    try:
        return store.get_endpoint(endpoint_id)
    except WebhookError as exc:
        raise _translate(exc) from None


@router.patch("/{endpoint_id}", summary="Change or re-enable a webhook endpoint")
def update_endpoint(
    endpoint_id: str,
    body: EndpointPatch,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> dict[str, Any]:
    try:
        return store.update_endpoint(
            endpoint_id,
            url=body.url,
            event_types=body.eventTypes,
            description=body.description,
            active=body.active,
        )
    except WebhookError as exc:
        raise _translate(exc) from None


@router.delete("/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint")
def delete_endpoint(
    endpoint_id: str,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> Response:
    try:
        store.delete_endpoint(endpoint_id)
    except WebhookError as exc:
        raise _translate(exc) from None
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", summary="Delivery log of an endpoint, newest first")
def list_deliveries(
    endpoint_id: str,
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = Query(None),
    limit: int = Query(50, ge=1, le=500),
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> list[dict[str, Any]]:
    try:
        store.get_endpoint(endpoint_id)
    except WebhookError as exc:
        raise _translate(exc) from None
    return store.list_deliveries(endpoint_id=endpoint_id, status=status, limit=limit)


@router.get("/{endpoint_id}/deliveries/{delivery_id}", summary="One delivery with its attempts")
def get_delivery(
    endpoint_id: str,
    delivery_id: str,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> dict[str, Any]:
    try:
        return _checked_delivery(store, endpoint_id, delivery_id)
    except WebhookError as exc:
        raise _translate(exc) from None


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Queue a delivery again (same webhook-id)",
)
def redeliver(
    endpoint_id: str,
    delivery_id: str,
    _: ApiKey = Depends(require_scope("admin")),
    store: WebhookStore = Depends(get_webhook_store),
) -> dict[str, Any]:
    try:
        _checked_delivery(store, endpoint_id, delivery_id)
        return store.redeliver(delivery_id)
    except WebhookError as exc:
        raise _translate(exc) from None
