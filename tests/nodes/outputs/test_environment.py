"""Blue/green deploys, gates, rollback, crash safety and retention of output/environment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine.errors import NodeError
from engine.plan.validation import validate
from nodes.outputs import environment, versions

from .conftest import customers, make_ctx


def _deploy(ray, catalog, home, table, execution_id="exec_a", **config):
    cfg = environment.EnvironmentConfig.model_validate({"environmentId": "env_test", **config})
    ctx = make_ctx(catalog, "environment", cfg.model_dump(), home=home, execution_id=execution_id)
    sink = environment.build(ctx=ctx, inputs=[], config=cfg)
    facts = sink.write(ray.data.from_arrow(table))
    return facts, ctx


def _read_current(uri: str):
    return pq.read_table(versions.resolve_current(uri)).sort_by("id")


def test_two_deploys_flip_current_and_rollback_restores(ray_session, env_catalog, home):
    uri = env_catalog.get("environments", "env_test")["uri"]
    f1, _ = _deploy(ray_session, env_catalog, home, customers(20), "exec_one")
    assert _read_current(uri).num_rows == 20
    f2, ctx = _deploy(ray_session, env_catalog, home, customers(30, 100), "exec_two")
    assert f2["previousVersion"] == f1["version"]
    current = _read_current(uri)
    assert current.num_rows == 30 and current["id"][0].as_py() == 100
    pointer = versions.read_pointer(uri)
    assert pointer["version"] == f2["version"] and pointer["previous"] == f1["version"]
    manifest = versions.read_manifest(uri, f2["version"])
    assert manifest["rows"] == 30 and manifest["executionId"] == "exec_two"
    assert manifest["files"] and all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert versions.verify_manifest(uri, f2["version"]) == []
    assert ctx.facts["deployment"]["version"] == f2["version"]

    back = versions.rollback(uri)
    assert back["version"] == f1["version"] and back["rolledBackFrom"] == f2["version"]
    assert _read_current(uri).num_rows == 20
    with pytest.raises(versions.DeploymentError, match="no previous version"):
        versions.rollback(uri)


def test_failing_block_gate_leaves_current_and_reports(ray_session, env_catalog, home):
    uri = env_catalog.get("environments", "env_test")["uri"]
    good, _ = _deploy(ray_session, env_catalog, home, customers(20))
    bad = customers(20, 500, null_every=3)  # a third of the emails missing
    with pytest.raises(NodeError, match="emails_complete") as err:
        _deploy(ray_session, env_catalog, home, bad, "exec_bad", qualityGates=["emails_complete"])
    assert "left on version" in str(err.value)
    assert versions.read_pointer(uri)["version"] == good["version"]
    assert _read_current(uri)["id"][0].as_py() == 0
    # the rejected version is removed, only the good one remains
    assert [v["version"] for v in versions.list_versions(uri)] == [good["version"]]


def test_warn_gate_deploys_and_records_results(ray_session, env_catalog, home):
    bad = customers(20, 0, null_every=3)
    facts, ctx = _deploy(
        ray_session,
        env_catalog,
        home,
        bad,
        qualityGates=[
            "emails_complete_warn",
            "schema_validation",
            "row_count",
            {"gate": "pii_free", "severity": "warn"},
        ],
    )
    by_id = {r["id"]: r for r in ctx.facts["qualityGates"]}
    assert by_id["emails_complete_warn"]["status"] == "warning"
    assert by_id["schema_validation"]["status"] == "passed"
    assert by_id["row_count"]["status"] == "passed"
    assert by_id["pii_free"]["status"] == "warning"  # the emails are still there
    assert ctx.facts["qualityMetrics"]["privacyCompliance"] == "pii_found"
    assert ctx.metrics.counters["out"]["qualityGates.passed"] == 2
    assert ctx.metrics.counters["out"]["qualityGates.warned"] == 2
    assertions = ctx.facts["dataQualityAssertions"]["assertions"]
    assert {"assertion": "schema_validation", "success": True} in assertions
    assert ctx.facts["qualityMetrics"]["recordCount"] == 20
    assert 0 < ctx.facts["qualityMetrics"]["completenessScore"] < 1
    assert facts["rows"] == 20


def test_schema_gate_names_the_problem(ray_session, env_catalog, home):
    import pyarrow as pa

    t = pa.table({"id": pa.array(["a", "b"]), "score": pa.array([1.0, 2.0])})
    with pytest.raises(NodeError) as err:
        _deploy(ray_session, env_catalog, home, t, qualityGates=["schema_validation"])
    msg = str(err.value)
    assert "column 'id' is string, expected int64" in msg and "missing column 'email'" in msg


def test_crash_between_write_and_flip_keeps_readers_on_old(
    ray_session, env_catalog, home, monkeypatch
):
    uri = env_catalog.get("environments", "env_test")["uri"]
    good, _ = _deploy(ray_session, env_catalog, home, customers(10))

    def crash(*a, **k):
        raise KeyboardInterrupt("simulated crash before the pointer flip")

    monkeypatch.setattr(versions, "flip_current", crash)
    with pytest.raises(KeyboardInterrupt):
        _deploy(ray_session, env_catalog, home, customers(99, 1000), "exec_crash")
    monkeypatch.undo()
    listed = versions.list_versions(uri)
    assert len(listed) == 2  # the new version was fully written...
    assert versions.read_pointer(uri)["version"] == good["version"]  # ...but is not current
    assert _read_current(uri).num_rows == 10


def test_direct_strategy_keeps_only_current(ray_session, env_catalog, home):
    uri = env_catalog.get("environments", "env_test")["uri"]
    _deploy(ray_session, env_catalog, home, customers(5))
    f2, _ = _deploy(ray_session, env_catalog, home, customers(6), deploymentStrategy="direct")
    assert [v["version"] for v in versions.list_versions(uri)] == [f2["version"]]
    assert versions.read_pointer(uri)["previous"] is None
    assert _read_current(uri).num_rows == 6


def test_retention_never_removes_current_or_previous(ray_session, env_catalog, home):
    uri = env_catalog.get("environments", "env_test")["uri"]
    made = [
        _deploy(ray_session, env_catalog, home, customers(3, i))[0]["version"] for i in range(5)
    ]
    left = [v["version"] for v in versions.list_versions(uri)]
    assert left == made[-3:]  # keepVersions: 3
    # roll back, then expire everything by age: current (made[3]) and previous (made[2]) survive
    versions.rollback(uri)
    later = datetime.now(timezone.utc) + timedelta(days=10)
    removed = versions.apply_retention(uri, keep_versions=1, max_age_days=1, now=later)
    remaining = [v["version"] for v in versions.list_versions(uri)]
    assert made[3] in remaining and made[2] in remaining
    assert removed == [made[4]]


def test_csv_and_jsonl_formats(ray_session, env_catalog, home, tmp_path: Path):
    for fmt in ("csv", "jsonl"):
        env = env_catalog.get("environments", "env_test")
        env.update(id=f"env_{fmt}", uri=str(tmp_path / fmt), format=fmt)
        env_catalog.put("environments", env)
        cfg = environment.EnvironmentConfig(environmentId=f"env_{fmt}", qualityGates=["row_count"])
        ctx = make_ctx(env_catalog, "environment", cfg.model_dump(), home=home)
        facts = environment.build(ctx=ctx, inputs=[], config=cfg).write(
            ray_session.data.from_arrow(customers(12))
        )
        assert facts["rows"] == 12 and facts["format"] == fmt
        assert ctx.facts["qualityGates"][0]["status"] == "passed"


def test_validation_checks_gate_ids(env_catalog):
    from engine.errors import ValidationFailed
    from engine.spec.models import PipelineSpec

    spec = PipelineSpec.model_validate(
        {
            "id": "p",
            "nodes": [
                {
                    "id": "src",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"path": "x.csv"},
                },
                {
                    "id": "deploy",
                    "nodeType": "output",
                    "category": "environment",
                    "inputs": ["src"],
                    "config": {
                        "environmentId": "env_test",
                        "qualityGates": ["schema_validation", "emails_complete", "no_such_rule"],
                    },
                },
            ],
        }
    )
    with pytest.raises(ValidationFailed) as err:
        validate(spec, env_catalog)
    problems = [p for p in err.value.problems if p.node_id == "deploy"]
    assert len(problems) == 1 and "no_such_rule" in problems[0].message
    assert problems[0].path == "config.qualityGates.2"


_CRASH_SCRIPT = """
import os, signal, sys
import pyarrow as pa, pyarrow.parquet as pq
from nodes.outputs import versions

uri = sys.argv[1]
loc = versions.locate(uri)
version = versions.new_version_id("exec_killed")
folder = loc.path(versions.VERSIONS, version)
os.makedirs(folder)
pq.write_table(pa.table({"id": list(range(1000))}), folder + "/part-0.parquet")
m = versions.build_manifest(loc, version, rows=1000, schema=[], fmt="parquet", execution_id="x")
versions.write_manifest(loc, version, m)
real_replace = os.replace

def die_on_pointer(src, dst):
    if dst.endswith("CURRENT"):
        os.kill(os.getpid(), signal.SIGKILL)  # power cut: temp pointer written, not renamed
    return real_replace(src, dst)

os.replace = die_on_pointer
versions.flip_current(uri, version)
"""


def test_process_killed_during_flip_leaves_old_pointer(ray_session, env_catalog, home, tmp_path):
    import subprocess
    import sys

    uri = env_catalog.get("environments", "env_test")["uri"]
    good, _ = _deploy(ray_session, env_catalog, home, customers(10))
    script = tmp_path / "crash.py"
    script.write_text(_CRASH_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), uri], cwd=Path(__file__).parents[3])
    assert proc.returncode == -9
    assert versions.read_pointer(uri)["version"] == good["version"]
    assert _read_current(uri).num_rows == 10
    assert len(versions.list_versions(uri)) == 2  # the killed deploy's version is orphaned
    # the next deploy still works and retention later removes the orphan
    nxt, _ = _deploy(ray_session, env_catalog, home, customers(4))
    assert _read_current(uri).num_rows == 4 and nxt["previousVersion"] == good["version"]
