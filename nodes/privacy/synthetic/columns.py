"""Which columns are learned, which are personal data, and what they look like.

Every input column gets one role:

* ``learned``: modelled by the SDV synthesizer (or, without ``preserveDistribution``,
  drawn from its type and range);
* ``id``: generated from the global row offset, so ids are unique and never real;
* ``fake``: personal data (names, emails, phones, addresses...) and free text,
  generated with Faker and never shown to the synthesizer;
* ``drop``: left out of the output (a template hint, or a type no synthesizer can
  model, such as lists, structs or binary); reported in the node's facts.

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

from nodes.privacy.synthetic.encode import (
    bound_value,
    encode_column,
    is_modellable,
    is_numberlike,
    is_textlike,
    value_type,
)
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
_DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?$")  # ISO dates are not phones
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
    """How one output column is produced.

    Attributes:
        role: ``learned`` (modelled), ``id`` (from row offsets), ``fake`` (generated:
            personal data and free text) or ``drop`` (not in the output).
        sdtype: The column's semantic type (``datetime``, ``email``, ``text``...).
        source: Where the role came from: ``hint``, ``upstream``, ``sdv``, ``heuristic``,
            ``type`` (the Arrow type decides) or ``default``.
        reason: One line explaining the role, shown in the node's facts.
        generator: Faker method (and its keyword arguments) for ``fake`` columns.
    """

    name: str
    arrow_type: pa.DataType
    role: str  # learned | id | fake | drop
    sdtype: str
    profile: dict[str, Any] = field(default_factory=dict)
    source: str = "heuristic"  # hint | upstream | sdv | heuristic | type | default
    reason: str = ""
    generator: str | None = None
    generator_args: dict[str, Any] = field(default_factory=dict)

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
    values = [v for v in values if not _DATE_VALUE.match(v)] or values[:0]
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


# Integer columns with at most this many distinct values are categories (labels, flags,
# ratings), not quantities.
SMALL_INT_CATEGORIES = 10
# String columns are categories when their values repeat: at most this many distinct
# values, and (given enough rows to tell) no more distinct values than half the rows.
# Anything else is free text: generated, never resampled from the input.
MAX_CATEGORIES = 50
MIN_ROWS_TO_JUDGE = 20


def _role_of(sdtype: str) -> str:
    if sdtype == "id":
        return "id"
    if sdtype == "drop":
        return "drop"
    return "learned" if sdtype in LEARNABLE_SDTYPES else "fake"


def basic_sdtype(arrow_type: pa.DataType) -> str:
    """The SDV sdtype of a learned column of this Arrow type."""
    t = value_type(arrow_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if is_numberlike(t):
        return "numerical"
    return "categorical"


def _distinct(column: pa.ChunkedArray) -> tuple[int, int]:
    """(distinct non-null values, non-null values) of a sample column."""
    values = column.drop_null()
    if pa.types.is_dictionary(values.type):
        values = pc.cast(values, values.type.value_type)
    return len(pc.unique(values)), len(values)


def _by_values(f: pa.Field, sample: pa.Table | None) -> tuple[str, str, str]:
    """(sdtype, source, reason) from the Arrow type and the sample's values."""
    t = value_type(f.type)
    if pa.types.is_null(t):
        return "null", "type", "always null: generated as null"
    if not is_modellable(t):
        return "drop", "type", f"type {f.type} cannot be modelled: left out of the output"
    column = sample[f.name] if sample is not None and f.name in sample.column_names else None
    if column is None or column.null_count == len(column):
        sdtype = basic_sdtype(t)
        return sdtype, "default", f"{sdtype} by its type {f.type}"
    distinct, rows = _distinct(column)
    if pa.types.is_integer(t) and rows >= MIN_ROWS_TO_JUDGE and distinct <= SMALL_INT_CATEGORIES:
        return "categorical", "type", f"integer with {distinct} distinct values: categorical"
    if is_textlike(t):
        repeats = rows < MIN_ROWS_TO_JUDGE or distinct <= rows / 2
        if distinct <= MAX_CATEGORIES and repeats:
            return "categorical", "default", f"{distinct} distinct values that repeat: categorical"
        return (
            "text",
            "heuristic",
            f"free text ({distinct} distinct of {rows} values): generated, never resampled",
        )
    sdtype = basic_sdtype(t)
    return sdtype, "default", f"{sdtype} by its type {f.type}"


def classify_columns(
    schema: pa.Schema,
    sample: pa.Table | None,
    hints: dict[str, ColumnHint],
    upstream: dict[str, str] | None = None,
) -> list[ColumnPlan]:
    """Give every column of ``schema`` a role, strongest evidence first.

    The template's hints always win; then what an upstream detection node found; then
    the column name; then the values (emails, phones, free text, small integer sets);
    then the Arrow type.
    """
    upstream = upstream or {}
    plans = []
    for f in schema:
        hint = hints.get(f.name)
        if hint is not None:
            source, sdtype, reason = "hint", hint.sdtype, f"template hint: {hint.sdtype}"
        elif f.name in upstream:
            sdtype = upstream[f.name]
            source, reason = "upstream", f"upstream detection: {sdtype}"
        elif (meta_type := sdtype_from_field_metadata(f)) is not None:
            source, sdtype, reason = "upstream", meta_type, f"field metadata: {meta_type}"
        elif (name_type := sdtype_from_name(f.name)) is not None:
            source, sdtype, reason = "heuristic", name_type, f"the name suggests {name_type}"
        elif sample is not None and (value_type_ := sdtype_from_values(sample[f.name])):
            source, sdtype = "heuristic", value_type_
            reason = f"the values look like {value_type_}"
        else:
            sdtype, source, reason = _by_values(f, sample)
        role = _role_of(sdtype)
        if role == "learned" and not is_modellable(f.type):
            role, reason = "drop", f"{reason}; but type {f.type} cannot be modelled: left out"
        plan = ColumnPlan(f.name, f.type, role, sdtype, source=source, reason=reason)
        if hint is not None:
            plan.generator, plan.generator_args = hint.generator, dict(hint.generatorArgs)
        plans.append(plan)
    return plans


def apply_sdv_detection(
    plans: list[ColumnPlan], detected: dict[str, dict[str, Any]], sample: pa.Table | None = None
) -> None:
    """Move columns SDV marks as PII or ids out of the learned set (in place).

    Only columns nothing else decided (no hint, no upstream, no heuristic) are moved,
    and only for personal data or ids: SDV's other sdtypes (``ordinal``...) describe
    a distribution, which the learned column keeps. An id needs near-unique values.
    """
    for plan in plans:
        info = detected.get(plan.name)
        if plan.role != "learned" or plan.source not in ("default",) or not info:
            continue
        sdtype = info.get("sdtype", plan.sdtype)
        if sdtype == "id":
            t = value_type(plan.arrow_type)
            if not (pa.types.is_integer(t) or is_textlike(t)):
                continue  # unique dates, times or amounts are values, not identifiers
            reason = "SDV detects an identifier"
            if sample is not None and plan.name in sample.column_names:
                distinct, rows = _distinct(sample[plan.name])
                if rows == 0 or distinct < 0.95 * rows:
                    continue  # repeated values: a distribution, not an identifier
                reason += f" ({distinct} distinct of {rows})"
            plan.sdtype, plan.role, plan.source, plan.reason = "id", "id", "sdv", reason
        elif info.get("pii") and sdtype not in LEARNABLE_SDTYPES:
            plan.sdtype, plan.role, plan.source = sdtype, "fake", "sdv"
            plan.reason = f"SDV detects personal data: {sdtype}"


def profile_columns(plans: list[ColumnPlan], sample: pa.Table | None, hints: dict) -> None:
    """Record ranges/categories of learned columns for generation without fitting,
    and the null share of generated (fake) columns.

    Ranges are in the encoded unit (days, epoch seconds...; see ``encode``) and come
    from the sample; template hints (``min``/``max``/``values``) win.
    """
    for plan in plans:
        col = sample[plan.name] if sample is not None and plan.name in sample.column_names else None
        if plan.role == "fake":  # generated values keep the column's share of nulls
            plan.profile = {"nullShare": col.null_count / len(col) if col is not None else 0.0}
        if plan.role != "learned":
            continue
        prof: dict[str, Any] = {"nullShare": 0.0}
        if col is not None and len(col):
            prof["nullShare"] = col.null_count / len(col)
            values = encode_column(col)
            present = [v for v in values.tolist() if v is not None and v == v]
            if plan.sdtype in ("numerical", "datetime") and present:
                prof["min"], prof["max"] = float(min(present)), float(max(present))
            elif plan.sdtype == "boolean":
                prof["trueShare"] = float(np.mean(present)) if present else 0.5
            elif plan.sdtype == "categorical":
                prof["values"] = sorted(set(present), key=str)[:1000]
        hint = hints.get(plan.name)
        if hint is not None:
            if hint.values is not None:
                prof["values"] = list(hint.values)
            for bound in ("min", "max"):
                value = getattr(hint, bound)
                if value is not None:
                    prof[bound] = bound_value(value, plan.arrow_type)
        plan.profile = prof


def upstream_detection_spec(ctx: Any) -> dict[str, Any] | None:
    """The scanner spec of an upstream ``privacy/detection`` node, if there is one.

    Built from the detection node's config and pattern library (no data read); the
    fit stage scans the gathered sample with it (:func:`classify_with_scanner`), so
    the columns that node finds personal data in are never learned.
    """
    for upstream_id in ctx.node.inputs:
        node = ctx.spec.node(upstream_id)
        if node.type_key != "privacy/detection":
            continue
        try:
            from nodes.privacy.detection import DetectionConfig, scanner_setup
        except ImportError:
            return None
        config = DetectionConfig.model_validate(node.config)
        spec, _ = scanner_setup(config, ctx.catalog.get, upstream_id)
        return dict(spec)
    return None


# Rows of the sample the upstream scanner looks at (NER costs milliseconds per cell).
SCAN_ROWS = 500
# A column is personal data when this share of its non-null cells holds one entity.
ENTITY_SHARE = 0.5


def classify_with_scanner(sample: pa.Table, spec: dict[str, Any]) -> dict[str, str]:
    """Column -> sdtype from scanning (part of) the sample with a detection scanner spec.

    A column whose cells mostly hold one entity becomes that entity's Faker-backed
    sdtype; free text holding entities becomes ``text``. Dates stay learned.
    """
    from nodes.privacy.batch import count, scan_batch
    from nodes.privacy.library import scanner_for

    part = sample.slice(0, SCAN_ROWS)
    scanned, _ = scan_batch(part, scanner_for(spec))
    state = count(scanned, part.num_rows)
    found: dict[str, str] = {}
    for column, entities in state.counts.items():
        entities = {e: n for e, n in entities.items() if e != "DATE_TIME"}
        present = part.num_rows - part[column].null_count
        if not entities or not present:
            continue
        entity, n = max(entities.items(), key=lambda kv: kv[1])
        if n < ENTITY_SHARE * present:
            continue
        words = [len(str(v).split()) for v in part[column].drop_null().to_pylist()]
        if len(entities) > 1 or float(np.mean(words)) > 4:  # entities inside prose
            found[column] = "text"
        else:
            found[column] = _ENTITY_SDTYPES.get(entity.upper(), entity.lower())
    return found
