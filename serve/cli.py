"""``pipeline-builder serve``: run the HTTP API on Ray Serve until interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import socket
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
    p.add_argument(
        "--direct-port",
        type=int,
        help="also serve the API from each replica itself (Ray Serve's direct ingress, no "
        "proxy hop) on DIRECT_PORT.. (one port per replica; a local Ray only)",
    )
    p.set_defaults(handler=serve_api)


def serve_api(args: argparse.Namespace) -> int:
    from ray import serve

    from engine.context import pipeline_home
    from engine.run.runner import ensure_ray
    from engine.service.executions import forwarded_env
    from engine.store import database_url, open_store
    from serve.app import APP_NAME, build_app, direct_ingress_env, set_serve_process_env

    if args.direct_port is not None:
        problem = _direct_port_problem(args)
        if problem:
            print(f"pipeline-builder serve: {problem}", file=sys.stderr)
            return 2
        os.environ.update(direct_ingress_env(args.direct_port, args.replicas))
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
    direct = ""
    if args.direct_port is not None:
        last = args.direct_port + args.replicas - 1
        ports = str(args.direct_port) if last == args.direct_port else f"{args.direct_port}-{last}"
        direct = f", and from the replicas themselves on port {ports}"
    print(
        f"Pipeline Builder API on http://{args.host}:{args.port}{direct} "
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


def _direct_port_problem(args: argparse.Namespace) -> str | None:
    """Why ``--direct-port`` cannot be used as given, or None."""
    if args.address or os.environ.get("RAY_ADDRESS"):
        return (
            "--direct-port needs the local Ray this command starts; on a cluster start "
            "Ray with RAY_SERVE_ENABLE_DIRECT_INGRESS=1 (cluster/README.md)"
        )
    if args.replicas < 1:
        return f"--replicas {args.replicas}: at least one replica serves the API"
    last = args.direct_port + args.replicas - 1
    if args.direct_port < 1 or last > 65535:
        return f"--direct-port {args.direct_port}: ports up to {last} are out of range"
    if args.port is not None and args.direct_port <= args.port <= last:
        return f"--direct-port {args.direct_port} overlaps the HTTP port {args.port}"
    for port in range(args.direct_port, last + 1):
        with socket.socket() as s:
            try:
                s.bind((args.host, port))
            except OSError as exc:
                return (
                    f"--direct-port: port {port} on {args.host} is not free ({exc.strerror}; "
                    "after a stop the port stays held for up to a minute)"
                )
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
