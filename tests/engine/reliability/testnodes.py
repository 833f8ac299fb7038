"""Test-only node types for fault injection, in the private registry :data:`REGISTRY`."""

from __future__ import annotations

import fcntl
import functools
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.registry import NodeConfig, Registry, default_registry

# A private copy of the default registry: tests pass it to run_pipeline(registry=...).
REGISTRY: Registry = default_registry().copy()


class FlakyConfig(NodeConfig):
    rows: int = 100
    failFirst: int = 2
    stateFile: str
    error: str = "ConnectionError"


def _bump(path: str) -> int:
    """Increment the counter in ``path`` (across processes); the new value."""
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
        return n


def _maybe_fail(batch: pa.Table, *, state: str, fail_first: int, error: str) -> pa.Table:
    # The block holding id 0 is read once per stage attempt: count attempts there.
    if batch.num_rows and 0 in batch.column("id").to_pylist():
        attempt = _bump(state)
        if attempt <= fail_first:
            exc = {"ConnectionError": ConnectionError, "ValueError": ValueError}[error]
            raise exc(f"simulated failure of attempt {attempt}")
    return batch


@REGISTRY.register(
    "source",
    "test_flaky",
    config=FlakyConfig,
    inputs=(0, 0),
    description="test only: a source failing its first attempts",
)
def build_flaky(*, ctx: Any, inputs: list[Any], config: FlakyConfig) -> Any:
    import ray.data

    ctx.report("location", f"flaky://{config.rows}")
    return ray.data.range(config.rows, override_num_blocks=4).map_batches(
        functools.partial(
            _maybe_fail, state=config.stateFile, fail_first=config.failFirst, error=config.error
        ),
        batch_format="pyarrow",
        batch_size=None,
    )


class PidConfig(NodeConfig):
    pidFile: str
    secondsPerBatch: float = 0.05


def _pid(batch: pa.Table, *, pid_file: str, seconds: float) -> pa.Table:
    with open(pid_file, "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return batch


@REGISTRY.register(
    "transform",
    "test_pid",
    row_local=True,  # each row on its own: checkpointed stages may shard it
    config=PidConfig,
    description="test only: report the worker pid per batch, then sleep",
)
def build_pid(*, ctx: Any, inputs: list[Any], config: PidConfig) -> Any:
    return inputs[0].map_batches(
        functools.partial(_pid, pid_file=config.pidFile, seconds=config.secondsPerBatch),
        batch_format="pyarrow",
        batch_size=100,
    )


class CountingConfig(NodeConfig):
    uri: str
    countFile: str


def _count_read(batch: pa.Table, *, count_file: str) -> pa.Table:
    with open(count_file, "a") as f:
        f.write(f"{batch.num_rows}\n")
    return batch


@REGISTRY.register(
    "source",
    "test_counting",
    config=CountingConfig,
    inputs=(0, 0),
    description="test only: a parquet/csv read that logs every block it reads",
)
def build_counting(*, ctx: Any, inputs: list[Any], config: CountingConfig) -> Any:
    import ray.data

    return ray.data.read_csv(config.uri).map_batches(
        functools.partial(_count_read, count_file=config.countFile),
        batch_format="pyarrow",
        batch_size=None,
    )


def rows_read(count_file: Path) -> int:
    return sum(int(x) for x in count_file.read_text().split()) if count_file.exists() else 0


class FailUntilConfig(NodeConfig):
    failId: int
    untilFile: str


def _fail_until(batch: pa.Table, *, fail_id: int, until: str) -> pa.Table:
    if fail_id in batch.column("id").to_pylist() and not os.path.exists(until):
        raise RuntimeError(f"row {fail_id} cannot be processed yet")
    return batch


@REGISTRY.register(
    "transform",
    "test_fail_until",
    row_local=True,  # each row on its own: checkpointed stages may shard it
    config=FailUntilConfig,
    description="test only: fail on one row id until a file exists",
)
def build_fail_until(*, ctx: Any, inputs: list[Any], config: FailUntilConfig) -> Any:
    return inputs[0].map_batches(
        functools.partial(_fail_until, fail_id=config.failId, until=config.untilFile),
        batch_format="pyarrow",
        batch_size=None,
    )


class DeclaredConfig(NodeConfig):
    rows: int = 50
    failFirst: int = 2
    stateFile: str
    transient: bool = True


def _declared_read(node_id: str, config: DeclaredConfig) -> list[pa.Table]:
    """One read task: fails its first attempts with a NodeError that states
    ``transient`` (the message holds none of the words the text fallback reads)."""
    from engine.errors import NodeError

    attempt = _bump(config.stateFile)
    if attempt <= config.failFirst:
        raise NodeError(node_id, f"backend refused attempt {attempt}", transient=config.transient)
    return [pa.table({"id": list(range(config.rows))})]


@REGISTRY.register(
    "source",
    "test_declared",
    config=DeclaredConfig,
    inputs=(0, 0),
    description="test only: a source whose read task fails with a declared NodeError",
)
def build_declared(*, ctx: Any, inputs: list[Any], config: DeclaredConfig) -> Any:
    import ray.data
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    node_id = ctx.node_id

    class _Declared(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
            meta = BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None)
            return [ReadTask(functools.partial(_declared_read, node_id, config), meta)]

    ctx.report("location", f"declared://{config.rows}")
    return ray.data.read_datasource(_Declared())
