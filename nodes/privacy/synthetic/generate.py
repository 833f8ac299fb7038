"""Generating synthetic rows, one reproducible chunk at a time.

Rows are numbered ``0..recordCount-1`` and cut into chunks of ``blockRows``. Chunk ``i``
is generated from a seed derived from ``(seed, first row offset)``, so the output does
not depend on how many workers run or in which order, and no two chunks repeat each
other. SDV synthesizers reset to one fixed seed whenever they are loaded, so every
chunk reseeds the model, its data transformers and the global numpy/random/torch
generators before sampling.

Personal-data and free-text columns come from Faker: Faker is slow per call, so a
pool of ``FAKE_POOL`` values per column is drawn once, at fit time (with every value
equal to a sampled real cell removed, so no real cell can come out), and every chunk
indexes it with a vectorized random choice, keeping the column's share of nulls. Ids
are built from the global row offset. Learned columns come back from the synthesizer
encoded (``encode``) and are decoded to their exact Arrow types.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nodes.privacy.synthetic.columns import ColumnPlan
from nodes.privacy.synthetic.encode import decode_column

FAKE_POOL = 2000


def chunk_seeds(seed: int, start: int) -> list[int]:
    """Four independent 32-bit seeds for the chunk starting at row ``start``."""
    return [int(s) for s in np.random.SeedSequence([seed, start]).generate_state(4)]


def reseed_synthesizer(synth: Any, seed: int) -> None:
    """Point every random generator an SDV synthesizer uses at ``seed``."""
    synth._set_random_state(seed)
    hyper = getattr(getattr(synth, "_data_processor", None), "_hyper_transformer", None)
    transformers = getattr(hyper, "field_transformers", {}) or {}
    for i, transformer in enumerate(transformers.values()):
        states = getattr(transformer, "random_states", None)
        if isinstance(states, dict):
            states["transform"] = np.random.RandomState((seed + 2 * i + 1) % 2**32)
            states["reverse_transform"] = np.random.RandomState((seed + 2 * i + 2) % 2**32)
    np.random.seed(seed)
    random.seed(seed)
    if "torch" in sys.modules:  # only the GAN/VAE synthesizers load torch
        sys.modules["torch"].manual_seed(seed)


def fake_pool(plan: ColumnPlan, seed: int, locale: str = "en_US") -> np.ndarray:
    """``FAKE_POOL`` Faker values for a column; the same for the same seed and column.

    Faker costs about a third of a millisecond per value, more than the model itself;
    a pool drawn once per column and indexed with vectorized random choices keeps
    personal-data and free-text columns cheap.
    """
    from faker import Faker

    faker = Faker(locale)
    column_seed = int(np.random.SeedSequence([seed, *plan.name.encode()]).generate_state(1)[0])
    faker.seed_instance(column_seed)
    name = plan.generator or _FAKER_METHODS.get(plan.sdtype, plan.sdtype)
    method = getattr(faker, name, None)
    if not callable(method):
        method = faker.pystr
    args = dict(plan.generator_args) if plan.generator else _FAKER_ARGS.get(name, {})
    values = [str(method(**args)) for _ in range(FAKE_POOL)]
    if _is_numeric(plan.arrow_type):
        return _numeric_pool(values, column_seed)
    return np.array(values, dtype=object)


# Faker methods for sdtypes whose name is not one.
_FAKER_METHODS = {"text": "sentence", "address": "street_address"}
_FAKER_ARGS: dict[str, dict[str, Any]] = {"sentence": {"nb_words": 12}}


def real_free_pools(
    plans: list[ColumnPlan], sample: pa.Table | None, *, seed: int, locale: str = "en_US"
) -> dict[str, list[Any]]:
    """Pools of the fake columns, without any value that equals a real sampled cell."""
    pools: dict[str, list[Any]] = {}
    for plan in plans:
        if plan.role != "fake" or plan.sdtype == "null":
            continue
        pool = fake_pool(plan, seed, locale)
        if sample is not None and plan.name in sample.column_names:
            real = {str(v) for v in sample[plan.name].drop_null().to_pylist()}
            kept = [v for v in pool.tolist() if str(v) not in real]
            pool = np.array(kept or pool.tolist(), dtype=pool.dtype)
        pools[plan.name] = pool.tolist()
    return pools


def output_schema(plans: list[ColumnPlan]) -> pa.Schema:
    """The synthetic table's schema: every column but the dropped ones, types unchanged."""
    return pa.schema([pa.field(p.name, p.arrow_type) for p in plans if p.role != "drop"])


class ChunkGenerator:
    """Produces the rows ``[start, start + n)`` of one synthetic table.

    Args:
        plans: Column plans in output order.
        synthesizer: A fitted SDV single-table synthesizer, or None to draw learned
            columns from their profile (type and range) alone.
        seed: The run's seed.
        locale: Faker locale for personal-data columns.
        pools: Values of fake columns drawn at fit time (``FittedModel.pools``); pools
            of other fake columns are drawn on first use.
    """

    def __init__(
        self,
        plans: list[ColumnPlan],
        synthesizer: Any | None,
        *,
        seed: int,
        locale: str = "en_US",
        pools: dict[str, list[Any]] | None = None,
    ) -> None:
        self.plans = plans
        self.synthesizer = synthesizer
        self.seed = seed
        self.locale = locale
        self._pools: dict[str, np.ndarray] = {
            name: np.array(values, dtype=object) for name, values in (pools or {}).items()
        }
        self.schema = output_schema(plans)

    def rows(self, start: int, n: int, block_rows: int | None = None) -> pa.Table:
        """Rows ``[start, start+n)``, generated chunk by chunk when ``block_rows`` is set."""
        if not block_rows:
            return self._chunk(start, n)
        parts, offset = [], start
        while offset < start + n:
            chunk_start = offset - offset % block_rows
            chunk = self._chunk(chunk_start, block_rows)
            take_from = offset - chunk_start
            take = min(block_rows - take_from, start + n - offset)
            parts.append(chunk.slice(take_from, take))
            offset += take
        return pa.concat_tables(parts) if parts else self.schema.empty_table()

    def _chunk(self, start: int, n: int) -> pa.Table:
        model_seed, global_seed, fake_seed, profile_seed = chunk_seeds(self.seed, start)
        learned = self._learned(n, model_seed, global_seed, profile_seed)
        fake_rng = np.random.default_rng(fake_seed)
        columns = []
        for plan in self.plans:
            if plan.role == "drop":
                continue
            if plan.role == "id":
                array = _cast(self._ids(plan, start, n), plan.arrow_type)
            elif plan.role == "fake":
                array = _cast(self._fakes(plan, n, fake_rng), plan.arrow_type)
            else:
                array = decode_column(learned[plan.name], plan.arrow_type)
            columns.append(array)
        return pa.Table.from_arrays(columns, schema=self.schema)

    def _learned(self, n: int, model_seed: int, global_seed: int, profile_seed: int) -> dict:
        names = [p.name for p in self.plans if p.role == "learned"]
        if not names:
            return {}
        if self.synthesizer is None:
            rng = np.random.default_rng(profile_seed)
            return {p.name: _from_profile(p, n, rng) for p in self.plans if p.role == "learned"}
        reseed_synthesizer(self.synthesizer, model_seed)
        np.random.seed(global_seed)
        frames, have = [], 0
        # Constraints reject rows; keep sampling until exactly n rows exist.
        for _ in range(100):
            frame = next(iter(self.synthesizer.sample(n - have).values()))
            frames.append(frame)
            have += len(frame)
            if have >= n:
                break
        import pandas as pd

        frame = pd.concat(frames, ignore_index=True).iloc[:n]
        if len(frame) < n:
            raise RuntimeError(f"synthesizer produced {len(frame)} of {n} rows (constraints)")
        return {name: frame[name].to_numpy() for name in names}

    @staticmethod
    def _ids(plan: ColumnPlan, start: int, n: int) -> pa.Array:
        offsets = pa.array(np.arange(start, start + n, dtype=np.int64))
        if pa.types.is_integer(plan.arrow_type) or pa.types.is_floating(plan.arrow_type):
            return offsets
        return pc.binary_join_element_wise("syn-", pc.cast(offsets, pa.string()), "")

    def _fakes(self, plan: ColumnPlan, n: int, rng: np.random.Generator) -> pa.Array:
        if plan.sdtype == "null":
            return pa.nulls(n, plan.arrow_type)
        pool = self._pools.get(plan.name)
        if pool is None:
            pool = self._pools[plan.name] = fake_pool(plan, self.seed, self.locale)
        picked = pool[rng.integers(len(pool), size=n)]
        null_share = plan.profile.get("nullShare", 0.0) if plan.profile else 0.0
        mask = rng.random(n) < null_share if null_share else None
        if _is_numeric(plan.arrow_type):
            return pa.array(picked.astype(np.int64), mask=mask)
        return pa.array(picked, type=pa.string(), mask=mask)


def _is_numeric(arrow_type: pa.DataType) -> bool:
    return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)


def _numeric_pool(values: list[str], seed: int) -> np.ndarray:
    """Numbers for a numeric personal-data column (an SSN or phone stored as a number).

    The digits of the Faker values when they have some, random 9-digit numbers when not.
    """
    digits = ["".join(ch for ch in v if ch.isdigit())[:15] for v in values]
    if all(digits):
        return np.array([int(d) for d in digits], dtype=np.int64)
    return np.random.default_rng(seed).integers(10**8, 10**9, len(values), dtype=np.int64)


def _from_profile(plan: ColumnPlan, n: int, rng: np.random.Generator) -> np.ndarray:
    """Encoded values (see ``encode``) drawn from a column's type and range alone."""
    prof = plan.profile
    values: np.ndarray
    if plan.sdtype == "boolean":
        values = (rng.random(n) < prof.get("trueShare", 0.5)).astype(object)
    elif plan.sdtype in ("numerical", "datetime"):
        low, high = float(prof.get("min", 0)), float(prof.get("max", 1))
        values = rng.uniform(low, high, n)
        integral = pa.types.is_integer(plan.arrow_type) or pa.types.is_date(plan.arrow_type)
        if integral:
            values = np.clip(np.rint(values), np.ceil(low), np.floor(high))
    else:
        categories = prof.get("values") or ["value"]
        values = np.array(categories, dtype=object)[rng.integers(len(categories), size=n)]
    null_share = prof.get("nullShare", 0.0)
    if null_share:
        values = values.astype(object) if values.dtype.kind == "O" else values.astype(float)
        values[rng.random(n) < null_share] = None if values.dtype.kind == "O" else np.nan
    return values


def _cast(array: pa.Array | pa.ChunkedArray, arrow_type: pa.DataType) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == arrow_type:
        return array
    try:
        return pc.cast(array, arrow_type, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return array


class BlockSampler:
    """Ray Data callable class: turns batches of chunk indices into synthetic rows.

    Every batch holds chunk indices (an ``id`` column). The model comes either with the
    batch (a ``model`` column: the run's fit stage sends it with each chunk) or, when
    the node has no input, once through the constructor. Each actor unpickles a model
    once and keeps it while the same model keeps coming.
    """

    def __init__(
        self,
        *,
        model_blob: Any = None,
        seed: int,
        locale: str,
        record_count: int,
        block_rows: int,
        metrics: Any = None,
        node_id: str = "",
    ) -> None:
        import os

        import ray

        # SDV draws a progress bar per sampling call when constraints exist; an actor
        # process is ours alone, so silence tqdm here.
        os.environ.setdefault("TQDM_DISABLE", "1")
        self.seed, self.locale = seed, locale
        self.record_count = record_count
        self.block_rows = block_rows
        self.metrics = metrics
        self.node_id = node_id
        self._blob: bytes | None = None
        self.generator: ChunkGenerator | None = None
        if model_blob is not None:
            blob = ray.get(model_blob) if isinstance(model_blob, ray.ObjectRef) else model_blob
            self._load(blob)

    def _load(self, blob: bytes) -> ChunkGenerator:
        import cloudpickle

        if self.generator is None or blob != self._blob:
            model = cloudpickle.loads(blob)
            self.generator = ChunkGenerator(
                model.columns,
                model.synthesizer,
                seed=self.seed,
                locale=self.locale,
                pools=model.pools,
            )
            self._blob = blob
        return self.generator

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        """Rows of the batch's chunks, one chunk at a time (memory holds one chunk)."""
        import time

        if "model" in batch.column_names and batch.num_rows:
            generator = self._load(batch.column("model")[0].as_py())
        elif self.generator is not None:
            generator = self.generator
        else:
            raise RuntimeError("no synthetic model reached the sampling actor")
        counts = batch.column("count").to_pylist() if "count" in batch.column_names else None
        for i, first in enumerate(batch.column("id").to_pylist()):
            for index in range(first, first + (counts[i] if counts else 1)):
                started, cpu_started = time.perf_counter(), time.process_time()
                start = index * self.block_rows
                out = generator.rows(start, min(self.block_rows, self.record_count - start))
                if self.metrics is not None:
                    self.metrics.add(
                        self.node_id,
                        {
                            "synthetic.rowsGenerated": out.num_rows,
                            "synthetic.generateSeconds": time.perf_counter() - started,
                            "synthetic.generateCpuSeconds": time.process_time() - cpu_started,
                        },
                    )
                yield out


_CACHED: dict[str, Any] = {}


def generate_chunks(
    batch: pa.Table,
    *,
    seed: int,
    locale: str,
    record_count: int,
    block_rows: int,
    metrics: Any = None,
    node_id: str = "",
) -> Iterator[pa.Table]:
    """Ray Data task function: the rows of the chunks a batch names (it carries the model).

    Tasks, unlike actors, hold CPUs only while they run, so generation waiting for the
    fit stage never starves the upstream stages that feed it. A worker process keeps the
    last model it unpickled (keyed by its digest) for the tasks that follow.
    """
    import hashlib

    blob = batch.column("model")[0].as_py()
    digest = hashlib.sha256(blob).hexdigest()
    sampler = _CACHED.get(digest)
    if sampler is None:
        _CACHED.clear()
        sampler = _CACHED[digest] = BlockSampler(
            model_blob=blob,
            seed=seed,
            locale=locale,
            record_count=record_count,
            block_rows=block_rows,
            metrics=metrics,
            node_id=node_id,
        )
    yield from sampler(batch.drop_columns(["model"]))


def sampling_stage(
    chunks_ds: Any,
    *,
    chunks: int,
    seed: int,
    locale: str,
    record_count: int,
    block_rows: int,
    model_blob: Any = None,
    workers: int | None = None,
    actor_cpus: float = 0.5,
    metrics: Any = None,
    node_id: str = "",
) -> Any:
    """``chunks_ds`` mapped to synthetic rows by a pool of actors.

    Each row of ``chunks_ds`` names chunks: ``id`` (the first chunk index), optionally
    ``count`` (how many chunks from there, default 1) and ``model`` (the model blob).
    """
    import ray

    if workers is None:
        workers = max(1, int(ray.available_resources().get("CPU", 1)))
    workers = max(1, min(workers, chunks))
    return chunks_ds.map_batches(
        BlockSampler,
        batch_size=1,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=actor_cpus,
        fn_constructor_kwargs={
            "model_blob": model_blob,
            "seed": seed,
            "locale": locale,
            "record_count": record_count,
            "block_rows": block_rows,
            "metrics": metrics,
            "node_id": node_id,
        },
    )


def sampling_dataset(
    *,
    model_blob: bytes,
    seed: int,
    locale: str,
    record_count: int,
    block_rows: int,
    workers: int | None = None,
    actor_cpus: float = 0.5,
    metrics: Any = None,
    node_id: str = "",
) -> Any:
    """A lazy Ray Dataset of ``record_count`` synthetic rows made by a pool of actors.

    One input row per chunk (``ray.data.range`` over chunk indices); each actor loads
    the model once and turns chunk indices into rows, so memory holds a few chunks at a
    time however large ``record_count`` is.

    Args:
        model_blob: The cloudpickled :class:`~nodes.privacy.synthetic.model.FittedModel`.
        seed: The run's seed; chunk seeds derive from it and the chunk's first offset.
        locale: Faker locale of personal-data columns.
        record_count: Exact number of rows to generate.
        block_rows: Rows per chunk.
        workers: Actors; defaults to the cluster's CPUs, at most one per chunk.
        actor_cpus: CPUs reserved per actor. Half a CPU by default: whole-CPU actors on
            a small machine would hold every CPU and starve the tasks that feed them
            (range) and drain them (writers).
        metrics: The run's metrics handle (counts generated rows).
        node_id: The node the metrics belong to.
    """
    import math

    import ray

    chunks = math.ceil(record_count / block_rows)
    ds = ray.data.range(chunks, override_num_blocks=min(chunks, 10_000))
    return sampling_stage(
        ds,
        chunks=chunks,
        seed=seed,
        locale=locale,
        record_count=record_count,
        block_rows=block_rows,
        model_blob=ray.put(model_blob),
        workers=workers,
        actor_cpus=actor_cpus,
        metrics=metrics,
        node_id=node_id,
    )
