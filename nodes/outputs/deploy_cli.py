"""``rollback``, ``versions`` and ``webhooks-deliver`` commands (environments and webhooks)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollback", help="point an environment back at its previous version")
    p.add_argument("environment_id", metavar="ENVIRONMENT_ID")
    p.add_argument("--catalog", required=True, help="resource catalog file (YAML or JSON)")
    p.add_argument("--to", dest="to_version", help="roll back to this version instead")
    p.add_argument("--json", action="store_true", help="print the new pointer as JSON")
    # Written on the audit trail by the command line (engine.cli), as cli:<user>.
    p.set_defaults(
        handler=cmd_rollback,
        audit_action="environment.rollback",
        audit_resource=("environment", "environment_id"),
    )

    p = sub.add_parser("versions", help="list the deployed versions of an environment")
    p.add_argument("environment_id", metavar="ENVIRONMENT_ID")
    p.add_argument("--catalog", required=True, help="resource catalog file (YAML or JSON)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_versions)

    p = sub.add_parser("webhooks-deliver", help="send due webhook deliveries from the outbox")
    p.add_argument("--watch", action="store_true", help="keep delivering until interrupted")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    p.set_defaults(handler=cmd_webhooks_deliver)


def _env_uri(args: argparse.Namespace) -> str:
    from engine.catalog import load_catalog
    from nodes.outputs.environment import load_environment

    return load_environment(load_catalog(args.catalog), args.environment_id).uri


def cmd_rollback(args: argparse.Namespace) -> int:
    from nodes.outputs import versions

    args.audit_details = {"toVersion": args.to_version} if args.to_version else {}
    pointer: dict[str, Any] = versions.rollback(_env_uri(args), to_version=args.to_version)
    args.audit_details.update(
        version=pointer["version"], rolledBackFrom=pointer.get("rolledBackFrom")
    )
    if args.json:
        print(json.dumps(pointer, indent=2))
    else:
        print(
            f"{args.environment_id}: CURRENT -> {pointer['version']} "
            f"(was {pointer['rolledBackFrom']}; previous now {pointer.get('previous')})"
        )
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from nodes.outputs import versions

    listed = versions.list_versions(_env_uri(args))
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    for v in listed:
        mark = "*" if v["current"] else ("-" if v["previous"] else " ")
        state = "" if v["complete"] else " (incomplete)"
        print(f"{mark} {v['version']}  rows={v['rows']}  exec={v['executionId']}{state}")
    return 0


def cmd_webhooks_deliver(args: argparse.Namespace) -> int:
    import time

    from engine.webhooks import Dispatcher

    d = Dispatcher(poll_interval=args.interval)
    try:
        while True:
            n = d.deliver_pending()
            if not args.watch:
                print(f"{n} delivery attempt(s)")
                return 0
            if n == 0:
                time.sleep(args.interval)
    finally:
        d.stop()
