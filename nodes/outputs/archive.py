"""``output/archive``: write Parquet / CSV / JSON Lines to a local folder or ``s3://``.

Writes are atomic for readers. Ray Data streams the files into a staging location; only
after every file is written does the commit make them visible:

- local: the staging folder is renamed over the target folder (the previous version is
  moved aside first and removed after), so readers see the old or the new files only;
- S3: files land under ``<uri>/data-<executionId>/`` and become visible when
  ``<uri>/_manifest.json`` (a single atomic PUT) is rewritten to list them; readers that
  go through the manifest (``source/file`` does) never see a partial version. Earlier
  versions' files are deleted after the flip.

A failed write removes its staging files and leaves the previous version untouched.

Shard-commit mode (local folders; used by checkpointed runs, see :mod:`engine.run.checkpoint`):
the stage runs one input shard at a time. :meth:`ArchiveSink.write_shard` writes a shard's
files under ``<staging>/_pending/<shard>/`` and commits them by renaming that folder to
``<staging>/<shard>/`` (one atomic step: a shard is fully in the output or not at all).
The staging folder is named after the execution and survives a killed or failed run, so a
resumed run keeps the committed shards; :meth:`ArchiveSink.commit_shards` then publishes
the whole staging folder like an ordinary write.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import TYPE_CHECKING, Any, Literal

import pyarrow.fs as pafs
from pydantic import Field, model_validator

from engine import roots
from engine.context import BuildContext
from engine.errors import NodeConfigError, NodeError
from engine.registry import NodeConfig, register
from engine.storage import StorageOptions, filesystem, scheme
from nodes.outputs.residual import OnResidue, ResidualScan, on_residue_field, shard_facts

if TYPE_CHECKING:
    from ray.data import Dataset

MANIFEST = "_manifest.json"


class ArchiveConfig(NodeConfig):
    """Config of ``output/archive``."""

    uri: str = Field(description="Target folder: a path or s3://bucket/prefix.")
    format: Literal["parquet", "csv", "jsonl"] = "parquet"
    compression: Literal["snappy", "zstd", "gzip", "none"] = "snappy"
    partitionBy: list[str] = Field(default_factory=list, description="Hive-style partitions.")
    mode: Literal["overwrite", "error_if_exists"] = "overwrite"
    rowsPerFile: int | None = Field(None, gt=0)
    storage: dict[str, Any] | None = Field(
        None, description="endpointUrl, region, accessKeyId/secretAccessKey as env: refs."
    )
    onResidue: OnResidue = on_residue_field()

    @model_validator(mode="after")
    def _partitions_need_parquet(self) -> ArchiveConfig:
        if self.partitionBy and self.format != "parquet":
            raise ValueError(
                f"partitionBy is supported for format parquet only (format is {self.format!r}); "
                "remove partitionBy or set format: parquet"
            )
        return self


class ArchiveSink:
    """Stages the dataset's files, then commits them in one step (see module docs)."""

    def __init__(self, ctx: BuildContext, config: ArchiveConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.uri = roots.for_node(
            ctx, ctx.resolve_path(config.uri), storage=config.storage, what="output"
        )
        self.opts = StorageOptions.from_config(config.storage)
        self.fs, self.path = filesystem(self.uri, self.opts)
        self._refuse_foreign()
        if config.partitionBy and config.format != "parquet":
            raise NodeConfigError(ctx.node_id, "partitionBy is supported for parquet only")

    def write(self, ds: Dataset) -> dict[str, Any]:
        exists = self.fs.get_file_info(self.path).type != pafs.FileType.NotFound
        if exists and self.config.mode == "error_if_exists":
            raise NodeError(self.ctx.node_id, f"{self.uri!r} exists and mode is error_if_exists")
        local = scheme(self.uri) == "file"
        exec_id = self.ctx.execution_id
        if local:
            parent, name = os.path.split(self.path.rstrip("/"))
            staging = os.path.join(parent, f".{name}.staging-{exec_id}")
        else:
            staging = f"{self.path.rstrip('/')}/data-{exec_id}"
        try:
            scan = ResidualScan(self.ctx, self.config.onResidue)
            self._write_files(scan.wrap(ds), staging)
            residual = scan.finish()  # before the commit: a residue publishes nothing
            files = self._list(staging) or self._write_empty(staging)
            manifest = {
                "executionId": exec_id,
                "pipelineId": self.ctx.spec.id,
                "nodeId": self.ctx.node_id,
                "format": self.config.format,
                "files": files if local else [f"data-{exec_id}/{f}" for f in files],
                "createdAt": time.time(),
            }
            if local:
                self._put(f"{staging}/{MANIFEST}", manifest)
                self._commit_local(staging)
            else:
                self._commit_s3(manifest)
        except BaseException:
            self._remove(staging)
            raise
        return {
            "location": self.uri,
            "format": self.config.format,
            "files": len(files),
            "partitionBy": self.config.partitionBy,
            **residual,
        }

    # -- shard-commit mode ---------------------------------------------------------------

    SHARD_MARKER = "_SHARD.json"

    def supports_shards(self) -> bool:
        return scheme(self.uri) == "file" and self.config.mode == "overwrite"

    def _staging(self) -> str:
        parent, name = os.path.split(self.path.rstrip("/"))
        return os.path.join(parent, f".{name}.staging-{self.ctx.execution_id}")

    def committed_shards(self) -> dict[str, dict[str, Any]]:
        """Committed shards of this execution's staging folder and their markers."""
        root = self._staging()
        out: dict[str, dict[str, Any]] = {}
        if not os.path.isdir(root):
            return out
        for name in os.listdir(root):
            marker = os.path.join(root, name, self.SHARD_MARKER)
            if name.startswith(("_", ".")) or not os.path.isfile(marker):
                continue
            with open(marker) as f:
                out[name] = json.load(f)
        return out

    def discard_shard(self, shard: str) -> None:
        shutil.rmtree(os.path.join(self._staging(), shard), ignore_errors=True)

    def write_shard(self, ds: Dataset, shard: str, marker: dict[str, Any]) -> None:
        """Write one shard's rows and commit them atomically (rename of its folder)."""
        root = self._staging()
        pending = os.path.join(root, "_pending", shard)
        shutil.rmtree(pending, ignore_errors=True)  # a half-written earlier attempt
        scan = ResidualScan(self.ctx, self.config.onResidue)
        self._write_files(scan.wrap(ds), pending)
        residual = scan.finish(cleanup=lambda: shutil.rmtree(pending, ignore_errors=True))
        marker = {**marker, **{k: v for k, v in residual.items() if k == "residualScan"}}
        os.makedirs(pending, exist_ok=True)  # an empty shard writes no files
        with open(os.path.join(pending, self.SHARD_MARKER), "w") as f:
            json.dump({**marker, "shard": shard, "committedAt": time.time()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(pending, os.path.join(root, shard))  # the commit point

    def commit_shards(self, shards: list[str]) -> dict[str, Any]:
        """Publish the staging folder once every shard in ``shards`` is committed."""
        root = self._staging()
        markers = self.committed_shards()
        missing = sorted(set(shards) - set(markers))
        if missing:
            raise NodeError(self.ctx.node_id, f"shards not committed: {', '.join(missing[:5])}")
        residual = shard_facts(self.ctx, self.config.onResidue, markers)  # before publishing
        shutil.rmtree(os.path.join(root, "_pending"), ignore_errors=True)
        files = self._list(root) or self._write_empty(root)
        self._put(
            f"{root}/{MANIFEST}",
            {
                "executionId": self.ctx.execution_id,
                "pipelineId": self.ctx.spec.id,
                "nodeId": self.ctx.node_id,
                "format": self.config.format,
                "files": files,
                "shards": sorted(shards),
                "createdAt": time.time(),
            },
        )
        rows = self._parquet_rows(root, files)
        self._commit_local(root)
        facts: dict[str, Any] = {
            "location": self.uri,
            "format": self.config.format,
            "files": len(files),
            "partitionBy": self.config.partitionBy,
        }
        if rows is not None:  # every shard, also those an earlier attempt committed
            facts["rows"] = rows
        facts.update(residual)
        return facts

    def _parquet_rows(self, root: str, files: list[str]) -> int | None:
        if self.config.format != "parquet":
            return None
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(os.path.join(root, f)).num_rows for f in files)

    def _write_files(self, ds: Dataset, staging: str) -> None:
        c = self.config
        kwargs: dict[str, Any] = {"filesystem": self.fs}
        if c.rowsPerFile:
            kwargs["min_rows_per_file"] = c.rowsPerFile
        if c.format == "parquet":
            compression = None if c.compression == "none" else c.compression
            if c.partitionBy or c.rowsPerFile:  # Ray Data's writer implements both
                ds.write_parquet(
                    staging, partition_cols=c.partitionBy or None, compression=compression,
                    **kwargs,
                )  # fmt: skip
                return
            from nodes.outputs._parquet_sink import streaming_parquet_sink

            ds.write_datasink(
                streaming_parquet_sink(staging, filesystem=self.fs, compression=compression)
            )
            return
        if c.compression not in ("none", "snappy"):
            kwargs["arrow_open_stream_args"] = {"compression": c.compression}
        if c.format == "csv":
            ds.write_csv(staging, **kwargs)
        else:
            ds.write_json(staging, **kwargs)

    def _write_empty(self, staging: str) -> list[str]:
        """No rows reached the sink: commit one file with the input's columns and no rows."""
        from nodes.outputs._empty import write_empty

        name = write_empty(self.ctx, self.fs, staging, self.config.format)
        return [name] if name else []

    def _list(self, root: str) -> list[str]:
        sel = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        prefix = root.rstrip("/") + "/"
        return sorted(
            i.path[len(prefix) :]
            for i in self.fs.get_file_info(sel)
            if i.type == pafs.FileType.File and not i.base_name.startswith((".", "_"))
        )

    def _put(self, path: str, doc: dict[str, Any]) -> None:
        with self.fs.open_output_stream(path) as f:
            f.write(json.dumps(doc, indent=2).encode())

    def _refuse_foreign(self) -> None:
        """Fail unless the target is absent, empty or a folder this sink committed
        (it holds our ``_manifest.json``): an output never deletes what it did not write."""
        root = self.path.rstrip("/")
        info = self.fs.get_file_info(root)
        if info.type == pafs.FileType.NotFound:
            return
        if info.type == pafs.FileType.Directory:
            sel = pafs.FileSelector(root, recursive=False, allow_not_found=True)
            entries = [i.base_name for i in self.fs.get_file_info(sel)]
            if not entries:
                return
            if MANIFEST in entries:
                try:
                    with self.fs.open_input_stream(f"{root}/{MANIFEST}") as f:
                        doc = json.loads(f.read())
                    if isinstance(doc, dict) and "executionId" in doc and "files" in doc:
                        return
                except (OSError, ValueError):
                    pass
        raise NodeError(
            self.ctx.node_id,
            f"output-ownership: {self.uri!r} exists and was not written by output/archive "
            f"(no {MANIFEST} of ours); an output never replaces or deletes data it did not "
            "write: choose a new location or remove it yourself",
        )

    def _commit_local(self, staging: str) -> None:
        target = self.path.rstrip("/")
        self._refuse_foreign()
        parent, name = os.path.split(target)
        old = os.path.join(parent, f".{name}.old-{self.ctx.execution_id}")
        if os.path.exists(target):
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)

    def _commit_s3(self, manifest: dict[str, Any]) -> None:
        root = self.path.rstrip("/")
        previous = self._list_prefixes(root)
        self._put(f"{root}/{MANIFEST}", manifest)
        keep = f"data-{self.ctx.execution_id}"
        for p in previous:
            if p != keep:
                self._remove(f"{root}/{p}")

    def _list_prefixes(self, root: str) -> list[str]:
        sel = pafs.FileSelector(root, recursive=False, allow_not_found=True)
        return [
            i.base_name
            for i in self.fs.get_file_info(sel)
            if i.type == pafs.FileType.Directory and i.base_name.startswith("data-")
        ]

    def _remove(self, path: str) -> None:
        try:
            if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
                self.fs.delete_dir(path)
        except OSError:
            pass  # best effort: staging is never visible to readers anyway


@register(
    "output",
    "archive",
    config=ArchiveConfig,
    kind="output",
    description="Write Parquet / CSV / JSON Lines atomically to a folder or s3:// prefix",
)
def build(*, ctx: BuildContext, inputs: list[Dataset], config: ArchiveConfig) -> ArchiveSink:
    return ArchiveSink(ctx, config)
