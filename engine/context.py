"""What a node's build function receives, and what output nodes return.

Imports no Ray at module load; Ray types appear only under TYPE_CHECKING.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.catalog import Catalog
from engine.home import pipeline_home
from engine.secrets import resolve_secret
from engine.spec.models import NodeSpec, PipelineSpec

if TYPE_CHECKING:
    from ray.data import Dataset


class Metrics(Protocol):
    """Picklable handle for recording metrics from inside Ray tasks.

    Counters are summed across batches and workers; states are merged with their own
    ``merge(other)`` method (profiles, sketches). Both are cheap fire-and-forget calls.
    """

    def add(self, node_id: str, counters: dict[str, float]) -> None: ...

    def merge_state(self, node_id: str, name: str, state: Any) -> None: ...


class NullMetrics:
    """Metrics that go nowhere (validation, unit tests of node functions)."""

    def add(self, node_id: str, counters: dict[str, float]) -> None:
        pass

    def merge_state(self, node_id: str, name: str, state: Any) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    """Options of one run.

    Attributes:
        object_store_memory: Bytes of object-store memory Ray Data may use for this run
            (bounds the streaming executor); ``None`` leaves Ray's default.
        home: ``PIPELINE_BUILDER_HOME`` for local state and default artifacts.
        base_dir: Folder relative paths in the spec resolve against.
        progress_interval: Seconds between progress events.
    """

    object_store_memory: int | None = None
    home: Path = field(default_factory=lambda: pipeline_home())
    base_dir: Path = field(default_factory=Path.cwd)
    progress_interval: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuildContext:
    """Everything a node's build function may use besides its inputs and config."""

    spec: PipelineSpec
    node: NodeSpec
    catalog: Catalog
    execution_id: str
    options: RunOptions
    metrics: Metrics = field(default_factory=NullMetrics)
    facts: dict[str, Any] = field(default_factory=dict)
    # The inputs before the runner's row counting: a node that looks at a sample of its
    # input while building (classification, fitting) reads these, so the preview does
    # not count as rows the pipeline processed.
    uncounted_inputs: list[Any] = field(default_factory=list)

    def map_options(self, **defaults: Any) -> dict[str, Any]:
        """Keyword arguments for ``Dataset.map_batches`` with the node's ``resources`` hints.

        ``defaults`` are the node's own choices (``batch_format``, ``batch_size``...); the
        spec's hints win: ``cpus`` -> ``num_cpus``, ``memoryMb`` -> ``memory`` (bytes),
        ``batchSize`` -> ``batch_size``, ``concurrency`` -> the number of parallel tasks.
        Zero-copy Arrow batches default to whole blocks (``batch_size=None``): Ray Data's
        own default cuts every block into 1,024-row batches, a Python call each.
        """
        opts = dict(defaults)
        if opts.get("batch_format") == "pyarrow" and opts.get("zero_copy_batch"):
            opts.setdefault("batch_size", None)
        hints = self.node.resources
        if hints is None:
            return opts
        if hints.cpus is not None:
            opts["num_cpus"] = hints.cpus
        if hints.memoryMb is not None:
            opts["memory"] = hints.memoryMb * 1024 * 1024
        if hints.batchSize is not None:
            opts["batch_size"] = hints.batchSize
        if hints.concurrency is not None:
            opts["concurrency"] = hints.concurrency
        return opts

    def preview_input(self, inputs: list[Any], index: int = 0) -> Any:
        """The dataset to sample input ``index`` from while building (not counted)."""
        if index < len(self.uncounted_inputs) and self.uncounted_inputs[index] is not None:
            return self.uncounted_inputs[index]
        return inputs[index]

    @property
    def node_id(self) -> str:
        return self.node.id

    def resource(self, kind: str, resource_id: str) -> dict[str, Any]:
        return self.catalog.get(kind, resource_id)

    def secret(self, ref: str, *, what: str = "secret") -> str:
        return resolve_secret(ref, what=f"node '{self.node.id}': {what}")

    def resolve_path(self, uri: str) -> str:
        """Absolute local path for relative ``uri``; URLs (``s3://``...) unchanged."""
        if "://" in uri or uri.startswith("/"):
            return uri
        return str((self.options.base_dir / uri).resolve())

    def artifact_dir(self) -> Path:
        """A folder for this node's artifacts in this execution (reports, models)."""
        d = self.options.home / "artifacts" / self.execution_id / self.node.id
        d.mkdir(parents=True, exist_ok=True)
        return d

    def report(self, key: str, value: Any) -> None:
        """Record a driver-side fact (output location, findings...) in the run result."""
        self.facts[key] = value


class Sink(Protocol):
    """What an output node's build returns: streams a Dataset somewhere, atomically.

    ``write`` must leave nothing visible to readers if it raises (stage, then commit).
    It returns facts about the output: at least ``location`` and ``format``; may add
    ``schema``, ``files``, ``rows``, ``version``.
    """

    def write(self, ds: Dataset) -> dict[str, Any]: ...
