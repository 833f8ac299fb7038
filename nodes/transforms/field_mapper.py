"""``transform/field_mapper``: rename, select/drop, cast, fill defaults, derive columns.

A mapping is either inline in the node's config or a ``fieldMappings`` catalog
resource holding the same fields. The pure function :func:`apply_mapping` does the
work on one Arrow table, so sources can apply a stored mapping at read time::

    mapping = load_mapping(ctx, "catalog_mapping_1")
    table = apply_mapping(table, mapping, node_id=ctx.node_id)

Steps run in a fixed order, each seeing the previous one's output:

1. ``mappings``: per-field entries ``{source | expression, target, type, default}``;
   the output keeps only the mapped targets unless ``keepUnmapped`` is true;
2. ``rename``: ``{old: new}``;
3. ``cast``: ``{column: type}`` with pyarrow type names (``int64``, ``timestamp[us]``...);
4. ``defaults``: ``{column: value}`` fills nulls (the value is cast to the column type);
5. ``derive``: ``{new_column: expression}`` in order (see :mod:`nodes.transforms._expr`);
6. ``drop``: columns removed;
7. ``select``: the output columns, in this order.

Values that fail a cast follow the node's ``onError``: ``fail`` raises a RowError
naming the column and value; any other policy sets them to null and counts them
under ``cast_failed.<column>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.catalog import RESOURCE_META, declare_keys
from engine.errors import NodeConfigError, NodeError, RowError
from engine.registry import NodeConfig, ResourceRef, register
from nodes.transforms import _expr
from nodes.transforms._types import (
    cast_with_failures,
    check_type_name,
    first_value,
    parse_type,
    short_repr,
)

if TYPE_CHECKING:
    from ray.data import Dataset

    from engine.context import BuildContext

Counters = Callable[[dict[str, float]], None]

# Resource metadata that is not part of the mapping itself.
_INLINE_FIELDS = (
    "mappings",
    "keepUnmapped",
    "rename",
    "cast",
    "defaults",
    "derive",
    "drop",
    "select",
)


class FieldEntry(BaseModel):
    """One per-field entry of ``mappings``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(min_length=1, description="Output column name.")
    source: str | None = Field(None, description="Input column (defaults to target).")
    expression: str | None = Field(None, description="Derived value instead of a source.")
    type: str | None = Field(None, description="pyarrow type name to cast to.")
    default: Any = Field(None, description="Value used where the result is null.")

    @field_validator("type")
    @classmethod
    def _type_known(cls, v: str | None) -> str | None:
        return None if v is None else check_type_name(v)

    @field_validator("expression")
    @classmethod
    def _expression_parses(cls, v: str | None) -> str | None:
        if v is not None:
            _expr.parse(v)
        return v

    @model_validator(mode="after")
    def _one_origin(self) -> FieldEntry:
        if self.source is not None and self.expression is not None:
            raise ValueError("give either 'source' or 'expression', not both")
        return self


class FieldMapping(BaseModel):
    """A field mapping: what :func:`apply_mapping` does to a table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mappings: list[FieldEntry] = Field(default_factory=list)
    keepUnmapped: bool = Field(False, description="Keep columns no mapping entry names.")
    rename: dict[str, str] = Field(default_factory=dict)
    cast: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    derive: dict[str, str] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    select: list[str] | None = None

    @field_validator("cast")
    @classmethod
    def _types_known(cls, v: dict[str, str]) -> dict[str, str]:
        for column, name in v.items():
            try:
                check_type_name(name)
            except ValueError as exc:
                raise ValueError(f"column {column!r}: {exc}") from None
        return v

    @field_validator("derive")
    @classmethod
    def _expressions_parse(cls, v: dict[str, str]) -> dict[str, str]:
        for column, text in v.items():
            try:
                _expr.parse(text)
            except _expr.ExpressionError as exc:
                raise ValueError(f"column {column!r}: {exc}") from None
        return v

    def is_empty(self) -> bool:
        return self == FieldMapping()


declare_keys("fieldMappings", FieldMapping.model_fields)


class FieldMapperConfig(NodeConfig):
    """Config of ``transform/field_mapper``: a catalog mapping or inline fields."""

    fieldMappings: Annotated[str, ResourceRef("fieldMappings")] | None = Field(
        None, description="Id of a fieldMappings catalog resource."
    )
    mappings: list[FieldEntry] = Field(default_factory=list)
    keepUnmapped: bool = False
    rename: dict[str, str] = Field(default_factory=dict)
    cast: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    derive: dict[str, str] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    select: list[str] | None = None

    @model_validator(mode="after")
    def _inline_is_valid(self) -> FieldMapperConfig:
        inline = self.inline_mapping()
        if self.fieldMappings is not None and not inline.is_empty():
            raise ValueError(
                "give either 'fieldMappings' (a catalog resource) or inline mapping fields, "
                "not both"
            )
        if self.fieldMappings is None and inline.is_empty():
            raise ValueError(
                "nothing to do: give 'fieldMappings' or at least one of "
                "mappings, rename, cast, defaults, derive, drop, select"
            )
        return self

    def inline_mapping(self) -> FieldMapping:
        return FieldMapping.model_validate({k: getattr(self, k) for k in _INLINE_FIELDS})


def mapping_from_resource(resource: dict[str, Any], *, resource_id: str = "") -> FieldMapping:
    """Parse a ``fieldMappings`` resource (metadata keys such as ``id`` are ignored).

    Raises:
        ValueError: The resource does not hold a valid mapping; the message names it.
    """
    body = {k: v for k, v in resource.items() if k not in RESOURCE_META}
    try:
        return FieldMapping.model_validate(body)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(
            f"fieldMappings '{resource_id}' is not a valid mapping: {details}"
        ) from None


def load_mapping(ctx: BuildContext, mapping_id: str) -> FieldMapping:
    """Load and check the ``fieldMappings`` resource ``mapping_id`` from the catalog.

    Raises:
        NodeConfigError: The resource is not a valid mapping (names the node and resource).
        ResourceNotFound: No such resource.
    """
    resource = ctx.resource("fieldMappings", mapping_id)
    try:
        return mapping_from_resource(resource, resource_id=mapping_id)
    except ValueError as exc:
        raise NodeConfigError(ctx.node_id, str(exc)) from None


def apply_mapping(
    table: pa.Table,
    mapping: FieldMapping,
    *,
    node_id: str = "field_mapper",
    on_error: str = "fail",
    counters: Counters | None = None,
) -> pa.Table:
    """Apply ``mapping`` to one Arrow table (see the module docstring for the order).

    Args:
        table: The input batch.
        mapping: The mapping to apply.
        node_id: Named in error messages.
        on_error: ``fail`` raises on a value that does not cast; anything else nulls it.
        counters: Receives ``{"cast_failed.<column>": n}`` when values are nulled.

    Raises:
        RowError: A value does not cast and ``on_error`` is ``fail``.
        NodeConfigError: The mapping names a column the table does not have.
    """
    m = _Mapper(node_id, on_error, counters)
    if mapping.mappings:
        table = m.entries(table, mapping.mappings, mapping.keepUnmapped)
    if mapping.rename:
        m.require(table, mapping.rename, "rename")
        table = table.rename_columns([mapping.rename.get(c, c) for c in table.column_names])
    for column, type_name in mapping.cast.items():
        m.require(table, [column], "cast")
        table = _set(table, column, m.cast(table.column(column), column, type_name))
    for column, value in mapping.defaults.items():
        m.require(table, [column], "defaults")
        table = _set(table, column, m.fill(table.column(column), column, value))
    for column, text in mapping.derive.items():
        table = _set(table, column, m.derive(table, column, text))
    if mapping.drop:
        m.require(table, mapping.drop, "drop")
        table = table.drop_columns(mapping.drop)
    if mapping.select is not None:
        m.require(table, mapping.select, "select")
        table = table.select(mapping.select)
    return table


class _Mapper:
    """The per-call helpers of :func:`apply_mapping`, sharing error handling."""

    def __init__(self, node_id: str, on_error: str, counters: Counters | None) -> None:
        self.node_id = node_id
        self.on_error = on_error
        self.counters = counters

    def require(self, table: pa.Table, columns: Any, step: str) -> None:
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise NodeConfigError(
                self.node_id,
                f"{step}: unknown column(s) {', '.join(map(repr, missing))}; "
                f"the input has {', '.join(table.column_names)}",
            )

    def cast(self, arr: Any, column: str, type_name: str) -> pa.Array:
        target = parse_type(type_name)
        try:
            result, failed = cast_with_failures(arr, target)
        except pa.ArrowNotImplementedError:
            raise NodeConfigError(
                self.node_id, f"cast: column {column!r} of type {arr.type} cannot become {target}"
            ) from None
        if failed.any():
            if self.on_error == "fail":
                raise RowError(
                    self.node_id,
                    f"cast: column {column!r} value {short_repr(first_value(arr, failed))} "
                    f"is not a valid {type_name} ({int(failed.sum())} bad value(s) in this batch)",
                )
            if self.counters is not None:
                self.counters({f"cast_failed.{column}": int(failed.sum())})
        return result

    def fill(self, arr: Any, column: str, value: Any) -> Any:
        if value is None or arr.null_count == 0:
            return arr
        if pa.types.is_null(arr.type):
            return pa.repeat(pa.scalar(value), len(arr))
        try:
            return pc.fill_null(arr, pa.scalar(value).cast(arr.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            raise NodeConfigError(
                self.node_id,
                f"defaults: value {short_repr(value)} does not fit column {column!r} "
                f"of type {arr.type}",
            ) from None

    def derive(self, table: pa.Table, column: str, text: str) -> Any:
        try:
            result = _expr.evaluate(_expr.parse(text), table)
        except _expr.ExpressionError as exc:
            raise NodeConfigError(self.node_id, f"derive {column!r} = {text!r}: {exc}") from None
        except pa.ArrowInvalid as exc:  # e.g. overflow in checked arithmetic
            raise RowError(self.node_id, f"derive {column!r} = {text!r}: {exc}") from None
        if isinstance(result, pa.Scalar):
            result = pa.repeat(result, table.num_rows)
        return result

    def entries(self, table: pa.Table, entries: list[FieldEntry], keep: bool) -> pa.Table:
        built: dict[str, Any] = {}
        used: set[str] = set()
        for e in entries:
            if e.expression is not None:
                arr = self.derive(table, e.target, e.expression)
                used |= _expr.columns(_expr.parse(e.expression))
            else:
                src = e.source or e.target
                self.require(table, [src], f"mappings[{e.target}]")
                arr = table.column(src)
                used.add(src)
            if e.type is not None:
                arr = self.cast(arr, e.target, e.type)
            if e.default is not None:
                arr = self.fill(arr, e.target, e.default)
            built[e.target] = arr
        if keep:
            for c in table.column_names:
                if c not in used and c not in built:
                    built[c] = table.column(c)
        return pa.table(built) if built else table.select([])


def _set(table: pa.Table, column: str, values: Any) -> pa.Table:
    if column in table.column_names:
        return table.set_column(table.column_names.index(column), column, values)
    return table.append_column(column, values)


@register(
    "transform",
    "field_mapper",
    row_local=True,
    lineage_name="field_mapping",
    config=FieldMapperConfig,
    inputs=(1, 1),
    description="Rename, select/drop, cast, fill defaults and derive columns.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: FieldMapperConfig) -> Dataset:
    """Rename, select/drop, cast, fill defaults and derive columns."""
    mapping = (
        load_mapping(ctx, config.fieldMappings)
        if config.fieldMappings is not None
        else config.inline_mapping()
    )
    node_id, on_error, metrics = ctx.node_id, ctx.node.onError.value, ctx.metrics

    def map_batch(batch: pa.Table) -> pa.Table:
        def count(c: dict[str, float]) -> None:
            metrics.add(node_id, c)

        try:
            return apply_mapping(batch, mapping, node_id=node_id, on_error=on_error, counters=count)
        except NodeError:
            raise
        except (pa.ArrowException, ValueError) as exc:
            raise NodeError(node_id, f"{type(exc).__name__}: {exc}") from exc

    return inputs[0].map_batches(
        map_batch, **ctx.map_options(batch_format="pyarrow", zero_copy_batch=True)
    )
