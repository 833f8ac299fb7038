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
from serve.auth import API_KEY_STATE, ApiKey
from serve.deps import configure, settings
from serve.problems import install as install_problem_handlers
from serve.replica_binding import bind_replica_grpc_to_loopback

DEPLOYMENT_NAME = "PipelineBuilderApi"
APP_NAME = "pipeline-builder"

DESCRIPTION = """Create pipelines and catalog resources, execute pipelines, watch their
progress and fetch their lineage. Authenticate with an API key as a Bearer token
(`pipeline-builder keys create --scope admin` makes the first one). Scopes: `read` <
`execute` < `admin`. Errors are `application/problem+json` (RFC 9457)."""


# Ray Serve settings for the processes of a Ray instance the API starts (its HTTP proxy
# and replicas inherit them from the raylet): the proxy forwards requests to the replica
# over gRPC instead of Ray actor calls, about a quarter less CPU per request in the proxy
# and the replica (benchmarks/RESULTS.md, "API load check"). A cluster started by
# ``ray start`` takes them from that command's environment.
SERVE_PROCESS_ENV = {"RAY_SERVE_PROXY_USE_GRPC": "1"}


def set_serve_process_env() -> None:
    """Apply :data:`SERVE_PROCESS_ENV` (unless the operator set them) before Ray starts."""
    for name, value in SERVE_PROCESS_ENV.items():
        os.environ.setdefault(name, value)


def direct_ingress_env(port: int, replicas: int = 1) -> dict[str, str]:
    """Ray Serve settings for direct ingress: every API replica also serves HTTP itself, on
    a port from ``port`` to ``port + replicas - 1``, with no HTTP proxy on the request path
    (about a quarter of the proxy path's CPU per status request; benchmarks/RESULTS.md,
    "API load check"). The HTTP proxy keeps serving the app on its own port. Set in the
    environment before a local Ray starts (its Serve controller and replicas read them)."""
    if port < 1 or port + replicas - 1 > 65535 or replicas < 1:
        raise ValueError(f"direct ingress ports {port}..{port + replicas - 1} are out of range")
    return {
        "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(port),
        # Serve hands out ports from range(min, max): max itself is never used
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(port + replicas),
        # A stopping replica keeps serving for this long so that a load balancer in front
        # notices (Serve's default, 30 s); in front of a local API there is none.
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
    }


# Every /api/ route needs a key (the health probe lives at /health).
PUBLIC_API_PATHS: frozenset[str] = frozenset()


class AuthFirst:
    """ASGI middleware: an ``/api/`` request without a live API key is answered 401 before
    its query or body is looked at (the routes then check the key's scope)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path") or ""
        if scope["type"] != "http" or not path.startswith("/api/") or path in PUBLIC_API_PATHS:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        key = None
        if token:
            import anyio

            key = await anyio.to_thread.run_sync(_live_key, token)
        if key is None:
            from serve.problems import problem

            detail = (
                "the API key is unknown or revoked"
                if token
                else "an API key is required: send 'Authorization: Bearer <key>'"
            )
            response = problem(
                401,
                detail,
                type_slug="unauthorized",
                instance=path,
                headers={"WWW-Authenticate": 'Bearer realm="pipeline-builder"'},
            )
            await response(scope, _noop_receive, send)
            return
        # The routes' scope check uses this lookup (``request.state.api_key``): one key
        # read per request, and the key is still read afresh on every request.
        scope.setdefault("state", {})[API_KEY_STATE] = (token, key)
        await self.app(scope, receive, send)


def _bearer(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, cred = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and cred.strip():
                return cred.strip()
    return None


def _live_key(token: str) -> ApiKey | None:
    from serve.deps import get_store

    return get_store().authenticate(token)


class BoundedQuery:
    """ASGI middleware: ``limit``/``offset`` out of range or not integers are a 400 problem
    document on every endpoint, before any route or database sees them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            from urllib.parse import parse_qsl

            from serve.deps import check_page_params

            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            wrong = check_page_params({k: v for k, v in pairs if k in ("limit", "offset")})
            if wrong:
                from serve.problems import problem

                response = problem(
                    400,
                    wrong,
                    type_slug="bad-request",
                    instance=scope.get("path"),
                    rule="bounded-list",
                )
                await response(scope, _noop_receive, send)
                return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """ASGI middleware answering 413 when a request body exceeds the configured limit.

    A ``Content-Length`` above the limit is refused at once; any other body (chunked
    included) is read up to the limit before the app sees it, and refused with 413 as
    soon as it passes the limit. The app then gets the body in one piece.
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
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            await _too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body = message.get("body", b"")
            seen += len(body)
            if seen > limit:
                await _too_large(scope, send, limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


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


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


# Every operation may answer these (problem+json); documented so clients and schema
# checkers know them.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Bad request (e.g. limit/offset out of range)"),
    401: _problem_response("No, unknown or revoked API key"),
    403: _problem_response("The key lacks the scope"),
    404: _problem_response("Not found"),
    409: _problem_response("Conflict"),
    413: _problem_response("Request body too large"),
    422: _problem_response("Invalid request or refused by a security rule"),
    500: _problem_response("Unexpected error (the details stay in the server log)"),
}


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
    api.add_middleware(BodySizeLimit)  # innermost: the body is read only after auth
    api.add_middleware(BoundedQuery)
    api.add_middleware(AuthFirst)
    api.add_middleware(RequestId)  # outermost: every response, even a 413, gets an id
    for mod in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{routes.__name__}.{mod.name}")
        router = getattr(module, "router", None)
        if router is not None:
            api.include_router(router, responses=COMMON_RESPONSES)
    _add_problem_schema(api)
    return api


def _add_problem_schema(api: FastAPI) -> None:
    """Put the ``Problem`` schema (RFC 9457) into the OpenAPI document."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        doc = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes
        )
        from serve.problems import PROBLEM_SCHEMA

        doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        api.openapi_schema = doc
        return doc

    api.openapi = openapi  # type: ignore[method-assign]


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
        bind_replica_grpc_to_loopback()  # the replica's own port, before Serve opens it
        # API rules (data roots, secrets namespace) for this replica and the execution
        # actors it starts (they inherit PIPELINE_BUILDER_* variables).
        os.environ["PIPELINE_BUILDER_INTERFACE"] = "api"
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
