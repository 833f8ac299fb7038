"""Load check of the HTTP API: many clients polling status while executions run.

Starts a local Ray, the real Serve app on 127.0.0.1 with a fresh SQLite store, creates
the example resources and pipeline, then at once fires ``--executions`` concurrent
``POST /execute`` calls and runs ``--clients`` concurrent clients polling
``GET .../execution/{id}`` for ``--seconds``. Prints p50/p99 latency of status and
execute, the number of requests, and the number of 5xx answers (must be zero).

    python -m benchmarks.api_load                 # 50 clients, 30 s, 10 executions
    python -m benchmarks.api_load --seconds 10 --clients 20
    python -m benchmarks.api_load --interval 0     # closed loop: each client polls non-stop
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _setup(home: Path, port: int, replicas: int) -> tuple[str, str]:
    import ray
    from ray import serve

    from engine.store import open_store
    from serve.app import APP_NAME, build_app
    from serve.client import Client
    from tests.serve.serve_helpers import (
        create_example_resources,
        example_pipeline,
        write_customer_files,
    )

    db_url = f"sqlite:///{home}/metadata.db"
    _, key = open_store(db_url).create_api_key("admin", name="benchmark")
    write_customer_files(home / "data" / "customers", files=4, rows_per_file=500)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(db_url, str(home), num_replicas=replicas), name=APP_NAME, route_prefix="/")
    base = f"http://127.0.0.1:{port}"
    with Client(base, key) as api:
        create_example_resources(api)
        api.create_pipeline(example_pipeline())
    return base, key


async def _load(
    base: str, key: str, *, clients: int, seconds: float, executions: int, interval: float
) -> dict[str, Any]:
    from tests.serve.serve_helpers import PIPELINE_ID

    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients + executions + 5)
    status_lat: list[float] = []
    execute_lat: list[float] = []
    codes: dict[int, int] = {}
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:

        async def execute(i: int) -> str | None:
            t0 = time.perf_counter()
            try:
                r = await http.post(
                    f"/api/pipelines/{PIPELINE_ID}/execute",
                    json={"triggeredBy": "load", "context": {"i": i}},
                )
            except httpx.HTTPError as exc:
                errors.append(f"execute: {type(exc).__name__}")
                return None
            execute_lat.append(time.perf_counter() - t0)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            return r.json().get("executionId") if r.status_code == 202 else None

        ids = [x for x in await asyncio.gather(*(execute(i) for i in range(executions))) if x]
        if not ids:
            raise SystemExit(f"no execution started: {codes} {errors}")
        deadline = time.perf_counter() + seconds

        async def poll(n: int) -> None:
            k = n
            while time.perf_counter() < deadline:
                eid = ids[k % len(ids)]
                k += 1
                t0 = time.perf_counter()
                try:
                    r = await http.get(f"/api/pipelines/{PIPELINE_ID}/execution/{eid}")
                except httpx.HTTPError as exc:
                    errors.append(f"status: {type(exc).__name__}")
                    continue
                status_lat.append(time.perf_counter() - t0)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
                if interval:
                    await asyncio.sleep(interval)

        await asyncio.gather(*(poll(n) for n in range(clients)))
        final: dict[str, int] = {}
        for eid in ids:  # let the runs finish (bounded) and count their end states
            for _ in range(600):
                st = (await http.get(f"/api/pipelines/{PIPELINE_ID}/execution/{eid}")).json()
                if st["status"] in ("completed", "failed", "cancelled"):
                    break
                await asyncio.sleep(0.5)
            final[st["status"]] = final.get(st["status"], 0) + 1
    return {
        "clients": clients,
        "pollIntervalSeconds": interval,
        "seconds": seconds,
        "executions": executions,
        "statusRequests": len(status_lat),
        "statusRps": round(len(status_lat) / seconds, 1),
        "statusP50Ms": round(_pct(status_lat, 0.50) * 1000, 1),
        "statusP99Ms": round(_pct(status_lat, 0.99) * 1000, 1),
        "statusMeanMs": round(statistics.fmean(status_lat) * 1000, 1) if status_lat else None,
        "executeP50Ms": round(_pct(execute_lat, 0.50) * 1000, 1),
        "executeP99Ms": round(_pct(execute_lat, 0.99) * 1000, 1),
        "httpCodes": dict(sorted(codes.items())),
        "serverErrors5xx": sum(v for c, v in codes.items() if c >= 500),
        "transportErrors": len(errors),
        "executionsFinal": final,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--executions", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="seconds each client waits between polls (0 = closed loop, as fast as possible)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pb-api-load-") as tmp:
        base, key = _setup(Path(tmp), _free_port(), args.replicas)
        try:
            figures = asyncio.run(
                _load(
                    base,
                    key,
                    clients=args.clients,
                    seconds=args.seconds,
                    executions=args.executions,
                    interval=args.interval,
                )
            )
        finally:
            from ray import serve

            serve.shutdown()
    figures["replicas"] = args.replicas
    print(json.dumps(figures, indent=2))
    print(
        f"status p50 {figures['statusP50Ms']} ms, p99 {figures['statusP99Ms']} ms "
        f"({figures['statusRequests']} requests, {figures['statusRps']}/s); "
        f"execute p50 {figures['executeP50Ms']} ms, p99 {figures['executeP99Ms']} ms; "
        f"5xx: {figures['serverErrors5xx']}"
    )
    return 0 if figures["serverErrors5xx"] == 0 and figures["transportErrors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
