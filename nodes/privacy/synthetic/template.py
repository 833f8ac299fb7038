"""Synthetic templates: the catalog resource a ``privacy/synthetic`` node refers to.

A template (catalog kind ``syntheticTemplates``) says which SDV synthesizer to use, how
the table looks (SDV metadata, auto-detected when absent), which columns are personal
data, how many rows to fit on, the seed, where the fitted model lives and how much
leakage the run tolerates::

    syntheticTemplates:
      - id: template_customers
        synthesizer: gaussian_copula        # ctgan | tvae | copula_gan
        fitSampleSize: 10000
        seed: 7
        columns: {customer_id: id, email: email, segment: categorical,
                  notes: {sdtype: text, generator: sentence}, scan: drop}
        modelUri: s3://models/customers     # default: $PIPELINE_BUILDER_HOME/models/<id>
        maxLeakage: 0.0                     # share of sampled rows allowed to copy a real one
        minDistance: 0.0                    # closer than this to a real row counts as a copy

Imports no SDV; only pydantic and the standard library.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import NodeConfigError

SynthesizerName = Literal["gaussian_copula", "ctgan", "tvae", "copula_gan"]
# Bumped whenever the stored model's layout or the column encodings change, so a model
# stored by an older version is refitted instead of being misread.
MODEL_FORMAT = 2


class ColumnHint(BaseModel):
    """What the template says about one column.

    Attributes:
        sdtype: SDV semantic type (``numerical``, ``categorical``, ``datetime``,
            ``boolean``, ``id``) or a personal-data type (``name``, ``email``,
            ``phone_number``, ``address``, ...). Personal-data types are never learned.
            ``text`` is free text (generated, never resampled); ``drop`` removes the
            column from the output.
        min: Lower bound when generating without fitting (numbers, ISO dates).
        max: Upper bound when generating without fitting.
        values: Categories to draw from when generating without fitting.
        generator: Faker method that generates the column (``sentence``, ``company``,
            ``bothify``...); the default follows the sdtype.
        generatorArgs: Keyword arguments of ``generator`` (``{text: "??-####"}``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sdtype: str
    min: float | str | None = None
    max: float | str | None = None
    values: list[Any] | None = None
    generator: str | None = None
    generatorArgs: dict[str, Any] = Field(default_factory=dict)


class SyntheticTemplate(BaseModel):
    """A ``syntheticTemplates`` catalog resource, validated."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    name: str | None = None
    synthesizer: SynthesizerName = "gaussian_copula"
    metadata: dict[str, Any] | None = Field(
        None, description="SDV metadata: a full Metadata dict or one table's {'columns': ...}."
    )
    columns: dict[str, ColumnHint] = Field(default_factory=dict)
    constraints: list[dict[str, Any]] = Field(default_factory=list)
    synthesizerOptions: dict[str, Any] = Field(default_factory=dict)
    fitSampleSize: int = Field(10_000, gt=0, le=5_000_000)
    qualitySampleSize: int = Field(2_000, gt=0, le=100_000)
    seed: int = Field(0, ge=0)
    modelUri: str | None = None
    maxLeakage: float | None = Field(None, ge=0, le=1)
    minDistance: float = Field(
        0.0, ge=0, le=1, description="Synthetic rows this close to a real row count as copies."
    )
    locale: str = "en_US"
    blockRows: int = Field(50_000, gt=0, le=5_000_000)
    storageOptions: dict[str, Any] = Field(
        default_factory=dict, description="For s3:// model URIs: endpointUrl, region."
    )

    @field_validator("columns", mode="before")
    @classmethod
    def _string_hints(cls, v: Any) -> Any:
        # ``{email: email}`` is shorthand for ``{email: {sdtype: email}}``.
        if isinstance(v, dict):
            return {k: {"sdtype": h} if isinstance(h, str) else h for k, h in v.items()}
        return v

    def table_metadata(self) -> dict[str, Any] | None:
        """The explicit single-table metadata (``{'columns': ...}``), if any."""
        if not self.metadata:
            return None
        tables = self.metadata.get("tables")
        if isinstance(tables, dict) and tables:
            return dict(next(iter(tables.values())))
        return dict(self.metadata)

    def fit_fingerprint(self, schema_fields: list[tuple[str, str]]) -> str:
        """Hash of everything a fitted model depends on: input schema + fit settings."""
        doc = {
            "modelFormat": MODEL_FORMAT,
            "schema": schema_fields,
            "synthesizer": self.synthesizer,
            "metadata": self.metadata,
            "columns": {k: v.model_dump() for k, v in sorted(self.columns.items())},
            "constraints": self.constraints,
            "options": self.synthesizerOptions,
            "fitSampleSize": self.fitSampleSize,
            "seed": self.seed,
        }
        raw = json.dumps(doc, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()

    def model_location(self, home: Path) -> str:
        """Folder (or s3 prefix) holding ``model.pkl`` and ``manifest.json``."""
        if self.modelUri:
            return self.modelUri.rstrip("/")
        return str(home / "models" / self.id)


def load_template(node_id: str, resource: dict[str, Any]) -> SyntheticTemplate:
    """Validate a catalog resource as a template; errors name the node and the field."""
    try:
        return SyntheticTemplate.model_validate(resource)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise NodeConfigError(
            node_id, f"synthetic template '{resource.get('id')}' is invalid: {problems}"
        ) from None
