"""Spec loading and validation: Ray-free and fast."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.catalog import DictCatalog, FileCatalog
from engine.errors import CatalogError, SpecError, ValidationFailed
from engine.plan.validation import check, validate
from engine.spec import load_spec, parse_spec

GOOD = {
    "id": "p1",
    "nodes": [
        {"id": "load", "nodeType": "source", "category": "file", "config": {"uri": "a.csv"}},
        {
            "id": "map",
            "nodeType": "transform",
            "category": "field_mapper",
            "inputs": ["load"],
            "config": {"rename": {"a": "b"}},
        },
        {
            "id": "out",
            "nodeType": "output",
            "category": "archive",
            "inputs": ["map"],
            "config": {"uri": "out"},
        },
    ],
}


def test_yaml_and_json_load_to_the_same_spec(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(GOOD))
    import yaml

    (tmp_path / "p.yaml").write_text(yaml.safe_dump(GOOD))
    assert load_spec(tmp_path / "p.json") == load_spec(tmp_path / "p.yaml")
    spec = load_spec(tmp_path / "p.yaml")
    assert [n.id for n in spec.nodes] == ["load", "map", "out"]
    assert check(spec) == []


def test_spec_is_immutable() -> None:
    spec = parse_spec(GOOD)
    with pytest.raises(ValidationError):
        spec.nodes[0].id = "x"  # type: ignore[misc]


def test_unknown_keys_are_errors_with_node_id() -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["nodes"][1]["confg"] = {}
    bad["owner"] = "me"
    with pytest.raises(ValidationFailed) as e:
        parse_spec(bad)
    text = str(e.value)
    assert "node 'map' at confg: unknown key" in text
    assert "pipeline at owner: unknown key" in text


def test_every_problem_is_reported_at_once() -> None:
    spec = parse_spec(
        {
            "id": "bad",
            "nodes": [
                {"id": "a", "nodeType": "source", "category": "fil", "config": {}},
                {
                    "id": "b",
                    "nodeType": "transform",
                    "category": "field_mapper",
                    "inputs": ["c"],
                    "config": {"rename": {"x": "y"}},
                },
                {
                    "id": "c",
                    "nodeType": "transform",
                    "category": "field_mapper",
                    "inputs": ["b"],
                    "config": {"rename": {"x": "y"}},
                },
                {
                    "id": "d",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"dataSourceId": "ds_missing"},
                },
                {
                    "id": "e",
                    "nodeType": "output",
                    "category": "archive",
                    "inputs": ["d", "ghost"],
                    "config": {"uri": "x", "format": "xml"},
                },
            ],
        }
    )
    problems = check(spec, DictCatalog())
    text = "\n".join(map(str, problems))
    assert "node 'a' at nodeType/category: unknown node type 'source/fil'" in text
    assert "closest known types: source/file" in text
    assert "cycle:" in text and "b" in text and "c" in text
    assert "node 'd' at config.dataSourceId: dataSources 'ds_missing' not found" in text
    assert "node 'e' at inputs.1: unknown input node 'ghost'" in text
    assert "node 'e' at inputs: output/archive takes exactly 1 input(s), got 2" in text
    assert "node 'e' at config.format:" in text
    with pytest.raises(ValidationFailed) as e:
        validate(spec, DictCatalog())
    assert len(e.value.problems) == len(problems) >= 6


def test_duplicate_ids_and_bad_id_shape() -> None:
    with pytest.raises(ValidationFailed, match="must start with a letter"):
        parse_spec(
            {"id": "p", "nodes": [{"id": "9 bad", "nodeType": "source", "category": "file"}]}
        )
    spec = parse_spec(
        {
            "id": "p",
            "nodes": [
                {"id": "a", "nodeType": "source", "category": "file", "config": {"uri": "x.csv"}},
                {"id": "a", "nodeType": "source", "category": "file", "config": {"uri": "y.csv"}},
            ],
        }
    )
    assert any("duplicate node id" in str(p) for p in check(spec))


def test_resource_refs_resolve_against_file_catalog(tmp_path: Path) -> None:
    (tmp_path / "cat.yaml").write_text(
        textwrap.dedent("""
        dataSources:
          - {id: ds1, type: file, uri: data.csv}
        fieldMappings:
          - {id: m1, rename: {a: b}}
    """)
    )
    cat = FileCatalog(tmp_path / "cat.yaml")
    spec = parse_spec(
        {
            "id": "p",
            "nodes": [
                {
                    "id": "load",
                    "nodeType": "source",
                    "category": "file",
                    "config": {"dataSourceId": "ds1", "fieldMappings": "m1"},
                },
                {
                    "id": "map",
                    "nodeType": "transform",
                    "category": "field_mapper",
                    "inputs": ["load"],
                    "config": {"fieldMappings": "m2"},
                },
            ],
        }
    )
    problems = check(spec, cat)
    assert [str(p) for p in problems] == [
        "node 'map' at config.fieldMappings: fieldMappings 'm2' not found in the catalog; "
        "known fieldMappings: m1"
    ]


def test_bad_catalog_files_are_clear(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("dataSource:\n  - {id: x}\n")
    with pytest.raises(CatalogError, match="unknown resource kind 'dataSource'"):
        FileCatalog(tmp_path / "c.yaml")
    (tmp_path / "d.yaml").write_text("dataSources:\n  - {id: x}\n  - {id: x}\n")
    with pytest.raises(CatalogError, match="appears twice"):
        FileCatalog(tmp_path / "d.yaml")


def test_unparseable_text_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("id: [unclosed\n")
    with pytest.raises(SpecError, match="invalid YAML at line"):
        load_spec(tmp_path / "p.yaml")
    (tmp_path / "p.json").write_text('{"id": 1,}')
    with pytest.raises(SpecError, match="invalid JSON at line 1"):
        load_spec(tmp_path / "p.json")


def test_validation_and_planning_import_no_ray() -> None:
    code = (
        textwrap.dedent("""
        import sys
        from engine.registry import default_registry
        from engine.spec import parse_spec
        from engine.plan.validation import validate
        from engine.plan.planner import plan
        reg = default_registry()
        spec = parse_spec(%r)
        plan(spec, validate(spec), reg)
        heavy = [m for m in ("ray", "presidio_analyzer", "sdv", "spacy", "torch")
                 if m in sys.modules]
        print(len(list(reg)), heavy)
    """)
        % GOOD
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) >= 3
    assert out[1] == "[]"


def test_cli_validate_lists_problems_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        textwrap.dedent("""
        id: broken
        nodes:
          - {id: load, nodeType: source, category: file, config: {dataSourceId: nope}}
          - {id: x, nodeType: transform, category: mapper, inputs: [load]}
          - {id: y, nodeType: output, category: archive, inputs: [y], config: {uri: o}}
    """)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(tmp_path / "p.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "node 'load' at config.dataSourceId: dataSources 'nope' not found" in proc.stderr
    assert "unknown node type 'transform/mapper'" in proc.stderr
    assert "node 'y' at inputs.0: a node cannot read its own output" in proc.stderr


def test_cli_nodes_lists_every_registered_type() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engine", "nodes", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    schemas = json.loads(out)
    for key in ("source/file", "transform/field_mapper", "output/archive"):
        assert "properties" in schemas[key]["config"]


@pytest.mark.parametrize(
    ("kind", "resource", "message"),
    [
        ("dataSources", {"id": "ds1", "uri": "a.csv", "fieldMapings": []}, "'fieldMappings'"),
        ("environments", {"id": "env1", "uir": "envs/prod"}, "'uri'"),
        ("redactionRules", {"id": "r1", "rulez": []}, "'rules'"),
        ("fieldMappings", {"id": "m1", "renam": {"a": "b"}}, "'rename'"),
        ("qualityRules", {"id": "q1", "gate": "completeness", "minRatoi": 0.9}, "'minRatio'"),
        ("patternLibraries", {"id": "p1", "patterns": [], "extend": []}, "'extends'"),
        ("syntheticTemplates", {"id": "t1", "synthesiser": "ctgan"}, "'synthesizer'"),
        ("notificationChannels", {"id": "c1", "url": "https://x", "event": []}, "'events'"),
    ],
)
def test_catalog_refuses_unknown_keys_of_every_kind_with_the_closest_key(
    tmp_path: Path, kind: str, resource: dict[str, object], message: str
) -> None:
    import yaml

    from engine.registry import default_registry

    default_registry()  # node modules declare their resources' keys
    (tmp_path / "cat.yaml").write_text(yaml.safe_dump({kind: [resource]}))
    rid, typo = resource["id"], list(resource)[-1]  # each case's last key is the typo
    with pytest.raises(CatalogError) as err:
        FileCatalog(tmp_path / "cat.yaml")
    assert f"{kind} {rid!r}: unknown key {typo!r}; did you mean {message}?" in str(err.value)


def test_every_kind_declares_its_keys_once_the_nodes_are_loaded() -> None:
    from engine.catalog import KINDS, known_keys
    from engine.registry import default_registry

    default_registry()
    assert [k for k in KINDS if known_keys(k, {}) is None] == []
    assert "boundOrigin" in (known_keys("environments", {}) or set())  # set by the API


def test_validate_names_an_unknown_key_of_a_referenced_resource() -> None:
    catalog = DictCatalog({"fieldMappings": {"m1": {"id": "m1", "renmae": {"a": "b"}}}})
    spec = parse_spec(
        {
            "id": "p",
            "nodes": [
                {"id": "load", "nodeType": "source", "category": "file", "config": {"uri": "a"}},
                {
                    "id": "map",
                    "nodeType": "transform",
                    "category": "field_mapper",
                    "inputs": ["load"],
                    "config": {"fieldMappings": "m1"},
                },
            ],
        }
    )
    assert [str(p) for p in check(spec, catalog)] == [
        "node 'map' at config.fieldMappings: fieldMappings 'm1': unknown key 'renmae'; "
        "did you mean 'rename'?"
    ]


def test_cli_validate_refuses_a_misspelt_environment_key(tmp_path: Path) -> None:
    (tmp_path / "cat.yaml").write_text("environments:\n  - {id: env1, uir: envs/prod}\n")
    (tmp_path / "p.yaml").write_text(yaml_dump(GOOD))
    spec, catalog = str(tmp_path / "p.yaml"), str(tmp_path / "cat.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "validate", spec, "--catalog", catalog],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "environments 'env1': unknown key 'uir'; did you mean 'uri'?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_partition_by_with_csv_output_is_refused_at_validate_time() -> None:
    spec = json.loads(json.dumps(GOOD))
    spec["nodes"][2]["config"] = {"uri": "out", "format": "csv", "partitionBy": ["a"]}
    with pytest.raises(ValidationFailed) as err:
        validate(parse_spec(spec))
    (problem,) = err.value.problems
    assert problem.node_id == "out"
    assert "partitionBy is supported for format parquet only (format is 'csv')" in problem.message


def yaml_dump(doc: object) -> str:
    import yaml

    return yaml.safe_dump(doc)
