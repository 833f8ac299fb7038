"""Fixtures of the synthetic-data tests."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.nodes.synthetic.helpers import correlated_table


@pytest.fixture(scope="session")
def real_table() -> pa.Table:
    """A correlated customer table with real-looking identifiers."""
    return correlated_table()
