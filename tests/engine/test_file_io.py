"""source/file and output/archive across formats and stores: local, gzip, HTTP, real S3."""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import threading
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.conftest import free_port
from tests.engine.helpers import node, pipeline, read_parquet_rows, write_csv

pytestmark = pytest.mark.usefixtures("ray_session")


def _ids(rows: list[dict]) -> list[int]:
    return sorted(int(r["id"]) for r in rows)


def test_reads_gzip_csv_jsonl_and_parquet(tmp_path: Path, home: Path) -> None:
    csv_path = write_csv(tmp_path / "a.csv", 300)
    with csv_path.open("rb") as src, gzip.open(tmp_path / "a.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (tmp_path / "b.jsonl").write_text(
        "".join(
            json.dumps({"id": 300 + i, "name": f"n{i}", "age": 30, "city": "Oslo"}) + "\n"
            for i in range(200)
        )
    )
    pq.write_table(
        pa.table(
            {
                "id": list(range(500, 600)),
                "name": ["p"] * 100,
                "age": [40] * 100,
                "city": ["Lima"] * 100,
            }
        ),
        tmp_path / "c.parquet",
    )
    spec = pipeline(
        node("gz", "source/file", {"uri": str(tmp_path / "a.csv.gz")}),
        node("js", "source/file", {"uri": str(tmp_path / "b.jsonl")}),
        node("pq", "source/file", {"uri": str(tmp_path / "c.parquet")}),
        node("o1", "output/archive", {"uri": str(tmp_path / "o1")}, ["gz"]),
        node("o2", "output/archive", {"uri": str(tmp_path / "o2")}, ["js"]),
        node("o3", "output/archive", {"uri": str(tmp_path / "o3")}, ["pq"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home))
    assert result.ok, result.error
    assert _ids(read_parquet_rows(tmp_path / "o1")) == list(range(300))
    assert _ids(read_parquet_rows(tmp_path / "o2")) == list(range(300, 500))
    assert _ids(read_parquet_rows(tmp_path / "o3")) == list(range(500, 600))
    assert {s["format"] for s in result.sources} == {"csv", "jsonl", "parquet"}


def test_reads_over_http(tmp_path: Path, home: Path, loopback_egress: None) -> None:
    write_csv(tmp_path / "www" / "people.csv", 250)
    with (
        (tmp_path / "www" / "people.csv").open("rb") as src,
        gzip.open(tmp_path / "www" / "people.csv.gz", "wb") as dst,
    ):
        shutil.copyfileobj(src, dst)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path / "www"), **k
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        spec = pipeline(
            node("web", "source/file", {"uri": f"{base}/people.csv"}),
            node("webgz", "source/file", {"uri": f"{base}/people.csv.gz"}),
            node("o", "output/archive", {"uri": str(tmp_path / "o")}, ["web"]),
            node("ogz", "output/archive", {"uri": str(tmp_path / "ogz")}, ["webgz"]),
        )
        result = run_pipeline(spec, options=RunOptions(home=home))
    finally:
        server.shutdown()
    assert result.ok, result.error
    assert _ids(read_parquet_rows(tmp_path / "o")) == list(range(250))
    assert _ids(read_parquet_rows(tmp_path / "ogz")) == list(range(250))


def test_missing_input_names_node_and_path(tmp_path: Path, home: Path) -> None:
    spec = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "nope.csv")}),
        node("o", "output/archive", {"uri": str(tmp_path / "o")}, ["load"]),
    )
    result = run_pipeline(spec, options=RunOptions(home=home))
    assert result.status == "failed"
    assert result.error_node == "load"
    assert "nope.csv" in result.error and "does not exist" in result.error


def test_s3_roundtrip_through_catalog_data_source(
    tmp_path: Path, home: Path, s3_bucket: str
) -> None:
    s3 = boto3.client("s3")
    write_csv(tmp_path / "a.csv", 400)
    s3.upload_file(str(tmp_path / "a.csv"), s3_bucket, "raw/a.csv")
    catalog = DictCatalog(
        {
            "dataSources": {
                "ds_raw": {"id": "ds_raw", "type": "file", "uri": f"s3://{s3_bucket}/raw/a.csv"},
                "ds_curated": {
                    "id": "ds_curated",
                    "type": "file",
                    "uri": f"s3://{s3_bucket}/curated/people",
                    "format": "parquet",
                },
            }
        }
    )
    write = pipeline(
        node("load", "source/file", {"dataSourceId": "ds_raw"}),
        node(
            "out",
            "output/archive",
            {"uri": f"s3://{s3_bucket}/curated/people", "partitionBy": ["city"]},
            ["load"],
        ),
    )
    first = run_pipeline(write, catalog, options=RunOptions(home=home))
    assert first.ok, first.error
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="curated/")["Contents"]]
    assert "curated/people/_manifest.json" in keys
    assert any("city=Oslo" in k for k in keys)

    # A second run replaces the version; the old data is gone, the manifest flipped.
    assert run_pipeline(write, catalog, options=RunOptions(home=home)).ok
    manifest = json.loads(
        s3.get_object(Bucket=s3_bucket, Key="curated/people/_manifest.json")["Body"].read()
    )
    data_keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="curated/people/data-")["Contents"]
    ]
    assert all(k.split("/")[2] == f"data-{manifest['executionId']}" for k in data_keys)

    read = pipeline(
        node("load", "source/file", {"dataSourceId": "ds_curated"}),
        node("out", "output/archive", {"uri": str(tmp_path / "back")}, ["load"]),
    )
    back = run_pipeline(read, catalog, options=RunOptions(home=home))
    assert back.ok, back.error
    assert _ids(read_parquet_rows(tmp_path / "back")) == list(range(400))


def test_s3_failed_write_leaves_previous_version(
    tmp_path: Path, home: Path, s3_bucket: str
) -> None:
    s3 = boto3.client("s3")
    for i in range(4):
        write_csv(tmp_path / "in" / f"p{i}.csv", 300, start=i * 300)
    uri = f"s3://{s3_bucket}/out"
    good = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node("out", "output/archive", {"uri": uri}, ["load"]),
    )
    assert run_pipeline(good, options=RunOptions(home=home)).ok
    before = s3.get_object(Bucket=s3_bucket, Key="out/_manifest.json")["Body"].read()
    write_csv(tmp_path / "in" / "p3.csv", 300, start=900, bad_at=1199)
    bad = pipeline(
        node("load", "source/file", {"uri": str(tmp_path / "in"), "format": "csv"}),
        node(
            "check",
            "transform/validator",
            {"rules": [{"rule": "range", "column": "age", "min": 0}]},
            ["load"],
        ),
        node("out", "output/archive", {"uri": uri}, ["check"]),
    )
    result = run_pipeline(bad, options=RunOptions(home=home))
    assert result.status == "failed" and result.error_node == "check"
    assert s3.get_object(Bucket=s3_bucket, Key="out/_manifest.json")["Body"].read() == before
    prefixes = {
        o["Key"].split("/")[1]
        for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="out/")["Contents"]
    }
    prefixes.discard("")  # directory marker objects some S3 clients create
    assert prefixes == {"_manifest.json", f"data-{json.loads(before)['executionId']}"}
