"""The ``pii_free`` gate's scan: the privacy detection node's per-cell scan on written data."""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from engine.catalog import Catalog

log = logging.getLogger(__name__)


class PiiScan:
    """Scan written data cell by cell with the privacy detection node's scanner.

    Every cell of every batch is scanned (as ``privacy/detection`` does), up to
    ``scanRows`` rows. ``available`` is False when the privacy package is not
    installed, and the gate is skipped with a warning.
    """

    def __init__(self, params: dict[str, Any], catalog: Catalog | None) -> None:
        self.scan_rows = int(params.get("scanRows", 100_000))
        self.params = params
        self.catalog = catalog
        self.state: Any = None
        self.spec: dict[str, Any] | None = None
        try:
            from nodes.privacy import batch  # noqa: F401
        except Exception as exc:  # absent or broken: the gate is skipped
            log.warning("pii_free gate: privacy detection unavailable: %s", exc)
            self.available = False
        else:
            self.available = True

    def _setup(self) -> None:
        from engine.catalog import DictCatalog
        from nodes.privacy.library import resolve_library, scanner_spec
        from nodes.privacy.report import FindingsState

        catalog = self.catalog or DictCatalog()
        lib = resolve_library(catalog.get, self.params.get("patternLibraryId", "patterns_default"))
        self.spec = scanner_spec(
            lib,
            threshold=float(self.params.get("confidenceThreshold", 0.5)),
            contextual=bool(self.params.get("contextualAnalysis", True)),
            entities=self.params.get("identifiers") or None,
            ner_model=self.params.get("nerModel"),
        )
        self.state = FindingsState()

    def add(self, batch: pa.RecordBatch | pa.Table) -> None:
        if not self.available:
            return
        if self.spec is None:
            self._setup()
        from nodes.privacy.batch import count, scan_batch
        from nodes.privacy.library import scanner_for

        room = self.scan_rows - self.state.rows
        if room <= 0 or self.spec is None:
            return
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.slice(0, room)
        scanned, _unscanned = scan_batch(table, scanner_for(self.spec))
        self.state = self.state.merge(count(scanned, table.num_rows))

    def finish(self) -> None:
        if self.available and self.spec is None:
            self._setup()
