"""Which columns are learned, which are personal data, and what they look like.

Every input column gets one role:

* ``learned``: modelled by the SDV synthesizer (or, without ``preserveDistribution``,
  drawn from its type and range);
* ``id``: generated from the global row offset, so ids are unique and never real;
* ``fake``: personal data (names, emails, phones, addresses...), generated with Faker
  and never shown to the synthesizer.

Sources of the classification, strongest first: the template's column hints, the
upstream ``privacy/detection`` node's classification (Arrow field metadata), SDV's own
PII detection, then a name/value heuristic of this module. SDV's detection alone is not
enough: it marks name and phone columns categorical and would copy real values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nodes.privacy.synthetic.template import ColumnHint

# SDV sdtypes that describe a distribution rather than an identity.
LEARNABLE_SDTYPES = frozenset({"numerical", "categorical", "datetime", "boolean"})

_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), sdtype)
    for p, sdtype in (
        (r"e[-_ ]?mail", "email"),
        (r"phone|mobile|cell|fax|^tel(ephone)?$", "phone_number"),
        (r"first[-_ ]?name|given[-_ ]?name|forename", "first_name"),
        (r"last[-_ ]?name|surname|family[-_ ]?name", "last_name"),
        (r"^(full[-_ ]?)?name$|(customer|patient|person|contact|user)[-_ ]?name", "name"),
        (r"address|street", "street_address"),
        (r"ssn|social[-_ ]?security|passport|national[-_ ]?id", "ssn"),
        (r"credit[-_ ]?card|card[-_ ]?(number|no)|iban", "credit_card_number"),
        (r"^ip([-_ ]?addr(ess)?)?$", "ipv4"),
        (r"(^|[-_ ])(id|uuid|guid)$|(?-i:[a-z](Id|ID|Uuid)$)|^key$", "id"),
    )
)
_EMAIL_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE_VALUE = re.compile(r"^\+?[\d\s().-]{7,}$")
# Arrow field metadata keys an upstream detection node may set to a PII entity type.
PII_METADATA_KEYS = (b"pii", b"pii_type", b"pii.entity", b"pipeline_builder.pii")
# Presidio entity names -> Faker-backed sdtypes.
_ENTITY_SDTYPES = {
    "PERSON": "name",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone_number",
    "US_SSN": "ssn",
    "CREDIT_CARD": "credit_card_number",
    "IP_ADDRESS": "ipv4",
    "LOCATION": "city",
    "IBAN_CODE": "iban",
    "URL": "url",
    "US_DRIVER_LICENSE": "license_plate",
    "US_PASSPORT": "passport_number",
    "US_BANK_NUMBER": "bban",
    "MEDICAL_LICENSE": "bothify",
}


@dataclass
class ColumnPlan:
    """How one output column is produced."""

    name: str
    arrow_type: pa.DataType
    role: str  # learned | id | fake
    sdtype: str
    profile: dict[str, Any] = field(default_factory=dict)
    source: str = "heuristic"  # hint | upstream | sdv | heuristic | default

    def describe(self) -> dict[str, str]:
        return {"role": self.role, "sdtype": self.sdtype, "source": self.source}


def sdtype_from_name(name: str) -> str | None:
    """The personal-data sdtype a column name suggests, or None."""
    for pattern, sdtype in _NAME_RULES:
        if pattern.search(name):
            return sdtype
    return None


def sdtype_from_values(column: pa.ChunkedArray) -> str | None:
    """``email``/``phone_number`` when most non-null string values look like one."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    values = [v for v in column.drop_null().to_pylist()[:200] if v]
    if not values:
        return None
    for pattern, sdtype in ((_EMAIL_VALUE, "email"), (_PHONE_VALUE, "phone_number")):
        if sum(bool(pattern.match(v)) for v in values) >= 0.8 * len(values):
            return sdtype
    return None


def sdtype_from_field_metadata(field_: pa.Field) -> str | None:
    """The PII type an upstream detection node attached to a field, if any."""
    meta = field_.metadata or {}
    for key in PII_METADATA_KEYS:
        if key in meta:
            entity = meta[key].decode()
            if entity.lower() in ("", "false", "none"):
                return None
            return _ENTITY_SDTYPES.get(entity.upper(), entity.lower())
    return None


def _role_of(sdtype: str) -> str:
    if sdtype == "id":
        return "id"
    return "learned" if sdtype in LEARNABLE_SDTYPES else "fake"


def basic_sdtype(arrow_type: pa.DataType) -> str:
    """The SDV sdtype of a learned column of this Arrow type."""
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "numerical"
    if pa.types.is_decimal(arrow_type):
        return "numerical"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "datetime"
    return "categorical"


def classify_columns(
    schema: pa.Schema,
    sample: pa.Table | None,
    hints: dict[str, ColumnHint],
    upstream: dict[str, str] | None = None,
) -> list[ColumnPlan]:
    """Give every column of ``schema`` a role, strongest evidence first."""
    upstream = upstream or {}
    plans = []
    for f in schema:
        source, sdtype = "default", None
        if f.name in hints:
            source, sdtype = "hint", hints[f.name].sdtype
        elif f.name in upstream:
            source, sdtype = "upstream", upstream[f.name]
        elif (meta_type := sdtype_from_field_metadata(f)) is not None:
            source, sdtype = "upstream", meta_type
        elif (name_type := sdtype_from_name(f.name)) is not None:
            source, sdtype = "heuristic", name_type
        elif sample is not None and (value_type := sdtype_from_values(sample[f.name])):
            source, sdtype = "heuristic", value_type
        sdtype = sdtype or basic_sdtype(f.type)
        plans.append(ColumnPlan(f.name, f.type, _role_of(sdtype), sdtype, source=source))
    return plans


def apply_sdv_detection(plans: list[ColumnPlan], detected: dict[str, dict[str, Any]]) -> None:
    """Move columns SDV marks as PII or ids out of the learned set (in place)."""
    for plan in plans:
        info = detected.get(plan.name)
        if plan.role != "learned" or plan.source == "hint" or not info:
            continue
        sdtype = info.get("sdtype", plan.sdtype)
        if sdtype == "id" or info.get("pii") or sdtype not in LEARNABLE_SDTYPES:
            plan.sdtype, plan.role, plan.source = sdtype, _role_of(sdtype), "sdv"
            if plan.role == "learned":  # a non-PII custom sdtype: keep it learnable
                plan.sdtype = basic_sdtype(plan.arrow_type)


def profile_columns(plans: list[ColumnPlan], sample: pa.Table | None, hints: dict) -> None:
    """Record type ranges/categories of learned columns for generation without fitting.

    Ranges come from the sample; template hints (``min``/``max``/``values``) win.
    """
    for plan in plans:
        if plan.role != "learned":
            continue
        prof: dict[str, Any] = {"nullShare": 0.0}
        col = sample[plan.name] if sample is not None and plan.name in sample.column_names else None
        if col is not None and len(col):
            prof["nullShare"] = col.null_count / len(col)
            if plan.sdtype in ("numerical", "datetime") and col.null_count < len(col):
                numeric = col.cast(pa.int64()) if plan.sdtype == "datetime" else col
                mm = pc.min_max(numeric)
                prof["min"], prof["max"] = mm["min"].as_py(), mm["max"].as_py()
            elif plan.sdtype == "boolean":
                prof["trueShare"] = float(pc.mean(col.cast(pa.float64())).as_py() or 0.5)
            elif plan.sdtype == "categorical":
                prof["values"] = pc.unique(col.drop_null()).to_pylist()[:1000]
        hint = hints.get(plan.name)
        if hint is not None:
            if hint.values is not None:
                prof["values"] = list(hint.values)
            for bound in ("min", "max"):
                value = getattr(hint, bound)
                if value is not None:
                    prof[bound] = _bound_value(value, plan.arrow_type)
        plan.profile = prof


def _bound_value(value: float | str, arrow_type: pa.DataType) -> float | int:
    if isinstance(value, str):  # ISO date/time for datetime columns
        return int(np.datetime64(value, "us").astype(np.int64))
    return value


def upstream_classification(ctx: Any) -> dict[str, str]:
    """Column -> sdtype from an upstream ``privacy/detection`` node of this execution.

    The detection node keeps its per-column classification for the execution
    (``nodes.privacy.detection.result_for``). Structured columns map their entity to a
    Faker-backed sdtype; free-text columns that hold entities become Faker ``text``.
    Dates stay learned. Arrow field metadata (read by :func:`classify_columns`) is the
    other way an upstream node can mark columns.
    """
    found: dict[str, str] = {}
    for upstream_id in ctx.node.inputs:
        if ctx.spec.node(upstream_id).type_key != "privacy/detection":
            continue
        try:
            from nodes.privacy.detection import result_for
        except ImportError:
            return found
        result = result_for(ctx.execution_id, upstream_id)
        for column, klass in (result.columns if result is not None else {}).items():
            if klass.mode == "text":
                found[column] = "text"
            elif klass.mode == "structured" and klass.entity and klass.entity != "DATE_TIME":
                entity = klass.entity
                found[column] = _ENTITY_SDTYPES.get(entity.upper(), entity.lower())
    return found
