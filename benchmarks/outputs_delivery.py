"""Cost of safe delivery: blue/green deploy + gates vs a plain write, TFRecord encoding,
webhook outbox throughput.

    python -m benchmarks outputs_delivery [--rows 200000] [--events 200]

Prints: plain Parquet write time, blue/green deploy time (write + streaming gate re-read +
manifest with sha256 + pointer flip) and its overhead; TFRecord rows/s (pure-Python
encoder); webhook events delivered per second to a loopback receiver (SQLite outbox,
signed, one dispatcher).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _table(rows: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(1)
    return pa.table(
        {
            "id": pa.array(np.arange(rows), pa.int64()),
            "age": pa.array(rng.integers(18, 90, rows), pa.int64()),
            "income": pa.array(rng.normal(50, 10, rows)),
            "segment": pa.array(rng.choice(["a", "b", "c"], rows)),
        }
    )


def bench_deploy(rows: int, work: Path) -> dict[str, float]:
    import ray

    from engine.catalog import DictCatalog
    from engine.context import BuildContext, RunOptions
    from engine.spec.models import NodeSpec, PipelineSpec
    from nodes.outputs import environment

    table = _table(rows)
    t0 = time.perf_counter()
    ray.data.from_arrow(table).write_parquet(str(work / "plain"))
    plain = time.perf_counter() - t0

    catalog = DictCatalog(
        {
            "environments": {
                "env": {
                    "id": "env",
                    "uri": str(work / "env"),
                    "expectedSchema": [{"name": "id", "type": "int64", "nullable": False}],
                }
            }
        }
    )
    cfg = environment.EnvironmentConfig(
        environmentId="env",
        qualityGates=[
            "schema_validation",
            "completeness",
            "row_count",
            {"gate": "uniqueness", "keys": ["id"]},
        ],
    )
    node = NodeSpec(
        id="deploy",
        nodeType="output",
        category="environment",
        inputs=["s"],
        config=cfg.model_dump(),
    )
    spec = PipelineSpec(
        id="bench", nodes=[NodeSpec(id="s", nodeType="source", category="file"), node]
    )
    ctx = BuildContext(
        spec=spec,
        node=node,
        catalog=catalog,
        execution_id="exec_bench",
        options=RunOptions(home=work, base_dir=work),
    )
    t0 = time.perf_counter()
    environment.build(ctx=ctx, inputs=[], config=cfg).write(ray.data.from_arrow(table))
    deploy = time.perf_counter() - t0
    return {"plain_s": plain, "deploy_s": deploy}


def bench_tfrecord(rows: int) -> float:
    import io

    from nodes.outputs import tfrecord

    table = _table(rows)
    t0 = time.perf_counter()
    tfrecord.write_table(table, io.BytesIO())
    return rows / (time.perf_counter() - t0)


def bench_webhooks(events: int, work: Path) -> float:
    import sqlalchemy as sa

    from engine.webhooks import Dispatcher, RetryPolicy, WebhookStore, emit

    class Ok(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["PIPELINE_BUILDER_WEBHOOK_ALLOW"] = "127.0.0.1"
    store = WebhookStore(sa.create_engine(f"sqlite:///{work / 'hooks.db'}"))
    store.create_endpoint(f"http://127.0.0.1:{server.server_address[1]}/")
    for i in range(events):
        emit("execution.completed", {"pipelineId": "bench", "n": i}, store=store)
    d = Dispatcher(store, policy=RetryPolicy(base_delay=0.01))
    t0 = time.perf_counter()
    while d.deliver_pending(limit=100):
        pass
    rate = events / (time.perf_counter() - t0)
    d.stop()
    server.shutdown()
    return rate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks outputs_delivery")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--tfrecord-rows", type=int, default=50_000)
    p.add_argument("--events", type=int, default=200)
    args = p.parse_args(argv)

    import ray

    from benchmarks._common import machine_info

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    print(machine_info())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bench_deploy(1000, work / "warmup")
        r = bench_deploy(args.rows, work / "run")
        print(
            f"rows={args.rows}: plain parquet write {r['plain_s']:.2f}s, blue/green deploy "
            f"with 4 gates {r['deploy_s']:.2f}s (overhead {r['deploy_s'] - r['plain_s']:+.2f}s)"
        )
        print(f"tfrecord encode: {bench_tfrecord(args.tfrecord_rows):,.0f} rows/s (4 features)")
        print(
            f"webhooks: {bench_webhooks(args.events, work):,.0f} signed deliveries/s "
            f"({args.events} events, SQLite outbox, 1 dispatcher)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
