"""``source/database``: rows of a named query template of a connected database.

The data-source resource (catalog kind ``dataSources``)::

    - id: ds_orders
      type: database
      url: postgresql+psycopg://reader@db.internal:5432/shop   # no password here
      password: env:SHOP_DB_PASSWORD                           # secret reference
      queries:
        recent_orders:
          sql: SELECT id, customer, amount, placed_on FROM orders WHERE placed_on >= :since
          params: {since: {type: date}}
      partitionColumn: id        # numeric or date key: parallel range partitions
      partitions: 4
      fetchSize: 10000           # rows per round trip and per Arrow block

The node::

    {id: load, nodeType: source, category: database,
     config: {dataSourceId: ds_orders, query: recent_orders, params: {since: 2024-01-01}}}

Values are bound, never formatted into SQL. Reads stream with server-side cursors;
with a partition column, one Ray task per key range reads in parallel, each with its
own read-only connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
from pydantic import Field

from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, ResourceRef, register
from engine.secrets import resolve_secret
from nodes.sources.read_common import (
    apply_read_mapping,
    bounded_blocks,
    mapping_id_for,
    schema_recorder,
)
from nodes.sources.sql_connect import ConnectionInfo, connection_info
from nodes.sources.sql_query import (
    Partition,
    QueryTemplate,
    bind_values,
    query_template,
    range_partitions,
    stats_sql,
    whole_query,
)

if TYPE_CHECKING:
    from ray.data import Dataset

    from engine.catalog import Catalog
    from engine.context import BuildContext

DEFAULT_FETCH_SIZE = 10_000
DEFAULT_PARTITIONS = 4


class DatabaseSourceConfig(NodeConfig):
    """Config of ``source/database``."""

    dataSourceId: Annotated[str, ResourceRef("dataSources")] = Field(
        description="Id of a data source of type 'database'."
    )
    query: str | None = Field(
        None,
        description="Name of one of the data source's query templates (optional if it has one).",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Values of the template's parameters (bound, typed)."
    )
    partitions: int | None = Field(
        None, ge=1, le=1024, description="Overrides the data source's number of key ranges."
    )
    fetchSize: int | None = Field(None, ge=1, description="Overrides rows per fetch/block.")
    includeTransformed: bool = Field(
        False, description="Apply the data source's stored field mapping while reading."
    )
    fieldMappings: Annotated[str, ResourceRef("fieldMappings")] | None = Field(
        None, description="Id of a stored field mapping applied to every batch as it is read."
    )


def _check_database(resource: dict[str, Any], node_id: str) -> None:
    kind = resource.get("type", resource.get("kind"))
    if kind != "database":
        raise NodeConfigError(
            node_id,
            f"data source '{resource.get('id')}' has type {kind!r}; source/database needs a "
            "data source of type 'database'",
        )


def plan_partitions(
    conn_info: ConnectionInfo, template: QueryTemplate, params: dict[str, Any], count: int
) -> list[Partition]:
    """The partitions of a read: one when there is no partition column, else key ranges.

    Runs one ``MIN/MAX`` query on the driver when the template has a partition column.
    """
    if template.partition_column is None or count <= 1:
        return [whole_query(template)]
    from sqlalchemy import text

    with conn_info.connect() as conn:
        quoted = conn.dialect.identifier_preparer.quote(template.partition_column)
        try:
            low, high, nulls = conn.execute(text(stats_sql(template, quoted)), params).one()
        except Exception as exc:
            raise NodeError(
                conn_info.node_id,
                f"cannot compute the range of partitionColumn '{template.partition_column}' "
                f"on {conn_info.display_url}: {conn_info.scrub_error(exc)}",
            ) from None
    return range_partitions(
        conn_info.node_id,
        template,
        quoted,
        low=low,
        high=high,
        null_rows=int(nulls or 0),
        count=count,
    )


@register(
    "source",
    "database",
    source_kind="database",
    preview="nodes.sources.database:preview",
    config=DatabaseSourceConfig,
    inputs=(0, 0),
    description="Rows of a query template of a connected database (streamed, partitioned).",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: DatabaseSourceConfig) -> Dataset:
    """Rows of a query template of a connected database (streamed, partitioned)."""
    import ray.data

    from nodes.sources.sql_datasource import SqlDatasource

    resource = ctx.resource("dataSources", config.dataSourceId)
    _check_database(resource, ctx.node_id)
    mapping_id = mapping_id_for(
        ctx,
        resource,
        include_transformed=config.includeTransformed,
        field_mappings=config.fieldMappings,
    )
    conn_info = connection_info(
        node_id=ctx.node_id,
        resource=resource,
        resolve_secret=ctx.secret,
        base_dir=getattr(ctx.catalog, "base_dir", None) or ctx.options.base_dir,
    )
    template = query_template(ctx.node_id, resource, config.query)
    values = bind_values(ctx.node_id, template, config.params)
    fetch_size = int(config.fetchSize or resource.get("fetchSize") or DEFAULT_FETCH_SIZE)
    count = config.partitions or template.partitions or DEFAULT_PARTITIONS
    partitions = plan_partitions(conn_info, template, values, count)
    ctx.report("location", conn_info.display_url)
    ctx.report("format", "database")
    ctx.report("dataSourceId", config.dataSourceId)
    ctx.report("query", template.name)
    ctx.report("partitions", len(partitions))
    datasource = SqlDatasource.create(
        conn_info, partitions, values, fetch_size, on_empty=schema_recorder(ctx)
    )
    ds = bounded_blocks(ray.data.read_datasource(datasource, override_num_blocks=len(partitions)))
    return apply_read_mapping(ctx, ds, mapping_id)


def preview(
    resource: dict[str, Any],
    catalog: Catalog,
    limit: int = 10,
    *,
    query: str | None = None,
    params: dict[str, Any] | None = None,
) -> pa.Table:
    """Connect to a database data source and read the first ``limit`` rows of a query.

    Used by ``pipeline-builder sources test``; needs no Ray.

    Raises:
        NodeError: misconfiguration, connection or query failure (no secrets shown).
    """
    rid = str(resource.get("id"))
    _check_database(resource, rid)
    conn_info = connection_info(
        node_id=rid,
        resource=resource,
        resolve_secret=resolve_secret,
        base_dir=getattr(catalog, "base_dir", None),
    )
    template = query_template(rid, resource, query)
    values = bind_values(rid, template, params or {})
    from nodes.sources.sql_datasource import stream_partition

    tables = list(stream_partition(conn_info, whole_query(template), values, limit, limit=limit))
    return pa.concat_tables(tables, promote_options="permissive")
