"""``patterns_finance``: default patterns plus SWIFT/BIC and account numbers."""

from __future__ import annotations

from typing import Any

FINANCE_LIBRARY: dict[str, Any] = {
    "id": "patterns_finance",
    "name": "Financial identifiers",
    "extends": ["patterns_default"],
    "patterns": [
        {
            "name": "swift_bic",
            "entity": "SWIFT_CODE",
            "regex": r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?",
            "validator": "swift_bic",
            "score": 0.3,
            "context": ["swift", "bic", "bank"],
        },
        {
            "name": "account_labeled",
            "entity": "US_BANK_NUMBER",
            "regex": r"(?i:account|acct)(?i: number| no\.?| #)?[:# ]*([0-9]{8,17})",
            "group": 1,
            "score": 0.85,
        },
        {
            "name": "account",
            "entity": "US_BANK_NUMBER",
            "regex": r"[0-9]{8,17}",
            "score": 0.05,
            "context": ["account", "acct", "bank", "checking", "savings"],
        },
    ],
    "columnHints": [
        {"entity": "US_BANK_NUMBER", "column": r"(?i)(account|acct)_?(number|no|num)?$",
         "value": r"^[0-9]{6,17}$"},
        {"entity": "ABA_ROUTING_NUMBER", "column": r"(?i)(routing|aba)(_?number)?$",
         "value": r"^[0-9]{9}$"},
        {"entity": "SWIFT_CODE", "column": r"(?i)(swift|bic)(_?code)?$",
         "value": r"^[A-Z0-9]{8,11}$"},
    ],
}  # fmt: skip
