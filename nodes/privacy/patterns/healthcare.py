"""``patterns_healthcare``: default patterns plus MRN, NPI, DEA, health plan ids, ICD-10."""

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
            "name": "mrn_labeled",
            "entity": "MEDICAL_RECORD_NUMBER",
            "regex": r"(?i:mrn|mr#|medical record(?: number| no\.?| #)?)"
            r"[:# \-]*([A-Z]{0,3}-?[0-9]{5,10})",
            "group": 1,
            "score": 0.9,
        },
        {
            "name": "npi",
            "entity": "NPI",
            "regex": r"[0-9]{10}",
            "validator": "npi",
            "score": 0.4,
            "context": ["npi", "provider", "prescriber", "physician"],
        },
        {
            "name": "dea",
            "entity": "DEA_NUMBER",
            "regex": r"[A-Z][A-Z9][0-9]{7}",
            "validator": "dea",
            "score": 0.6,
            "context": ["dea", "registration", "prescriber"],
        },
        {
            "name": "health_plan_labeled",
            "entity": "HEALTH_PLAN_ID",
            "regex": r"(?i:member id|member #|member no\.?|subscriber id"
            r"|policy(?: number| no\.?| #)?|plan id|insurance id)"
            r"[:# \-]*([A-Z0-9]{2,4}-?[0-9]{5,12})",
            "group": 1,
            "score": 0.9,
        },
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
        {"entity": "MEDICAL_RECORD_NUMBER",
         "column": r"(?i)(^|_)(mrn|medical_?record(_?(number|no|id))?)$",
         "value": r"^[A-Z]{0,4}-?[0-9]{5,10}$"},
        {"entity": "HEALTH_PLAN_ID",
         "column": r"(?i)(member|policy|plan|insurance|subscriber)_?(id|number|no)$",
         "value": r"^[A-Z0-9\-]{6,20}$"},
        {"entity": "NPI", "column": r"(?i)(^|_)npi$", "value": r"^[0-9]{10}$"},
        {"entity": "ICD10_CODE", "column": r"(?i)(icd|diagnosis|dx)(_?code)?$",
         "value": "^" + _ICD10 + "$"},
    ],
}  # fmt: skip
