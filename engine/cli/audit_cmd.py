"""``audit verify`` and ``audit list``: check and read the hash-chained audit trail."""

from __future__ import annotations

import argparse
import json
from datetime import datetime


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify or list the audit trail")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True
    v = asub.add_parser("verify", help="check that no audit entry was edited or deleted")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=cmd_verify)
    ls = asub.add_parser("list", help="list audit entries, newest first")
    ls.add_argument("--actor", help="only entries by this actor (API key id, cli:user)")
    ls.add_argument("--action", help="only this action (a trailing * matches a prefix)")
    ls.add_argument("--resource-type", help="pipeline, execution, resource, key, ...")
    ls.add_argument("--resource-id")
    ls.add_argument("--outcome", choices=["success", "failure", "denied"])
    ls.add_argument("--since", help="ISO time or date (inclusive)")
    ls.add_argument("--until", help="ISO time or date (exclusive)")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true", help="print JSON lines")
    ls.set_defaults(handler=cmd_list)
    pr = asub.add_parser("purge", help="delete entries older than the retention period")
    pr.add_argument(
        "--days",
        type=float,
        help="retention in days (default: PIPELINE_BUILDER_AUDIT_RETENTION_DAYS or "
        "the --framework preset)",
    )
    pr.add_argument("--framework", help="HIPAA (6 years), SOX (7 years), GDPR, PCI")
    pr.set_defaults(handler=cmd_purge)


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def cmd_verify(args: argparse.Namespace) -> int:
    from engine.audit import verify

    report = verify()
    if args.json:
        print(json.dumps(report.__dict__))
    else:
        print(report)
    return 0 if report.ok else 1


def cmd_list(args: argparse.Namespace) -> int:
    from engine.audit import list_entries

    rows = list_entries(
        actor=args.actor,
        action=args.action,
        resource_type=args.resource_type,
        resource_id=args.resource_id,
        outcome=args.outcome,
        since=_ts(args.since),
        until=_ts(args.until),
        limit=args.limit,
    )
    for e in rows:
        d = e.to_dict()
        if args.json:
            print(json.dumps(d))
        else:
            print(
                f"{d['seq']:>6} {d['at']} {d['actor']:<22} {d['action']:<22} "
                f"{d['resourceType']}/{d['resourceId']} {d['outcome']}"
                + (f" request={d['requestId']}" if d["requestId"] else "")
            )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from engine.audit import default_log, retention_days

    days = args.days if args.days is not None else retention_days(args.framework)
    if days is None:
        print(
            "no retention configured: set --days, --framework or "
            "PIPELINE_BUILDER_AUDIT_RETENTION_DAYS; nothing deleted"
        )
        return 0
    n = default_log().purge(older_than_days=days)
    print(f"deleted {n} audit entries older than {days:g} days")
    return 0
