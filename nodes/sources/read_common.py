"""What the database and API sources share: read-time field mappings, block sizing.

**Field mappings** (``includeTransformed`` / ``fieldMappings``).

Any source node may name a stored field mapping (``fieldMappings: mapping_id``) or ask
for the data source's own stored mapping (``includeTransformed: true`` with the
resource's ``fieldMappings``). The mapping is applied to every Arrow batch as it is
read, by the field mapper's own functions, so a source emits the mapped columns.

**Block sizing.** Ray Data coalesces what a read task yields into blocks of up to
``DataContext.target_max_block_size`` (128 MiB by default) before handing them on, so
a task streaming a large table would hold that much per task however small its
fetches are. :func:`bounded_blocks` lowers the target for the source's dataset (and
what derives from it), keeping a task's memory at a few fetches.

**Zero rows.** :func:`schema_recorder` keeps the columns of a source that read no
rows, so outputs still commit a dataset with those columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import NodeConfigError

if TYPE_CHECKING:
    from ray.data import Dataset

    from engine.context import BuildContext


def mapping_id_for(
    ctx: BuildContext,
    resource: dict[str, Any],
    *,
    include_transformed: bool,
    field_mappings: str | None,
) -> str | None:
    """The id of the field mapping a source applies, or None to read columns as stored.

    Args:
        ctx: The node's build context (for error messages).
        resource: The data-source resource.
        include_transformed: The node's ``includeTransformed`` flag.
        field_mappings: The node's ``fieldMappings`` id (wins over the resource's).

    Raises:
        NodeConfigError: ``includeTransformed`` is set but no mapping is named anywhere.
    """
    if field_mappings:
        return field_mappings
    if include_transformed:
        stored = resource.get("fieldMappings")
        if not isinstance(stored, str) or not stored:
            raise NodeConfigError(
                ctx.node_id,
                f"includeTransformed is true but data source '{resource.get('id')}' names "
                "no stored mapping; expected 'fieldMappings: <mapping id>' on the node or "
                "on the data source",
            )
        return stored
    return None


def apply_read_mapping(ctx: BuildContext, ds: Dataset, mapping_id: str | None) -> Dataset:
    """Return ``ds`` with the stored field mapping ``mapping_id`` applied per batch.

    Uses the same per-batch step as ``source/file`` so every source maps alike.
    """
    if mapping_id is None:
        return ds
    from nodes.sources.file import with_mapping

    return with_mapping(ctx, ds, mapping_id)


# Blocks of a few MiB keep per-task memory small and still amortise per-block overhead.
SOURCE_BLOCK_BYTES = 16 * 1024 * 1024


def bounded_blocks(ds: Dataset, max_bytes: int = SOURCE_BLOCK_BYTES) -> Dataset:
    """Cap the block size of ``ds``'s own DataContext (a copy; the global one is untouched)."""
    current = ds.context.target_max_block_size
    if current is None or current > max_bytes:
        ds.context.target_max_block_size = max_bytes
    return ds


def schema_recorder(ctx: BuildContext) -> Any:
    """A picklable callback that records a source's columns when it reads no rows.

    Ray Data drops empty blocks together with their schema; an output whose input has
    no rows takes its columns from this record (see :mod:`nodes.outputs._empty`).
    """
    import functools

    return functools.partial(_record_schema, ctx.metrics, ctx.node_id)


def _record_schema(metrics: Any, node_id: str, schema: Any) -> None:
    from nodes.sources._tabular import SchemaState

    metrics.merge_state(node_id, "schema", SchemaState(schema))
