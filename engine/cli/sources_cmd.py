"""``sources test ID``: check a data source before a run (connect, read a few rows).

Dispatches on the resource's ``type`` (or ``kind``): ``file``, ``database``, ``api``.
Each kind's node module offers ``preview(resource, catalog, limit) -> pyarrow.Table``;
this command prints the schema and the first rows, or the reason it could not read.
Secrets are resolved as in a run and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.errors import CatalogError, PipelineBuilderError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sources", help="work with data sources of a catalog")
    actions = p.add_subparsers(dest="sources_command", metavar="ACTION")
    actions.required = True
    t = actions.add_parser(
        "test", help="connect to a data source, read a few rows and print the schema"
    )
    t.add_argument("source_id", metavar="ID", help="id of a dataSources entry of the catalog")
    t.add_argument("--catalog", required=True, help="resource catalog file (YAML or JSON)")
    t.add_argument("--limit", type=int, default=5, help="rows to read (default 5)")
    t.add_argument("--query", help="database sources: name of the query template to try")
    t.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="database sources: a query parameter (repeatable)",
    )
    t.add_argument("--json", action="store_true", help="print the result as JSON")
    t.set_defaults(handler=cmd_sources_test)


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CatalogError(f"--param {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def preview_source(
    resource: dict[str, Any],
    catalog: Any,
    limit: int,
    *,
    query: str | None = None,
    params: dict[str, Any] | None = None,
    registry: Any = None,
) -> Any:
    """Read the first ``limit`` rows of a data source with its kind's ``preview``.

    Raises:
        CatalogError: the resource has no known ``type`` or its kind has no preview.
        PipelineBuilderError: whatever the preview raises (connection, auth, HTTP...).
    """
    from engine.registry import default_registry

    registry = registry or default_registry()
    kind = resource.get("type", resource.get("kind"))
    nt = registry.source_for_kind(str(kind))
    if nt is None:
        raise CatalogError(
            f"data source '{resource.get('id')}' has type {kind!r}; expected one of "
            + ", ".join(registry.source_kinds())
        )
    preview = nt.preview_function()
    if preview is None:
        raise CatalogError(
            f"data sources of type {kind!r} cannot be tested: node type {nt.key} "
            "declares no preview"
        )
    if query is not None or params:
        return preview(resource, catalog, limit, query=query, params=params or {})
    return preview(resource, catalog, limit)


def cmd_sources_test(args: argparse.Namespace) -> int:
    from engine.catalog import load_catalog

    catalog = load_catalog(args.catalog)
    resource = catalog.get("dataSources", args.source_id)
    kind = resource.get("type", resource.get("kind"))
    try:
        table = preview_source(
            resource,
            catalog,
            max(1, args.limit),
            query=args.query,
            params=_params(args.param),
        )
    except PipelineBuilderError as exc:
        if args.json:
            print(json.dumps({"id": args.source_id, "type": kind, "ok": False, "error": str(exc)}))
        else:
            print(f"FAILED: data source '{args.source_id}' ({kind}): {exc}", file=sys.stderr)
        return 1
    schema = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    rows = table.to_pylist()
    if args.json:
        out = {"id": args.source_id, "type": kind, "ok": True, "schema": schema, "rows": rows}
        print(json.dumps(out, default=str))
        return 0
    print(f"ok: data source '{args.source_id}' ({kind}) read {len(rows)} row(s)")
    print("schema:")
    for f in schema:
        print(f"  {f['name']}: {f['type']}")
    if rows:
        print("rows:")
        for row in rows:
            print("  " + json.dumps(row, default=str))
    return 0
