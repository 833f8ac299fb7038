"""``privacy/redaction``: apply redaction rules to what the upstream detection found.

Rules come from a ``redactionRules`` resource (``redactionRuleId``), inline ``rules``,
and/or a compliance framework. For a (column, entity) the first match wins: a rule for
the column, a rule for the entity, the framework's default treatment, the resource's
``default``. Structured columns are transformed whole (distinct values, then ``take``);
text columns are scanned with the RE2 fast path and only the found spans are replaced.

When a framework applies (own ``complianceFramework`` or the detection's), every found
identifier the framework lists must get a treatment other than ``keep``; otherwise the
build fails with a report naming the columns and entities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from engine.context import BuildContext
from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, ResourceRef, register
from engine.spec.models import NodeSpec, PipelineSpec
from nodes.privacy.classify import ColumnClass
from nodes.privacy.detection import (
    DetectionConfig,
    DetectionResult,
    FrameworkName,
    detect,
    remember,
    result_for,
)
from nodes.privacy.frameworks import Framework, get_framework
from nodes.privacy.library import scanner_for
from nodes.privacy.operators import KEYED, OPERATORS, Keys, transform
from nodes.privacy.report import write_report
from nodes.privacy.rules import RULES_DEFAULT, RULES_PSEUDONYMIZE  # noqa: F401
from nodes.privacy.scan import distinct

if TYPE_CHECKING:
    from ray.data import Dataset


class RedactionRule(NodeConfig):
    """One rule: what to do with an entity type (or a whole column)."""

    entity: str | None = None
    column: str | None = None
    operator: str
    keepLast: int = Field(4, ge=0)
    maskChar: str = "*"
    length: int = Field(16, ge=8, le=64)
    granularity: str = Field("year", pattern="^(year|month)$")
    bucket: int | None = Field(None, ge=2)
    tag: str | None = None
    locale: str = "en_US"

    @model_validator(mode="after")
    def _check(self) -> RedactionRule:
        if self.operator not in OPERATORS:
            raise ValueError(f"operator {self.operator!r} unknown; expected one of {OPERATORS}")
        if not self.entity and not self.column:
            raise ValueError("a rule needs 'entity' (or '*') or 'column'")
        return self


class RedactionConfig(NodeConfig):
    """Config of ``privacy/redaction``."""

    redactionRuleId: Annotated[str, ResourceRef("redactionRules")] | None = None
    rules: list[RedactionRule] = Field(default_factory=list)
    complianceFramework: FrameworkName | None = None
    keyRef: str | None = Field(
        None, description="Secret reference (env:NAME / file:PATH) for hash, fake, encrypt."
    )
    detectionNodeId: str | None = Field(None, description="Upstream detection node id.")


def upstream_detection(spec: PipelineSpec, node: NodeSpec) -> NodeSpec | None:
    """The nearest ``privacy/detection`` node upstream of ``node``."""
    stack, seen = list(node.inputs), set()
    while stack:
        nid = stack.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        n = spec.node(nid)
        if n.type_key == "privacy/detection":
            return n
        stack.extend(n.inputs)
    return None


def _checks(*, spec: PipelineSpec, node: NodeSpec, config: RedactionConfig) -> list[str]:
    problems = []
    if config.detectionNodeId:
        ids = {n.id for n in spec.nodes}
        if config.detectionNodeId not in ids:
            problems.append(f"detectionNodeId {config.detectionNodeId!r} is not a node")
    elif upstream_detection(spec, node) is None:
        problems.append("privacy/redaction needs an upstream privacy/detection node")
    if not (config.redactionRuleId or config.rules or config.complianceFramework):
        det = upstream_detection(spec, node)
        if det is None or not det.config.get("complianceFramework"):
            problems.append(
                "set redactionRuleId, rules or complianceFramework (or a framework on the "
                "detection node)"
            )
    fw_name = config.complianceFramework
    if fw_name is None and (det := upstream_detection(spec, node)) is not None:
        fw_name = det.config.get("complianceFramework")
    fw = get_framework(fw_name) if fw_name else None
    for r in config.rules:
        if fw and r.operator == "keep" and r.entity and fw.treatment(r.entity):
            problems.append(
                f"rule keeps {r.entity} but {fw.name} requires treating it "
                f"({fw.identifiers.get(r.entity, r.entity)})"
            )
    if any(r.operator in KEYED for r in config.rules) and not config.keyRef:
        problems.append("hash, fake and encrypt rules need keyRef (a secret reference)")
    return problems


def plan_rules(
    result: DetectionResult,
    rules: list[dict[str, Any]],
    default: dict[str, Any] | None,
    framework: Framework | None,
    has_key: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]], list[dict[str, Any]]]:
    """Decide the operator per structured column and per (text column, entity).

    Returns:
        ``(structured, text, violations)``: column -> op; column -> entity -> op;
        framework identifiers left untreated.
    """
    by_column = {r["column"]: r for r in rules if r.get("column")}
    by_entity = {r["entity"]: r for r in rules if r.get("entity") and not r.get("column")}

    def choose(column: str, entity: str) -> dict[str, Any] | None:
        for cand in (
            by_column.get(column),
            by_entity.get(entity),
            framework.treatment(entity) if framework else None,
            by_entity.get("*"),
            default,
        ):
            if cand is not None:
                if cand.get("operator") in KEYED and not has_key:
                    cand = cand.get("fallback")
                    if cand is None:
                        continue
                return dict(cand)
        return None

    structured: dict[str, dict[str, Any]] = {}
    text: dict[str, dict[str, dict[str, Any]]] = {}
    violations = []
    for col, c in result.affected().items():
        col_rule = by_column.get(col)
        if col_rule is not None:  # a column rule treats the whole column
            if col_rule["operator"] != "keep":
                structured[col] = {**col_rule, "entity": c.entity or "COLUMN"}
            elif framework:
                violations += [
                    {"column": col, "entity": e, "identifier": framework.identifiers.get(e, e)}
                    for e in c.entities
                    if framework.treatment(e)
                ]
            continue
        ents = [c.entity] if c.mode == "structured" and c.entity else list(c.entities)
        if c.mode == "text":
            ents = sorted(set(ents) | set(result_entities(result)))
        for ent in ents:
            op = choose(col, ent)
            untreated = op is None or op["operator"] == "keep"
            if (
                framework
                and framework.treatment(ent)
                and untreated
                and (ent in c.entities or c.entity == ent)
            ):
                violations.append(
                    {
                        "column": col,
                        "entity": ent,
                        "identifier": framework.identifiers.get(ent, ent),
                    }
                )
            if op is None or op["operator"] == "keep":
                continue
            if c.mode == "structured":
                structured[col] = {**op, "entity": ent}
            else:
                text.setdefault(col, {})[ent] = op
    for col, r in by_column.items():  # explicit column rules apply even without findings
        if col not in structured and col not in text and r["operator"] != "keep":
            structured[col] = {**r, "entity": r.get("entity") or "COLUMN"}
    return structured, text, violations


def result_entities(result: DetectionResult) -> set[str]:
    """Every entity the detection's scanner can report."""
    ents = {p["entity"] for p in result.scanner["patterns"]} | set(result.scanner["deny"])
    if result.scanner.get("ner_model"):
        ents |= set(result.scanner.get("ner_entities", []))
    return ents


def redact_batch(
    batch: pa.Table,
    structured: dict[str, dict[str, Any]],
    text: dict[str, dict[str, dict[str, Any]]],
    scanner_desc: dict[str, Any],
    keys: Keys,
) -> tuple[pa.Table, dict[str, float]]:
    """Apply the plan to one Arrow batch; return it and counters (no values)."""
    counters: dict[str, float] = {}
    drop = [
        c for c, op in structured.items() if op["operator"] == "drop" and c in batch.column_names
    ]
    for col, op in structured.items():
        if col in drop or col not in batch.column_names:
            continue
        arr = batch.column(col)
        indices, values = distinct(arr)
        new = [transform(v, op["entity"], op, keys) for v in values]
        out = pc.take(pa.array(new, pa.string()), indices)
        batch = batch.set_column(batch.schema.get_field_index(col), col, out)
        counters[f"redacted.{op['entity']}"] = counters.get(f"redacted.{op['entity']}", 0) + (
            len(arr) - arr.null_count
        )
    if text:
        scanner = scanner_for(scanner_desc)
        for col, ops in text.items():
            if col not in batch.column_names:
                continue
            indices, values, findings = scanner.scan_array(batch.column(col), col)
            new_values: list[str | None] = []
            for v, fs in zip(values, findings, strict=True):
                if not fs:
                    new_values.append(v)
                    continue
                s = v
                for f in sorted(fs, key=lambda f: f.start, reverse=True):
                    span_op = ops.get(f.entity)
                    if span_op is None:
                        continue
                    rep = transform(v[f.start : f.end], f.entity, span_op, keys, in_text=True)
                    s = s[: f.start] + (rep or "") + s[f.end :]
                    counters[f"redacted.{f.entity}"] = counters.get(f"redacted.{f.entity}", 0) + 1
                new_values.append(s)
            out = pc.take(pa.array(new_values, pa.string()), indices)
            batch = batch.set_column(batch.schema.get_field_index(col), col, out)
    if drop:
        batch = batch.drop_columns(drop)
    return batch, counters


@register(
    "privacy",
    "redaction",
    config=RedactionConfig,
    checks=(_checks,),
    description="Redact, mask, pseudonymize, encrypt, fake or generalize detected PII.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: RedactionConfig) -> Dataset:
    """Plan operators from the upstream detection's findings and apply them per batch."""
    det_node = (
        ctx.spec.node(config.detectionNodeId)
        if config.detectionNodeId
        else upstream_detection(ctx.spec, ctx.node)
    )
    if det_node is None:
        raise NodeConfigError(ctx.node_id, "no upstream privacy/detection node")
    result = result_for(ctx.execution_id, det_node.id)
    if result is None:  # built in another process: derive it again from our input
        det_cfg = DetectionConfig.model_validate(det_node.config)
        result = detect(ds=ctx.preview_input(inputs), config=det_cfg, catalog_get=ctx.catalog.get,
                        node_id=det_node.id)  # fmt: skip
        remember(ctx.execution_id, result)
    resource = (
        ctx.resource("redactionRules", config.redactionRuleId) if config.redactionRuleId else {}
    )
    rules = [*(r.model_dump(exclude_none=True) for r in config.rules)]
    try:
        rules += [RedactionRule.model_validate(r).model_dump(exclude_none=True)
                  for r in resource.get("rules", [])]  # fmt: skip
    except ValueError as exc:
        raise NodeConfigError(
            ctx.node_id, f"redactionRules {config.redactionRuleId!r}: {exc}"
        ) from None
    fw_name = config.complianceFramework or result.framework
    framework = get_framework(fw_name) if fw_name else None
    key_ref = config.keyRef or resource.get("keyRef")
    keys = Keys.from_secret(ctx.secret(key_ref, what="keyRef") if key_ref else None)
    needs_key = [r for r in rules if r["operator"] in KEYED] + (
        [resource["default"]] if resource.get("default", {}).get("operator") in KEYED else []
    )
    if needs_key and keys.hmac_key is None:
        raise NodeConfigError(ctx.node_id, "hash, fake and encrypt rules need keyRef")
    structured, text, violations = plan_rules(
        result, rules, resource.get("default"), framework, keys.hmac_key is not None
    )
    body = {
        "node": ctx.node_id,
        "executionId": ctx.execution_id,
        "detectionNode": det_node.id,
        "complianceFramework": framework.name if framework else None,
        "structured": {
            c: {k: v for k, v in op.items() if k != "fallback"} for c, op in structured.items()
        },
        "text": {c: {e: op["operator"] for e, op in ops.items()} for c, ops in text.items()},
        "violations": violations,
    }
    path = write_report(ctx.artifact_dir() / "redaction-report.json", body)
    ctx.report("redactionReport", str(path))
    ctx.report("treatments", {"structured": body["structured"], "text": body["text"]})
    if violations:
        listed = ", ".join(f"{v['column']}:{v['entity']}" for v in violations)
        raise NodeError(
            ctx.node_id,
            f"{framework.name if framework else ''} requires treating identifiers left untreated "
            f"by the rules: {listed} (report: {path})",
        )
    if not structured and not text:
        return inputs[0]
    scanner_desc, node_id, metrics = result.scanner, ctx.node_id, ctx.metrics

    def apply(batch: pa.Table) -> pa.Table:
        out, counters = redact_batch(batch, structured, text, scanner_desc, keys)
        if counters:
            metrics.add(node_id, counters)
        return out

    return inputs[0].map_batches(apply, **ctx.map_options(batch_format="pyarrow"))


def classes_from_facts(columns: dict[str, dict[str, Any]]) -> dict[str, ColumnClass]:
    """Rebuild column classes from a detection node's ``columns`` fact."""
    return {k: ColumnClass.from_dict(v) for k, v in columns.items()}
