"""Load check of the HTTP API: clients polling execution status while executions run.

Starts a local Ray as ``pipeline-builder serve`` does (workers, and so the API replica
and the HTTP proxy, at normal priority; executions lower themselves, see
:mod:`engine.run.priority`), the real Serve app on 127.0.0.1 with a fresh SQLite store,
and stores the pipeline through the API. Then it keeps ``--executions`` executions
running for ``--seconds`` (a new one starts as soon as one ends) while status requests
``GET /api/pipelines/{id}/execution/{executionId}`` go out, round robin over the
running executions. Prints p50/p99/max latency of status and execute, the number of
requests, the errors (any 5xx or transport error: exit code 1), how many executions
completed (all must), and the nice values of the Ray processes sampled mid-run.

Pipelines (``--pipeline``):

- ``standard`` (default): the engine-overhead benchmark's pipeline and data (read CSV ->
  rename/cast -> validate -> Parquet, ``--rows`` rows in ``--files`` files);
- ``example``: the API tests' small source/file -> field_mapper -> archive (2,000 rows).

Requests go to the replica's own port (``--ingress direct``, as ``pipeline-builder serve
--direct-port``) or through Serve's HTTP proxy (``--ingress proxy``).

Load: ``--rate`` status requests per second in total, sent on a fixed schedule whatever
the answers' latency (open loop: a slow answer does not slow the next request down);
``--rate 0`` uses ``--clients`` clients that each poll, wait ``--interval`` s, poll again
(``--interval 0``: closed loop).

    python -m benchmarks api_load        # 2 executions of 2M rows, 40 polls/s, 30 s
    python -m benchmarks api_load --ingress proxy        # through Serve's HTTP proxy
    python -m benchmarks api_load --nice 0                       # executions not lowered
    python -m benchmarks api_load --pipeline example --executions 10 --rate 0 --clients 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TERMINAL = ("completed", "failed", "cancelled")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _ms(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": round(_pct(values, 0.50) * 1000, 1),
        "p99": round(_pct(values, 0.99) * 1000, 1),
        "max": round(max(values) * 1000, 1) if values else None,
        "mean": round(statistics.fmean(values) * 1000, 1) if values else None,
    }


def standard_pipeline(pipeline_id: str, data_source: str, out: str) -> dict[str, Any]:
    """The engine-overhead pipeline, reading a stored data source, writing ``out``."""
    from benchmarks._common import standard_pipeline as spec

    return spec({"dataSourceId": data_source}, out, pipeline_id)


def _setup(
    work: Path, port: int, args: argparse.Namespace
) -> tuple[str, str, list[str], dict[str, str]]:
    """Ray, Serve, the key, data, resources and one pipeline per execution slot."""
    from ray import serve

    from benchmarks._common import write_people_csv
    from engine.run.runner import ensure_ray
    from engine.store import open_store
    from serve.app import APP_NAME, build_app, direct_ingress_env, set_serve_process_env
    from serve.client import Client

    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    db_url = f"sqlite:///{home}/metadata.db"
    _, key = open_store(db_url).create_api_key("admin", name="benchmark")
    env = {"PIPELINE_BUILDER_DATA_ROOTS": str(work)}
    if args.nice is not None:
        env["PIPELINE_BUILDER_EXECUTION_NICE"] = str(args.nice)
    if args.pipeline == "standard":
        data = write_people_csv(work / "data" / f"standard-{args.rows}", args.rows, args.files)
        source = {"id": "ds_standard", "type": "file", "uri": str(data), "format": "csv"}
    else:
        from tests.serve.serve_helpers import write_customer_files

        data = home / "data" / "customers"
        write_customer_files(data, files=4, rows_per_file=500)
        source = None
    niceness = None if args.ray_worker_niceness < 0 else args.ray_worker_niceness
    set_serve_process_env()  # as pipeline-builder serve
    direct_port = None
    if args.ingress == "direct":  # as pipeline-builder serve --direct-port
        direct_port = _free_port()
        os.environ.update(direct_ingress_env(direct_port, args.replicas))
    ensure_ray(None, num_cpus=args.cpus, worker_niceness=niceness, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(
        build_app(db_url, str(home), num_replicas=args.replicas, env=env),
        name=APP_NAME,
        route_prefix="/",
    )
    base = f"http://127.0.0.1:{direct_port or port}"
    pipelines = []
    with Client(base, key, timeout=120) as api:
        if source is not None:
            api.create_resource("data-sources", source)
            for slot in range(args.executions):
                pid = f"standard_{slot}"
                api.create_pipeline(
                    standard_pipeline(pid, "ds_standard", str(work / "out" / home.name / pid))
                )
                pipelines.append(pid)
        else:
            from tests.serve.serve_helpers import (
                PIPELINE_ID,
                create_example_resources,
                example_pipeline,
            )

            create_example_resources(api)
            api.create_pipeline(example_pipeline())
            pipelines = [PIPELINE_ID] * args.executions
    return base, key, pipelines, env


@dataclass
class _Slot:
    pipeline: str
    execution: str | None = None
    status: str = "queued"
    started_at: float = 0.0


@dataclass
class _Figures:
    status_lat: list[float] = field(default_factory=list)
    # latency of the polls sent while every slot's execution was running
    busy_lat: list[float] = field(default_factory=list)
    execute_lat: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    finished: dict[str, int] = field(default_factory=dict)
    run_seconds: list[float] = field(default_factory=list)
    started: int = 0
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency)
    late: int = 0  # scheduled polls sent more than 50 ms late (the client was starved)
    window_start_unix: float = 0.0  # wall-clock start of the window (to line up samples)


async def _load(base: str, key: str, pipelines: list[str], args: argparse.Namespace) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=max(args.clients, 64) + len(pipelines) + 5)
    fig = _Figures()
    slots = [_Slot(p) for p in pipelines]
    window_open = True
    ps_sample: list[str] = []
    t_start = 0.0
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:

        def count(code: int) -> None:
            fig.codes[code] = fig.codes.get(code, 0) + 1

        async def start(slot: _Slot, i: int) -> None:
            t0 = time.perf_counter()
            try:
                r = await http.post(
                    f"/api/pipelines/{slot.pipeline}/execute",
                    json={"triggeredBy": "load", "context": {"i": i}},
                )
            except httpx.HTTPError as exc:
                fig.errors.append(f"execute: {type(exc).__name__}")
                return
            fig.execute_lat.append(time.perf_counter() - t0)
            count(r.status_code)
            if r.status_code != 202:
                fig.errors.append(f"execute answered {r.status_code}: {r.text[:200]}")
                return
            slot.execution, slot.status, slot.started_at = r.json()["executionId"], "queued", t0
            fig.started += 1

        def seen(slot: _Slot, eid: str, status: str) -> None:
            if slot.execution != eid or slot.status in TERMINAL:
                return
            slot.status = status
            if status in TERMINAL:
                fig.finished[status] = fig.finished.get(status, 0) + 1
                fig.run_seconds.append(time.perf_counter() - slot.started_at)
                if window_open and args.sustain:
                    asyncio.get_running_loop().create_task(start(slot, fig.started))

        async def poll(slot: _Slot, record: bool = True) -> None:
            eid = slot.execution
            if eid is None:
                return
            busy = all(s.status == "running" for s in slots)
            t0 = time.perf_counter()
            try:
                r = await http.get(f"/api/pipelines/{slot.pipeline}/execution/{eid}")
            except httpx.HTTPError as exc:
                fig.errors.append(f"status: {type(exc).__name__}")
                return
            lat = time.perf_counter() - t0
            if record:
                fig.status_lat.append(lat)
                fig.timeline.append((t0, lat))
                if busy:
                    fig.busy_lat.append(lat)
                count(r.status_code)
            if r.status_code == 200:
                seen(slot, eid, r.json()["status"])
            elif record:
                fig.errors.append(f"status answered {r.status_code}: {r.text[:200]}")

        await asyncio.gather(*(start(s, i) for i, s in enumerate(slots)))
        if not any(s.execution for s in slots):
            raise SystemExit(f"no execution started: {fig.codes} {fig.errors}")
        t_start = time.perf_counter()
        fig.window_start_unix = time.time()
        deadline = t_start + args.seconds

        async def sample_ps() -> None:
            await asyncio.sleep(args.seconds / 2)
            ps_sample.extend(await asyncio.to_thread(_ray_priorities))

        sampler = asyncio.get_running_loop().create_task(sample_ps())
        if args.rate > 0:  # open loop: one request every 1/rate s, whatever the answers
            tasks = []
            n = 0
            while True:
                due = t_start + n / args.rate
                if due >= deadline:
                    break
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.05:
                    fig.late += 1
                live = [s for s in slots if s.execution and s.status not in TERMINAL] or slots
                tasks.append(asyncio.get_running_loop().create_task(poll(live[n % len(live)])))
                n += 1
            await asyncio.gather(*tasks)
        else:

            async def client(c: int) -> None:
                k = c
                while time.perf_counter() < deadline:
                    await poll(slots[k % len(slots)])
                    k += 1
                    if args.interval:
                        await asyncio.sleep(args.interval)

            await asyncio.gather(*(client(c) for c in range(args.clients)))
        elapsed = time.perf_counter() - t_start
        window_open = False
        await sampler
        # let the runs in flight finish (bounded) and count their end states
        end = time.perf_counter() + args.finish_timeout
        while time.perf_counter() < end and any(s.status not in TERMINAL for s in slots):
            await asyncio.gather(*(poll(s, record=False) for s in slots))
            await asyncio.sleep(0.5)
        for s in slots:
            if s.status not in TERMINAL:
                fig.finished["unfinished"] = fig.finished.get("unfinished", 0) + 1
    fig.timeline = [(t - t_start, lat) for t, lat in fig.timeline]
    return fig, elapsed, ps_sample


def _per_second(timeline: list[tuple[float, float]], seconds: float) -> list[str]:
    """One line per second of the window: requests sent, p50 and max latency."""
    lines = []
    for sec in range(int(seconds + 0.999)):
        lat = [x for t, x in timeline if sec <= t < sec + 1]
        if lat:
            lines.append(
                f"{sec:>3} s  {len(lat):>3} polls  p50 {_pct(lat, 0.5) * 1000:7.1f} ms  "
                f"max {max(lat) * 1000:7.1f} ms"
            )
    return lines


def _ray_priorities() -> list[str]:
    """``ni pid cmd`` of this benchmark's Ray processes (its children: GCS, raylet and the
    raylet's workers) and their threads' nice values, from ``ps``."""
    import psutil

    mine = {str(p.pid) for p in psutil.Process().children(recursive=True)}
    out = subprocess.run(
        ["ps", "-eLo", "ni=,pid=,args="], capture_output=True, text=True, check=False
    ).stdout
    procs: dict[tuple[str, str], dict[str, int]] = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        ni, pid, cmd = parts
        if pid not in mine or not any(w in cmd for w in ("ray::", "raylet", "gcs_server")):
            continue
        name = cmd.split()[0].rsplit("/", 1)[-1] if not cmd.startswith("ray::") else cmd
        threads = procs.setdefault((pid, name[:60]), {})
        threads[ni] = threads.get(ni, 0) + 1
    main = subprocess.run(
        ["ps", "-eo", "ni=,pid="], capture_output=True, text=True, check=False
    ).stdout.split()
    main_ni = dict(zip(main[1::2], main[0::2], strict=False))
    lines = []
    for (pid, name), threads in sorted(procs.items(), key=lambda kv: kv[0][1]):
        spread = ", ".join(f"{n} at {ni}" for ni, n in sorted(threads.items()))
        lines.append(f"ni {main_ni.get(pid, '?'):>3}  pid {pid:>7}  {name}  (threads: {spread})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", choices=("standard", "example"), default="standard")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--executions", type=int, default=2, help="executions kept running")
    parser.add_argument(
        "--no-sustain",
        dest="sustain",
        action="store_false",
        help="start the executions once instead of replacing each one that ends",
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=40.0, help="status polls/s (0: clients)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="with --rate 0: seconds each client waits between polls (0 = closed loop)",
    )
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument(
        "--ingress",
        choices=("direct", "proxy"),
        default="direct",
        help="send requests to the replica's own port (pipeline-builder serve --direct-port, "
        "the default) or through Serve's HTTP proxy",
    )
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument(
        "--nice",
        type=int,
        default=None,
        help="PIPELINE_BUILDER_EXECUTION_NICE for the API (0: executions not lowered)",
    )
    parser.add_argument(
        "--ray-worker-niceness",
        type=int,
        default=0,
        help="nice value of Ray's workers (0, as pipeline-builder serve; -1: Ray's default)",
    )
    parser.add_argument("--finish-timeout", type=float, default=600.0)
    parser.add_argument("--workdir", type=Path, default=None, help="keeps the data between runs")
    args = parser.parse_args(argv)
    from serve.app import SERVE_PROCESS_ENV

    load_before = os.getloadavg()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pb-api-load-"))
    work.mkdir(parents=True, exist_ok=True)
    base, key, pipelines, env = _setup(work.resolve(), _free_port(), args)
    load_start = os.getloadavg()
    try:
        fig, elapsed, ps_sample = asyncio.run(_load(base, key, pipelines, args))
    finally:
        from ray import serve

        serve.shutdown()
    load_after = os.getloadavg()
    server_errors = sum(v for c, v in fig.codes.items() if c >= 500)
    figures = {
        "pipeline": args.pipeline,
        "rows": args.rows if args.pipeline == "standard" else 2000,
        "executionsKeptRunning": args.executions if args.sustain else None,
        "executionsStarted": fig.started,
        "executionsFinal": fig.finished,
        "executionSeconds": {
            "min": round(min(fig.run_seconds), 1),
            "median": round(statistics.median(fig.run_seconds), 1),
            "max": round(max(fig.run_seconds), 1),
        }
        if fig.run_seconds
        else None,
        "seconds": round(elapsed, 1),
        "windowStartUnix": round(fig.window_start_unix, 1),
        "ratePerSecond": args.rate or None,
        "clients": None if args.rate else args.clients,
        "statusRequests": len(fig.status_lat),
        "statusRps": round(len(fig.status_lat) / elapsed, 1),
        "statusMs": _ms(fig.status_lat),
        "statusWithAllRunning": {"requests": len(fig.busy_lat), **_ms(fig.busy_lat)},
        "executeMs": _ms(fig.execute_lat),
        "latePolls": fig.late,
        "httpCodes": dict(sorted(fig.codes.items())),
        "serverErrors5xx": server_errors,
        "errors": len(fig.errors),
        "errorSamples": fig.errors[:5],
        "apiEnv": {k: v for k, v in env.items() if k != "PIPELINE_BUILDER_DATA_ROOTS"},
        "ingress": args.ingress,
        "serveProcessEnv": {
            k: v for k, v in os.environ.items() if k in SERVE_PROCESS_ENV or "DIRECT_INGRESS" in k
        },
        "rayWorkerNiceness": args.ray_worker_niceness,
        "loadAverageBefore": [round(x, 2) for x in load_before],
        "loadAverageAtStart": [round(x, 2) for x in load_start],
        "loadAverageAfter": [round(x, 2) for x in load_after],
    }
    print(json.dumps(figures, indent=2))
    print("Ray processes mid-run (nice of the main thread; threads by nice value):")
    for line in ps_sample:
        print("  " + line)
    print("Status polls per second of the window:")
    for line in _per_second(fig.timeline, elapsed):
        print("  " + line)
    s, b = figures["statusMs"], figures["statusWithAllRunning"]
    print(
        f"status p50 {s['p50']} ms, p99 {s['p99']} ms, max {s['max']} ms "
        f"({figures['statusRequests']} requests, {figures['statusRps']}/s; with all "
        f"{args.executions} running: {b['requests']} requests, p50 {b['p50']} ms, "
        f"p99 {b['p99']} ms); errors: {figures['errors']} (5xx: {server_errors}); "
        f"executions: {fig.finished} of {fig.started} started"
    )
    ok = (
        not fig.errors
        and server_errors == 0
        and fig.started > 0
        and fig.finished.get("completed", 0) == fig.started
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
