"""``output/environment``: deploy a dataset to a target environment, gated by quality checks.

An environment is a catalog resource::

    environments:
      - id: env_prod_ml
        uri: s3://ml-data/customer_features      # or a local folder
        format: parquet                          # parquet | csv | jsonl
        retention: {keepVersions: 5, maxAgeDays: 30}
        defaultStrategy: blue_green              # blue_green | direct
        expectedSchema: [{name: id, type: int64, nullable: false}]

``blue_green`` writes the new version under ``<uri>/versions/<version>/``, re-reads it to
run the quality gates, writes its manifest and only then flips ``<uri>/CURRENT``; the
previous version stays for rollback. ``direct`` does the same write + flip (so readers
still never see a half-written folder) but then removes every other version: no rollback,
minimal storage. A blocking gate failure leaves ``CURRENT`` untouched and fails the node
with the gate report. See :mod:`nodes.outputs.versions` for the layout.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine import roots
from engine.catalog import Catalog, declare_keys
from engine.context import BuildContext
from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, ResourceRef, register
from nodes.outputs import gates as gate_lib
from nodes.outputs import versions
from nodes.outputs._empty import write_empty
from nodes.outputs.residual import OnResidue, ResidualScan, on_residue_field

if TYPE_CHECKING:
    from ray.data import Dataset

log = logging.getLogger(__name__)

Format = Literal["parquet", "csv", "jsonl"]
Strategy = Literal["blue_green", "direct"]


class RetentionPolicy(BaseModel):
    """How many / how old versions an environment keeps (current + previous always kept)."""

    model_config = ConfigDict(extra="forbid")
    keepVersions: int | None = Field(10, ge=2)
    maxAgeDays: float | None = Field(None, gt=0)


class ExpectedColumn(BaseModel):
    """One column of an environment's expected schema."""

    model_config = ConfigDict(extra="forbid")
    name: str
    type: str | None = None
    nullable: bool = True


class EnvironmentResource(BaseModel):
    """The ``environments`` catalog resource."""

    model_config = ConfigDict(extra="ignore")
    id: str
    uri: str
    format: Format = "parquet"
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    defaultStrategy: Strategy = "blue_green"
    expectedSchema: list[ExpectedColumn] = Field(default_factory=list)


declare_keys("environments", EnvironmentResource.model_fields)
# What :func:`engine.webhooks.notifications.send` reads from a channel (declared here,
# with the node that names channels, so that loading the nodes needs no webhook stack).
declare_keys("notificationChannels", ("type", "url", "webhookUrl", "secret", "events"))


def load_environment(catalog: Catalog, environment_id: str) -> EnvironmentResource:
    """Read and check an environment resource; relative URIs resolve against the catalog."""
    raw = catalog.get("environments", environment_id)
    try:
        env = EnvironmentResource.model_validate(raw)
    except Exception as exc:
        from engine.errors import CatalogError

        raise CatalogError(f"environments '{environment_id}' is malformed: {exc}") from None
    if "://" not in env.uri and not os.path.isabs(env.uri) and catalog.base_dir is not None:
        env = env.model_copy(update={"uri": str((catalog.base_dir / env.uri).resolve())})
    return env


class EnvironmentConfig(NodeConfig):
    """Config of ``output/environment`` (the integration design's shape)."""

    environmentId: Annotated[str, ResourceRef("environments")]
    deploymentStrategy: Strategy | None = Field(
        None, description="blue_green or direct; defaults to the environment's defaultStrategy"
    )
    qualityGates: list[str | dict[str, Any]] = Field(
        default_factory=list,
        description="Built-in gate names, qualityRules ids, or inline {gate, severity, ...}",
    )
    notificationChannels: list[Annotated[str, ResourceRef("notificationChannels")]] = Field(
        default_factory=list
    )
    keepRejectedVersions: bool = Field(
        False, description="Keep versions that failed a blocking gate (for inspection)"
    )
    onResidue: OnResidue = on_residue_field()


def _gate_refs(cfg: BaseModel) -> list[tuple[str, str, str]]:
    return gate_lib.gate_refs(getattr(cfg, "qualityGates", []))


def write_dataset(ds: Dataset, loc: versions.Location, version: str, fmt: str) -> None:
    """Stream ``ds`` into the version folder with Ray's file writers."""
    path = loc.path(versions.VERSIONS, version)
    if fmt == "parquet":
        from nodes.outputs._parquet_sink import streaming_parquet_sink

        ds.write_datasink(streaming_parquet_sink(path, filesystem=loc.fs, compression="snappy"))
    elif fmt == "csv":
        ds.write_csv(path, filesystem=loc.fs)
    elif fmt == "jsonl":
        ds.write_json(path, filesystem=loc.fs)
    else:  # pragma: no cover - the resource model restricts formats
        raise ValueError(f"unsupported format {fmt!r}")


class EnvironmentSink:
    """Writes a new version, gates it, flips ``CURRENT`` (see module docstring)."""

    def __init__(self, ctx: BuildContext, config: EnvironmentConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.env = load_environment(ctx.catalog, config.environmentId)
        roots.for_node(ctx, self.env.uri, what=f"environment '{config.environmentId}'")
        self.strategy: Strategy = config.deploymentStrategy or self.env.defaultStrategy
        self.gates = gate_lib.resolve_gates(config.qualityGates, ctx.catalog, node_id=ctx.node_id)

    def write(self, ds: Dataset) -> dict[str, Any]:
        """Deploy ``ds``; returns facts (location, version, rows, gates...)."""
        ctx, env = self.ctx, self.env
        loc = versions.locate(env.uri)
        before = versions.read_pointer(env.uri)
        version = versions.new_version_id(ctx.execution_id)
        version_uri = loc.uri_of(versions.VERSIONS, version)
        scan = ResidualScan(ctx, self.config.onResidue)
        write_dataset(scan.wrap(ds), loc, version, env.format)
        # Zero rows still deploy a version that carries the columns.
        write_empty(ctx, loc.fs, loc.path(versions.VERSIONS, version), env.format)
        residual = scan.finish(cleanup=lambda: versions.remove_version(env.uri, version))

        results, summary = gate_lib.evaluate(
            self.gates,
            gate_lib.iter_written(version_uri, env.format),
            expected_schema=[c.model_dump() for c in env.expectedSchema],
            catalog=ctx.catalog,
        )
        self._record_gates(results, summary)
        failed = gate_lib.blocking_failures(results)
        manifest = versions.build_manifest(
            loc,
            version,
            rows=summary["rows"],
            schema=summary["schema"],
            fmt=env.format,
            execution_id=ctx.execution_id,
            extra={
                "pipelineId": ctx.spec.id,
                "nodeId": ctx.node_id,
                "environmentId": env.id,
                "qualityGates": results,
                "status": "rejected" if failed else "accepted",
            },
        )
        if failed:
            if not self.config.keepRejectedVersions:
                versions.remove_version(env.uri, version)
            else:
                versions.write_manifest(loc, version, manifest)
            self._notify("quality_gate.failed", env, version_uri, summary, results)
            lines = "; ".join(f"{r['id']}: {r['message']}" for r in failed)
            raise NodeError(
                ctx.node_id,
                f"quality gate(s) failed, environment {env.id!r} left on version "
                f"{(before or {}).get('version')!r}: {lines}",
            )
        versions.write_manifest(loc, version, manifest)
        try:
            pointer = versions.flip_current(
                env.uri,
                version,
                execution_id=ctx.execution_id,
                expected_version=(before or {}).get("version") if before else None,
                reason="direct" if self.strategy == "direct" else "deploy",
            )
        except versions.DeploymentError as exc:
            raise NodeError(ctx.node_id, f"deploy to {env.id!r} not published: {exc}") from exc
        removed = self._clean_up(version)
        facts = {
            "location": version_uri,
            "environmentId": env.id,
            "environmentUri": env.uri,
            "format": env.format,
            "strategy": self.strategy,
            "version": version,
            "previousVersion": pointer.get("previous"),
            "rows": summary["rows"],
            "schema": summary["schema"],
            "files": [f["path"] for f in manifest["files"]],
            "qualityGates": results,
            "removedVersions": removed,
            **residual,
        }
        ctx.report(
            "deployment",
            {
                k: facts[k]
                for k in ("environmentId", "version", "previousVersion", "location", "strategy")
            },
        )
        self._notify("deployment.completed", env, version_uri, summary, results)
        return facts

    def _record_gates(self, results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
        ctx = self.ctx
        passed = sum(1 for r in results if r["status"] == "passed")
        ctx.report("qualityGates", results)
        ctx.report(
            "qualityMetrics",
            {
                "recordCount": summary["rows"],
                "completenessScore": summary["completenessScore"],
                "privacyCompliance": _privacy_status(results),
            },
        )
        ctx.report("completeness", summary["completenessScore"])
        ctx.report("dataQualityAssertions", gate_lib.openlineage_assertions(results))
        if results:
            ctx.report("qualityScore", round(passed / len(results), 4))
            # gate counts, kept apart from the row-level quality.passed/failed counters
            ctx.metrics.add(
                ctx.node_id,
                {
                    "qualityGates.passed": passed,
                    "qualityGates.failed": sum(1 for r in results if r["status"] == "failed"),
                    "qualityGates.warned": sum(1 for r in results if r["status"] == "warning"),
                },
            )

    def _clean_up(self, version: str) -> list[str]:
        env = self.env
        try:
            if self.strategy == "direct":
                others = [
                    v["version"] for v in versions.list_versions(env.uri) if v["version"] != version
                ]
                for name in others:
                    versions.remove_version(env.uri, name)
                return others
            return versions.apply_retention(
                env.uri,
                keep_versions=env.retention.keepVersions,
                max_age_days=env.retention.maxAgeDays,
            )
        except Exception as exc:  # retention is housekeeping: never fail a good deploy
            log.warning("retention for %s failed: %s", env.uri, exc)
            return []

    def _notify(
        self,
        event: str,
        env: EnvironmentResource,
        location: str,
        summary: dict[str, Any],
        results: list[dict[str, Any]],
    ) -> None:
        if not self.config.notificationChannels:
            return
        from engine.webhooks import notifications

        payload = {
            "pipelineId": self.ctx.spec.id,
            "executionId": self.ctx.execution_id,
            "event": event,
            "environmentId": env.id,
            "datasetLocation": location,
            "qualityMetrics": {
                "recordCount": summary["rows"],
                "completenessScore": summary["completenessScore"],
                "privacyCompliance": _privacy_status(results),
            },
            "qualityGates": [{k: r[k] for k in ("id", "status", "message")} for r in results],
        }
        sent = notifications.notify_channels(
            self.ctx.catalog, self.config.notificationChannels, event, payload
        )
        self.ctx.report("notifications", sent)


def _privacy_status(results: list[dict[str, Any]]) -> str | None:
    for r in results:
        if r["check"] == "pii_free":
            return {"passed": "pii_free", "failed": "pii_found", "warning": "pii_found"}.get(
                r["status"], "not_checked"
            )
    return None


@register(
    "output",
    "environment",
    config=EnvironmentConfig,
    kind="output",
    extra_refs=_gate_refs,
    description="Deploy to a target environment (blue/green or direct) behind quality gates",
)
def build(
    *, ctx: BuildContext, inputs: list[Dataset], config: EnvironmentConfig
) -> EnvironmentSink:
    """Deploy to a target environment (blue/green or direct) behind quality gates."""
    try:
        return EnvironmentSink(ctx, config)
    except NodeError:
        raise
    except versions.DeploymentError as exc:
        raise NodeConfigError(ctx.node_id, str(exc)) from exc
