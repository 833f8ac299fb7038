"""output/environment and output/model_training inside real pipeline runs (engine.run.runner)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.spec.models import PipelineSpec
from engine.webhooks import events_from_run
from nodes.outputs import versions

from .conftest import customers

runner = pytest.importorskip("engine.run.runner")


def _spec(deploy_config: dict) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "id": "customer_features",
            "version": "2.1.0",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"uri": "customers.csv"},
                },
                {
                    "id": "deploy",
                    "nodeType": "output",
                    "category": "environment",
                    "inputs": ["load"],
                    "config": {"environmentId": "env_prod_ml", **deploy_config},
                },
                {
                    "id": "train",
                    "nodeType": "output",
                    "category": "model_training",
                    "inputs": ["load"],
                    "config": {
                        "location": "training",
                        "format": "tfrecord",
                        "keyColumn": "id",
                        "label": "score",
                        "modelCompatibility": {"frameworks": ["tensorflow", "pytorch"]},
                    },
                },
            ],
        }
    )


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, DictCatalog]:
    pcsv.write_csv(customers(40, null_every=4), tmp_path / "customers.csv")
    catalog = DictCatalog(
        {
            "environments": {
                "env_prod_ml": {
                    "id": "env_prod_ml",
                    "uri": str(tmp_path / "prod"),
                    "expectedSchema": [{"name": "id", "type": "int", "nullable": False}],
                }
            },
            "qualityRules": {
                "at_most_10_rows": {"id": "at_most_10_rows", "gate": "row_count", "max": 10}
            },
        },
        base_dir=tmp_path,
    )
    return tmp_path, catalog


def test_run_deploys_and_maps_to_webhook_events(ray_session, home, workdir):
    tmp_path, catalog = workdir
    result = runner.run_pipeline(
        _spec({"qualityGates": ["schema_validation", "row_count"]}),
        catalog,
        options=RunOptions(home=home, base_dir=tmp_path),
    )
    assert result.ok, result.error
    d = result.to_dict()
    assert d["nodes"]["deploy"]["facts"]["deployment"]["environmentId"] == "env_prod_ml"
    assert versions.read_pointer(str(tmp_path / "prod"))["version"]
    assert (tmp_path / "training" / "CURRENT").exists()
    events = dict(events_from_run(d))
    assert {"execution_completed", "deployment_completed"} <= set(events)
    done = events["execution_completed"]
    assert done["qualityMetrics"]["recordCount"] == 40
    assert done["modelCompatibility"]["frameworks"] == ["tensorflow", "pytorch"]
    assert done["modelCompatibility"]["version"] == "2.1.0"


def test_failed_gate_fails_run_with_report(ray_session, home, workdir):
    tmp_path, catalog = workdir
    ok = runner.run_pipeline(_spec({}), catalog, options=RunOptions(home=home, base_dir=tmp_path))
    assert ok.ok, ok.error
    before = versions.read_pointer(str(tmp_path / "prod"))["version"]
    bad = runner.run_pipeline(
        _spec({"qualityGates": ["at_most_10_rows"]}),
        catalog,
        options=RunOptions(home=home, base_dir=tmp_path),
    )
    assert bad.status == "failed"
    assert "at_most_10_rows" in (bad.error or "")
    assert versions.read_pointer(str(tmp_path / "prod"))["version"] == before
    kinds = [t for t, _ in events_from_run(bad.to_dict())]
    assert "execution_failed" in kinds and "quality_gate_failed" in kinds
    gate_event = dict(events_from_run(bad.to_dict()))["quality_gate_failed"]
    assert gate_event["blocking"] is True and gate_event["gates"][0]["id"] == "at_most_10_rows"
