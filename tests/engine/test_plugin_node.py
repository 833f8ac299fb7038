"""A new source node type touches one module: registered, previewed, run, named in lineage."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine.catalog import DictCatalog
from engine.cli.sources_cmd import preview_source
from engine.context import RunOptions
from engine.errors import ValidationFailed
from engine.lineage.summary import seed_lineage
from engine.registry import default_registry
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline
from tests.engine.plugin.demo_nodes import REGISTRY

pytestmark = pytest.mark.usefixtures("ray_session")


def _catalog() -> DictCatalog:
    resource = {"id": "ds_count", "type": "counter", "rows": 1234}
    return DictCatalog({"dataSources": {"ds_count": resource}})


def test_plugin_source_and_transform_run_end_to_end(tmp_path: Path, home: Path) -> None:
    spec = pipeline(
        node("load", "source/counter", {"dataSourceId": "ds_count"}),
        node("up", "transform/upper", {"column": "word"}, ["load"]),
        node("out", "output/archive", {"uri": str(tmp_path / "out")}, ["up"]),
    )
    result = run_pipeline(spec, _catalog(), options=RunOptions(home=home), registry=REGISTRY)
    assert result.ok, result.error
    table = pq.read_table(tmp_path / "out")
    assert table.num_rows == 1234
    assert sorted(table["id"].to_pylist()) == list(range(1234))
    assert all(w.startswith("W") for w in table["word"].to_pylist())
    d = result.to_dict()
    assert d["nodes"]["load"]["rowsOut"] == 1234
    assert d["metrics"]["recordsProcessed"] == 1234
    lineage = seed_lineage(d, spec.model_dump(mode="json"))
    assert lineage["sourceData"]["originalSources"] == ["ds_count"]
    assert lineage["sourceData"]["transformations"] == ["uppercasing"]


def test_plugin_source_preview_comes_from_its_registration() -> None:
    catalog = _catalog()
    table = preview_source(catalog.get("dataSources", "ds_count"), catalog, 3, registry=REGISTRY)
    assert table.column_names == ["id", "word"]
    assert table["id"].to_pylist() == [0, 1, 2]


def test_private_registry_leaves_the_default_untouched() -> None:
    assert "source/counter" in REGISTRY
    assert "source/counter" not in default_registry()
    spec = pipeline(node("load", "source/counter", {"rows": 3}))
    with pytest.raises(ValidationFailed, match="source/counter"):
        run_pipeline(spec, DictCatalog({}))
