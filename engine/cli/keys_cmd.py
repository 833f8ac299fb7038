"""``pipeline-builder keys create|list|revoke``: API keys of the HTTP API."""

from __future__ import annotations

import argparse
import json

from engine.store import SCOPES, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="manage API keys of the HTTP API (stored hashed)")
    actions = p.add_subparsers(dest="keys_command", metavar="ACTION")
    actions.required = True
    c = actions.add_parser("create", help="create a key and print it once")
    c.add_argument(
        "--scope",
        choices=SCOPES,
        default="read",
        help="read < execute < admin (a key holds every lower scope)",
    )
    c.add_argument("--name", help="a label to recognise the key by")
    c.add_argument(
        "--db-url", help="metadata database (default PIPELINE_BUILDER_DB_URL or the home's SQLite)"
    )
    c.set_defaults(handler=create_key)
    ls = actions.add_parser("list", help="list keys (ids and scopes, never the keys)")
    ls.add_argument("--db-url")
    ls.set_defaults(handler=list_keys)
    rv = actions.add_parser("revoke", help="revoke a key by id")
    rv.add_argument("key_id")
    rv.add_argument("--db-url")
    rv.set_defaults(handler=revoke_key)


def create_key(args: argparse.Namespace) -> int:
    key, token = open_store(args.db_url).create_api_key(args.scope, name=args.name)
    print(token)
    import sys

    print(f"created {key.id} with scope {key.scope}; the key is shown only once", file=sys.stderr)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    for k in open_store(args.db_url).list_api_keys():
        print(
            json.dumps(
                {
                    "id": k.id,
                    "name": k.name,
                    "scope": k.scope,
                    "createdAt": k.created_at,
                    "revokedAt": k.revoked_at,
                }
            )
        )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    open_store(args.db_url).revoke_api_key(args.key_id)
    print(f"revoked {args.key_id}")
    return 0
