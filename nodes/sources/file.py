"""``source/file``: CSV, JSON Lines and Parquet from local paths, ``s3://`` or ``http(s)://``.

Local and S3 inputs use Ray Data's parallel file readers (compression is inferred from
the extension: ``.gz``, ``.bz2``, ``.zst``...). HTTP(S) inputs stream through smart-open
(:mod:`nodes.sources._http_files`). A folder written by ``output/archive`` on S3 carries a
``_manifest.json``; only the files it lists are read, so a reader never sees a
half-committed version.

CSV and JSON Lines files are read by :mod:`nodes.sources._tabular`: an error names the
node, the file and the line; bad rows (ragged CSV rows, JSON lines that do not parse,
values that are not UTF-8) follow the node's ``onError`` (``quarantine`` writes them to
the node's artifacts); empty CSV fields are null (``nullValues``); files with different
columns are merged by name with a recorded warning, or refused (``schemaDrift``).
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from engine import roots
from engine.context import BuildContext
from engine.errors import NodeConfigError
from engine.registry import NodeConfig, ResourceRef, register
from engine.storage import StorageOptions, filesystem, scheme

if TYPE_CHECKING:
    from ray.data import Dataset

FileFormat = Literal["csv", "jsonl", "parquet"]
_COMPRESSION = (".gz", ".bz2", ".zst", ".zstd", ".lz4", ".br")
_EXT = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class FileSourceConfig(NodeConfig):
    """Config of ``source/file``: a catalog data source or an inline uri."""

    dataSourceId: Annotated[str | None, ResourceRef("dataSources")] = None
    uri: str | None = Field(None, description="Inline location (path, s3://, http(s)://).")
    format: FileFormat | None = Field(None, description="Inferred from the extension if unset.")
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    includeTransformed: bool = Field(
        False, description="Apply the data source's stored field mapping at read time."
    )
    fieldMappings: Annotated[str | None, ResourceRef("fieldMappings")] = None
    autoProfile: bool = Field(False, description="Profile every column in the same pass.")
    nullValues: list[str] = Field(
        default_factory=lambda: [""],
        description="CSV field values read as null (default: the empty field).",
    )
    columnTypes: dict[str, str] = Field(
        default_factory=dict,
        description="CSV / JSON Lines column types by name (string, int64, float64, bool, "
        "date32, timestamp[us]...), instead of the types inferred from the first rows.",
    )
    schemaDrift: Literal["merge", "fail"] = Field(
        "merge",
        description="Files with different columns: 'merge' unifies them by name (missing "
        "values null, a warning is recorded); 'fail' stops the run naming the file.",
    )

    @field_validator("columnTypes")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        for name, t in v.items():
            try:
                pa.type_for_alias(t)
            except ValueError:
                raise ValueError(
                    f"columnTypes.{name}: unknown type {t!r}; expected an Arrow type name "
                    "such as string, int64, float64, bool, date32, timestamp[us]"
                ) from None
        return v

    @model_validator(mode="after")
    def _one_location(self) -> FileSourceConfig:
        if bool(self.dataSourceId) == bool(self.uri):
            raise ValueError("set exactly one of 'dataSourceId' or 'uri'")
        return self


def infer_format(uri: str) -> FileFormat | None:
    path = uri.split("?", 1)[0].lower()
    for c in _COMPRESSION:
        if path.endswith(c):
            path = path[: -len(c)]
    for ext, fmt in _EXT.items():
        if path.endswith(ext):
            return fmt  # type: ignore[return-value]
    return None


def resolve_location(ctx: BuildContext, config: FileSourceConfig) -> dict[str, Any]:
    """The effective uri, format, delimiter, storage options and mapping id."""
    res: dict[str, Any] = {}
    if config.dataSourceId:
        res = ctx.resource("dataSources", config.dataSourceId)
        if res.get("type", "file") != "file":
            raise NodeConfigError(
                ctx.node_id,
                f"data source {config.dataSourceId!r} is of type {res.get('type')!r}; "
                f"source/file needs a data source of type 'file' "
                f"(use source/{res.get('type')} for it)",
            )
        if not res.get("uri"):
            raise NodeConfigError(ctx.node_id, f"data source {config.dataSourceId!r} has no 'uri'")
    uri = config.uri or res["uri"]
    if "://" not in uri and not uri.startswith("/"):
        base = getattr(ctx.catalog, "base_dir", None) if res else None
        uri = str((base / uri).resolve()) if base else ctx.resolve_path(uri)
    uri = roots.for_node(ctx, uri, storage=res.get("storage"), what="input", scan_links=True)
    fmt = config.format or res.get("format") or infer_format(uri)
    if fmt is None:
        raise NodeConfigError(
            ctx.node_id,
            f"cannot infer the format of {uri!r}; set format to one of csv, jsonl, parquet",
        )
    mapping = config.fieldMappings or (
        res.get("fieldMappings") if config.includeTransformed else None
    )
    return {
        "uri": uri,
        "format": fmt,
        "delimiter": config.delimiter or res.get("delimiter"),
        "storage": StorageOptions.from_config(res.get("storage")),
        "mapping": mapping,
        "nullValues": config.nullValues,
        "columnTypes": config.columnTypes,
        "schemaDrift": config.schemaDrift,
    }


def read_dataset(ctx: BuildContext, loc: dict[str, Any]) -> Dataset:
    """A lazy Ray Dataset over the location (no data is read yet)."""
    import ray.data

    uri, fmt = loc["uri"], loc["format"]
    if scheme(uri) in ("http", "https"):
        from nodes.sources._http_files import HttpFileDatasource

        policy = read_policy(ctx, loc) if fmt in ("csv", "jsonl") else None
        return ray.data.read_datasource(
            HttpFileDatasource([uri], fmt, delimiter=loc["delimiter"], policy=policy)
        )
    fs, path = filesystem(uri, loc["storage"])
    paths: str | list[str] = _manifest_files(fs, path) or path
    _check_exists(ctx, fs, path, uri)
    hints = _read_hints(ctx)
    if fmt == "parquet":
        schema = parquet_schema(ctx, loc, fs, paths)
        extra = {"schema": schema} if schema is not None else {}
        return ray.data.read_parquet(paths, filesystem=fs, **extra, **hints)
    from nodes.sources._file_datasource import TabularFileDatasource

    source = TabularFileDatasource(paths, read_policy(ctx, loc), filesystem=fs)
    return ray.data.read_datasource(source, **hints, **_fused_read(len(source._paths())))


def _fused_read(files: int) -> dict[str, Any]:
    """One read task per file when there are at least as many files as CPUs.

    Ray Data fuses the read with the row-local stages after it (map, validate, write) into
    one task only when the read's blocks are not split further; its default read
    parallelism asks for more blocks than there are files, which adds a split and keeps
    the read a stage of its own, every block going through the object store between them.
    A file is read by one task either way (the reader streams it in bounded blocks), so
    with enough files to keep every CPU busy nothing is lost, and the fused task reads,
    transforms and writes each block in place (benchmarks/RESULTS.md, "Engine overhead").
    With fewer files than CPUs the separate stages let the downstream work of one file
    run beside its read, so Ray Data's default stays.
    """
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
    return {"override_num_blocks": files} if files >= max(cpus, 1) else {}


def read_policy(ctx: BuildContext, loc: dict[str, Any]) -> Any:
    """How the node's CSV / JSON Lines files are read (see :mod:`nodes.sources._tabular`)."""
    from nodes.sources._tabular import ReadPolicy

    on_error = ctx.node.onError.value
    return ReadPolicy(
        node_id=ctx.node_id,
        fmt=loc["format"],
        on_error="drop" if on_error == "skip" else on_error,
        delimiter=loc["delimiter"],
        null_values=list(loc.get("nullValues", [""])),
        column_types=dict(loc.get("columnTypes", {})),
        schema_drift=loc.get("schemaDrift", "merge"),
        root=loc["uri"],
        quarantine_uri=str(ctx.artifact_dir() / "quarantine") if on_error == "quarantine" else None,
        metrics=ctx.metrics,
    )


# Footers read to compare the columns of Parquet files; beyond this many files the
# comparison is left to Ray Data (which takes the first file's schema).
PARQUET_SCHEMA_FILES = 500


def parquet_schema(ctx: BuildContext, loc: dict[str, Any], fs: Any, paths: Any) -> Any:
    """One schema for Parquet files whose columns differ (``schemaDrift``), else None.

    Reads only the files' footers (metadata, as Ray Data's own Parquet reader does while
    the dataset is built); Hive partition folders (``key=value``) keep their columns.
    """
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from nodes.sources._tabular import plan_schema

    if isinstance(paths, list):
        files = paths
    elif fs.get_file_info(paths).type == pafs.FileType.Directory:
        sel = pafs.FileSelector(paths, recursive=True)
        files = sorted(
            i.path
            for i in fs.get_file_info(sel)
            if i.type == pafs.FileType.File
            and not any(part.startswith((".", "_")) for part in i.path[len(paths) :].split("/"))
        )
    else:
        return None
    if not 1 < len(files) <= PARQUET_SCHEMA_FILES:
        return None
    schemas = {f: pq.read_schema(f, filesystem=fs) for f in files}
    if len({tuple(s.names) for s in schemas.values()}) == 1:
        return None  # same columns everywhere: nothing to merge
    policy = read_policy(ctx, {**loc, "format": "parquet"})
    unified = plan_schema(policy, files, schemas.get)
    if unified is None:
        return None
    partitions = {part.split("=", 1)[0] for f in files for part in f.split("/")[:-1] if "=" in part}
    for name in sorted(partitions - set(unified.names)):
        unified = unified.append(pa.field(name, pa.string()))
    return unified


def _read_hints(ctx: BuildContext) -> dict[str, Any]:
    """The node's ``resources`` hints as Ray Data read arguments. Without hints Ray Data
    sizes read parallelism from the input's size and the cluster's CPUs."""
    opts = ctx.map_options()
    return {k: opts[k] for k in ("num_cpus", "memory", "concurrency") if k in opts}


def _check_exists(ctx: BuildContext, fs: Any, path: str, uri: str) -> None:
    import pyarrow.fs as pafs

    try:
        info = fs.get_file_info(path)
    except OSError as exc:
        raise NodeConfigError(ctx.node_id, f"cannot reach {uri!r}: {exc}") from None
    if info.type == pafs.FileType.NotFound:
        raise NodeConfigError(ctx.node_id, f"input {uri!r} does not exist")


def _manifest_files(fs: Any, path: str) -> list[str] | None:
    """Files listed by an archive's ``_manifest.json`` (paths relative to the folder)."""
    try:
        with fs.open_input_stream(f"{path.rstrip('/')}/_manifest.json") as f:
            manifest = json.loads(f.read())
    except (OSError, FileNotFoundError, ValueError):
        return None
    return [f"{path.rstrip('/')}/{name}" for name in manifest.get("files", [])]


def _profile(batch: pa.Table, *, metrics: Any, node_id: str) -> pa.Table:
    from nodes.profile import profile_batch

    metrics.merge_state(node_id, "profile", profile_batch(batch))
    return batch


def _apply_mapping(
    batch: pa.Table, *, mapping: Any, node_id: str, on_error: str, metrics: Any
) -> pa.Table:
    from nodes.transforms.field_mapper import apply_mapping

    return apply_mapping(
        batch,
        mapping,
        node_id=node_id,
        on_error=on_error,
        counters=lambda c: metrics.add(node_id, c),
    )


def with_mapping(ctx: BuildContext, ds: Dataset, mapping_id: str | None) -> Dataset:
    """Apply a stored field mapping to every batch (used by every source node)."""
    if not mapping_id:
        return ds
    from nodes.transforms.field_mapper import load_mapping

    mapping = load_mapping(ctx, mapping_id)
    return ds.map_batches(
        functools.partial(
            _apply_mapping,
            mapping=mapping,
            node_id=ctx.node_id,
            on_error=ctx.node.onError.value,
            metrics=ctx.metrics,
        ),
        batch_format="pyarrow",
        batch_size=None,
        zero_copy_batch=True,
    )


def with_profile(ctx: BuildContext, ds: Dataset) -> Dataset:
    return ds.map_batches(
        functools.partial(_profile, metrics=ctx.metrics, node_id=ctx.node_id),
        batch_format="pyarrow",
        batch_size=None,
        zero_copy_batch=True,
    )


@register(
    "source",
    "file",
    source_kind="file",
    preview="nodes.sources.file:preview",
    shard_field="uri",
    config=FileSourceConfig,
    inputs=(0, 0),
    description="Read CSV / JSON Lines / Parquet from a path, s3:// or http(s)://",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: FileSourceConfig) -> Dataset:
    loc = resolve_location(ctx, config)
    ctx.report("location", _public_uri(loc["uri"]))
    ctx.report("format", loc["format"])
    if config.dataSourceId:
        ctx.report("dataSourceId", config.dataSourceId)
    if ctx.node.onError.value == "quarantine" and loc["format"] != "parquet":
        ctx.report(
            "quarantine", {"location": str(ctx.artifact_dir() / "quarantine"), "format": "parquet"}
        )
    ds = with_mapping(ctx, read_dataset(ctx, loc), loc["mapping"])
    return with_profile(ctx, ds) if config.autoProfile else ds


def preview(resource: dict[str, Any], catalog: Any, limit: int = 5) -> pa.Table:
    """Read the first ``limit`` rows of a file data source (for ``sources test``)."""
    from engine.context import RunOptions
    from engine.spec.models import NodeSpec, PipelineSpec

    node = NodeSpec(
        id="preview", nodeType="source", category="file", config={"dataSourceId": resource["id"]}
    )
    spec = PipelineSpec(id="preview", nodes=[node])
    ctx = BuildContext(
        spec=spec, node=node, catalog=catalog, execution_id="preview", options=RunOptions()
    )
    config = FileSourceConfig(dataSourceId=resource["id"])
    ds = read_dataset(ctx, resolve_location(ctx, config))
    batches = list(ds.limit(limit).iter_batches(batch_format="pyarrow", batch_size=limit))
    return pa.concat_tables(batches) if batches else pa.table({})


def _public_uri(uri: str) -> str:
    """The uri without credentials or query string (safe for lineage and status)."""
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(uri)
    if not p.scheme or len(p.scheme) == 1:
        return uri
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return urlunsplit((p.scheme, host, p.path, "", ""))
