"""The ``pii_free`` gate's scan: the privacy detection node's classifier on written data."""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from engine.catalog import Catalog

log = logging.getLogger(__name__)


class PiiScan:
    """Re-scan written data with the privacy detection node's classifier and counters.

    The first ``sampleRows`` rows classify the columns (as ``privacy/detection`` does);
    findings are then counted on up to ``scanRows`` rows. ``available`` is False when
    the privacy package is not installed, and the gate is skipped with a warning.
    """

    def __init__(self, params: dict[str, Any], catalog: Catalog | None) -> None:
        self.sample_rows = int(params.get("sampleRows", 1000))
        self.scan_rows = int(params.get("scanRows", 100_000))
        self.params = params
        self.catalog = catalog
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.classes: dict[str, Any] | None = None
        self.state: Any = None
        self.spec: dict[str, Any] | None = None
        try:
            from nodes.privacy import detection  # noqa: F401
            from nodes.privacy.classify import classify_table  # noqa: F401
        except Exception as exc:  # absent or broken: the gate is skipped
            log.warning("pii_free gate: privacy detection unavailable: %s", exc)
            self.available = False
        else:
            self.available = True

    def _classify(self) -> None:
        from engine.catalog import DictCatalog
        from nodes.privacy.classify import classify_table
        from nodes.privacy.library import resolve_library, scanner_for, scanner_spec
        from nodes.privacy.report import FindingsState

        catalog = self.catalog or DictCatalog()
        lib = resolve_library(catalog.get, self.params.get("patternLibraryId", "patterns_default"))
        threshold = float(self.params.get("confidenceThreshold", 0.5))
        self.spec = scanner_spec(
            lib,
            threshold=threshold,
            contextual=bool(self.params.get("contextualAnalysis", True)),
            entities=self.params.get("identifiers") or None,
            ner_model=self.params.get("nerModel"),
        )
        sample = pa.concat_tables(self.pending, promote_options="permissive")
        hints = list(lib.get("columnHints") or [])
        self.classes = classify_table(
            sample.slice(0, self.sample_rows),
            scanner_for(self.spec),
            hints,
            contextual=bool(self.params.get("contextualAnalysis", True)),
            threshold=threshold,
        )
        self.state = FindingsState()
        for t in self.pending:
            self._count(t)
        self.pending = []

    def _count(self, table: pa.Table) -> None:
        from nodes.privacy.detection import count_findings

        room = self.scan_rows - self.state.rows
        if room <= 0 or self.spec is None or self.classes is None:
            return
        self.state = self.state.merge(count_findings(table.slice(0, room), self.spec, self.classes))

    def add(self, batch: pa.RecordBatch | pa.Table) -> None:
        if not self.available:
            return
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        if self.classes is None:
            self.pending.append(table)
            self.pending_rows += table.num_rows
            if self.pending_rows >= self.sample_rows:
                self._classify()
        else:
            self._count(table)

    def finish(self) -> None:
        if self.available and self.classes is None and self.pending:
            self._classify()
