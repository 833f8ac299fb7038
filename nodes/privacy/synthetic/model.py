"""Fitting SDV synthesizers and storing them at a URI (local path or s3://).

A stored model is a folder (or key prefix) with two objects: ``model.pkl`` (the
cloudpickled :class:`FittedModel`) and ``manifest.json`` (fingerprint, synthesizer,
column roles, fit facts). The manifest is written last, so a reader that finds a
manifest finds a complete model; local writes go through a temporary file and an
atomic rename, s3 objects appear only when their upload completes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from nodes.privacy.synthetic.columns import ColumnPlan
from nodes.privacy.synthetic.template import SyntheticTemplate

TABLE = "table"
_SYNTHESIZERS = {
    "gaussian_copula": "GaussianCopulaSynthesizer",
    "ctgan": "CTGANSynthesizer",
    "tvae": "TVAESynthesizer",
    "copula_gan": "CopulaGANSynthesizer",
}


@dataclass
class FittedModel:
    """What sampling needs: column plans and, when fitted, the SDV synthesizer."""

    columns: list[ColumnPlan]
    synthesizer: Any | None
    fingerprint: str
    metadata: dict[str, Any] = field(default_factory=dict)
    fitted_rows: int = 0
    created_at: str = ""
    # Generated values of fake columns (see ``generate.fake_pool``), drawn once at fit
    # time with every value equal to a sampled real cell removed.
    pools: dict[str, list[Any]] = field(default_factory=dict)

    def manifest(self, template: SyntheticTemplate) -> dict[str, Any]:
        import sdv

        return {
            "templateId": template.id,
            "fingerprint": self.fingerprint,
            "synthesizer": template.synthesizer if self.synthesizer is not None else None,
            "fittedRows": self.fitted_rows,
            "createdAt": self.created_at,
            "sdvVersion": sdv.__version__,
            "columns": {c.name: c.describe() for c in self.columns},
            "reasons": {c.name: c.reason for c in self.columns},
        }


def detect_metadata(frame: Any) -> dict[str, dict[str, Any]]:
    """SDV's auto-detected column metadata of a single table (``{column: info}``)."""
    from sdv.metadata import Metadata

    detected = Metadata.detect_from_dataframes({TABLE: frame}).to_dict()
    return dict(detected["tables"][TABLE]["columns"])


def model_sdtype(plan: ColumnPlan) -> str:
    """The sdtype SDV models a learned column as (dates and times are encoded numbers)."""
    return "numerical" if plan.sdtype == "datetime" else plan.sdtype


def learned_metadata(plans: list[ColumnPlan], template: SyntheticTemplate) -> dict[str, Any]:
    """SDV metadata of the learned columns only: PII and id columns never reach SDV.

    Columns are described as ``encode`` hands them over; a template's explicit metadata
    adds its options (``computer_representation``...) when its sdtype agrees.
    """
    explicit = (template.table_metadata() or {}).get("columns", {})
    columns: dict[str, Any] = {}
    for plan in plans:
        if plan.role != "learned":
            continue
        sdtype = model_sdtype(plan)
        info = dict(explicit.get(plan.name) or {})
        if info.get("sdtype") != sdtype:
            info = {"sdtype": sdtype}
        info.pop("pii", None)
        columns[plan.name] = info
    return {
        "tables": {TABLE: {"columns": columns}},
        "relationships": [],
        "METADATA_SPEC_VERSION": "V1",
    }


def _constraints(template: SyntheticTemplate) -> list[Any]:
    """SDV constraint objects from ``{"type": "Inequality", "parameters": {...}}`` dicts."""
    import sdv.cag

    built = []
    for spec in template.constraints:
        name = spec.get("type") or spec.get("constraint_class")
        cls = getattr(sdv.cag, str(name), None)
        if cls is None:
            raise ValueError(f"unknown constraint type {name!r}; see sdv.cag")
        built.append(cls(**spec.get("parameters", {})))
    return built


def fit_synthesizer(
    plans: list[ColumnPlan], sample: pa.Table, template: SyntheticTemplate, metadata: dict
) -> Any:
    """Fit the template's synthesizer on the learned columns of ``sample``."""
    import sdv.single_table
    from sdv.metadata import Metadata

    from nodes.privacy.synthetic.encode import encode_table

    names = [p.name for p in plans if p.role == "learned"]
    # ``sample`` is the bounded fit sample (at most ``fitSampleSize`` rows), not the input.
    frame = encode_table(sample, names)
    cls = getattr(sdv.single_table, _SYNTHESIZERS[template.synthesizer])
    synth = cls(Metadata.load_from_dict(metadata), **template.synthesizerOptions)
    constraints = _constraints(template)
    if constraints:
        synth.add_constraints(constraints)
    synth.fit({TABLE: frame})
    return synth


def build_model(
    template: SyntheticTemplate,
    schema: pa.Schema,
    sample: pa.Table | None,
    *,
    preserve_distribution: bool = True,
    upstream: dict[str, str] | None = None,
    fingerprint: str = "",
    detection: dict[str, Any] | None = None,
) -> FittedModel:
    """Classify the columns of ``schema`` and fit the template's synthesizer on ``sample``.

    Without ``preserve_distribution`` (or without learned columns) nothing is fitted:
    the model holds column profiles (types, ranges, categories) only. ``detection`` is an
    upstream detection node's scanner spec: the columns it finds personal data in are
    generated, not learned.
    """
    from nodes.privacy.synthetic import columns as cols
    from nodes.privacy.synthetic.encode import encode_table
    from nodes.privacy.synthetic.generate import real_free_pools

    upstream = dict(upstream or {})
    if detection is not None and sample is not None:
        upstream = {**cols.classify_with_scanner(sample, detection), **upstream}
    plans = cols.classify_columns(schema, sample, template.columns, upstream)
    if sample is not None:
        undecided = [p.name for p in plans if p.role == "learned" and p.source == "default"]
        if undecided:
            detected = detect_metadata(encode_table(sample, undecided))
            cols.apply_sdv_detection(plans, detected, sample)
    cols.profile_columns(plans, sample, template.columns)
    metadata = learned_metadata(plans, template)
    synthesizer = None
    if preserve_distribution and sample is not None and any(p.role == "learned" for p in plans):
        synthesizer = fit_synthesizer(plans, sample, template, metadata)
    return FittedModel(
        columns=plans,
        synthesizer=synthesizer,
        fingerprint=fingerprint,
        metadata=metadata,
        fitted_rows=sample.num_rows if sample is not None else 0,
        created_at=now(),
        pools=real_free_pools(plans, sample, seed=template.seed, locale=template.locale),
    )


def _transport(location: str, template: SyntheticTemplate) -> dict[str, Any]:
    """smart-open parameters for the model location: a template's ``endpointUrl`` goes
    through the egress guard and is pinned, like every storage endpoint a resource names."""
    from engine.storage import StorageOptions, smart_open_params

    opts = template.storageOptions
    return smart_open_params(location, StorageOptions.from_config(opts) if opts else None)


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def _write(location: str, name: str, data: bytes, template: SyntheticTemplate) -> None:
    if _is_local(location):
        folder = Path(location.removeprefix("file://"))
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
        return
    from smart_open import open as sopen

    with sopen(f"{location}/{name}", "wb", transport_params=_transport(location, template)) as fh:
        fh.write(data)


def _read(location: str, name: str, template: SyntheticTemplate) -> bytes | None:
    if _is_local(location):
        path = Path(location.removeprefix("file://")) / name
        return path.read_bytes() if path.exists() else None
    from smart_open import open as sopen

    try:
        with sopen(
            f"{location}/{name}", "rb", transport_params=_transport(location, template)
        ) as fh:
            return bytes(fh.read())
    except (OSError, ValueError) as exc:
        if _missing(exc):
            return None
        raise


def _missing(exc: BaseException) -> bool:
    text = f"{exc} {exc.__cause__}"
    return any(s in text for s in ("NoSuchKey", "404", "does not exist", "Not Found"))


def save_model(model: FittedModel, location: str, template: SyntheticTemplate) -> None:
    """Store ``model`` at ``location``: the pickle first, then the manifest (commit)."""
    import cloudpickle

    _write(location, "model.pkl", cloudpickle.dumps(model), template)
    manifest = json.dumps(model.manifest(template), indent=2).encode()
    _write(location, "manifest.json", manifest, template)


def read_manifest(location: str, template: SyntheticTemplate) -> dict[str, Any] | None:
    """The stored model's manifest, or None when no model is stored there."""
    raw = _read(location, "manifest.json", template)
    return json.loads(raw) if raw else None


def load_model_blob(location: str, template: SyntheticTemplate) -> bytes:
    """The stored model's pickle bytes (workers unpickle them once each)."""
    raw = _read(location, "model.pkl", template)
    if raw is None:
        raise FileNotFoundError(f"{location}/model.pkl")
    return raw


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
