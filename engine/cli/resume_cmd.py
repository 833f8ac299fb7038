"""``resume EXECUTION_ID``: complete a failed or killed checkpointed execution."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "resume",
        help="resume a failed or killed execution from its checkpoint",
        description="Run a failed or killed execution again under the same id: finished "
        "outputs and committed input shards are reused, the rest is computed.",
    )
    p.add_argument("execution_id", metavar="EXECUTION_ID", nargs="?")
    p.add_argument(
        "--list", action="store_true", help="list checkpointed executions and whether they resume"
    )
    p.add_argument("--address", help="Ray address (default: the one the run used, else local)")
    p.add_argument(
        "--force",
        action="store_true",
        help="resume even if the record still looks running (heartbeat fresh)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no live progress")
    p.set_defaults(handler=cmd_resume)


def cmd_resume(args: argparse.Namespace) -> int:
    from engine.cli.run_cmd import (
        _ProgressPrinter,
        _save,
        cli_actor,
        deliver_webhooks_once,
        quiet_ray_logs,
        summary,
    )
    from engine.context import pipeline_home
    from engine.run.checkpoint import load_record
    from engine.run.runner import ensure_ray
    from engine.service.resume import resume

    if args.list or not args.execution_id:
        return _list()
    load_record(args.execution_id)  # a clear error before Ray starts
    quiet_ray_logs()
    if args.address:
        ensure_ray(args.address)
    printer = _ProgressPrinter(quiet=args.quiet or args.json)
    from engine.service.observers import with_webhooks

    hook = with_webhooks(printer)
    result = resume(args.execution_id, on_event=hook, force=args.force, actor=cli_actor())
    _save(result.to_dict(), pipeline_home())
    deliver_webhooks_once()
    print(json.dumps(result.to_dict(), indent=2) if args.json else summary(result.to_dict()))
    return 0 if result.ok else 1


def _list() -> int:
    """Print checkpointed executions (after marking those whose runner died failed)."""
    from engine.run.checkpoint import list_records
    from engine.run.result import iso
    from engine.service.resume import reap_stale

    reap_stale()
    for rec in list_records():
        resumable = rec.get("status") in ("failed", "cancelled")
        print(
            f"{rec['executionId']:24} {rec.get('pipelineId', ''):20} {rec.get('status', ''):10} "
            f"started {iso(rec.get('startedAt'))} attempts {rec.get('attempts', 1)}"
            + ("  (resumable)" if resumable else "")
        )
    return 0
