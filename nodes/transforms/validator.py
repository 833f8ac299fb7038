"""``transform/validator``: check rows against quality rules.

Rules come inline (``rules``) and/or from a ``qualityRules`` catalog resource (its
``rules`` list); both have the same shape::

    {rule: not_null, column: email}
    {rule: type, column: age, type: int64}          # values convert to the type
    {rule: range, column: age, min: 0, max: 130}    # inclusive bounds, either optional
    {rule: regex, column: email, pattern: '^[^@]+@[^@]+$'}   # RE2 search; anchor it
    {rule: allowed, column: status, values: [active, closed]}
    {rule: unique, column: customer_id}

Each rule may carry a ``name`` (default ``<rule>_<column>``). Null values pass every
rule except ``not_null``. Each batch is checked with vectorized ``pyarrow.compute``;
per-rule counters ``quality.<name>.passed``/``.failed`` and the row totals
``quality.passed``/``quality.failed`` are recorded. The node's ``onError`` decides what
happens to failing rows: ``fail`` raises a RowError naming the rule, column, value and
expectation; ``drop``/``skip`` removes them; ``quarantine`` writes them, with a
``_quarantine_reason`` column, as Parquet files under ``quarantineUri`` (default: the
node's artifact folder) and passes the good rows on.

Uniqueness in bounded memory: the stream is hash-partitioned on the rule's column
(Ray Data's shuffle, the same clustering ``groupby().map_groups()`` uses, which spills
to disk through the object store), so every row with a given key lands in the same
block; each block is then checked with a vectorized group-by count. No set of all keys
is ever held in one process. Costs: one shuffle per unique rule, and the output's row
order is no longer the input's. Uniqueness is judged among the rows that passed the
other rules, and every row sharing a duplicated key fails (not only the second one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.catalog import RESOURCE_META, declare_keys
from engine.errors import NodeConfigError, NodeError, RowError
from engine.registry import NodeConfig, ResourceRef, register
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

RuleKind = Literal["not_null", "type", "range", "regex", "allowed", "unique"]
_ALIASES = {
    "notnull": "not_null",
    "not-null": "not_null",
    "allowed_values": "allowed",
    "in": "allowed",
}
REASON_COLUMN = "_quarantine_reason"


class Rule(BaseModel):
    """One quality rule on one column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: RuleKind
    column: str = Field(min_length=1)
    name: str | None = Field(None, description="Name used in metrics; default <rule>_<column>.")
    type: str | None = Field(None, description="For rule 'type': the expected pyarrow type.")
    min: Any = None
    max: Any = None
    pattern: str | None = Field(None, description="For rule 'regex': an RE2 pattern.")
    values: list[Any] | None = Field(None, description="For rule 'allowed': accepted values.")

    @field_validator("rule", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:
        return _ALIASES.get(v.lower(), v.lower()) if isinstance(v, str) else v

    @field_validator("type")
    @classmethod
    def _type_known(cls, v: str | None) -> str | None:
        return None if v is None else check_type_name(v)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:  # compile with the same engine (RE2) that will run it
                pc.match_substring_regex(pa.array([""]), v)
            except pa.ArrowInvalid as exc:
                raise ValueError(f"invalid regular expression {v!r} (RE2 syntax): {exc}") from None
        return v

    @model_validator(mode="after")
    def _params_fit_rule(self) -> Rule:
        need = {"type": "type", "regex": "pattern", "allowed": "values"}.get(self.rule)
        if need and getattr(self, need) is None:
            raise ValueError(f"rule {self.rule!r} needs {need!r}")
        if self.rule == "range" and self.min is None and self.max is None:
            raise ValueError("rule 'range' needs 'min', 'max' or both")
        return self

    @property
    def rule_name(self) -> str:
        return self.name or f"{self.rule}_{self.column}"

    def expectation(self) -> str:
        """What a passing value looks like, for messages and quarantine reasons."""
        if self.rule == "not_null":
            return "a non-null value"
        if self.rule == "type":
            return f"a value convertible to {self.type}"
        if self.rule == "range":
            lo = f">= {self.min!r}" if self.min is not None else ""
            hi = f"<= {self.max!r}" if self.max is not None else ""
            return "a value " + " and ".join(x for x in (lo, hi) if x)
        if self.rule == "regex":
            return f"a value matching {self.pattern!r}"
        if self.rule == "allowed":
            return f"one of {short_repr(self.values, 120)}"
        return "a value no other row has"


def _unique_names(rules: list[Rule]) -> list[Rule]:
    seen: set[str] = set()
    for r in rules:
        if r.rule_name in seen:
            raise ValueError(f"two rules are named {r.rule_name!r}; give one a distinct 'name'")
        seen.add(r.rule_name)
    return rules


class ValidatorConfig(NodeConfig):
    """Config of ``transform/validator``."""

    qualityRules: Annotated[str, ResourceRef("qualityRules")] | None = Field(
        None, description="Id of a qualityRules catalog resource (its 'rules' are checked)."
    )
    rules: list[Rule] = Field(default_factory=list, description="Inline rules.")
    quarantineUri: str | None = Field(
        None, description="Folder (local or s3://) for quarantined rows; default artifacts."
    )
    uniquePartitions: int = Field(
        32, ge=1, le=10_000, description="Hash partitions used by 'unique' rules."
    )

    @model_validator(mode="after")
    def _has_rules(self) -> ValidatorConfig:
        if self.qualityRules is None and not self.rules:
            raise ValueError("give 'rules' or 'qualityRules'")
        _unique_names(self.rules)
        return self


declare_keys("qualityRules", ("rules",))  # quality gates declare theirs (nodes.outputs)


def rules_from_resource(resource: dict[str, Any], *, resource_id: str = "") -> list[Rule]:
    """Parse the ``rules`` of a ``qualityRules`` resource.

    Raises:
        ValueError: The resource holds no valid rule list; the message names it.
    """
    extra = set(resource) - RESOURCE_META - {"rules"}
    if extra:
        raise ValueError(f"qualityRules '{resource_id}': unknown key(s) {', '.join(sorted(extra))}")
    raw = resource.get("rules")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"qualityRules '{resource_id}' must have a non-empty 'rules' list")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(Rule.model_validate(item))
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(rule)'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ValueError(f"qualityRules '{resource_id}' rules[{i}]: {details}") from None
    return out


# ---------------------------------------------------------------------------------
# Pure, Ray-free checking of one batch


def rule_passes(table: pa.Table, rule: Rule) -> np.ndarray:
    """Boolean mask of the rows of ``table`` that pass ``rule``.

    Raises:
        KeyError: The rule's column is not in the table.
        ValueError: The rule's parameters do not fit the column's type.
    """
    if rule.column not in table.column_names:
        raise KeyError(rule.column)
    col = table.column(rule.column)
    if rule.rule == "not_null":
        return _np(pc.is_valid(col))
    if rule.rule == "type":
        _, failed = cast_with_failures(col, parse_type(rule.type or ""))
        return ~failed
    if rule.rule == "range":
        ok = pa.scalar(True)
        if rule.min is not None:
            ok = pc.and_(ok, pc.greater_equal(col, _bound(rule.min, col.type, rule)))
        if rule.max is not None:
            ok = pc.and_(ok, pc.less_equal(col, _bound(rule.max, col.type, rule)))
        return _np_null_true(ok, table.num_rows)
    if rule.rule == "regex":
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        return _np_null_true(pc.match_substring_regex(text, rule.pattern), table.num_rows)
    if rule.rule == "allowed":
        try:
            value_set = pa.array(rule.values or []).cast(col.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"allowed values do not fit column type {col.type}: {exc}") from None
        return _np(pc.or_(pc.is_in(col, value_set=value_set), pc.is_null(col)))
    return _unique_in_batch(col)


def _bound(value: Any, type_: pa.DataType, rule: Rule) -> pa.Scalar:
    if pa.types.is_string(type_) and not isinstance(value, str):
        # Comparing "10" with "9" as text would silently give the wrong answer.
        raise ValueError(
            f"rule {rule.rule_name!r} compares numbers but column {rule.column!r} holds "
            "strings; convert it first (field_mapper cast or format_converter)"
        )
    try:
        return pa.scalar(value).cast(type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise ValueError(
            f"bound {value!r} of rule {rule.rule_name!r} does not fit column type {type_}"
        ) from None


def _unique_in_batch(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    counts = pa.table({"k": col}).group_by("k").aggregate([([], "count_all")])
    dups = counts.filter(pc.greater(counts.column("count_all"), 1)).column("k")
    if len(dups) == 0:
        return np.ones(len(col), dtype=bool)
    # A null key never collides: nulls are for not_null to judge.
    return ~_np(pc.fill_null(pc.is_in(col, value_set=dups.combine_chunks()), False))


def _np(mask: Any) -> np.ndarray:
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _np_null_true(mask: Any, n: int) -> np.ndarray:
    if isinstance(mask, pa.Scalar):
        return np.full(n, bool(mask.as_py()) if mask.is_valid else True)
    return _np(pc.fill_null(mask, True))


def check_batch(
    table: pa.Table,
    rules: list[Rule],
    *,
    node_id: str,
    on_error: str,
    counters: Callable[[dict[str, float]], None] | None = None,
    quarantine: Callable[[pa.Table], None] | None = None,
    count_passed: bool = True,
) -> pa.Table:
    """Check ``table`` against ``rules`` and apply the ``on_error`` policy.

    Args:
        table: One batch.
        rules: The rules to check.
        node_id: Named in errors.
        on_error: ``fail``, ``drop``, ``skip`` or ``quarantine``.
        counters: Receives per-rule and total counters.
        quarantine: Receives the failing rows (with ``_quarantine_reason``) under
            ``on_error="quarantine"``.
        count_passed: Whether to count ``quality.passed`` (only the last checking stage
            does, so a row is counted once).

    Returns:
        The rows that passed every rule.

    Raises:
        RowError: A row failed and ``on_error`` is ``fail``.
        NodeConfigError: A rule names a missing column or does not fit its type.
    """
    n = table.num_rows
    all_ok = np.ones(n, dtype=bool)
    failed_by_rule: list[tuple[Rule, np.ndarray]] = []
    stats: dict[str, float] = {}
    for rule in rules:
        try:
            ok = rule_passes(table, rule)
        except KeyError:
            raise NodeConfigError(
                node_id,
                f"rule {rule.rule_name!r}: unknown column {rule.column!r}; "
                f"the input has {', '.join(table.column_names)}",
            ) from None
        except (ValueError, pa.ArrowException) as exc:
            raise NodeConfigError(node_id, f"rule {rule.rule_name!r}: {exc}") from None
        bad = ~ok
        n_bad = int(bad.sum())
        stats[f"quality.{rule.rule_name}.passed"] = n - n_bad
        stats[f"quality.{rule.rule_name}.failed"] = n_bad
        if n_bad:
            if on_error == "fail":
                value = first_value(table.column(rule.column), bad)
                raise RowError(
                    node_id,
                    f"rule {rule.rule_name!r} failed on column {rule.column!r}: value "
                    f"{short_repr(value)}, expected {rule.expectation()} "
                    f"({n_bad} failing row(s) in this batch)",
                )
            failed_by_rule.append((rule, bad))
        all_ok &= ok
    n_ok = int(all_ok.sum())
    stats["quality.failed"] = n - n_ok
    if count_passed:
        stats["quality.passed"] = n_ok
    if counters is not None and n:
        counters(stats)
    if n_ok == n:
        return table
    if on_error == "quarantine" and quarantine is not None:
        bad_rows = ~all_ok
        reasons = [
            pc.if_else(pa.array(bad), f"{r.rule_name}: expected {r.expectation()}", "")
            for r, bad in failed_by_rule
        ]
        # Join with "; " and tidy the separators left by rules a row did not fail
        # (null_handling="skip" is avoided: it loses all-null rows in some Arrow builds).
        reason = pc.binary_join_element_wise(*reasons, "; ")
        reason = pc.replace_substring_regex(reason, "(; ){2,}", "; ")
        reason = pc.replace_substring_regex(reason, "^(; )+|(; )+$", "")
        quarantined = table.append_column(REASON_COLUMN, reason).filter(pa.array(bad_rows))
        quarantine(quarantined)
    return table.filter(pa.array(all_ok))


class QuarantineWriter:
    """Writes quarantined rows as uniquely named Parquet files (picklable, per task).

    Each file is written under a hidden temporary name and then moved into place, so a
    reader listing the folder never sees a half-written file.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri.rstrip("/")

    def __call__(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        from engine.storage import filesystem as storage_filesystem

        # S3 endpoint and keys come from the standard AWS environment of the worker.
        filesystem, root = storage_filesystem(self.uri)
        filesystem.create_dir(root, recursive=True)
        name = f"part-{uuid.uuid4().hex}.parquet"
        staging = f"{root}/.staging-{name}"
        pq.write_table(table, staging, filesystem=filesystem, compression="zstd")
        filesystem.move(staging, f"{root}/{name}")


# ---------------------------------------------------------------------------------
# The node


def _cluster_by_key(ds: Dataset, key: str, partitions: int) -> Dataset:
    """Put every row sharing ``key`` into one block (as ``groupby().map_groups`` does)."""
    from ray.data.context import ShuffleStrategy

    if ds.context.shuffle_strategy in (ShuffleStrategy.HASH_SHUFFLE, ShuffleStrategy.SHUFFLE_V2):
        return ds.repartition(partitions, keys=[key], sort=True)
    return ds.sort(key)


@register(
    "transform",
    "validator",
    lineage_name="validation",
    config=ValidatorConfig,
    inputs=(1, 1),
    description="Check rows against quality rules; fail, drop or quarantine bad rows.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: ValidatorConfig) -> Dataset:
    """Check rows against quality rules; fail, drop or quarantine bad rows."""
    rules: list[Rule] = []
    if config.qualityRules is not None:
        resource = ctx.resource("qualityRules", config.qualityRules)
        try:
            rules += rules_from_resource(resource, resource_id=config.qualityRules)
        except ValueError as exc:
            raise NodeConfigError(ctx.node_id, str(exc)) from None
    rules += config.rules
    try:
        _unique_names(rules)
    except ValueError as exc:
        raise NodeConfigError(ctx.node_id, str(exc)) from None

    node_id, on_error, metrics = ctx.node_id, ctx.node.onError.value, ctx.metrics
    quarantine: QuarantineWriter | None = None
    if on_error == "quarantine":
        uri = (
            ctx.resolve_path(config.quarantineUri)
            if config.quarantineUri
            else str(ctx.artifact_dir() / "quarantine")
        )
        quarantine = QuarantineWriter(uri)
        ctx.report("quarantine", {"location": uri, "format": "parquet"})
    row_rules = [r for r in rules if r.rule != "unique"]
    unique_rules = [r for r in rules if r.rule == "unique"]
    stages: list[tuple[Rule | None, list[Rule]]] = []
    if row_rules:
        stages.append((None, row_rules))
    stages += [(r, [r]) for r in unique_rules]

    ds = inputs[0]
    for i, (key_rule, stage_rules) in enumerate(stages):
        last = i == len(stages) - 1

        def check(
            batch: pa.Table, stage_rules: list[Rule] = stage_rules, last: bool = last
        ) -> pa.Table:
            try:
                return check_batch(
                    batch,
                    stage_rules,
                    node_id=node_id,
                    on_error=on_error,
                    counters=lambda c: metrics.add(node_id, c),
                    quarantine=quarantine,
                    count_passed=last,
                )
            except NodeError:
                raise
            except (pa.ArrowException, OSError) as exc:
                raise NodeError(node_id, f"{type(exc).__name__}: {exc}") from exc

        if key_rule is not None:
            ds = _cluster_by_key(ds, key_rule.column, config.uniquePartitions)
            ds = ds.map_batches(check, **ctx.map_options(batch_format="pyarrow", batch_size=None))
        else:
            ds = ds.map_batches(
                check, **ctx.map_options(batch_format="pyarrow", zero_copy_batch=True)
            )
    return ds
