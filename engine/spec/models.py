"""Pydantic models of the pipeline spec (the public contract in DESIGN.md).

Node objects keep the design's shape (``nodeType``, ``category``, ``config``) plus ``id``
and ``inputs``. Unknown keys are errors. ``config`` stays a plain mapping here; it is
checked against the node type's own config model during validation, so this module
knows nothing about particular node types.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


class SpecModel(BaseModel):
    """Base of every spec model: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OnError(str, Enum):
    """What a node does with a row it cannot process."""

    fail = "fail"
    drop = "drop"
    skip = "skip"  # alias of drop, spelled as some users expect
    quarantine = "quarantine"


class RetryPolicy(SpecModel):
    """Retries for transient failures of a node (reads, writes, notifications)."""

    maxAttempts: int = Field(3, ge=1, le=20)
    initialDelaySeconds: float = Field(0.5, ge=0)
    maxDelaySeconds: float = Field(30.0, ge=0)
    backoffMultiplier: float = Field(2.0, ge=1)
    jitter: bool = True
    retryOn: list[str] = Field(
        default_factory=lambda: ["transient"],
        description="Error classes counted as transient: 'transient' (network, 5xx, "
        "timeouts, throttling), 'any', or exception class names.",
    )


class ResourceHints(SpecModel):
    """Per-node compute hints passed to Ray Data."""

    cpus: float | None = Field(None, gt=0)
    memoryMb: int | None = Field(None, gt=0)
    batchSize: int | None = Field(None, gt=0)
    concurrency: int | None = Field(None, gt=0)
    minActors: int | None = Field(None, gt=0)
    maxActors: int | None = Field(None, gt=0)


class NodeSpec(SpecModel):
    """One node of a pipeline."""

    id: str
    nodeType: str
    category: str
    config: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    name: str | None = None
    description: str | None = None
    retry: RetryPolicy | None = None
    fallback: str | None = Field(
        None, description="Id of a node used instead of this one when it fails for good."
    )
    resources: ResourceHints | None = None
    onError: OnError = OnError.fail

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(
                f"node id {v!r} must start with a letter or '_' and use only letters, "
                "digits, '_', '.', '-' (at most 128 characters)"
            )
        return v

    @property
    def type_key(self) -> str:
        return f"{self.nodeType}/{self.category}"


class PipelineSpec(SpecModel):
    """A whole pipeline: an id, a name and a DAG of nodes."""

    id: str
    name: str | None = None
    description: str | None = None
    version: str | None = None
    tags: list[str] = Field(default_factory=list)
    nodes: list[NodeSpec] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"pipeline id {v!r} must match {_ID.pattern}")
        return v

    def node(self, node_id: str) -> NodeSpec:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def consumers(self, node_id: str) -> list[str]:
        return [n.id for n in self.nodes if node_id in n.inputs]
