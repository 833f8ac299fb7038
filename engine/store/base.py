"""Transactions shared by the parts of the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


class StoreBase:
    """Holds the engine; write transactions and read-only connections."""

    engine: Engine

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.execution_options(pb_read=True).connect() as conn:
            yield conn
