"""The scan is handed blocks of bounded size, in a stage of its own, whatever blocks the
input arrives in: one large block is cut, so every CPU gets a share of the scanning
(Ray Data's own statistics say which stages ran and how many tasks each took)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from engine.catalog import DictCatalog
from engine.context import BuildContext, RunOptions
from engine.registry import default_registry
from engine.spec.models import PipelineSpec
from nodes.privacy import detection

pytestmark = pytest.mark.usefixtures("ray_session")


def _detection_ctx(home: Path) -> BuildContext:
    spec = PipelineSpec.model_validate(
        {
            "id": "scan_blocks",
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file", "config": {}},
                {"id": "detect", "nodeType": "privacy", "category": "detection",
                 "inputs": ["load"], "config": {"patternLibraryId": "patterns_default"}},
            ],
        }
    )  # fmt: skip
    return BuildContext(
        spec=spec,
        node=spec.node("detect"),
        catalog=DictCatalog({}),
        execution_id="exec_scan_blocks",
        options=RunOptions(home=home, base_dir=home),
    )


def test_one_large_block_is_scanned_in_many_tasks(
    monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    import ray.data

    monkeypatch.setattr(detection, "SCAN_BLOCK_ROWS", 50)
    rows = 400
    notes = [f"row {i}: call 212-555-{i:04d} or write to a{i}@example.org" for i in range(rows)]
    one_block = ray.data.from_arrow(pa.table({"id": list(range(rows)), "note": notes}))
    ctx = _detection_ctx(home)
    nt = default_registry().get(ctx.node.type_key)
    assert nt is not None
    config = nt.config_model.model_validate(ctx.node.config)
    ds = nt.build(ctx=ctx, inputs=[one_block], config=config)

    out = pa.concat_tables(list(ds.iter_batches(batch_format="pyarrow", batch_size=None)))
    stats = ds.stats()

    assert sorted(out.column("id").to_pylist()) == list(range(rows))  # nothing lost
    stages = {
        line.split(":")[0].removeprefix("Operator ").split(" ", 1)[1]: line
        for line in stats.splitlines()
        if line.startswith("Operator ") and "tasks executed" in line
    }
    # the scan is a stage of its own (not fused with what delivers or cuts the rows) ...
    assert "MapBatches(scan)" in stages, stats
    # ... and it ran one task per block of at most 50 rows
    assert f"{rows // 50} tasks executed" in stages["MapBatches(scan)"], stats
