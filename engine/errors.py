"""Errors raised by the engine.

Every error the engine raises derives from :class:`PipelineBuilderError`::

    PipelineBuilderError
    ├── SpecError              the spec text cannot be parsed or has the wrong shape
    ├── ValidationFailed       the spec parsed but has problems (lists every Problem)
    ├── CatalogError           a catalog file is malformed
    │   └── ResourceNotFound   a referenced resource id does not exist
    ├── SecretError            a secret reference cannot be resolved
    ├── RegistryError          a node type is registered twice or looked up wrongly
    ├── NodeError              a node failed while building or running (names the node)
    │   ├── NodeConfigError    a node's configuration is wrong in a way only run time sees
    │   └── RowError           a row violated a node's rules under ``onError: fail``
    ├── ExecutionFailed        a run ended in failure (RunResult.raise_for_status)
    ├── ExecutionCancelled     a run was cancelled
    ├── ResumeError            an execution cannot be resumed
    ├── EgressRefused          (engine.egress) an outbound connection the egress guard refuses
    ├── OutsideDataRoots       (engine.roots) a location outside every data root
    ├── StoreError             (engine.store.errors) the metadata store refused
    │   ├── NotFoundError      the stored object does not exist
    │   └── ConflictError      the write conflicts with what is stored
    └── WebhookError           (engine.webhooks.signing) webhook delivery and signing
        ├── SignatureError     a signature does not verify
        ├── UnsafeTarget       (engine.webhooks.ssrf) a target the egress rules refuse
        │                      (also an EgressRefused)
        └── EndpointNotFound   (engine.webhooks.outbox) no such endpoint or delivery

Framework errors (everything above) say what was expected; errors raised by user
code or third-party libraries inside a node are wrapped in :class:`NodeError` with
the original exception chained as ``__cause__``. Failures carry structured fields
(``node_id``, ``cause_type``, ``transient``) that survive Ray's pickling, so the runner
never parses messages to learn where a run failed.
"""

from __future__ import annotations

from dataclasses import dataclass


class PipelineBuilderError(Exception):
    """Base class of every error raised by the engine."""


class SpecError(PipelineBuilderError):
    """The spec text cannot be read or parsed."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by node id and config path.

    Attributes:
        node_id: The node the problem belongs to, or ``None`` for pipeline-level problems.
        path: Dotted location inside the node (``config.rules.0.min``) or the pipeline.
        message: What is wrong and what was expected.
    """

    node_id: str | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"node '{self.node_id}'" if self.node_id else "pipeline"
        loc = f" at {self.path}" if self.path else ""
        return f"{where}{loc}: {self.message}"

    def to_dict(self) -> dict[str, str | None]:
        return {"nodeId": self.node_id, "path": self.path, "message": self.message}


class ValidationFailed(PipelineBuilderError):
    """A spec has one or more problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem], *, pipeline_id: str | None = None) -> None:
        self.problems = list(problems)
        self.pipeline_id = pipeline_id
        head = f"pipeline '{pipeline_id}'" if pipeline_id else "pipeline"
        lines = [f"{head} has {len(problems)} problem(s):"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class CatalogError(PipelineBuilderError):
    """A catalog file or resource is malformed."""


class ResourceNotFound(CatalogError):
    """A resource id does not exist in the catalog."""

    def __init__(self, kind: str, resource_id: str, known: list[str] | None = None) -> None:
        self.kind = kind
        self.resource_id = resource_id
        hint = f"; known {kind}: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"{kind} '{resource_id}' not found in the catalog{hint}")


class SecretError(PipelineBuilderError):
    """A secret reference (``env:NAME``) cannot be resolved."""


class NodeError(PipelineBuilderError):
    """A node failed; the message starts with the node id.

    Attributes:
        node_id: The failing node.
        cause_type: Class name of the user or library error it wraps, if any.
        transient: Whether trying again may succeed (network, throttling), when known.
    """

    def __init__(
        self,
        node_id: str,
        message: str,
        *,
        cause_type: str | None = None,
        transient: bool | None = None,
    ) -> None:
        self.node_id = node_id
        self.detail = message
        self.cause_type = cause_type
        self.transient = transient
        super().__init__(f"node '{node_id}': {message}")

    def __reduce__(self):  # type: ignore[no-untyped-def]  # fields survive Ray's pickling
        return (
            _rebuild_node_error,
            (type(self), self.node_id, self.detail, self.cause_type, self.transient),
        )


class NodeConfigError(NodeError):
    """A node's configuration is wrong in a way only visible at run time."""


class RowError(NodeError):
    """A row broke a node's rules and the node's ``onError`` policy is ``fail``."""


class ExecutionFailed(PipelineBuilderError):
    """A run failed; ``node_id`` names the failing node when known."""

    def __init__(self, message: str, *, node_id: str | None = None) -> None:
        self.node_id = node_id
        super().__init__(message)


class ExecutionCancelled(PipelineBuilderError):
    """A run was cancelled before it finished."""


class RegistryError(PipelineBuilderError):
    """A node type is registered twice or looked up wrongly."""


class ResumeError(PipelineBuilderError):
    """An execution cannot be resumed (unknown, still running, already completed)."""


def _rebuild_node_error(
    cls: type[NodeError],
    node_id: str,
    message: str,
    cause_type: str | None,
    transient: bool | None,
) -> NodeError:
    err = cls.__new__(cls)
    NodeError.__init__(err, node_id, message, cause_type=cause_type, transient=transient)
    return err
