"""``output/model_training``: framework-ready training data with deterministic splits.

Writes ``<target>/versions/<version>/<split>/part-*.<ext>`` and flips ``<target>/CURRENT``
(the layout of :mod:`nodes.outputs.versions`), so trainers read a complete dataset or
the previous one, never a half-written folder. ``target`` is ``location`` or the URI of
``environmentId``.

Formats: ``parquet``; ``tfrecord`` (``tf.train.Example`` per row, see
:mod:`nodes.outputs.tfrecord`); ``npz`` (NumPy shards: one array per column plus a
float32 ``features`` matrix and ``label`` array when every feature is numeric, ready for
``torch.from_numpy``); ``jsonl``.

Rows go to train/validation/test by a stable hash of ``keyColumn`` (pandas' SipHash with
its fixed key), so the same key always lands in the same split, across runs and machines.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine import roots
from engine.context import BuildContext
from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, ResourceRef, register
from nodes.outputs import versions
from nodes.outputs.residual import OnResidue, ResidualScan, on_residue_field

if TYPE_CHECKING:
    from ray.data import Dataset

TrainingFormat = Literal["parquet", "tfrecord", "npz", "jsonl"]
_FORMAT_ALIASES = {
    "tensorflow_records": "tfrecord",
    "tfrecords": "tfrecord",
    "tf_records": "tfrecord",
    "numpy": "npz",
    "json_lines": "jsonl",
    "jsonlines": "jsonl",
}
_EXT = {"parquet": "parquet", "tfrecord": "tfrecord", "npz": "npz", "jsonl": "jsonl"}
DEFAULT_FRAMEWORKS = {
    "parquet": ["pytorch", "tensorflow", "sklearn", "xgboost"],
    "tfrecord": ["tensorflow"],
    "npz": ["numpy", "pytorch", "jax"],
    "jsonl": ["huggingface", "pytorch"],
}
_BUCKETS = 10_000


class Splits(BaseModel):
    """Fractions of rows per split; they must sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    train: float = Field(0.8, ge=0, le=1)
    validation: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Splits:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"splits must sum to 1, got {total:g}")
        return self


class ModelCompatibility(BaseModel):
    """Frameworks and dataset version the output is declared compatible with."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    frameworks: list[str] = Field(default_factory=list)
    version: str | None = None


class ModelTrainingConfig(NodeConfig):
    """Config of ``output/model_training``."""

    location: str | None = Field(None, description="Target folder or s3:// URI")
    environmentId: Annotated[str, ResourceRef("environments")] | None = None
    format: TrainingFormat = "parquet"
    features: list[str] = Field(default_factory=list, description="Feature columns; empty = all")
    label: str | None = None
    keyColumn: str | None = Field(None, description="Column hashed to assign splits")
    splits: Splits | None = Field(default_factory=Splits)
    modelCompatibility: ModelCompatibility | None = None
    onResidue: OnResidue = on_residue_field()

    @field_validator("format", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:
        return _FORMAT_ALIASES.get(str(v).lower(), v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _target(self) -> ModelTrainingConfig:
        if bool(self.location) == bool(self.environmentId):
            raise ValueError("set exactly one of 'location' or 'environmentId'")
        if self.splits is not None and not self.keyColumn:
            raise ValueError("'splits' need 'keyColumn' (the column hashed to assign rows)")
        return self


def split_buckets(column: pa.ChunkedArray | pa.Array) -> Any:
    """Stable bucket ``0.._BUCKETS-1`` per value (same value -> same bucket, everywhere)."""
    import numpy as np
    import pandas as pd

    # One batch's key column (bounded by the block size), for pandas' stable hashing.
    series = column.to_pandas() if hasattr(column, "to_pandas") else pd.Series(column)
    hashed = pd.util.hash_pandas_object(pd.Series(series), index=False).to_numpy()
    return (hashed % np.uint64(_BUCKETS)).astype(np.int64)


def assign_splits(column: pa.ChunkedArray | pa.Array, splits: Splits) -> Any:
    """Array of split names (``train``/``validation``/``test``) for each value."""
    import numpy as np

    b = split_buckets(column)
    train_end = round(splits.train * _BUCKETS)
    val_end = train_end + round(splits.validation * _BUCKETS)
    return np.where(b < train_end, "train", np.where(b < val_end, "validation", "test"))


def _npz_bytes(table: pa.Table, features: list[str], label: str | None) -> bytes:
    import numpy as np

    arrays: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            arrays[name] = col.to_numpy(zero_copy_only=False)
        else:
            arrays[name] = np.array(["" if v is None else str(v) for v in col.to_pylist()])
    numeric = [f for f in features if arrays[f].dtype.kind in "biuf"]
    if features and len(numeric) == len(features):
        arrays["features"] = np.column_stack([arrays[f].astype(np.float32) for f in features])
    if label is not None:
        arrays["label"] = arrays[label]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _encode(table: pa.Table, fmt: str, features: list[str], label: str | None) -> bytes:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(table, buf)
        return buf.getvalue()
    if fmt == "tfrecord":
        from nodes.outputs import tfrecord

        buf = io.BytesIO()
        tfrecord.write_table(table, buf)
        return buf.getvalue()
    if fmt == "npz":
        return _npz_bytes(table, features, label)
    lines = (json.dumps(r, default=str, sort_keys=True) for r in table.to_pylist())
    return ("\n".join(lines) + "\n").encode() if table.num_rows else b""


class _BlockWriter:
    """The per-batch task: split, select columns, write one file per split."""

    def __init__(
        self,
        *,
        fs: Any,
        root: str,
        fmt: str,
        columns: list[str],
        features: list[str],
        label: str | None,
        key: str | None,
        splits: Splits | None,
        node_id: str,
    ) -> None:
        self.fs, self.root, self.fmt = fs, root, fmt
        self.columns, self.features, self.label = columns, features, label
        self.key, self.splits, self.node_id = key, splits, node_id

    def __call__(self, batch: pa.Table) -> pa.Table:
        missing = [
            c
            for c in [*self.columns, *([self.key] if self.key else [])]
            if c not in batch.column_names
        ]
        if missing:
            raise NodeError(
                self.node_id,
                f"column(s) {missing} not in the input; available: {batch.column_names}",
            )
        selected = batch.select(self.columns)
        if self.splits is not None and self.key:
            names = assign_splits(batch.column(self.key), self.splits)
            parts = [
                (s, selected.filter(pa.array(names == s))) for s in ("train", "validation", "test")
            ]
        else:
            parts = [("all", selected)]
        out: dict[str, list[Any]] = {"split": [], "path": [], "rows": [], "schema": []}
        for split, part in parts:
            if part.num_rows == 0:
                continue
            rel = f"{split}/part-{uuid.uuid4().hex}.{_EXT[self.fmt]}"
            data = _encode(part, self.fmt, self.features, self.label)
            self.fs.create_dir(f"{self.root}/{split}", recursive=True)
            with self.fs.open_output_stream(f"{self.root}/{rel}") as f:
                f.write(data)
            out["split"].append(split)
            out["path"].append(rel)
            out["rows"].append(part.num_rows)
            out["schema"].append(part.schema.to_string(show_schema_metadata=False))
        return pa.table(out, schema=_RESULT_SCHEMA)


_RESULT_SCHEMA = pa.schema(
    [("split", pa.string()), ("path", pa.string()), ("rows", pa.int64()), ("schema", pa.string())]
)


class ModelTrainingSink:
    """Writes training shards into a new version and flips ``CURRENT``."""

    def __init__(self, ctx: BuildContext, config: ModelTrainingConfig) -> None:
        self.ctx, self.config = ctx, config
        self.retention = None
        if config.environmentId:
            from nodes.outputs.environment import load_environment

            env = load_environment(ctx.catalog, config.environmentId)
            self.target, self.retention = env.uri, env.retention
        else:
            self.target = ctx.resolve_path(config.location or "")
        self.target = roots.for_node(ctx, self.target, what="model location")

    def _columns(self, ds: Dataset) -> tuple[list[str], list[str]]:
        cfg = self.config
        schema = ds.schema()
        if schema is None:  # no rows: the columns the input planned (see outputs._empty)
            from nodes.outputs._empty import input_schema

            schema = input_schema(self.ctx)
        names = list(schema.names) if schema is not None else []
        skip = {cfg.label, cfg.keyColumn} if cfg.features == [] else set()
        features = list(cfg.features) or [n for n in names if n not in skip]
        columns = features + ([cfg.label] if cfg.label and cfg.label not in features else [])
        return features, columns

    def write(self, ds: Dataset) -> dict[str, Any]:
        """Write, manifest and publish the training data; returns facts."""
        cfg, ctx = self.config, self.ctx
        loc = versions.locate(self.target)
        version = versions.new_version_id(ctx.execution_id)
        root = loc.path(versions.VERSIONS, version)
        features, columns = self._columns(ds)
        if not columns:
            raise NodeConfigError(ctx.node_id, "no feature columns selected and none in the input")
        writer = _BlockWriter(
            fs=loc.fs,
            root=root,
            fmt=cfg.format,
            columns=columns,
            features=features,
            label=cfg.label,
            key=cfg.keyColumn,
            splits=cfg.splits,
            node_id=ctx.node_id,
        )
        split_rows: dict[str, int] = {}
        schema_text = None
        scan = ResidualScan(ctx, cfg.onResidue)
        written = scan.wrap(ds, columns).map_batches(
            writer, batch_format="pyarrow", batch_size=None, zero_copy_batch=True
        )
        for part in written.iter_batches(batch_format="pyarrow", batch_size=None):
            table: pa.Table = part  # type: ignore[assignment]  # batch_format="pyarrow"
            for row in table.to_pylist():
                split_rows[row["split"]] = split_rows.get(row["split"], 0) + row["rows"]
                schema_text = schema_text or row["schema"]
        total = sum(split_rows.values())
        if schema_text is None:  # no rows: the manifest still lists the columns
            from nodes.outputs._empty import input_schema

            known = input_schema(ctx)
            if known is not None:
                kept = [f for f in known if f.name in columns]
                schema_text = pa.schema(kept).to_string(show_schema_metadata=False)
        residual = scan.finish(cleanup=lambda: versions.remove_version(self.target, version))
        compat = {
            "frameworks": (cfg.modelCompatibility.frameworks if cfg.modelCompatibility else [])
            or DEFAULT_FRAMEWORKS[cfg.format],
            "version": (cfg.modelCompatibility.version if cfg.modelCompatibility else None)
            or ctx.spec.version
            or version,
            "format": cfg.format,
        }
        manifest = versions.build_manifest(
            loc,
            version,
            rows=total,
            schema=_schema_list(schema_text),
            fmt=cfg.format,
            execution_id=ctx.execution_id,
            extra={
                "pipelineId": ctx.spec.id,
                "nodeId": ctx.node_id,
                "splits": split_rows,
                "splitFractions": cfg.splits.model_dump() if cfg.splits else None,
                "keyColumn": cfg.keyColumn,
                "features": features,
                "label": cfg.label,
                "modelCompatibility": compat,
            },
        )
        versions.write_manifest(loc, version, manifest)
        pointer = versions.flip_current(self.target, version, execution_id=ctx.execution_id)
        if self.retention is not None:
            versions.apply_retention(
                self.target,
                keep_versions=self.retention.keepVersions,
                max_age_days=self.retention.maxAgeDays,
            )
        ctx.report("modelCompatibility", compat)
        ctx.report("splits", split_rows)
        location = loc.uri_of(versions.VERSIONS, version)
        return {
            "location": location,
            "format": cfg.format,
            "rows": total,
            "version": version,
            "previousVersion": pointer.get("previous"),
            "splits": split_rows,
            "features": features,
            "label": cfg.label,
            "schema": manifest["schema"],
            "files": [f["path"] for f in manifest["files"]],
            "modelCompatibility": compat,
            **residual,
        }


def _schema_list(text: str | None) -> list[dict[str, Any]]:
    out = []
    for line in (text or "").splitlines():
        if line.startswith(" "):  # nested type detail lines
            continue
        name, _, typ = line.partition(": ")
        if name and typ:
            out.append(
                {
                    "name": name,
                    "type": typ.replace(" not null", ""),
                    "nullable": "not null" not in typ,
                }
            )
    return out


@register(
    "output",
    "model_training",
    config=ModelTrainingConfig,
    kind="output",
    description="Write framework-ready training data (Parquet, TFRecord, NumPy, JSONL) with splits",
)
def build(
    *, ctx: BuildContext, inputs: list[Dataset], config: ModelTrainingConfig
) -> ModelTrainingSink:
    """Write framework-ready training data (Parquet, TFRecord, NumPy, JSONL) with splits."""
    return ModelTrainingSink(ctx, config)
