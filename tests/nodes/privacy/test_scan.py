"""Scanner behaviour: the fast path equals the per-cell path; libraries and lists."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from engine.catalog import DictCatalog
from nodes.privacy.evaluation import EvalSet
from nodes.privacy.library import check_library, resolve_library, scanner_for, scanner_spec
from nodes.privacy.scan import Scanner, compile_pattern
from tests.nodes.privacy.helpers import make_scanner


def _fast(scanner: Scanner, values: list[Any], column: str) -> list[list]:
    indices, _values, found = scanner.scan_array(pa.array(values, pa.string()), column)
    return [[] if i is None else found[i] for i in indices.to_pylist()]


def test_fast_path_finds_exactly_what_the_per_cell_path_finds(
    evalset: EvalSet, healthcare_lib: dict[str, Any]
) -> None:
    fresh = make_scanner(healthcare_lib, ner=False, threshold=0.3)
    reference = Scanner(patterns=fresh.patterns, threshold=0.3, contextual=True,
                        recognizers=fresh.recognizers, hints=fresh.hints)  # fmt: skip
    for col in evalset.columns:
        values = [None if r[col] is None else str(r[col]) for r in evalset.rows]
        plain = reference.scan_cells(values, col)
        fast = _fast(fresh, values, col)
        assert fast == plain, col
    assert sum(len(f) for f in plain) > 0
    # and on the free-text set (names, addresses and phones of many locales)
    from nodes.privacy.freetext_eval import generate

    data = generate(150, seed=4)
    for col in ("notes", "comment"):
        values = [r[col] for r in data.rows]
        assert _fast(fresh, values, col) == reference.scan_cells(values, col), col


def test_fast_path_equals_per_cell_path_with_ner(
    evalset: EvalSet, healthcare_lib: dict[str, Any]
) -> None:
    fast_scanner = make_scanner(healthcare_lib, ner=True)
    reference = Scanner(
        patterns=fast_scanner.patterns, threshold=0.5, contextual=True, ner=fast_scanner.ner,
        recognizers=fast_scanner.recognizers, hints=fast_scanner.hints,
    )
    values = [r["notes"] for r in evalset.rows[:60]]
    assert _fast(fast_scanner, values, "notes") == reference.scan_cells(values, "notes")


def test_decoys_are_not_flagged(pattern_scanner: Scanner) -> None:
    decoys = [
        "order ORD-2024-88123 shipped",
        "product SKU-AX-4471 in stock",
        "tracking 1Z999AA10123456784",
        "firmware v3.14.159 at 12:30:45",
        "total $1234.56, invoice 764656492",
        "room 310B",
    ]
    found = _fast(pattern_scanner, decoys, "comment")
    assert found == [[] for _ in decoys]


def test_context_words_raise_low_scores(healthcare_lib: dict[str, Any]) -> None:
    s = make_scanner(healthcare_lib, ner=False)
    assert [f.entity for f in s.scan_cells(["ref 536904399"])[0]] == []
    assert [f.entity for f in s.scan_cells(["my ssn is 536904399"])[0]] == ["US_SSN"]
    # the column name is context too
    assert [f.entity for f in s.scan_cells(["536904399"], column="ssn")[0]] == ["US_SSN"]
    # context counts only within the same sentence
    assert s.scan_cells(["SSN on file. Invoice 536904399"])[0] == []


def test_user_library_with_deny_and_allow_lists() -> None:
    catalog = DictCatalog(
        {
            "patternLibraries": {
                "patterns_acme": {
                    "id": "patterns_acme",
                    "extends": ["patterns_default"],
                    "ner": False,
                    "patterns": [
                        {
                            "name": "employee",
                            "entity": "EMPLOYEE_ID",
                            "regex": "EMP-[0-9]{6}",
                            "score": 0.9,
                            "context": ["employee"],
                        },
                    ],
                    "denyList": {"PROJECT_CODENAME": ["Bluebird", "Red Falcon"]},
                    "allowList": ["support@acme.example"],
                }
            }
        }
    )
    lib = resolve_library(catalog.get, "patterns_acme")
    assert check_library(lib) == []
    spec = scanner_spec(lib, threshold=0.5, contextual=True, entities=None, ner_model=None)
    s = scanner_for(spec)
    text = "EMP-004211 on red falcon wrote to support@acme.example and bob@acme.example"
    got = {(f.entity, text[f.start : f.end]) for f in s.scan_cells([text])[0]}
    assert got == {
        ("EMPLOYEE_ID", "EMP-004211"),
        ("PROJECT_CODENAME", "red falcon"),
        ("EMAIL_ADDRESS", "bob@acme.example"),
    }


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"entity": "X", "regex": "(?<!\\d)[0-9]{4}"}, "not RE2-compatible"),
        ({"entity": "X", "regex": "[0-9"}, "does not compile"),
        ({"entity": "X", "regex": "[0-9]+", "validator": "nope"}, "unknown validator"),
        ({"entity": "X", "regex": "[0-9]+", "group": 1}, "group 1"),
        ({"regex": "[0-9]+"}, "needs 'entity'"),
    ],
)
def test_bad_patterns_are_reported(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)


def test_library_cycles_are_reported() -> None:
    cat = DictCatalog({"patternLibraries": {
        "a": {"id": "a", "extends": ["b"]}, "b": {"id": "b", "extends": ["a"]}}})  # fmt: skip
    with pytest.raises(ValueError, match="extends itself"):
        resolve_library(cat.get, "a")
