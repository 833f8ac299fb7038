"""``pipeline-builder rollback`` from the command line is on the audit trail.

Two complete versions of an environment are laid out with pyarrow (data file) and the
versions module (manifest, CURRENT pointer); the commands then run as the operator
would run them, in fresh processes: ``rollback``, ``audit verify``, ``audit list``."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIPELINE_BUILDER_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("PIPELINE_BUILDER_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def _two_versions(uri: Path) -> tuple[str, str]:
    from nodes.outputs import versions

    loc = versions.locate(str(uri))
    made = []
    for rows, execution in ((3, "exec_first01"), (5, "exec_second1")):
        version = versions.new_version_id(execution)
        folder = uri / versions.VERSIONS / version
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"id": list(range(rows))}), folder / "part-0.parquet")
        manifest = versions.build_manifest(
            loc, version, rows=rows, schema=[], fmt="parquet", execution_id=execution
        )
        versions.write_manifest(loc, version, manifest)
        versions.flip_current(str(uri), version, execution_id=execution)
        made.append(version)
    return made[0], made[1]


def test_rollback_from_the_cli_is_audited_under_the_operators_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    env_dir = home / "data" / "env"
    first, second = _two_versions(env_dir)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"environments": [{"id": "env_prod", "uri": str(env_dir)}]}))

    out = _cli(home, "rollback", "env_prod", "--catalog", str(catalog), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["version"] == first

    again = _cli(home, "rollback", "env_prod", "--catalog", str(catalog))  # nothing before
    assert again.returncode == 2 and "no previous version" in again.stderr, again.stderr

    verify = _cli(home, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    listed = _cli(home, "audit", "list", "--action", "environment.rollback", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert [e["outcome"] for e in entries] == ["failure", "success"], entries
    ok = entries[1]
    assert ok["actor"] == f"cli:{getpass.getuser()}"
    assert ok["resourceType"] == "environment" and ok["resourceId"] == "env_prod"
    assert ok["details"]["version"] == first and ok["details"]["rolledBackFrom"] == second
    assert "no previous version" in entries[0]["details"]["error"]
