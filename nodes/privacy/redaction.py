"""``privacy/redaction``: redact what is found in every cell, while streaming.

Rules come from a ``redactionRules`` resource (``redactionRuleId``), inline ``rules``,
and/or a compliance framework. For a (column, entity) the first match wins: a rule for
the column, a rule for the entity, the framework's default treatment, a ``*`` rule, the
resource's ``default``. A column rule treats every cell of its column. Everything else
is found cell by cell in every batch (the upstream detection's scanner spec: patterns,
recognizers, NER) and only the found spans are replaced; a cell that is one finding is
transformed whole (``redact`` makes it null).

Typed columns: a date/timestamp column, or a non-string column whose name fits a column
hint of a treated entity (``age``, ``zip``, ``card_number``...), is written as text so
the treatment (``90+``, ``021``, a mask) fits; in any other non-string column a found
value is removed (null), since a number column cannot hold a tag. Either way the output
schema depends on names, types and rules only, never on the data.

Under a framework, every identifier the framework lists must get a treatment other than
``keep``: entity rules are checked while building (the build fails, naming the
entities); a column rule that keeps a column fails the run as soon as a required
identifier is found in it (naming column and entity), before anything is committed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, model_validator

from engine.context import BuildContext
from engine.errors import NodeConfigError
from engine.registry import NodeConfig, ResourceRef, register
from engine.spec.models import NodeSpec, PipelineSpec
from nodes.privacy.batch import Plan
from nodes.privacy.detection import (
    DetectionConfig,
    FrameworkName,
    redaction_consumers,
    scan_stage,
    scanned_entities,
    scanner_setup,
)
from nodes.privacy.frameworks import Framework, get_framework
from nodes.privacy.operators import KEYED, OPERATORS, Keys
from nodes.privacy.report import write_report
from nodes.privacy.rules import RULES_DEFAULT, RULES_PSEUDONYMIZE  # noqa: F401

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
    workers: int | None = Field(
        None, ge=1, description="A fixed pool of scanner actors (default: Ray tasks)."
    )


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


def make_plan(
    rules: list[dict[str, Any]],
    default: dict[str, Any] | None,
    framework: Framework | None,
    has_key: bool,
    hints: list[dict[str, Any]] | None = None,
) -> Plan:
    """The operator plan of a redaction (no data: rules, framework and key only)."""
    return Plan(
        column_rules={r["column"]: r for r in rules if r.get("column")},
        entity_rules={r["entity"]: r for r in rules if r.get("entity") and not r.get("column")},
        framework_ops=dict(framework.required) if framework else {},
        default=default,
        has_key=has_key,
        required=frozenset(framework.required) if framework else frozenset(),
        hint_entities=[(re.compile(h["column"]), h["entity"]) for h in hints or []],
    )


def plan_violations(plan: Plan, framework: Framework | None, entities: list[str]) -> list[str]:
    """Required identifiers that the entity-level rules would leave untreated."""
    if framework is None:
        return []
    return [
        f"{e} ({framework.identifiers.get(e, e)})"
        for e in entities
        if framework.treatment(e) is not None and plan.choose("\x00", e) is None
    ]


@register(
    "privacy",
    "redaction",
    privacy_role="redact",
    lineage_name="pii_redaction",
    config=RedactionConfig,
    checks=(_checks,),
    description="Redact, mask, pseudonymize, encrypt, fake or generalize detected PII.",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: RedactionConfig) -> Dataset:
    """Plan operators from rules and framework; scan and redact every batch."""
    det_node = (
        ctx.spec.node(config.detectionNodeId)
        if config.detectionNodeId
        else upstream_detection(ctx.spec, ctx.node)
    )
    if det_node is None:
        raise NodeConfigError(ctx.node_id, "no upstream privacy/detection node")
    det_cfg = DetectionConfig.model_validate(det_node.config)
    spec, _notes = scanner_setup(det_cfg, ctx.catalog.get, det_node.id)
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
    fw_name = config.complianceFramework or det_cfg.complianceFramework
    framework = get_framework(fw_name) if fw_name else None
    key_ref = config.keyRef or resource.get("keyRef")
    secret = ctx.secret(key_ref, what="keyRef") if key_ref else None
    needs_key = [r for r in rules if r["operator"] in KEYED] + (
        [resource["default"]] if resource.get("default", {}).get("operator") in KEYED else []
    )
    if needs_key and not secret:
        raise NodeConfigError(ctx.node_id, "hash, fake and encrypt rules need keyRef")
    plan = make_plan(rules, resource.get("default"), framework, bool(secret), spec.get("hints"))
    entities = scanned_entities(spec)
    violations = plan_violations(plan, framework, entities)
    undetectable = sorted(set(framework.required) - set(entities)) if framework else []
    body = {
        "node": ctx.node_id,
        "executionId": ctx.execution_id,
        "detectionNode": det_node.id,
        "complianceFramework": framework.name if framework else None,
        "columnRules": {c: r["operator"] for c, r in plan.column_rules.items()},
        "entityOperators": {
            e: (op["operator"] if (op := plan.choose("\x00", e)) else "keep") for e in entities
        },
        "violations": violations,
        "notDetectable": undetectable,
    }
    path = write_report(ctx.artifact_dir() / "redaction-report.json", body)
    ctx.report("redactionReport", str(path))
    ctx.report("treatments", {"columns": body["columnRules"], "entities": body["entityOperators"]})
    if violations:
        raise NodeConfigError(
            ctx.node_id,
            f"{framework.name if framework else ''} requires treating identifiers the rules "
            f"keep: {', '.join(violations)} (report: {path})",
        )
    # The detection right upstream is reported through this scan when it defers to us.
    report_for = det_node.id if (
        det_node.id in ctx.node.inputs and redaction_consumers(ctx.spec, det_node.id)
    ) else None  # fmt: skip
    kwargs = {
        "spec": spec,
        "node_id": ctx.node_id,
        "metrics": ctx.metrics,
        "mode": "redact",
        "plan": plan,
        "keys": Keys.from_secret(secret),
        "detection_node": report_for,
    }
    return scan_stage(inputs[0], ctx, config.workers, kwargs)
