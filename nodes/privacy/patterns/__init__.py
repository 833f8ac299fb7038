"""Built-in pattern libraries, registered as catalog resources (``patternLibraries``).

A pattern library is a plain resource any catalog can hold::

    id: patterns_mine
    extends: [patterns_default]          # optional: inherit other libraries
    ner: true                             # run NER (PERSON, LOCATION) when a model exists
    patterns:                             # regex + optional validator, context and group
      - {entity: EMPLOYEE_ID, regex: "EMP-[0-9]{6}", score: 0.9, context: [employee]}
    columnHints:                          # column-name rules used by contextualAnalysis
      - {entity: EMPLOYEE_ID, column: "(?i)emp(loyee)?_?id", value: "^[0-9]{6}$"}
    denyList: {EMPLOYEE_ID: [root, admin]}  # always flagged (whole words, any case)
    allowList: [support@example.com]      # never flagged

A pattern with the name of an inherited one replaces it; ``enabled: false`` switches an
inherited pattern off (e.g. ``{name: person_gazetteer, entity: PERSON, regex: x,
enabled: false}`` leaves names to NER alone).

Regexes are written in the subset shared by RE2 (``pyarrow.compute``) and Python's
``re`` in ASCII mode: no lookarounds, no backreferences, no ``\\s``/``\\b``. Word
boundaries are enforced by the scanner (a match may not touch a letter or digit), so
the RE2 prefilter is always at least as wide as the exact check and cannot miss.
"""

from __future__ import annotations

from typing import Any

from engine.catalog import register_builtin
from nodes.privacy.patterns.default import DEFAULT_LIBRARY
from nodes.privacy.patterns.finance import FINANCE_LIBRARY
from nodes.privacy.patterns.healthcare import HEALTHCARE_LIBRARY

BUILTIN_LIBRARIES: tuple[dict[str, Any], ...] = (
    DEFAULT_LIBRARY,
    HEALTHCARE_LIBRARY,
    FINANCE_LIBRARY,
)

for _lib in BUILTIN_LIBRARIES:
    register_builtin("patternLibraries", _lib)

__all__ = ["BUILTIN_LIBRARIES", "DEFAULT_LIBRARY", "FINANCE_LIBRARY", "HEALTHCARE_LIBRARY"]
