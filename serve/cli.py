"""``pipeline-builder serve``: run the HTTP API on Ray Serve until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the HTTP API (Ray Serve) on 127.0.0.1:PORT")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--address", help="Ray cluster address (auto, ray://...); default: a local Ray")
    p.add_argument(
        "--db-url", help="metadata database (default PIPELINE_BUILDER_DB_URL or the home's SQLite)"
    )
    p.add_argument("--replicas", type=int, default=1, help="API replicas (default 1)")
    p.set_defaults(handler=serve_api)


def serve_api(args: argparse.Namespace) -> int:
    from ray import serve

    from engine.context import pipeline_home
    from engine.run.runner import ensure_ray
    from engine.service.executions import forwarded_env
    from engine.store import database_url, open_store
    from serve.app import APP_NAME, build_app, set_serve_process_env

    db_url = args.db_url or database_url()
    # The operator's settings (data roots, egress allow-list, secret names...) reach every
    # replica, wherever Ray places it.
    env = forwarded_env(db_url=db_url, home=pipeline_home())
    open_store(db_url)  # create or upgrade the schema before replicas start
    # A local Ray runs its workers (replicas, HTTP proxy) at normal priority; executions
    # lower themselves below them (engine.run.priority).
    set_serve_process_env()
    ensure_ray(args.address, worker_niceness=0)
    serve.start(http_options={"host": args.host, "port": args.port})
    serve.run(
        build_app(db_url, str(pipeline_home()), num_replicas=args.replicas, env=env),
        name=APP_NAME,
        route_prefix="/",
    )
    print(
        f"Pipeline Builder API on http://{args.host}:{args.port} "
        f"(docs at /docs, OpenAPI at /openapi.json); Ctrl-C to stop",
        file=sys.stderr,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under process managers too
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        serve.shutdown()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
