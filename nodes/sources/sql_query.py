"""Query templates with typed bound parameters, and range partitions over a key column.

A data source names its queries; each is SQL with ``:name`` placeholders and a
declaration of every parameter's type::

    queries:
      big_orders:
        sql: SELECT id, amount, placed_on FROM orders WHERE amount > :min_amount
        params: {min_amount: {type: float, default: 0}}

Values are always *bound* (``sqlalchemy.text`` + bind parameters); no value is ever
formatted into SQL text, so ``'; DROP TABLE x; --`` is just a string to compare with.

Partitioned reads wrap the template as a sub-query and add a range predicate on the
partition column. Ranges are computed from one ``MIN/MAX`` query; the first range is
open below, the last open above and the ones between half-open, and NULL keys get a
partition of their own, so every row is read exactly once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.errors import NodeConfigError

PARAM_TYPES = ("int", "float", "decimal", "str", "bool", "date", "datetime")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOW, HIGH = "pb_range_low", "pb_range_high"


@dataclass(frozen=True)
class QueryTemplate:
    """One named query of a data source."""

    name: str
    sql: str
    params: dict[str, dict[str, Any]]
    partition_column: str | None = None
    partitions: int | None = None


def query_template(node_id: str, resource: dict[str, Any], name: str | None) -> QueryTemplate:
    """Look up query ``name`` of a database resource (the only one when ``name`` is None).

    Raises:
        NodeConfigError: unknown query name, no queries, or a malformed template.
    """
    rid = resource.get("id")
    queries = resource.get("queries") or {}
    if not isinstance(queries, dict) or not queries:
        raise NodeConfigError(
            node_id,
            f"data source '{rid}' has no 'queries'; expected queries: "
            "{name: {sql: 'SELECT ...', params: {...}}}",
        )
    if name is None:
        if len(queries) != 1:
            raise NodeConfigError(
                node_id,
                f"data source '{rid}' has {len(queries)} queries; set 'query' to one of: "
                + ", ".join(sorted(queries)),
            )
        name = next(iter(queries))
    if name not in queries:
        raise NodeConfigError(
            node_id,
            f"data source '{rid}' has no query '{name}'; known queries: "
            + ", ".join(sorted(queries)),
        )
    entry = queries[name]
    if isinstance(entry, str):
        entry = {"sql": entry}
    sql = entry.get("sql") if isinstance(entry, dict) else None
    if not isinstance(sql, str) or not sql.strip():
        raise NodeConfigError(node_id, f"query '{name}' of data source '{rid}' has no 'sql'")
    params = entry.get("params") or {}
    for pname, decl in params.items():
        ptype = (decl or {}).get("type", "str") if isinstance(decl, dict) else decl
        if ptype not in PARAM_TYPES:
            raise NodeConfigError(
                node_id,
                f"query '{name}' parameter '{pname}' has type {ptype!r}; expected one of "
                + ", ".join(PARAM_TYPES),
            )
    params = {p: (d if isinstance(d, dict) else {"type": d}) for p, d in params.items()}
    column = entry.get("partitionColumn", resource.get("partitionColumn"))
    if column is not None and not (isinstance(column, str) and _IDENTIFIER.match(column)):
        raise NodeConfigError(
            node_id,
            f"partitionColumn {column!r} of data source '{rid}' must be a plain column name "
            "(letters, digits, '_')",
        )
    partitions = entry.get("partitions", resource.get("partitions"))
    return QueryTemplate(
        name=name,
        sql=sql.strip().rstrip(";").strip(),
        params=params,
        partition_column=column,
        partitions=int(partitions) if partitions is not None else None,
    )


def bind_values(node_id: str, template: QueryTemplate, given: dict[str, Any]) -> dict[str, Any]:
    """Typed values for every placeholder of ``template``, from ``given`` and defaults.

    Raises:
        NodeConfigError: a placeholder is not declared, a parameter is unknown or
            missing, or a value does not convert to its declared type.
    """
    from sqlalchemy import text

    placeholders = set(text(template.sql).compile().params)
    undeclared = placeholders - set(template.params)
    if undeclared:
        raise NodeConfigError(
            node_id,
            f"query '{template.name}' uses undeclared parameter(s) "
            + ", ".join(sorted(undeclared))
            + "; declare each under params with its type",
        )
    unknown = set(given) - set(template.params)
    if unknown:
        raise NodeConfigError(
            node_id,
            f"query '{template.name}' has no parameter(s) "
            + ", ".join(sorted(unknown))
            + "; its parameters are: "
            + (", ".join(sorted(template.params)) or "(none)"),
        )
    values: dict[str, Any] = {}
    for pname, decl in template.params.items():
        if pname in given:
            raw = given[pname]
        elif "default" in decl:
            raw = decl["default"]
        else:
            raise NodeConfigError(
                node_id,
                f"query '{template.name}' needs parameter '{pname}' "
                f"({decl.get('type', 'str')}); set it under params",
            )
        values[pname] = _convert(node_id, pname, raw, decl.get("type", "str"))
    return values


def _convert(node_id: str, name: str, value: Any, ptype: str) -> Any:
    if value is None:
        return None
    try:
        if ptype == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if ptype == "float":
            return float(value)
        if ptype == "decimal":
            return Decimal(str(value))
        if ptype == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes"):
                return True
            if str(value).lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if ptype == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if ptype == "datetime":
            if isinstance(value, dt.datetime):
                return value
            return dt.datetime.fromisoformat(str(value))
        return str(value)
    except (ValueError, TypeError, ArithmeticError):
        raise NodeConfigError(
            node_id, f"parameter '{name}' value {value!r} is not a valid {ptype}"
        ) from None


@dataclass(frozen=True)
class Partition:
    """One slice of a partitioned read: SQL text plus the extra bound values."""

    sql: str
    bounds: dict[str, Any]
    label: str


def whole_query(template: QueryTemplate) -> Partition:
    return Partition(sql=template.sql, bounds={}, label="all rows")


def stats_sql(template: QueryTemplate, quoted_column: str) -> str:
    """``MIN``, ``MAX`` and NULL count of the partition column over the template's rows."""
    col = f"pb_src.{quoted_column}"
    return f"SELECT MIN({col}), MAX({col}), COUNT(*) - COUNT({col}) FROM ({template.sql}) AS pb_src"


def range_partitions(
    node_id: str,
    template: QueryTemplate,
    quoted_column: str,
    *,
    low: Any,
    high: Any,
    null_rows: int,
    count: int,
) -> list[Partition]:
    """Partitions covering every row of the template exactly once.

    Args:
        node_id: For error messages.
        template: The query.
        quoted_column: The partition column, quoted for the dialect.
        low, high: ``MIN`` and ``MAX`` of the column (None when every key is NULL).
        null_rows: Rows whose key is NULL (they get their own partition when > 0).
        count: Wanted number of key ranges.

    Raises:
        NodeConfigError: the column is neither numeric nor a date/time.
    """
    col = f"pb_src.{quoted_column}"
    base = f"SELECT * FROM ({template.sql}) AS pb_src WHERE "
    parts: list[Partition] = []
    if low is not None:
        cuts = _cut_points(node_id, template, low, high, max(1, count))
        edges: list[Any] = [None, *cuts, None]
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            where, bounds = [], {}
            if lo is not None:
                where.append(f"{col} >= :{LOW}")
                bounds[LOW] = lo
            if hi is not None:
                where.append(f"{col} < :{HIGH}")
                bounds[HIGH] = hi
            if not where:
                where.append(f"{col} IS NOT NULL")
            parts.append(Partition(base + " AND ".join(where), bounds, f"[{lo}, {hi})"))
    if null_rows > 0 or low is None:
        parts.append(Partition(base + f"{col} IS NULL", {}, "NULL keys"))
    return parts


def _cut_points(node_id: str, template: QueryTemplate, low: Any, high: Any, n: int) -> list[Any]:
    """Strictly increasing interior boundaries splitting ``[low, high]`` into ``n`` ranges."""
    as_text = isinstance(low, str)
    if as_text:  # SQLite keeps dates as ISO text; ISO text sorts like the dates it spells
        low, high = _parse_iso(node_id, template, low), _parse_iso(node_id, template, high)
    if isinstance(low, bool) or not isinstance(low, int | float | Decimal | dt.date | dt.datetime):
        raise NodeConfigError(
            node_id,
            f"partitionColumn '{template.partition_column}' of query '{template.name}' holds "
            f"{type(low).__name__} values; expected a numeric or date/time column",
        )
    span = high - low
    cuts: list[Any] = []
    for i in range(1, n):
        if isinstance(low, int):
            cut: Any = low + (span * i) // n
        elif isinstance(low, float | Decimal):
            cut = low + span * i / n
        else:  # date / datetime: timedelta arithmetic
            cut = low + span * i / n
            if isinstance(low, dt.date) and not isinstance(low, dt.datetime):
                cut = low + dt.timedelta(days=(span.days * i) // n)
        if cut > low and (not cuts or cut > cuts[-1]) and cut <= high:
            cuts.append(cut)
    if as_text:
        return [c.isoformat(sep=" ") if isinstance(c, dt.datetime) else c.isoformat() for c in cuts]
    return cuts


def _parse_iso(node_id: str, template: QueryTemplate, value: str) -> Any:
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise NodeConfigError(
            node_id,
            f"partitionColumn '{template.partition_column}' of query '{template.name}' holds "
            f"text such as {value[:40]!r}; expected a numeric or date/time column",
        ) from None
