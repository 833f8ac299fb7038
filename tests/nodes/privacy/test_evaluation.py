"""Accuracy on the labeled evaluation set, and against Presidio on the same cells."""

from __future__ import annotations

from typing import Any

import pytest

from nodes.privacy.evaluation import (
    NER_ENTITIES,
    PATTERN_ENTITIES,
    EvalSet,
    predict_engine,
    predict_presidio,
    score,
)
from nodes.privacy.presidio_bridge import PRESIDIO_ENTITY_MAP, presidio_analyzer
from nodes.privacy.scan import Scanner
from tests.nodes.privacy.helpers import make_scanner

PRESIDIO_ROWS = 30  # Presidio runs per cell with spaCy: keep its share small
EVALUATED = set(PATTERN_ENTITIES) | set(NER_ENTITIES)


def _hints(lib: dict[str, Any]) -> list[dict[str, Any]]:
    return lib["columnHints"]


def test_every_pattern_entity_has_f1_at_least_095(
    evalset: EvalSet, scanner: Scanner, healthcare_lib: dict[str, Any]
) -> None:
    pred = predict_engine(evalset.to_arrow(), scanner, _hints(healthcare_lib))
    scores = score(evalset.gold, pred, EVALUATED)
    table = scores.table(sorted(EVALUATED))
    print(table)
    low = {e: v for e, v in table.items() if v["f1"] < 0.95}
    assert not low, low
    for e in EVALUATED:
        assert scores.gold[e] > 0, f"no {e} planted"


def test_decoy_columns_have_no_findings(
    evalset: EvalSet, scanner: Scanner, healthcare_lib: dict[str, Any]
) -> None:
    pred = predict_engine(evalset.to_arrow(), scanner, _hints(healthcare_lib))
    flagged = {c for _r, c, _e, _s, _t in pred}
    assert not flagged & {"order_number", "product_code", "amount"}


@pytest.fixture(scope="module")
def presidio() -> Any:
    return presidio_analyzer("en_core_web_sm")


def test_not_below_presidio_on_the_same_cells(
    evalset: EvalSet, healthcare_lib: dict[str, Any], presidio: Any
) -> None:
    rows = evalset.rows[:PRESIDIO_ROWS]
    gold = [g for g in evalset.gold if g[0] < PRESIDIO_ROWS]
    shared = sorted(EVALUATED & set(PRESIDIO_ENTITY_MAP))
    theirs = score(gold, predict_presidio(rows, presidio, shared), set(shared))
    # Names by NER and context rules (no name list); the same spaCy model as Presidio.
    ner_only = make_scanner(healthcare_lib, ner=True)
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    ours = score(gold, predict_engine(table, ner_only, _hints(healthcare_lib)), set(shared))
    report = {e: (ours.f1(e), theirs.f1(e)) for e in shared if ours.gold[e]}
    print(report)
    worse = {e: v for e, v in report.items() if v[0] < v[1]}
    assert not worse, worse
