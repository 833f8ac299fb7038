"""privacy/synthetic inside real pipeline runs: file source -> synthetic -> archive, S3 models."""

from __future__ import annotations

import glob
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.spec.models import PipelineSpec
from tests.nodes.synthetic.helpers import correlated_table

runner = pytest.importorskip("engine.run.runner")


def _spec(synth_config: dict, output_format: str = "parquet") -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "id": "synthetic_customers",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"uri": "customers.csv"},
                },
                {
                    "id": "synth",
                    "nodeType": "privacy",
                    "category": "synthetic",
                    "inputs": ["load"],
                    "config": synth_config,
                },
                {
                    "id": "archive",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["synth"],
                    "config": {"uri": "out", "format": output_format},
                },
            ],
        }
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    pcsv.write_csv(correlated_table(800), tmp_path / "customers.csv")
    return tmp_path


def _catalog(workdir: Path, **template: object) -> DictCatalog:
    resource = {"id": "template_67890", "seed": 5, "fitSampleSize": 800, "blockRows": 400}
    resource.update(template)
    return DictCatalog({"syntheticTemplates": {"template_67890": resource}}, base_dir=workdir)


def _read_output(root: Path) -> pa.Table:
    files = sorted(glob.glob(str(root / "**" / "*.parquet"), recursive=True))
    assert files, f"no parquet files under {root}"
    return pa.concat_tables([pq.read_table(f) for f in files])


def test_pipeline_run_generates_and_archives(ray_session, home, workdir):
    config = {
        "syntheticTemplateId": "template_67890",
        "preserveDistribution": True,
        "recordCount": 1000,
        "outputFormat": "parquet",
        "workers": 2,
    }
    result = runner.run_pipeline(
        _spec(config), _catalog(workdir), options=RunOptions(home=home, base_dir=workdir)
    )
    assert result.ok, result.error
    d = result.to_dict()
    assert d["outputs"][0]["rows"] == 1000
    # The source's rows are read once, by the run: nothing is read while building.
    assert d["nodes"]["load"]["rowsOut"] == 800
    assert d["metrics"]["recordsProcessed"] == 800
    facts = d["nodes"]["synth"]["facts"]
    state = d["nodes"]["synth"]["states"]["synthetic"]
    assert state["quality"]["score"] > 0.8
    # The synthetic score is the node's; the run's qualityScore is the pipeline's own.
    assert d["metrics"]["qualityScore"] != state["quality"]["score"]
    assert "qualityScore" not in facts
    assert state["refitted"] is True
    assert state["privacy"]["identicalRowShare"] == 0.0
    assert Path(facts["synthetic"]["modelUri"]) == home / "models" / "template_67890"
    out = _read_output(workdir / "out")
    assert out.num_rows == 1000
    real = correlated_table(800)
    for column in ("customer_id", "full_name", "email", "phone"):
        assert not set(out[column].to_pylist()) & set(real[column].to_pylist()), column

    again = runner.run_pipeline(
        _spec(config), _catalog(workdir), options=RunOptions(home=home, base_dir=workdir)
    )
    assert again.ok, again.error
    assert again.to_dict()["nodes"]["synth"]["states"]["synthetic"]["refitted"] is False


def test_model_stored_on_s3_and_reused(ray_session, home, workdir, s3_bucket):
    import boto3

    uri = f"s3://{s3_bucket}/models/customers"
    config = {"syntheticTemplateId": "template_67890", "recordCount": 300}
    catalog = _catalog(workdir, modelUri=uri)
    first = runner.run_pipeline(
        _spec(config), catalog, options=RunOptions(home=home, base_dir=workdir)
    )
    assert first.ok, first.error
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {"models/customers/model.pkl", "models/customers/manifest.json"}
    second = runner.run_pipeline(
        _spec(config), catalog, options=RunOptions(home=home, base_dir=workdir)
    )
    assert second.ok, second.error
    node = second.to_dict()["nodes"]["synth"]
    assert node["states"]["synthetic"]["refitted"] is False
    assert node["facts"]["synthetic"]["modelUri"] == uri
    assert second.to_dict()["outputs"][0]["rows"] == 300


def test_pipeline_fails_on_leakage(ray_session, home, workdir):
    config = {
        "syntheticTemplateId": "template_67890",
        "recordCount": 200,
        "preserveDistribution": False,
    }
    # Only the low-cardinality columns are learned: rows repeat real combinations.
    catalog = _catalog(
        workdir, maxLeakage=0.0, columns={"age": "id", "income": "id", "spend": "id"}
    )
    result = runner.run_pipeline(
        _spec(config), catalog, options=RunOptions(home=home, base_dir=workdir)
    )
    assert result.status == "failed"
    assert "maxLeakage" in (result.error or "")
    assert not list((workdir / "out").glob("**/*.parquet"))


def test_detection_upstream_decides_pii_columns(ray_session, home, workdir):
    spec = PipelineSpec.model_validate(
        {
            "id": "detect_then_synthesize",
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file",
                 "config": {"uri": "customers.csv"}},
                {"id": "detect", "nodeType": "privacy", "category": "detection",
                 "inputs": ["load"], "config": {"nerModel": None}},
                {"id": "synth", "nodeType": "privacy", "category": "synthetic",
                 "inputs": ["detect"],
                 "config": {"syntheticTemplateId": "template_67890", "recordCount": 300}},
                {"id": "archive", "nodeType": "output", "category": "archive",
                 "inputs": ["synth"], "config": {"uri": "out", "format": "parquet"}},
            ],
        }
    )  # fmt: skip
    result = runner.run_pipeline(
        spec, _catalog(workdir), options=RunOptions(home=home, base_dir=workdir)
    )
    assert result.ok, result.error
    columns = result.to_dict()["nodes"]["synth"]["states"]["synthetic"]["columns"]
    assert columns["email"] == {"role": "fake", "sdtype": "email", "source": "upstream"}
    assert columns["income"]["role"] == "learned"
    out = _read_output(workdir / "out")
    assert out.num_rows == 300
    assert not set(out["email"].to_pylist()) & set(correlated_table(800)["email"].to_pylist())


def test_output_format_csv_is_written_as_csv(ray_session, home, workdir):
    config = {"syntheticTemplateId": "template_67890", "recordCount": 250, "outputFormat": "csv"}
    result = runner.run_pipeline(
        _spec(config, output_format="csv"),
        _catalog(workdir),
        options=RunOptions(home=home, base_dir=workdir),
    )
    assert result.ok, result.error
    files = sorted(glob.glob(str(workdir / "out" / "**" / "*"), recursive=True))
    data = [f for f in files if Path(f).is_file() and not Path(f).name.startswith((".", "_"))]
    assert data and all(f.endswith(".csv") for f in data), data
    # Read back by Arrow's own CSV reader: a CSV header and exactly the rows asked for.
    table = pa.concat_tables([pcsv.read_csv(f) for f in data])
    assert table.num_rows == 250
    assert set(table.column_names) == set(correlated_table(10).column_names)
    assert result.to_dict()["nodes"]["synth"]["facts"]["synthetic"]["outputFormat"] == "csv"


def test_output_format_that_the_output_node_does_not_write_is_rejected(workdir):
    from engine.errors import ValidationFailed

    config = {"syntheticTemplateId": "template_67890", "recordCount": 10, "outputFormat": "csv"}
    with pytest.raises(ValidationFailed) as info:
        runner.run_pipeline(_spec(config, output_format="parquet"), _catalog(workdir))
    message = str(info.value)
    assert "node 'synth'" in message
    assert "outputFormat 'csv' conflicts with output node 'archive', which writes 'parquet'" in (
        message
    )
