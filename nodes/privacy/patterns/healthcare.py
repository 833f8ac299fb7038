"""``patterns_healthcare``: default patterns plus ICD-10 codes and bare health plan ids.

ICD-10 codes are clinical data, not identifiers: they are reported (and redacted under
GDPR's Art. 9) but HIPAA Safe Harbor leaves them in place.
"""

from __future__ import annotations

from typing import Any

_ICD10 = r"[A-TV-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?"
_DX_CONTEXT = ["diagnosis", "diagnosed", "dx", "icd", "icd-10", "icd10", "code"]

HEALTHCARE_LIBRARY: dict[str, Any] = {
    "id": "patterns_healthcare",
    "name": "Healthcare identifiers (HIPAA)",
    "extends": ["patterns_default"],
    "patterns": [
        {
            "name": "health_plan",
            "entity": "HEALTH_PLAN_ID",
            "regex": r"[A-Z]{3}[0-9]{9}",
            "score": 0.3,
            "context": ["member", "plan", "insurance", "policy", "subscriber", "beneficiary"],
        },
        {
            "name": "icd10_labeled",
            "entity": "ICD10_CODE",
            "regex": r"(?i:icd-?10|dx|diagnosis(?: code)?)[: ]*(" + _ICD10 + ")",
            "group": 1,
            "score": 0.9,
        },
        {
            "name": "icd10",
            "entity": "ICD10_CODE",
            "regex": _ICD10,
            "score": 0.2,
            "context": _DX_CONTEXT,
        },
    ],
    "columnHints": [
        {"entity": "ICD10_CODE", "column": r"(?i)(icd|diagnosis|dx)(_?code)?$",
         "value": "^" + _ICD10 + "$"},
    ],
}  # fmt: skip
