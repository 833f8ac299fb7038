"""The bad-input table: every kind of broken or surprising input file, one row each.

Inputs are written with the standard library (``csv``, ``json``, ``gzip``, ``sqlite3``);
outputs and quarantine files are read back with ``pyarrow.dataset``, never with the
reader under test. Each row says what a user relies on:

- a failure is one line that names the node, the file and the line, with no terminal
  colour codes, no server path and no Ray hint; nothing is published;
- under ``onError: quarantine`` nothing is lost: rows written + rows quarantined equal
  the rows generated, and the counters say so;
- zero rows still commit a dataset that carries the columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.dataset as pads
import pytest

from engine.catalog import DictCatalog
from engine.context import RunOptions
from engine.run.runner import run_pipeline
from tests.engine.helpers import node, pipeline

pytestmark = pytest.mark.usefixtures("ray_session")

ROWS = 120  # data rows per generated file
HEADER = ["id", "name", "city"]


def _csv_text(rows: list[list[Any]], header: list[str] = HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _people(n: int = ROWS, start: int = 0) -> list[list[Any]]:
    return [[i, f"name{i}", ["Oslo", "Lima", "Pune"][i % 3]] for i in range(start, start + n)]


@dataclass
class Case:
    """One row of the table: how to write the input, and what the run must show."""

    write: Callable[[Path], str]  # writes the input under the folder; returns its uri
    fmt: str = "csv"
    on_error: str = "fail"
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # regex the one-line failure must match
    rows_out: int | None = None
    quarantined: int = 0
    columns: list[str] | None = None
    warning: str | None = None
    nulls: dict[str, int] = field(default_factory=dict)
    catalog: Callable[[Path], dict[str, Any]] | None = None


def _unbalanced_quote(d: Path) -> str:
    lines = _csv_text(_people()).splitlines(keepends=True)
    lines.insert(41, '41,"Ann,Oslo\n')  # line 42 of the file opens a quote it never closes
    (d / "quote.csv").write_text("".join(lines))
    return str(d / "quote.csv")


def _ragged(d: Path) -> str:
    lines = _csv_text(_people()).splitlines(keepends=True)
    lines[41] = "40,name40,Oslo,extra\n"  # line 42: four fields where the header has three
    (d / "ragged.csv").write_text("".join(lines))
    return str(d / "ragged.csv")


def _empty(d: Path) -> str:
    (d / "empty.csv").write_bytes(b"")
    return str(d / "empty.csv")


def _cut_gzip(d: Path) -> str:
    data = gzip.compress(_csv_text(_people(20000)).encode())
    (d / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    return str(d / "cut.csv.gz")


def _jsonl_61(d: Path) -> str:
    lines = [json.dumps({"id": i, "name": f"n{i}"}) for i in range(ROWS)]
    lines[60] = '{"id": 60, "name": "n60"'  # line 61 is missing its closing brace
    (d / "broken.jsonl").write_text("\n".join(lines) + "\n")
    return str(d / "broken.jsonl")


def _invalid_utf8(d: Path) -> str:
    text = _csv_text(_people()).encode().splitlines(keepends=True)
    text[31] = b"30,na\xffme30,Oslo\n"  # line 32: one byte that is not UTF-8
    (d / "latin.csv").write_bytes(b"".join(text))
    return str(d / "latin.csv")


def _mixed(d: Path) -> str:
    folder = d / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text(_csv_text(_people(60)))
    rows = [[i, f"name{i}", f"u{i}@example.org"] for i in range(60, ROWS)]
    (folder / "b.csv").write_text(_csv_text(rows, ["id", "name", "email"]))
    return str(folder)


def _mixed_parquet(d: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = d / "pq"
    folder.mkdir()
    pq.write_table(
        pa.table({"id": list(range(60)), "name": [f"n{i}" for i in range(60)]}),
        folder / "a.parquet",
    )
    pq.write_table(pa.table({"id": list(range(60, ROWS)), "email": ["e"] * (ROWS - 60)}),
                   folder / "b.parquet")  # fmt: skip
    return str(folder)


def _empty_fields(d: Path) -> str:
    rows = [[i, "" if i % 4 == 0 else f"name{i}", "Oslo"] for i in range(ROWS)]
    (d / "gaps.csv").write_text(_csv_text(rows))
    return str(d / "gaps.csv")


def _header_only(d: Path) -> str:
    (d / "header.csv").write_text(_csv_text([]))
    return str(d / "header.csv")


def _sqlite(d: Path) -> str:
    con = sqlite3.connect(d / "app.db")
    con.execute("CREATE TABLE people (id INTEGER, name TEXT)")
    con.executemany("INSERT INTO people VALUES (?, ?)", [(i, f"n{i}") for i in range(ROWS)])
    con.commit()
    con.close()
    return "ds_db"


def _db_catalog(d: Path) -> dict[str, Any]:
    return {
        "dataSources": {
            "ds_db": {
                "id": "ds_db",
                "type": "database",
                "url": f"sqlite:///{d / 'app.db'}",
                "queries": {"none": {"sql": "SELECT id, name FROM people WHERE id < 0"}},
            }
        }
    }


CASES = {
    "unbalanced_quote": Case(
        _unbalanced_quote, error=r"node 'load': quote\.csv line 42: unbalanced quote"
    ),
    "ragged_row": Case(_ragged, error=r"node 'load': ragged\.csv line 42: expected 3 columns"),
    "ragged_row_quarantined": Case(
        _ragged, on_error="quarantine", rows_out=ROWS - 1, quarantined=1
    ),
    "empty_file": Case(_empty, error=r"node 'load': empty\.csv is empty"),
    "cut_short_gzip": Case(_cut_gzip, error=r"node 'load': cut\.csv\.gz is cut short"),
    "jsonl_broken_at_61": Case(
        _jsonl_61, fmt="jsonl", error=r"node 'load': broken\.jsonl line 61: invalid JSON"
    ),
    "jsonl_broken_at_61_quarantined": Case(
        _jsonl_61, fmt="jsonl", on_error="quarantine", rows_out=ROWS - 1, quarantined=1
    ),
    "invalid_utf8": Case(
        _invalid_utf8, error=r"node 'load': latin\.csv line 32: column 'name' is not valid UTF-8"
    ),
    "invalid_utf8_quarantined": Case(
        _invalid_utf8, on_error="quarantine", rows_out=ROWS - 1, quarantined=1
    ),
    "invalid_utf8_dropped": Case(_invalid_utf8, on_error="drop", rows_out=ROWS - 1),
    "mixed_schemas_merged": Case(
        _mixed,
        rows_out=ROWS,
        columns=["id", "name", "city", "email"],
        warning=r"parts/b\.csv has other columns than parts/a\.csv .*email",
        nulls={"city": ROWS - 60, "email": 60},
    ),
    "mixed_parquet_merged": Case(
        _mixed_parquet,
        fmt="parquet",
        rows_out=ROWS,
        columns=["id", "name", "email"],
        warning=r"pq/b\.parquet has other columns than pq/a\.parquet",
        nulls={"name": ROWS - 60, "email": 60},
    ),
    "mixed_schemas_refused": Case(
        _mixed,
        config={"schemaDrift": "fail"},
        error=r"node 'load': parts/b\.csv has other columns than parts/a\.csv",
    ),
    "empty_fields_are_null": Case(_empty_fields, rows_out=ROWS, nulls={"name": ROWS // 4}),
    "header_only_csv": Case(_header_only, rows_out=0, columns=HEADER),
    "query_without_rows": Case(
        _sqlite, fmt="database", rows_out=0, columns=["id", "name"], catalog=_db_catalog
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_data_root: Path, home: Path) -> None:
    case = CASES[name]
    d = tmp_data_root
    uri = case.write(d)
    out = d / "out"
    if case.fmt == "database":
        source = node("load", "source/database", {"dataSourceId": uri, "query": "none"})
    else:
        source = node(
            "load",
            "source/file",
            {"uri": uri, "format": case.fmt, **case.config},
            onError=case.on_error,
        )
    spec = pipeline(source, node("out", "output/archive", {"uri": str(out)}, ["load"]))
    catalog = DictCatalog(case.catalog(d)) if case.catalog else None
    result = run_pipeline(spec, catalog, options=RunOptions(home=home))

    if case.error:
        assert not result.ok
        msg = result.error or ""
        assert re.search(case.error, msg), msg
        assert "\n" not in msg and "\x1b" not in msg and len(msg) < 500, msg
        assert str(d) not in msg and "retry attempts" not in msg, msg
        assert result.error_node == "load"
        assert not out.exists(), "a failed run published its output"
        trace = home / "executions" / result.execution_id / "trace.txt"
        assert trace.is_file() and trace.stat().st_size > len(msg)
        return

    assert result.ok, result.error
    table = pads.dataset(str(out), format="parquet").to_table()
    assert table.num_rows == case.rows_out
    load = result.nodes["load"]
    assert load.rowsOut == case.rows_out
    assert result.nodes["out"].rowsIn == case.rows_out
    if case.columns is not None:
        assert table.column_names == case.columns
    for col, n in case.nulls.items():
        assert table.column(col).null_count == n, col
    if case.warning:
        assert any(re.search(case.warning, w) for w in load.states.get("warnings", [])), load.states
    dropped = int(load.counters.get("droppedRows", 0))
    quarantined = int(load.counters.get("quarantinedRows", 0))
    assert quarantined == case.quarantined
    if case.on_error == "drop":
        assert dropped + table.num_rows == ROWS
    if case.quarantined:
        q = pads.dataset(
            str(home / "artifacts" / result.execution_id / "load" / "quarantine"),
            format="parquet",
        ).to_table()
        assert q.num_rows == case.quarantined
        assert table.num_rows + q.num_rows == ROWS  # nothing lost
        row = q.to_pylist()[0]
        assert row["_file"] == Path(uri).name and row["_line"] in (32, 42, 61), row
        assert row["_quarantine_reason"]


@pytest.mark.parametrize("output", ["archive_csv", "archive_jsonl", "environment", "training"])
def test_zero_rows_reach_every_output(output: str, tmp_data_root: Path, home: Path) -> None:
    """A header-only CSV commits an empty output that still names the columns."""
    import pyarrow.parquet as pq

    from nodes.outputs import versions

    d = tmp_data_root
    uri = _header_only(d)
    config: dict[str, Any] = {
        "archive_csv": {"uri": str(d / "out"), "format": "csv"},
        "archive_jsonl": {"uri": str(d / "out"), "format": "jsonl"},
        "environment": {"environmentId": "env_empty"},
        "training": {"location": str(d / "train"), "format": "parquet", "keyColumn": "id"},
    }[output]
    kind = {"environment": "output/environment", "training": "output/model_training"}.get(
        output, "output/archive"
    )
    catalog = DictCatalog(
        {"environments": {"env_empty": {"id": "env_empty", "uri": str(d / "env")}}}
    )
    spec = pipeline(
        node("load", "source/file", {"uri": uri, "format": "csv"}),
        node("out", kind, config, ["load"]),
    )
    result = run_pipeline(spec, catalog, options=RunOptions(home=home))
    assert result.ok, result.error
    if output == "archive_csv":
        [f] = [p for p in (d / "out").iterdir() if p.suffix == ".csv"]
        assert next(csv.reader(f.open())) == HEADER
        assert len(f.read_text().splitlines()) == 1
    elif output == "archive_jsonl":
        assert [p.stat().st_size for p in (d / "out").iterdir() if p.suffix == ".jsonl"] == [0]
    elif output == "environment":
        pointer = versions.read_pointer(str(d / "env"))
        folder = d / "env" / "versions" / pointer["version"]
        [f] = list(folder.glob("*.parquet"))
        table = pq.read_table(f)
        assert table.num_rows == 0 and table.column_names == HEADER
    else:
        manifests = list((d / "train").rglob("_manifest.json"))
        assert manifests, list((d / "train").rglob("*"))
        manifest = json.loads(manifests[0].read_text())
        assert manifest["rows"] == 0
        # the key column assigns splits and is not a feature unless named
        assert [c["name"] for c in manifest["schema"]] == ["name", "city"]
