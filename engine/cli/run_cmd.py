"""``validate``, ``run`` and ``nodes`` commands."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from engine.errors import ValidationFailed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a pipeline spec without running it")
    p.add_argument("spec", help="pipeline spec file (YAML or JSON)")
    p.add_argument("--catalog", help="resource catalog file (YAML or JSON)")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="run a pipeline on Ray and print a summary")
    p.add_argument("spec", help="pipeline spec file (YAML or JSON)")
    p.add_argument("--catalog", help="resource catalog file (YAML or JSON)")
    p.add_argument("--address", help="Ray address (auto, ray://host:10001); default: local")
    p.add_argument("--object-store-mb", type=int, help="object-store memory limit for the run")
    p.add_argument("--execution-id", help="use this execution id")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no live progress")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("nodes", help="list node types and their config schemas")
    p.add_argument("--json", action="store_true", help="print JSON schemas")
    p.set_defaults(handler=cmd_nodes)


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    from engine.catalog import load_catalog
    from engine.registry import default_registry
    from engine.spec import load_spec

    default_registry()  # node modules declare their resources' keys, checked on load
    return load_spec(args.spec), load_catalog(args.catalog)


def cmd_validate(args: argparse.Namespace) -> int:
    from engine.plan.validation import validate

    spec, catalog = _load(args)
    validate(spec, catalog)
    print(f"ok: pipeline '{spec.id}' is valid ({len(spec.nodes)} nodes)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from engine.context import RunOptions
    from engine.run.runner import run_pipeline
    from engine.service.observers import default_observers, with_webhooks

    spec, catalog = _load(args)  # run_pipeline validates once, before Ray starts
    quiet_ray_logs()
    options = RunOptions(
        object_store_memory=args.object_store_mb * 1024 * 1024 if args.object_store_mb else None,
        base_dir=Path(args.spec).resolve().parent,
        extra={"address": args.address} if args.address else {},
    )
    options.extra.update(checkpoint=True, auditActor=cli_actor())  # resumable, audited
    from engine.cli._output import RunOutput, print_result

    printer = RunOutput(quiet=args.quiet)
    result = run_pipeline(
        spec,
        catalog,
        options=options,
        execution_id=args.execution_id,
        on_event=with_webhooks(printer, pipeline_id=spec.id),
        observers=default_observers(),
    )
    printer.close()
    _save(result.to_dict(), options.home)
    deliver_webhooks_once()
    print_result(result.to_dict(), as_json=args.json, summary=summary)
    return 0 if result.ok else 1


def cli_actor() -> str:
    """Who runs CLI commands, for the audit trail: ``cli:<login name>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def quiet_ray_logs() -> None:
    """Ray Data logs every stage at INFO and failures with long traces; the run's own
    progress lines and summary say the same, shorter (traces stay in Ray's log files)."""
    import logging
    import os

    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    import ray.data  # noqa: F401 - configures its loggers on import; adjust them after

    for name in ("ray.data", "ray._private", "ray"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class _ProgressPrinter:
    """Prints the execution id at start and a progress line about every 2 seconds."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0
        self.start = time.time()

    def __call__(self, event: Any) -> None:
        if event.kind == "started":
            print(
                f"execution {event.execution_id} started "
                f"(pipeline {event.data['pipelineId']}, {event.data['totalSteps']} nodes)",
                flush=True,
            )
        if self.quiet or event.kind != "progress" or time.time() - self.last < 2:
            return
        self.last = time.time()
        d = event.data
        rate = d["recordsProcessed"] / max(d["elapsedSeconds"], 1e-6)
        nodes = " ".join(f"{k}={v['rowsOut']:,}" for k, v in d["nodes"].items() if v["rowsOut"])
        print(
            f"[{d['elapsedSeconds']:7.1f}s] {d['recordsProcessed']:,} rows read "
            f"({rate:,.0f} rows/s) {d['completedSteps']}/{d['totalSteps']} done | {nodes}",
            file=sys.stderr,
            flush=True,
        )


def deliver_webhooks_once() -> None:
    """One delivery attempt for this run's webhook events; failures stay in the durable
    outbox and are retried by the API's dispatcher or ``pipeline-builder webhooks-deliver``."""
    import logging

    try:
        from engine.webhooks import deliver_pending

        deliver_pending()
    except Exception:
        logging.getLogger(__name__).warning("webhook delivery deferred", exc_info=True)


def summary(r: dict[str, Any]) -> str:
    """A human summary of a RunResult dict."""
    m = r["metrics"]
    rate = m["recordsProcessed"] / max(r["durationSeconds"], 1e-6)
    lines = [
        f"execution {r['executionId']} {r['status'].upper()} in {r['durationSeconds']:.1f}s: "
        f"{m['recordsProcessed']:,} records read ({rate:,.0f} rows/s), "
        f"{m['dataSize'] / 1e6:,.1f} MB"
        + (f", quality score {m['qualityScore']:.3f}" if m["qualityScore"] is not None else ""),
        f"  {'node':24} {'type':26} {'rows in':>12} {'rows out':>12} {'status':>10}",
    ]
    for nid, n in r["nodes"].items():
        lines.append(
            f"  {nid:24} {n['type']:26} {n['rowsIn']:>12,} {n['rowsOut']:>12,} {n['status']:>10}"
        )
    for o in r["outputs"]:
        lines.append(f"  output {o['nodeId']}: {o.get('location')} ({o.get('format')})")
    if r["error"]:
        lines.append(f"  error: {r['error']}")
    return "\n".join(lines)


def _save(result: dict[str, Any], home: Path) -> None:
    runs = home / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{result['executionId']}.json").write_text(json.dumps(result, indent=2))


def cmd_nodes(args: argparse.Namespace) -> int:
    from engine.registry import default_registry

    reg = default_registry()
    if args.json:
        print(
            json.dumps(
                {
                    nt.key: {
                        "description": nt.description,
                        "kind": nt.kind,
                        "inputs": [nt.min_inputs, nt.max_inputs],
                        "config": nt.config_model.model_json_schema(),
                    }
                    for nt in reg
                },
                indent=2,
            )
        )
        return 0
    for nt in reg:
        fields = ", ".join(nt.config_model.model_fields)
        print(f"{nt.key:28} {nt.description}\n{'':28} config: {fields}")
    return 0


__all__ = ["ValidationFailed", "register", "summary"]
