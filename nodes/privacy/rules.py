"""Built-in redaction rule sets (``redactionRules`` catalog resources).

A rule set is a plain resource::

    id: rules_mine
    keyRef: env:PRIVACY_KEY            # for hash / fake / encrypt
    rules:
      - {entity: EMAIL_ADDRESS, operator: hash}
      - {entity: CREDIT_CARD, operator: mask, keepLast: 4}
      - {column: notes, operator: drop}
    default: {operator: replace}       # every other finding
"""

from __future__ import annotations

from typing import Any

from engine.catalog import register_builtin

RULES_DEFAULT: dict[str, Any] = {
    "id": "rules_default",
    "name": "Replace every finding with its type tag; cards masked to the last 4 digits",
    "rules": [
        {"entity": "CREDIT_CARD", "operator": "mask", "keepLast": 4},
        {"entity": "DATE_TIME", "operator": "generalize", "granularity": "year"},
        {"entity": "US_ZIP", "operator": "generalize"},
        {"entity": "AGE", "operator": "generalize"},
    ],
    "default": {"operator": "replace"},
}
RULES_PSEUDONYMIZE: dict[str, Any] = {
    "id": "rules_pseudonymize",
    "name": "Keyed HMAC pseudonyms for every finding (joins keep working); needs keyRef",
    "rules": [{"entity": "PERSON", "operator": "fake"}],
    "default": {"operator": "hash"},
}


register_builtin("redactionRules", RULES_DEFAULT)
register_builtin("redactionRules", RULES_PSEUDONYMIZE)
