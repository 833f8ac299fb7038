"""Run events and the structured result of a run. Ray-free, JSON-serializable."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

EventKind = Literal[
    "started",
    "progress",
    "node_finished",
    "retry",
    "fallback",
    "shared_materialized",
    "shard_committed",
    "node_reused",
    "completed",
    "failed",
    "cancelled",
]
Status = Literal["pending", "running", "completed", "failed", "cancelled"]


def new_execution_id() -> str:
    return f"exec_{uuid.uuid4().hex[:16]}"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class RunEvent:
    """Something that happened during a run; ``data`` is JSON-serializable."""

    kind: EventKind
    execution_id: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "executionId": self.execution_id,
            "at": iso(self.at),
            **self.data,
        }


@dataclass
class NodeResult:
    """What one node did in a run."""

    id: str
    type: str
    status: Status = "pending"
    rowsIn: int = 0
    rowsOut: int = 0
    bytesOut: int = 0
    seconds: float = 0.0
    counters: dict[str, float] = field(default_factory=dict)
    states: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    schema: list[list[str]] | None = None
    error: str | None = None
    transformation: str | None = None  # the node type's lineage name


@dataclass
class RunResult:
    """The structured result of :func:`engine.run.runner.run_pipeline`."""

    execution_id: str
    pipeline_id: str
    status: Status
    started_at: float
    finished_at: float | None = None
    error: str | None = None
    error_node: str | None = None
    nodes: dict[str, NodeResult] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    def raise_for_status(self) -> RunResult:
        """Raise :class:`~engine.errors.ExecutionFailed` unless the run completed.

        Returns the result itself when it completed, so drivers can chain it.
        """
        from engine.errors import ExecutionCancelled, ExecutionFailed

        if self.status == "cancelled":
            raise ExecutionCancelled(f"execution {self.execution_id} was cancelled")
        if self.status != "completed":
            raise ExecutionFailed(
                f"execution {self.execution_id} {self.status}: {self.error}",
                node_id=self.error_node,
            )
        return self

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @property
    def records_processed(self) -> int:
        return records_processed({n: r.rowsOut for n, r in self.nodes.items()}, self._sources())

    def _sources(self) -> set[str]:
        return {s["nodeId"] for s in self.sources} or {
            n for n, r in self.nodes.items() if r.type.startswith("source/")
        }

    @property
    def data_size(self) -> int:
        return sum(r.bytesOut for n, r in self.nodes.items() if n in self._sources())

    @property
    def quality_score(self) -> float | None:
        return quality_score(self.nodes.values())

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "executionId": self.execution_id,
            "pipelineId": self.pipeline_id,
            "status": self.status,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at),
            "durationSeconds": round(self.seconds, 3),
            "error": self.error,
            "errorNode": self.error_node,
            "nodes": {k: asdict(v) for k, v in self.nodes.items()},
            "outputs": self.outputs,
            "sources": self.sources,
            "metrics": {
                "recordsProcessed": self.records_processed,
                "dataSize": self.data_size,
                "qualityScore": self.quality_score,
            },
        }


def records_processed(rows_out: dict[str, int], sources: set[str]) -> int:
    """Rows read by the pipeline's sources so far (what ``recordsProcessed`` reports)."""
    return int(sum(v for k, v in rows_out.items() if k in sources))


def quality_score(nodes: Any) -> float | None:
    """The lowest quality score any node reported, or passed/(passed+failed) of checks."""
    scores = []
    for r in nodes:
        if isinstance(r.facts.get("qualityScore"), int | float):
            scores.append(float(r.facts["qualityScore"]))
        passed = r.counters.get("quality.passed", 0.0)
        failed = r.counters.get("quality.failed", 0.0)
        if passed + failed > 0:
            scores.append(passed / (passed + failed))
    return round(min(scores), 4) if scores else None
