"""Bounded, uniform samples of a stream of Arrow batches.

A bottom-k sample: every row gets a pseudo-random key derived from its content and a
seed, and the ``k`` rows with the smallest keys are kept. That is a uniform sample
without replacement (keys are independent uniform draws), it needs memory for ``k``
rows plus one batch, and, unlike classic reservoir sampling, it does not depend on the
order batches arrive in, which Ray Data does not promise. Identical rows share a key,
so duplicates are kept or dropped together.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads similar inputs over the whole uint64 range."""
    z = values.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _hashable(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return not pa.types.is_nested(t) and not pa.types.is_null(t)


def row_keys(batch: pa.Table, seed: int) -> np.ndarray:
    """One pseudo-random uint64 per row, from the row's (flat) values and ``seed``."""
    import pandas as pd

    flat = [f.name for f in batch.schema if _hashable(f.type)]
    if not flat:  # only nested columns: their text form identifies the row
        frame = pd.DataFrame({"row": [str(r) for r in batch.to_pylist()]})
    else:
        frame = batch.select(flat).to_pandas()
    # hash_pandas_object hashes each row's values; the seed is mixed in afterwards
    # (its hash_key only salts strings, not numbers).
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64)
    salt = _mix(np.array([seed], dtype=np.uint64))[0]
    return _mix(hashes ^ salt)


class BottomKSample:
    """Keeps a uniform sample of at most ``size`` rows of everything added.

    Args:
        size: Maximum rows kept.
        seed: Salt of the row keys; the same rows and seed give the same sample.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        if size <= 0:
            raise ValueError(f"sample size must be positive, got {size}")
        self.size = size
        self.seed = seed
        self.rows_seen = 0
        self._table: pa.Table | None = None
        self._keys = np.empty(0, dtype=np.uint64)

    def add(self, batch: pa.Table | pa.RecordBatch) -> None:
        """Offer one batch; keeps the ``size`` rows with the smallest keys so far."""
        if isinstance(batch, pa.RecordBatch):
            batch = pa.Table.from_batches([batch])
        if batch.num_rows == 0:
            return
        self.rows_seen += batch.num_rows
        keys = row_keys(batch, self.seed)
        if self._table is None:
            table, all_keys = batch, keys
        else:
            table = pa.concat_tables([self._table, batch.cast(self._table.schema)])
            all_keys = np.concatenate([self._keys, keys])
        if table.num_rows > self.size:
            keep = np.argpartition(all_keys, self.size - 1)[: self.size]
            table, all_keys = table.take(pa.array(keep)), all_keys[keep]
        self._table, self._keys = table, all_keys

    def keyed(self) -> tuple[pa.Table | None, np.ndarray]:
        """The kept rows (unordered) and their keys."""
        return self._table, self._keys

    def result(self) -> pa.Table | None:
        """The sample ordered by key (a fixed order for a given input and seed)."""
        if self._table is None:
            return None
        order = np.argsort(self._keys, kind="stable")
        return self._table.take(pa.array(order)).combine_chunks()


def sample_batches(batches: Iterable[pa.Table], size: int, seed: int = 0) -> BottomKSample:
    """Run a :class:`BottomKSample` over ``batches`` and return it."""
    sample = BottomKSample(size, seed)
    for batch in batches:
        sample.add(batch)
    return sample
