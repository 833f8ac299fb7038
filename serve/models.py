"""Request and response models of the HTTP API (the OpenAPI document is built from them)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from engine.secrets import scrub
from engine.store import ExecutionRecord, PipelineRecord, ResourceRecord
from engine.store.records import parse_iso

T = TypeVar("T")


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(ApiModel, Generic[T]):
    """One page of a list; ask for the next with ``offset=nextOffset``."""

    items: list[T]
    total: int
    limit: int
    offset: int
    nextOffset: int | None = None


class ProblemItem(ApiModel):
    nodeId: str | None = None
    path: str = ""
    message: str


class ValidationReport(ApiModel):
    valid: bool
    problems: list[ProblemItem] = Field(default_factory=list)


class PipelineOut(ApiModel):
    id: str
    name: str | None = None
    version: int
    latestVersion: int
    createdAt: str
    updatedAt: str
    versionCreatedAt: str
    spec: dict[str, Any]

    @classmethod
    def of(cls, rec: PipelineRecord) -> PipelineOut:
        return cls(
            id=rec.id,
            name=rec.name,
            version=rec.version,
            latestVersion=rec.latest_version,
            createdAt=rec.created_at,
            updatedAt=rec.updated_at,
            versionCreatedAt=rec.version_created_at,
            spec=scrub(rec.spec),  # type: ignore[arg-type]
        )


class PipelineVersionOut(ApiModel):
    version: int
    createdAt: str
    createdBy: str | None = None


class ResourceOut(ApiModel):
    """A stored resource; ``resource`` is its body with secret values masked."""

    id: str
    kind: str
    version: int
    createdAt: str
    updatedAt: str
    resource: dict[str, Any]

    @classmethod
    def of(cls, rec: ResourceRecord) -> ResourceOut:
        from engine.secrets import scrub

        return cls(
            id=rec.id,
            kind=rec.kind,
            version=rec.version,
            createdAt=rec.created_at,
            updatedAt=rec.updated_at,
            resource=scrub(rec.body),  # type: ignore[arg-type]
        )


class ExecuteRequest(ApiModel):
    """Body of ``POST /api/pipelines/{id}/execute`` (the integration design's shape)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "triggeredBy": "aiops_system",
                "context": {
                    "modelTrainingJob": "job_98765",
                    "dataRequirements": {"format": "tensorflow_records", "privacy_level": "high"},
                },
            }
        },
    )

    triggeredBy: str | None = Field(None, max_length=200)
    context: dict[str, Any] = Field(default_factory=dict)


class ExecuteAccepted(ApiModel):
    executionId: str
    pipelineId: str
    pipelineVersion: int
    status: str
    statusUrl: str
    replayed: bool = Field(
        False, description="True when an earlier Idempotency-Key request is returned"
    )
    dataRequirements: list[dict[str, Any]] = Field(
        default_factory=list,
        description="How each of context.dataRequirements is honoured by this execution "
        "(a requirement the pipeline cannot meet is refused with 422 instead)",
    )


class Progress(ApiModel):
    completedSteps: int = 0
    totalSteps: int = 0
    currentStep: str | None = None
    estimatedCompletion: str | None = None


class Metrics(ApiModel):
    recordsProcessed: int = 0
    dataSize: int = Field(0, description="Bytes read by the sources so far")
    qualityScore: float | None = None


class NodeStatus(ApiModel):
    model_config = ConfigDict(extra="allow")

    status: str | None = None
    rowsOut: int = 0
    bytesOut: int = 0


class ExecutionStatus(ApiModel):
    """``GET /api/pipelines/{id}/execution/{executionId}``: the design's shape plus detail."""

    executionId: str
    pipelineId: str
    pipelineVersion: int
    status: str
    progress: Progress
    metrics: Metrics
    nodes: dict[str, NodeStatus] = Field(default_factory=dict)
    error: str | None = None
    triggeredBy: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    cancelRequested: bool = False
    createdAt: str
    startedAt: str | None = None
    finishedAt: str | None = None
    updatedAt: str
    outputs: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, rec: ExecutionRecord) -> ExecutionStatus:
        progress = Progress(
            completedSteps=int(rec.progress.get("completedSteps") or 0),
            totalSteps=int(rec.progress.get("totalSteps") or 0),
            currentStep=rec.progress.get("currentStep"),
            estimatedCompletion=_estimate(rec),
        )
        m = rec.metrics
        metrics = Metrics(
            recordsProcessed=int(m.get("recordsProcessed") or 0),
            dataSize=int(m.get("dataSize") or 0),
            qualityScore=m.get("qualityScore"),
        )
        nodes = {
            k: NodeStatus(
                **{
                    kk: _one_line(vv) if kk == "error" else vv
                    for kk, vv in v.items()
                    if vv is not None or kk == "status"
                }
            )
            for k, v in (rec.nodes or {}).items()
            if isinstance(v, dict)
        }
        outputs = [
            {k: v for k, v in o.items() if k != "schema"}
            for o in (rec.result or {}).get("outputs", [])
        ]
        return cls(
            executionId=rec.id,
            pipelineId=rec.pipeline_id,
            pipelineVersion=rec.pipeline_version,
            status=rec.status,
            progress=progress,
            metrics=metrics,
            nodes=nodes,
            error=_one_line(rec.error),
            triggeredBy=rec.triggered_by,
            context=rec.context,
            cancelRequested=rec.cancel_requested,
            createdAt=rec.created_at,
            startedAt=rec.started_at,
            finishedAt=rec.finished_at,
            updatedAt=rec.updated_at,
            outputs=outputs,
        )


def _one_line(text: Any) -> Any:
    """A failure reason as API payloads show it: one line, no colour codes, no server
    paths (the full trace is the run's ``trace.txt``)."""
    if not isinstance(text, str):
        return text
    from engine.run.failures import sanitize

    return sanitize(text)


def _estimate(rec: ExecutionRecord) -> str | None:
    """Finish time extrapolated from the share of steps done (finished: the real time)."""
    if rec.finished_at:
        return rec.finished_at
    if rec.progress.get("estimatedCompletion"):  # the run's own estimate (input size, rate)
        return str(rec.progress["estimatedCompletion"])
    started = parse_iso(rec.started_at)
    done = int(rec.progress.get("completedSteps") or 0)
    total = int(rec.progress.get("totalSteps") or 0)
    if started is None or done <= 0 or total <= 0:
        return None
    updated = parse_iso(rec.updated_at) or started
    elapsed = (updated - started) * (total / done)
    return (started + elapsed).isoformat().replace("+00:00", "Z")


class ApiKeyCreate(ApiModel):
    scope: str = Field("read", pattern="^(read|execute|admin)$")
    name: str | None = Field(None, max_length=200)


class ApiKeyOut(ApiModel):
    id: str
    name: str | None = None
    scope: str
    scopes: list[str]
    createdAt: str
    revokedAt: str | None = None
    key: str | None = Field(None, description="The key itself; returned only when created")


class Health(ApiModel):
    status: str
    version: str
    schemaVersion: int
