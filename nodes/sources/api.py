"""``source/api``: records of a configured external API, page by page.

The data-source resource (catalog kind ``dataSources``)::

    - id: ds_tickets
      type: api
      baseUrl: https://api.example.com/v2
      path: /tickets
      params: {status: open}                 # fixed query parameters
      auth: {type: bearer, token: env:TICKETS_TOKEN}  # or type: header + header: X-API-Key
      pagination: {style: cursor, cursorParam: after, cursorPath: meta.next}
      recordsPath: data.items                # dotted path to the list of records
      rateLimitPerSecond: 5
      timeoutSeconds: 30
      retry: {maxAttempts: 5, initialDelaySeconds: 0.5, maxDelaySeconds: 30}
      schema: {id: int64, title: string, created: timestamp[s]}   # optional; inferred if absent

The node::

    {id: tickets, nodeType: source, category: api, onError: quarantine,
     config: {dataSourceId: ds_tickets, params: {status: closed}}}

Pages stream into Arrow blocks (one block per page). Transient errors are retried
(counter ``retries``); a malformed page follows the node's ``onError``: ``fail`` stops
the run, ``drop``/``skip`` skip the page (counter ``malformedPages``), ``quarantine``
skips it and writes its metadata (URL without credentials, status, size, hash,
reason) to ``quarantine.jsonl`` in the node's artifact folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
from pydantic import Field

from engine import egress
from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, ResourceRef, register
from engine.secrets import resolve_secret
from nodes.sources.http_client import HttpFetcher, RetrySettings, auth_header, scrub_url
from nodes.sources.http_pagination import Page, Pagination, iter_pages
from nodes.sources.read_common import apply_read_mapping, bounded_blocks, mapping_id_for

if TYPE_CHECKING:
    from ray.data import Dataset

    from engine.catalog import Catalog
    from engine.context import BuildContext, Metrics

_TYPE_ALIASES = {
    "int": "int64",
    "integer": "int64",
    "float": "float64",
    "number": "float64",
    "str": "string",
    "text": "string",
    "boolean": "bool",
    "datetime": "timestamp[us]",
}


class ApiSourceConfig(NodeConfig):
    """Config of ``source/api``."""

    dataSourceId: Annotated[str, ResourceRef("dataSources")] = Field(
        description="Id of a data source of type 'api'."
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query parameters added to (or overriding) the source's."
    )
    maxPages: int | None = Field(None, ge=1, description="Stop after this many pages.")
    includeTransformed: bool = Field(
        False, description="Apply the data source's stored field mapping while reading."
    )
    fieldMappings: Annotated[str, ResourceRef("fieldMappings")] | None = Field(
        None, description="Id of a stored field mapping applied to every batch as it is read."
    )


def declared_schema(node_id: str, resource: dict[str, Any]) -> pa.Schema | None:
    """The resource's declared Arrow schema (``{name: type}`` or ``[{name, type}]``).

    Raises:
        NodeConfigError: an unknown type name.
    """
    raw = resource.get("schema")
    if not raw:
        return None
    items = raw.items() if isinstance(raw, dict) else [(f.get("name"), f.get("type")) for f in raw]
    fields = []
    for name, type_name in items:
        alias = _TYPE_ALIASES.get(str(type_name), str(type_name))
        try:
            fields.append(pa.field(str(name), pa.type_for_alias(alias)))
        except (ValueError, KeyError):
            raise NodeConfigError(
                node_id,
                f"data source '{resource.get('id')}': schema type {type_name!r} of field "
                f"{name!r} is unknown; expected an Arrow type such as int64, float64, string, "
                "bool, date32, timestamp[us]",
            ) from None
    return pa.schema(fields)


class RecordsToArrow:
    """Records of each page as an Arrow table with one schema across pages."""

    def __init__(self, schema: pa.Schema | None) -> None:
        self.declared = schema is not None
        self.schema = schema

    def convert(self, records: list[dict[str, Any]]) -> pa.Table:
        """Raises ValueError/ArrowException for records that do not fit the schema."""
        if self.declared:
            return pa.Table.from_pylist(records, schema=self.schema)
        table = pa.Table.from_pylist(records)
        if self.schema is None:
            self.schema = table.schema
            return table
        merged = pa.unify_schemas([self.schema, table.schema], promote_options="permissive")
        self.schema = merged
        columns = [
            table[f.name].cast(f.type)
            if f.name in table.column_names
            else pa.nulls(len(table), f.type)
            for f in merged
        ]
        return pa.Table.from_arrays(columns, schema=merged)


class ApiReader:
    """Everything one read needs; pickled into the Ray read task."""

    def __init__(
        self,
        *,
        node_id: str,
        fetcher: HttpFetcher,
        url: str,
        params: dict[str, Any],
        pagination: Pagination,
        records_path: str | None,
        schema: pa.Schema | None,
        on_error: str,
        quarantine_file: str | None,
        metrics: Metrics | None,
    ) -> None:
        self.node_id = node_id
        self.fetcher = fetcher
        self.url = url
        self.params = params
        self.pagination = pagination
        self.records_path = records_path
        self.schema = schema
        self.on_error = on_error
        self.quarantine_file = quarantine_file
        self.metrics = metrics

    def _count(self, counters: dict[str, float]) -> None:
        if self.metrics is not None:
            self.metrics.add(self.node_id, counters)

    def tables(self, limit: int | None = None) -> Iterator[pa.Table]:
        """Yield one Arrow table per good page; apply ``onError`` to malformed ones."""
        converter = RecordsToArrow(self.schema)
        produced = 0
        try:
            for page in iter_pages(
                self.fetcher,
                self.url,
                self.params,
                self.pagination,
                self.records_path,
                on_retry=lambda _problem: self._count({"retries": 1}),
            ):
                self._count({"pages": 1})
                table = None
                if page.problem is None:
                    try:
                        table = converter.convert(page.records or [])
                    except (pa.ArrowException, ValueError, TypeError) as exc:
                        page.problem = f"records do not fit the schema: {exc}"
                if table is None:
                    self._malformed(page)
                    continue
                if limit is not None:
                    table = table.slice(0, limit - produced)
                produced += table.num_rows
                if table.num_rows:
                    yield table
                if limit is not None and produced >= limit:
                    return
        finally:
            self.fetcher.close()
        if produced == 0 and self.schema is not None:
            yield self.schema.empty_table()

    def _malformed(self, page: Page) -> None:
        if self.on_error == "fail":
            raise NodeError(
                self.node_id,
                f"page {page.number} ({page.url}, HTTP {page.status}) is malformed: "
                f"{page.problem}; set onError to drop or quarantine to skip such pages",
            )
        self._count({"malformedPages": 1})
        if self.on_error == "quarantine" and self.quarantine_file:
            entry = {**page.metadata(), "at": dt.datetime.now(dt.timezone.utc).isoformat()}
            with open(self.quarantine_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
            self._count({"quarantinedPages": 1})


def make_reader(
    *,
    node_id: str,
    resource: dict[str, Any],
    resolve: Any,
    params: dict[str, Any] | None = None,
    max_pages: int | None = None,
    on_error: str = "fail",
    quarantine_file: str | None = None,
    metrics: Metrics | None = None,
) -> ApiReader:
    """An :class:`ApiReader` for an API data-source resource.

    Raises:
        NodeConfigError: the resource is not an API source or is misconfigured.
    """
    rid = resource.get("id")
    kind = resource.get("type", resource.get("kind"))
    if kind != "api":
        raise NodeConfigError(
            node_id,
            f"data source '{rid}' has type {kind!r}; source/api needs a data source of type 'api'",
        )
    base = resource.get("baseUrl")
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise NodeConfigError(
            node_id, f"data source '{rid}': baseUrl {base!r} must be an http(s) URL"
        )
    try:
        egress.check_url(base, what=f"data source '{rid}'")
    except egress.EgressRefused as exc:
        raise NodeConfigError(node_id, str(exc)) from None
    bound = resource.get("boundOrigin")
    if bound and resource.get("auth") and _origin(base) != bound:
        raise NodeConfigError(
            node_id,
            f"secret-origin: data source '{rid}' may send its secret only to {bound}, "
            f"not {_origin(base)}; re-enter the secret to move it",
        )
    path = str(resource.get("path") or "")
    url = base.rstrip("/") + ("/" + path.lstrip("/") if path else "")
    pagination = Pagination.from_resource(node_id, resource)
    if max_pages is not None:
        limit = min(max_pages, pagination.max_pages or max_pages)
        pagination = dataclasses.replace(pagination, max_pages=limit)
    fetcher = HttpFetcher(
        node_id=node_id,
        base_url=base,
        headers={"Accept": "application/json", **(resource.get("headers") or {})},
        secret_header=auth_header(node_id, resource, resolve),
        timeout=float(resource.get("timeoutSeconds", 30)),
        rate_limit=float(resource["rateLimitPerSecond"])
        if resource.get("rateLimitPerSecond")
        else None,
        retry=RetrySettings.from_resource(resource.get("retry")),
    )
    return ApiReader(
        node_id=node_id,
        fetcher=fetcher,
        url=url,
        params={**(resource.get("params") or {}), **(params or {})},
        pagination=pagination,
        records_path=resource.get("recordsPath"),
        schema=declared_schema(node_id, resource),
        on_error=on_error,
        quarantine_file=quarantine_file,
        metrics=metrics,
    )


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    return f"{u.scheme}://{(u.hostname or '').lower()}:{port}"


def _datasource(reader: ApiReader) -> Any:
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class _ApiDatasource(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_name(self) -> str:
            return "API"

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[ReadTask]:
            # Pages depend on each other (cursor, Link): one task walks them in order.
            return [
                ReadTask(
                    reader.tables,
                    BlockMetadata(None, None, None, None),
                    per_task_row_limit=per_task_row_limit,
                )
            ]

    return _ApiDatasource()


@register(
    "source",
    "api",
    source_kind="api",
    preview="nodes.sources.api:preview",
    config=ApiSourceConfig,
    inputs=(0, 0),
    description="Records of a configured external API, streamed page by page.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: ApiSourceConfig) -> Dataset:
    """Records of a configured external API, streamed page by page."""
    import ray.data

    resource = ctx.resource("dataSources", config.dataSourceId)
    on_error = ctx.node.onError.value
    quarantine = None
    if on_error == "quarantine":
        quarantine = str(Path(ctx.artifact_dir()) / "quarantine.jsonl")
        ctx.report("quarantine", quarantine)
    reader = make_reader(
        node_id=ctx.node_id,
        resource=resource,
        resolve=ctx.secret,
        params=dict(config.params),
        max_pages=config.maxPages,
        on_error=on_error,
        quarantine_file=quarantine,
        metrics=ctx.metrics,
    )
    mapping_id = mapping_id_for(
        ctx,
        resource,
        include_transformed=config.includeTransformed,
        field_mappings=config.fieldMappings,
    )
    ctx.report("location", scrub_url(reader.url, None, reader.fetcher.secrets()))
    ctx.report("format", "api")
    ctx.report("dataSourceId", config.dataSourceId)
    ds = bounded_blocks(ray.data.read_datasource(_datasource(reader), override_num_blocks=1))
    return apply_read_mapping(ctx, ds, mapping_id)


def preview(resource: dict[str, Any], catalog: Catalog, limit: int = 10) -> pa.Table:
    """Fetch the first page(s) of an API data source up to ``limit`` records (no Ray).

    Raises:
        NodeError: misconfiguration, HTTP failure or a malformed page.
    """
    reader = make_reader(node_id=str(resource.get("id")), resource=resource, resolve=resolve_secret)
    tables = list(reader.tables(limit=limit))
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")
