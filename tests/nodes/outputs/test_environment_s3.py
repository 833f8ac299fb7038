"""Blue/green deploys to S3 (moto server): conditional CURRENT writes, rollback, readers."""

from __future__ import annotations

import json

import pyarrow.dataset as pds
import pytest

from nodes.outputs import environment, versions

from .conftest import customers, make_ctx


def _deploy(ray, catalog, home, table, execution_id):
    cfg = environment.EnvironmentConfig(
        environmentId="env_s3", qualityGates=["row_count", "schema_validation"]
    )
    ctx = make_ctx(catalog, "environment", cfg.model_dump(), home=home, execution_id=execution_id)
    return environment.build(ctx=ctx, inputs=[], config=cfg).write(ray.data.from_arrow(table))


def _rows(uri: str) -> int:
    loc = versions.locate(versions.resolve_current(uri))
    return pds.dataset(loc.root, format="parquet", filesystem=loc.fs).count_rows()


def test_s3_blue_green_and_rollback(ray_session, s3_bucket, env_catalog, home):
    uri = f"s3://{s3_bucket}/envs/prod"
    env = env_catalog.get("environments", "env_test")
    env.update(id="env_s3", uri=uri)
    env_catalog.put("environments", env)
    f1 = _deploy(ray_session, env_catalog, home, customers(7), "exec_s3a")
    f2 = _deploy(ray_session, env_catalog, home, customers(9), "exec_s3b")
    assert f1["location"].startswith(f"s3://{s3_bucket}/envs/prod/versions/")
    assert versions.read_pointer(uri)["previous"] == f1["version"]
    assert _rows(uri) == 9
    assert versions.verify_manifest(uri, f2["version"]) == []
    versions.rollback(uri)
    assert _rows(uri) == 7


def test_s3_pointer_write_is_conditional(s3_bucket):
    uri = f"s3://{s3_bucket}/envs/cond"
    loc = versions.locate(uri)
    pointer = {"version": "a", "history": ["a"]}
    versions._write_pointer(loc, pointer, None, existed=False)
    # a second "first deploy" must not overwrite: If-None-Match: *
    with pytest.raises(versions.ConcurrentDeployment):
        versions._write_pointer(loc, {"version": "b"}, None, existed=False)
    _, etag = versions._read_pointer_raw(loc)
    versions._write_pointer(loc, {"version": "c"}, etag, existed=True)
    # the old etag is stale now: If-Match refuses it
    with pytest.raises(versions.ConcurrentDeployment):
        versions._write_pointer(loc, {"version": "d"}, etag, existed=True)
    assert versions.read_pointer(uri) == {"version": "c"}
    assert json.loads(json.dumps(versions.read_pointer(uri)))["version"] == "c"


def test_s3_model_training_shards(ray_session, s3_bucket, home):
    import pyarrow as pa

    from engine.catalog import DictCatalog
    from nodes.outputs import model_training, tfrecord

    uri = f"s3://{s3_bucket}/training/churn"
    cfg = model_training.ModelTrainingConfig(
        location=uri, format="tfrecord", keyColumn="id", label="score"
    )
    ctx = make_ctx(DictCatalog(), "model_training", cfg.model_dump(), home=home)
    table = customers(30).append_column("label_copy", pa.array([1] * 30))
    facts = model_training.build(ctx=ctx, inputs=[], config=cfg).write(
        ray_session.data.from_arrow(table)
    )
    assert facts["rows"] == 30 and sum(facts["splits"].values()) == 30
    loc = versions.locate(versions.resolve_current(uri))
    total = 0
    for name in facts["files"]:
        with loc.fs.open_input_stream(f"{loc.root}/{name}") as f:
            total += sum(1 for _ in tfrecord.read_records(f))
    assert total == 30
