"""Compliance frameworks as concrete rule sets: entity type -> required treatment.

Each framework lists the entity types it requires removing (or transforming) before
data leaves the pipeline, and the default treatment the redaction node applies when
only ``complianceFramework`` is set. Treatments are redaction operator specs (see
:mod:`nodes.privacy.operators`); ``fallback`` is used when the preferred operator
needs a key (``keyRef``) and none is configured.

* HIPAA Safe Harbor (45 CFR 164.514(b)(2)): the 18 identifiers. Names, contacts and
  ids are replaced by a type tag (codes derived from identifiers are not allowed
  under Safe Harbor), dates are reduced to the year, ZIP codes to their first three
  digits (``000`` for the ZIP3 areas under 20,000 people), ages over 89 become ``90+``.
* GDPR: direct identifiers pseudonymized with a keyed HMAC (Art. 4(5)), Art. 9
  special categories (health, ethnic origin, religion...) redacted, ages in ten-year bands.
* PCI-DSS: primary account numbers masked to the last four digits (req. 3.4);
  sensitive authentication data removed.
* CCPA: personal information pseudonymized (keyed HMAC) or replaced; ages (a protected
  classification) generalized to ten-year bands, as under GDPR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ZIP3 areas with 20,000 or fewer people (2000 census), published by HHS for Safe Harbor.
HIPAA_RESTRICTED_ZIP3 = frozenset(
    {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
     "878", "879", "884", "890", "893"}
)  # fmt: skip

_REPLACE: dict[str, Any] = {"operator": "replace"}
_PSEUDONYM: dict[str, Any] = {"operator": "hash", "fallback": {"operator": "replace"}}


@dataclass(frozen=True)
class Framework:
    """A compliance framework's rule set.

    Attributes:
        name: ``HIPAA``, ``GDPR``, ``PCI-DSS`` or ``CCPA``.
        title: Human-readable name.
        required: Entity type -> default treatment; every entity listed must not reach
            an output untreated.
        identifiers: Entity type -> the framework's own name for it (for reports).
    """

    name: str
    title: str
    required: dict[str, dict[str, Any]]
    identifiers: dict[str, str] = field(default_factory=dict)

    def treatment(self, entity: str) -> dict[str, Any] | None:
        return self.required.get(entity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "required": {k: dict(v) for k, v in self.required.items()},
            "identifiers": dict(self.identifiers),
        }


HIPAA = Framework(
    name="HIPAA",
    title="HIPAA Safe Harbor de-identification (45 CFR 164.514(b)(2))",
    required={
        "PERSON": _REPLACE,
        "STREET_ADDRESS": _REPLACE,
        "LOCATION": _REPLACE,
        "US_ZIP": {"operator": "generalize"},
        "POSTAL_CODE": _REPLACE,
        "DATE_TIME": {"operator": "generalize", "granularity": "year"},
        "AGE": {"operator": "generalize"},
        "PHONE_NUMBER": _REPLACE,
        "EMAIL_ADDRESS": _REPLACE,
        "US_SSN": _REPLACE,
        "MEDICAL_RECORD_NUMBER": _REPLACE,
        "HEALTH_PLAN_ID": _REPLACE,
        "US_BANK_NUMBER": _REPLACE,
        "IBAN_CODE": _REPLACE,
        "CREDIT_CARD": _REPLACE,
        "US_DRIVER_LICENSE": _REPLACE,
        "US_PASSPORT": _REPLACE,
        "DEA_NUMBER": _REPLACE,
        "NPI": _REPLACE,
        "NATIONAL_ID": _REPLACE,
        "UK_NHS": _REPLACE,
        "US_ITIN": _REPLACE,
        "CRYPTO": _REPLACE,
        "VEHICLE_ID": _REPLACE,
        "DEVICE_ID": _REPLACE,
        "URL": _REPLACE,
        "IP_ADDRESS": _REPLACE,
        "BIOMETRIC_ID": {"operator": "redact"},
    },
    identifiers={
        "PERSON": "(A) names",
        "STREET_ADDRESS": "(B) geographic subdivisions smaller than a state",
        "LOCATION": "(B) geographic subdivisions smaller than a state",
        "US_ZIP": "(B) ZIP codes (first 3 digits kept unless population <= 20,000)",
        "POSTAL_CODE": "(B) geographic subdivisions smaller than a state (postal codes)",
        "DATE_TIME": "(C) dates (except year) related to an individual",
        "AGE": "(C) ages over 89",
        "PHONE_NUMBER": "(D/E) telephone and fax numbers",
        "EMAIL_ADDRESS": "(F) email addresses",
        "US_SSN": "(G) social security numbers",
        "MEDICAL_RECORD_NUMBER": "(H) medical record numbers",
        "HEALTH_PLAN_ID": "(I) health plan beneficiary numbers",
        "US_BANK_NUMBER": "(J) account numbers",
        "IBAN_CODE": "(J) account numbers",
        "CREDIT_CARD": "(J) account numbers",
        "US_DRIVER_LICENSE": "(K) certificate/license numbers",
        "US_PASSPORT": "(K) certificate/license numbers (passport)",
        "DEA_NUMBER": "(K) certificate/license numbers",
        "NPI": "(R) any other unique identifying number",
        "NATIONAL_ID": "(R) any other unique identifying number (national ids)",
        "UK_NHS": "(R) any other unique identifying number (NHS numbers)",
        "US_ITIN": "(R) any other unique identifying number (taxpayer ids)",
        "CRYPTO": "(J) account numbers (crypto wallets)",
        "VEHICLE_ID": "(L) vehicle identifiers",
        "DEVICE_ID": "(M) device identifiers",
        "URL": "(N) web URLs",
        "IP_ADDRESS": "(O) IP addresses",
        "BIOMETRIC_ID": "(P) biometric identifiers",
    },
)

_GDPR_PERSONAL = [
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "STREET_ADDRESS",
    "LOCATION",
    "US_ZIP",
    "POSTAL_CODE",
    "IP_ADDRESS",
    "URL",
    "US_SSN",
    "NATIONAL_ID",
    "UK_NHS",
    "US_ITIN",
    "CRYPTO",
    "IBAN_CODE",
    "CREDIT_CARD",
    "US_BANK_NUMBER",
    "MEDICAL_RECORD_NUMBER",
    "HEALTH_PLAN_ID",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "DEVICE_ID",
    "VEHICLE_ID",
]
_GDPR_SPECIAL = ["ICD10_CODE", "NRP", "BIOMETRIC_ID", "HEALTH_CONDITION"]

GDPR = Framework(
    name="GDPR",
    title="EU GDPR: pseudonymize personal data (Art. 4(5)), remove Art. 9 special categories",
    required={
        **{e: _PSEUDONYM for e in _GDPR_PERSONAL},
        "DATE_TIME": {"operator": "generalize", "granularity": "year"},
        # an age with a name, a date or a place singles a person out: ten-year bands
        "AGE": {"operator": "generalize", "bucket": 10},
        **{e: {"operator": "redact"} for e in _GDPR_SPECIAL},
    },
    identifiers={
        **{e: "Art. 4(1) personal data" for e in _GDPR_PERSONAL},
        "DATE_TIME": "Art. 4(1) personal data (dates of birth/events)",
        "AGE": "Art. 4(1) personal data (age)",
        **{e: "Art. 9 special category data" for e in _GDPR_SPECIAL},
    },
)

PCI_DSS = Framework(
    name="PCI-DSS",
    title="PCI DSS v4: render PAN unreadable (req. 3.4/3.5), no sensitive auth data",
    required={
        "CREDIT_CARD": {"operator": "mask", "keepLast": 4},
        "CARD_CVV": {"operator": "redact"},
        "CARD_TRACK_DATA": {"operator": "redact"},
    },
    identifiers={
        "CREDIT_CARD": "primary account number (PAN)",
        "CARD_CVV": "sensitive authentication data",
        "CARD_TRACK_DATA": "sensitive authentication data",
    },
)

_CCPA_PI = [
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "STREET_ADDRESS",
    "US_ZIP",
    "POSTAL_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "NATIONAL_ID",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_BANK_NUMBER",
    "MEDICAL_RECORD_NUMBER",
    "HEALTH_PLAN_ID",
]

CCPA = Framework(
    name="CCPA",
    title="CCPA/CPRA: deidentify personal information (Cal. Civ. Code 1798.140)",
    required={
        **{e: _PSEUDONYM for e in _CCPA_PI},
        # age is a protected classification characteristic (1798.140(v)(1)(H))
        "AGE": {"operator": "generalize", "bucket": 10},
    },
    identifiers={
        **{e: "personal information" for e in _CCPA_PI},
        "AGE": "personal information (protected classification: age)",
    },
)

FRAMEWORKS: dict[str, Framework] = {f.name: f for f in (HIPAA, GDPR, PCI_DSS, CCPA)}
FRAMEWORK_NAMES = tuple(FRAMEWORKS)


def get_framework(name: str | None) -> Framework | None:
    """The framework called ``name`` (case-insensitive; ``PCI`` = ``PCI-DSS``)."""
    if not name:
        return None
    key = name.upper().replace("_", "-")
    key = {"PCI": "PCI-DSS", "PCIDSS": "PCI-DSS"}.get(key, key)
    if key not in FRAMEWORKS:
        raise ValueError(
            f"unknown compliance framework {name!r}; expected one of {FRAMEWORK_NAMES}"
        )
    return FRAMEWORKS[key]
