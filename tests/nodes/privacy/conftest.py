"""Fixtures of the privacy tests: the labeled evaluation set and scanners."""

from __future__ import annotations

from typing import Any

import pytest

from engine.catalog import DictCatalog
from nodes.privacy.batch import ScanActor
from nodes.privacy.evaluation import EvalSet, generate
from nodes.privacy.library import resolve_library
from nodes.privacy.scan import Scanner
from tests.nodes.privacy.helpers import hipaa_batch_redactor, make_scanner

EVAL_ROWS = 300


@pytest.fixture(scope="session")
def evalset() -> EvalSet:
    return generate(EVAL_ROWS, seed=7)


@pytest.fixture(scope="session")
def healthcare_lib() -> dict[str, Any]:
    return resolve_library(DictCatalog().get, "patterns_healthcare")


@pytest.fixture(scope="session")
def scanner(healthcare_lib: dict[str, Any]) -> Scanner:
    """Patterns + gazetteer + NER: what the detection node uses by default."""
    return make_scanner(healthcare_lib, ner=True)


@pytest.fixture(scope="session")
def pattern_scanner(healthcare_lib: dict[str, Any]) -> Scanner:
    """Patterns only (no NER)."""
    return make_scanner(healthcare_lib, ner=False)


@pytest.fixture(scope="session")
def hipaa() -> ScanActor:
    """The detection scanner and HIPAA redaction of one batch (a module's own ``hipaa``
    fixture, where it has one, takes its place)."""
    return hipaa_batch_redactor()
