"""A small typed client of the Pipeline Builder HTTP API (httpx).

Usage::

    from serve.client import Client

    with Client("http://127.0.0.1:8000", api_key="pbk_...") as api:
        api.create_resource("data-sources", {"id": "ds_customers", "uri": "data/c.csv"})
        api.create_pipeline(spec)
        run = api.execute("customer_features", triggered_by="aiops_system")
        status = api.wait(run["pipelineId"], run["executionId"])
        print(status["metrics"]["recordsProcessed"], api.lineage("customer_features"))

Every error response raises :class:`ApiRequestError` carrying the problem document.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from engine.errors import PipelineBuilderError

TERMINAL = frozenset({"completed", "failed", "cancelled"})


class ApiRequestError(PipelineBuilderError):
    """The API answered with an error; ``problem`` is its RFC 9457 body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or "error"
        problems = problem.get("problems") or []
        lines = [f"HTTP {status}: {detail}"] + [
            f"  - {p.get('nodeId') or 'pipeline'} {p.get('path', '')}: {p.get('message')}"
            for p in problems
        ]
        super().__init__("\n".join(lines))


class Client:
    """Client of one Pipeline Builder API.

    Args:
        base_url: ``http://host:port`` of the API.
        api_key: An API key (``pbk_...``); None for health only.
        timeout: Seconds per request.
        transport: Optional httpx transport (e.g. ``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing -------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the decoded JSON (None for 204); raise on errors."""
        resp = self._http.request(method, path, **kwargs)
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"status": resp.status_code, "detail": resp.text[:500]}
            raise ApiRequestError(
                resp.status_code, body if isinstance(body, dict) else {"detail": body}
            )
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def pages(self, path: str, *, page_size: int = 100, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, fetching page after page."""
        offset = 0
        while True:
            page = self.request(
                "GET", path, params={**params, "limit": page_size, "offset": offset}
            )
            yield from page["items"]
            if page.get("nextOffset") is None:
                return
            offset = page["nextOffset"]

    # -- health and keys ------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def create_key(self, scope: str = "read", name: str | None = None) -> dict[str, Any]:
        """Create an API key (admin); the returned ``key`` is shown only this once."""
        return self.request("POST", "/api/keys", json={"scope": scope, "name": name})

    # -- resources ------------------------------------------------------------------
    def create_resource(self, kind_slug: str, resource: dict[str, Any]) -> dict[str, Any]:
        """Create a resource, e.g. ``create_resource("data-sources", {"id": ..., ...})``."""
        return self.request("POST", f"/api/{kind_slug}", json=resource)

    def put_resource(self, kind_slug: str, resource: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/api/{kind_slug}/{resource['id']}", json=resource)

    def get_resource(self, kind_slug: str, resource_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/{kind_slug}/{resource_id}")

    def list_resources(self, kind_slug: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/api/{kind_slug}"))

    def delete_resource(self, kind_slug: str, resource_id: str) -> None:
        self.request("DELETE", f"/api/{kind_slug}/{resource_id}")

    # -- pipelines ------------------------------------------------------------------
    def validate(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{valid, problems}`` for a spec that is not saved."""
        return self.request("POST", "/api/pipelines/validate", json=spec)

    def create_pipeline(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/api/pipelines", json=spec)

    def update_pipeline(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Store ``spec`` as the pipeline's next version."""
        return self.request("PUT", f"/api/pipelines/{spec['id']}", json=spec)

    def get_pipeline(self, pipeline_id: str, version: int | None = None) -> dict[str, Any]:
        params = {"version": version} if version else None
        return self.request("GET", f"/api/pipelines/{pipeline_id}", params=params)

    def list_pipelines(self) -> list[dict[str, Any]]:
        return list(self.pages("/api/pipelines"))

    def delete_pipeline(self, pipeline_id: str) -> None:
        self.request("DELETE", f"/api/pipelines/{pipeline_id}")

    # -- executions -----------------------------------------------------------------
    def execute(
        self,
        pipeline_id: str,
        *,
        triggered_by: str | None = None,
        context: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Start an execution; returns ``{executionId, status, statusUrl, ...}`` at once."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request(
            "POST",
            f"/api/pipelines/{pipeline_id}/execute",
            json={"triggeredBy": triggered_by, "context": context or {}},
            headers=headers,
        )

    def status(self, pipeline_id: str, execution_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/pipelines/{pipeline_id}/execution/{execution_id}")

    def executions(
        self, pipeline_id: str | None = None, *, status: str | None = None
    ) -> list[dict[str, Any]]:
        path = f"/api/pipelines/{pipeline_id}/executions" if pipeline_id else "/api/executions"
        params: dict[str, Any] = {"status": status} if status else {}
        return list(self.pages(path, **params))

    def cancel(self, pipeline_id: str, execution_id: str) -> dict[str, Any]:
        return self.request("POST", f"/api/pipelines/{pipeline_id}/execution/{execution_id}/cancel")

    def wait(
        self,
        pipeline_id: str,
        execution_id: str,
        *,
        timeout: float = 300.0,
        interval: float = 0.25,
        on_status: Any = None,
    ) -> dict[str, Any]:
        """Poll until the execution ends; ``on_status(status)`` sees every poll.

        Raises:
            TimeoutError: it did not end within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(pipeline_id, execution_id)
            if on_status is not None:
                on_status(st)
            if st["status"] in TERMINAL:
                return st
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"execution {execution_id} still {st['status']} after {timeout}s"
                )
            time.sleep(interval)

    # -- lineage --------------------------------------------------------------------
    def lineage(
        self, pipeline_id: str, *, execution_id: str | None = None, openlineage: bool = False
    ) -> dict[str, Any]:
        """The design-shaped lineage, or ``{events: [RunEvent...]}`` with ``openlineage=True``."""
        params: dict[str, str] = {"format": "openlineage" if openlineage else "seed"}
        if execution_id:
            params["executionId"] = execution_id
        return self.request("GET", f"/api/pipelines/{pipeline_id}/lineage", params=params)


__all__ = ["ApiRequestError", "Client"]
