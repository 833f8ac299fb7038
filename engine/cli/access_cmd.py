"""``pipeline-builder access DATA_SOURCE_ID``: who read or wrote a data source, and when."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "access", help="list who read or wrote a data source (access records, newest first)"
    )
    p.add_argument("data_source_id", help="data source (or environment) id")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument(
        "--db-url", help="metadata database (default PIPELINE_BUILDER_DB_URL or the home's SQLite)"
    )
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(handler=cmd_access)


def cmd_access(args: argparse.Namespace) -> int:
    from engine.store import open_store

    if not 1 <= args.limit <= 10_000:
        print("error: --limit must be between 1 and 10000")
        return 2
    rows, total = open_store(args.db_url).list_access(
        data_source_id=args.data_source_id, limit=args.limit
    )
    for r in rows:
        if args.json:
            print(json.dumps(r, default=str))
        else:
            cols = ",".join(r["columns"] or [])
            print(
                f"{r['at']} {r['direction']:<5} {r['identity']:<24} {r['interface']:<6} "
                f"{r['execution_id']} node={r['node_id']} rows={r['rows']} "
                f"location={r['location']} columns={cols}"
            )
    if not args.json:
        print(f"{len(rows)} of {total} access records for {args.data_source_id}")
    return 0
