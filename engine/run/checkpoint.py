"""Checkpoints of executions: run records with heartbeats, reuse of finished work, resume.

A checkpointed execution (``RunOptions.extra["checkpoint"] = True``; the CLI always sets
it) keeps a record in ``$PIPELINE_BUILDER_HOME/executions/<executionId>/run.json``: the
spec, a snapshot of the catalog, the run options, the status, the runner's pid/host, a
heartbeat refreshed every :data:`HEARTBEAT_SECONDS`, and every finished terminal with
its fingerprint and facts. :func:`engine.service.resume.resume` reruns the execution
under the same id:

- **finished outputs are reused**: an output whose fingerprint (the configs of its node
  and every upstream node, plus the size and modification time of local input files) is
  unchanged is not written again; its recorded facts are returned;
- **finished shards are skipped**: a long ``source/file -> ... -> output/archive`` stage
  over a local folder of several files, through row-local nodes only, runs one input file
  (shard) at a time into the archive's staging folder with a two-phase commit per shard
  (``ArchiveSink.write_shard``: files are written under ``_pending/`` and become part of
  the output by one atomic directory rename). A resumed run keeps every committed shard
  whose fingerprint still matches and recomputes only the rest, so the final output has
  every row exactly once: no loss, no duplicates. At most the shards in flight when the
  runner died are processed twice (their half-written ``_pending`` files are discarded).

Runner death: :func:`engine.service.resume.reap_stale` marks ``running`` records whose
heartbeat is older than ``max_age_s`` (or whose runner process is gone, on this host)
``failed`` and resumable; the API calls it periodically and fires the failure webhook
for what it returns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from engine.context import RunOptions, pipeline_home
from engine.errors import ResumeError
from engine.run.compiler import compile_chain

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
SHARD_CONCURRENCY = 2


def executions_dir(home: Path | None = None) -> Path:
    return (home or pipeline_home()) / "executions"


def record_path(execution_id: str, home: Path | None = None) -> Path:
    return executions_dir(home) / execution_id / "run.json"


def load_record(execution_id: str, home: Path | None = None) -> dict[str, Any]:
    """The run record of ``execution_id``; ResumeError when there is none."""
    p = record_path(execution_id, home)
    try:
        return dict(json.loads(p.read_text()))
    except FileNotFoundError:
        raise ResumeError(
            f"no checkpoint for execution {execution_id!r} under {p.parent.parent}"
        ) from None
    except ValueError as exc:
        raise ResumeError(f"checkpoint of {execution_id!r} is unreadable: {exc}") from None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    os.replace(tmp, path)  # readers see the old or the new record, never half of one


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_records(home: Path | None = None) -> list[dict[str, Any]]:
    """Every run record under ``home`` (newest first)."""
    out = []
    for p in executions_dir(home).glob("*/run.json"):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda r: r.get("startedAt") or 0, reverse=True)


class NoCheckpoint:
    """Checkpointing off: outputs are written directly."""

    enabled = False

    def begin(self, spec: Any, catalog: Any) -> None:
        pass

    def end(self, status: str, error: str | None) -> None:
        pass

    def done_terminals(self, compiled: Any) -> set[str]:
        return set()

    def write_terminal(self, compiled: Any, node_id: str) -> dict[str, Any] | None:
        sink, ds = compiled.sinks[node_id]
        return sink.write(ds)  # type: ignore[no-any-return]


class Checkpoint(NoCheckpoint):
    """The run record of one execution (see module docs)."""

    enabled = True

    def __init__(
        self,
        options: RunOptions,
        execution_id: str,
        emit: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.options = options
        self.execution_id = execution_id
        self.path = record_path(execution_id, options.home)
        self.emit = emit or (lambda kind, data: None)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rec: dict[str, Any] = {}

    def begin(self, spec: Any, catalog: Any) -> None:
        """Record the run as ``running`` (keeping a previous attempt's finished work)."""
        prev = json.loads(self.path.read_text()) if self.path.exists() else {}
        to_dict = getattr(catalog, "to_dict", None)
        base = getattr(catalog, "base_dir", None)
        now = time.time()
        self.rec = {
            **prev,
            "executionId": self.execution_id,
            "pipelineId": spec.id,
            "status": "running",
            "spec": spec.model_dump(mode="json", exclude_none=True),
            "catalog": to_dict() if callable(to_dict) else prev.get("catalog", {}),
            "catalogBaseDir": str(base) if base else prev.get("catalogBaseDir"),
            "options": {
                "baseDir": str(self.options.base_dir),
                "objectStoreMemory": self.options.object_store_memory,
                "address": self.options.extra.get("address"),
            },
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "startedAt": prev.get("startedAt", now),
            "heartbeatAt": now,
            "attempts": int(prev.get("attempts", 0)) + 1,
            "terminals": prev.get("terminals", {}),
            "error": None,
            "finishedAt": None,
        }
        self._save()
        threading.Thread(target=self._beat, daemon=True, name="pb-heartbeat").start()

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            with self.lock:
                self.rec["heartbeatAt"] = time.time()
            self._save()

    def _save(self) -> None:
        with self.lock:
            _write_json(self.path, self.rec)

    def end(self, status: str, error: str | None) -> None:
        self.stop.set()
        with self.lock:
            self.rec.update(
                status=status,
                error=error,
                finishedAt=time.time(),
                heartbeatAt=time.time(),
                resumable=status != "completed",
            )
        self._save()

    # -- finished outputs ---------------------------------------------------------------

    def done_terminals(self, compiled: Any) -> set[str]:
        """Outputs finished by an earlier attempt with unchanged fingerprints."""
        done = set()
        for nid, entry in self.rec.get("terminals", {}).items():
            if nid in compiled.sinks and entry.get("fingerprint") == fingerprint(compiled, nid):
                done.add(nid)
        return done

    def write_terminal(self, compiled: Any, node_id: str) -> dict[str, Any] | None:
        """Write one output: reuse it, run it shard by shard, or write it in one go."""
        fp = fingerprint(compiled, node_id)
        prev = self.rec.get("terminals", {}).get(node_id)
        if prev and prev.get("fingerprint") == fp:
            self.emit("node_reused", {"nodeId": node_id})
            return {**prev.get("facts", {}), "reused": True}
        shards = shard_inputs(compiled, node_id)
        if shards:
            facts: dict[str, Any] | None = self._write_shards(compiled, node_id, *shards)
        else:
            facts = super().write_terminal(compiled, node_id)
        with self.lock:
            self.rec.setdefault("terminals", {})[node_id] = {
                "fingerprint": fp,
                "facts": facts or {},
            }
        self._save()
        return facts

    def _write_shards(
        self, compiled: Any, node_id: str, source_id: str, field: str, files: list[str]
    ) -> dict[str, Any]:
        sink, _ = compiled.sinks[node_id]
        chain_fp = fingerprint(compiled, node_id, with_inputs=False)
        wanted = {
            f"shard-{i:05d}": (f, _hash([chain_fp, _file_stamp(f)])) for i, f in enumerate(files)
        }
        committed = sink.committed_shards()
        keep = {
            s for s, m in committed.items() if s in wanted and m.get("fingerprint") == wanted[s][1]
        }
        for s in set(committed) - keep:
            sink.discard_shard(s)
        todo = [s for s in wanted if s not in keep]

        def run_one(shard: str) -> None:
            path, fp = wanted[shard]
            _, ds = compile_chain(compiled, node_id, {source_id: {field: path}})
            sink.write_shard(ds, shard, {"fingerprint": fp, "input": path})
            self.emit("shard_committed", {"nodeId": node_id, "shard": shard, "input": path})

        with ThreadPoolExecutor(
            max_workers=int(self.options.extra.get("shardConcurrency", SHARD_CONCURRENCY)),
            thread_name_prefix="pb-shard",
        ) as pool:
            for fut in [pool.submit(run_one, s) for s in todo]:
                fut.result()
        facts = dict(sink.commit_shards(sorted(wanted)))
        facts.update(shards=len(wanted), shardsSkipped=len(keep), shardsWritten=len(todo))
        return facts


def shard_inputs(compiled: Any, node_id: str) -> tuple[str, str, list[str]] | None:
    """``(source id, its shard field, input files)`` when ``node_id``'s stage can run
    shard by shard: a row-local chain from a source that declares ``shard_field``."""
    sink, _ = compiled.sinks[node_id]
    if not hasattr(sink, "write_shard") or not sink.supports_shards():
        return None
    cur = compiled.plan.node(node_id)
    while cur.inputs:
        if len(cur.inputs) != 1 or cur.id in compiled.substituted:
            return None
        cur = compiled.plan.node(cur.inputs[0])
        nt = compiled.registry.get(cur.type_key)
        row_local = nt is not None and nt.row_local  # declared where the type is registered
        if cur.inputs and (not row_local or len(cur.consumers) != 1):
            return None
        if cur.id in compiled.fixed:
            return None
    node = compiled.spec.node(cur.id)
    source = compiled.registry.get(cur.type_key)
    field = source.shard_field if source is not None else None
    if field is None or not node.config.get(field):
        return None
    location = compiled.contexts[cur.id].facts.get("location") or ""
    files = _local_files(location)
    return (cur.id, field, files) if files and len(files) > 1 else None


def _local_files(location: str) -> list[str] | None:
    if "://" in location and not location.startswith("file://"):
        return None
    root = Path(location.removeprefix("file://"))
    if not root.is_dir():
        return None
    manifest = root / "_manifest.json"
    if manifest.exists():
        return [str(root / f) for f in json.loads(manifest.read_text()).get("files", [])]
    return sorted(
        str(p)
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)
    )


def _file_stamp(path: str) -> list[Any]:
    st = os.stat(path)
    return [path, st.st_size, st.st_mtime_ns]


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:32]


def fingerprint(compiled: Any, node_id: str, *, with_inputs: bool = True) -> str:
    """Hash of the configs of ``node_id`` and everything upstream (+ local input files)."""
    parts = []
    stack, seen = [node_id], set()
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        node = compiled.spec.node(nid)
        used = compiled.substituted.get(nid)
        parts.append([nid, node.type_key, node.config, used])
        pn = compiled.plan.node(nid)
        if with_inputs and not pn.inputs and nid in compiled.contexts:
            loc = compiled.contexts[nid].facts.get("location") or ""
            files = _local_files(loc) if loc else None
            if files is None and loc and Path(loc).is_file():
                files = [loc]
            parts.append([nid, loc, [_file_stamp(f) for f in files or []]])
        stack.extend(pn.inputs)
    return _hash(sorted(parts, key=lambda p: json.dumps(p, default=str)))


def for_run(
    options: RunOptions, execution_id: str, emit: Callable[[str, dict[str, Any]], None]
) -> NoCheckpoint:
    """The run's checkpoint (or a pass-through when checkpointing is off)."""
    if options.extra.get("checkpoint"):
        return Checkpoint(options, execution_id, emit)
    return NoCheckpoint()
