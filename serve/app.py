"""The HTTP API: a FastAPI app served by a Ray Serve deployment.

``create_app()`` builds the FastAPI app and includes the ``router`` of every module in
:mod:`serve.routes` (adding endpoints = adding a module there). ``app`` is the bound
Serve application, so ``serve run serve.app:app`` and ``serve deploy serve/config.yaml``
both work; ``pipeline-builder serve`` runs it with an HTTP proxy on loopback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any

from fastapi import FastAPI
from ray import serve

from engine import __version__
from serve import routes
from serve.audit_trail import RequestId
from serve.deps import configure, settings
from serve.problems import install as install_problem_handlers

DEPLOYMENT_NAME = "PipelineBuilderApi"
APP_NAME = "pipeline-builder"

DESCRIPTION = """Create pipelines and catalog resources, execute pipelines, watch their
progress and fetch their lineage. Authenticate with an API key as a Bearer token
(`pipeline-builder keys create --scope admin` makes the first one). Scopes: `read` <
`execute` < `admin`. Errors are `application/problem+json` (RFC 9457)."""


class BodySizeLimit:
    """ASGI middleware answering 413 when a request body exceeds the configured limit.

    Checks ``Content-Length`` first and also counts streamed (chunked) bodies.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings().max_body_bytes
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(scope, send, limit)
            return
        seen = 0

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: dict[str, Any], send: Any, limit: int) -> None:
    from serve.problems import problem

    response = problem(
        413,
        f"the request body exceeds the limit of {limit} bytes",
        type_slug="payload-too-large",
        instance=scope.get("path"),
    )
    await response(scope, _noop_receive, send)


async def _noop_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def create_app() -> FastAPI:
    """The FastAPI app with every router of :mod:`serve.routes` and problem+json errors."""
    api = FastAPI(
        title="Pipeline Builder API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
    )
    install_problem_handlers(api)
    api.add_middleware(BodySizeLimit)
    api.add_middleware(RequestId)  # outermost: every response, even a 413, gets an id
    for mod in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{routes.__name__}.{mod.name}")
        router = getattr(module, "router", None)
        if router is not None:
            api.include_router(router)
    return api


fastapi_app = create_app()


@serve.deployment(
    name=DEPLOYMENT_NAME,
    ray_actor_options={"num_cpus": 0},  # I/O bound: pipeline work runs in execution actors
    max_ongoing_requests=200,
    health_check_period_s=10,
)
@serve.ingress(fastapi_app)
class PipelineBuilderApi:
    """One API replica; all replicas share the metadata database.

    Args:
        db_url: Metadata database URL (default ``PIPELINE_BUILDER_DB_URL`` or the
            SQLite file in the home).
        home: ``PIPELINE_BUILDER_HOME`` (default from the environment).
        env: Environment variables to set in this replica's process first.
    """

    def __init__(
        self, db_url: str | None = None, home: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        os.environ.update(env or {})
        cfg = configure(db_url, home)
        from serve.deps import get_store

        get_store()  # migrate the schema before the first request
        self.settings = cfg


def build_app(
    db_url: str | None = None,
    home: str | None = None,
    *,
    num_replicas: int = 1,
    env: dict[str, str] | None = None,
) -> Any:
    """The Serve application bound to a database and home (``serve.run(build_app(...))``).

    Args:
        db_url: Metadata database URL.
        home: ``PIPELINE_BUILDER_HOME``.
        num_replicas: API replicas.
        env: Environment variables each replica sets at start (e.g.
            ``PIPELINE_BUILDER_WEBHOOK_ALLOW``) when the Ray cluster was started without
            them; replicas pass ``PIPELINE_BUILDER_*`` variables on to the execution actors
            they start. (Set in the process rather than as a runtime_env, which child
            actors and their Ray Data tasks would inherit, keeping them off the node's
            already started workers.)
    """
    return PipelineBuilderApi.options(num_replicas=num_replicas).bind(  # type: ignore[attr-defined]
        db_url, home, dict(env or {})
    )


def app_builder(args: dict[str, Any]) -> Any:
    """Entry for ``serve run serve.app:app_builder db_url=... home=...`` and config files."""
    return build_app(
        args.get("db_url"), args.get("home"), num_replicas=int(args.get("num_replicas", 1))
    )


app = build_app()
