"""``patterns_default``: contact details, cards, SSN, IBAN, IP, URL, dates, names."""

from __future__ import annotations

from typing import Any

from nodes.privacy.names import NAME_REGEX

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*"

DEFAULT_LIBRARY: dict[str, Any] = {
    "id": "patterns_default",
    "name": "Default personal data patterns",
    "ner": True,
    "patterns": [
        {
            "name": "person_gazetteer",
            "entity": "PERSON",
            "regex": NAME_REGEX,
            "validator": "person_name",
            "score": 0.6,
            "overlapping": True,
            "context": ["patient", "name", "mr", "mrs", "ms", "dr", "seen", "visited"],
        },
        {
            "name": "email",
            "entity": "EMAIL_ADDRESS",
            "regex": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}",
            "validator": "email",
            "score": 1.0,
            "context": ["email", "e-mail", "mail", "contact"],
        },
        {
            "name": "phone_formatted",
            "entity": "PHONE_NUMBER",
            "regex": r"(?:\+[0-9]{1,3}[ .\-]?|00[0-9]{1,2}[ .\-]?)?"
            r"(?:\([0-9]{3}\) ?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}"
            r"(?: ?(?:x|ext\.?|#) ?[0-9]{1,5})?",
            "validator": "phone",
            "score": 0.85,
            "context": ["phone", "call", "tel", "telephone", "mobile", "cell", "fax", "contact"],
        },
        {
            "name": "phone_plain",
            "entity": "PHONE_NUMBER",
            "regex": r"\+?[0-9]{10,11}",
            "validator": "phone",
            "score": 0.3,
            "context": ["phone", "call", "tel", "telephone", "mobile", "cell", "fax"],
        },
        {
            "name": "credit_card",
            "entity": "CREDIT_CARD",
            "regex": r"[0-9](?:[ \-]?[0-9]){11,18}",
            "validator": "credit_card",
            "score": 1.0,
            "context": ["card", "credit", "visa", "mastercard", "amex", "payment", "cc"],
        },
        {
            "name": "us_ssn",
            "entity": "US_SSN",
            "regex": r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}",
            "validator": "us_ssn",
            "score": 0.85,
            "context": ["ssn", "social security", "social"],
        },
        {
            "name": "us_ssn_plain",
            "entity": "US_SSN",
            "regex": r"[0-9]{9}",
            "validator": "us_ssn",
            "score": 0.3,
            "context": ["ssn", "social security"],
        },
        {
            "name": "iban",
            "entity": "IBAN_CODE",
            "regex": r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?",
            "validator": "iban",
            "score": 1.0,
            "context": ["iban", "bank", "account", "transfer"],
        },
        {
            "name": "ipv4",
            "entity": "IP_ADDRESS",
            "regex": r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
            "validator": "ip_address",
            "score": 0.95,
            "context": ["ip", "address", "host", "client", "server"],
        },
        {
            "name": "ipv6",
            "entity": "IP_ADDRESS",
            "regex": r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
            "validator": "ip_address",
            "score": 0.95,
            "context": ["ip", "ipv6", "address", "host"],
        },
        {
            "name": "url",
            "entity": "URL",
            "regex": r"(?:https?|ftp)://[^ \t\r\n<>\"']+|www\.[^ \t\r\n<>\"']+",
            "score": 0.85,
            "trimTrailing": ".,;:!?)]}'\"",
            "context": ["url", "website", "link", "site", "web"],
        },
        {
            "name": "date_iso",
            "entity": "DATE_TIME",
            "regex": r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
            r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+\-][0-9]{2}:?[0-9]{2})?)?",
            "validator": "date",
            "score": 0.85,
            "context": ["date", "born", "birth", "dob", "admitted", "discharged", "visit"],
        },
        {
            "name": "date_numeric",
            "entity": "DATE_TIME",
            "regex": r"[0-9]{1,2}/[0-9]{1,2}/(?:[0-9]{4}|[0-9]{2})"
            r"|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}",
            "validator": "date",
            "score": 0.85,
            "context": ["date", "born", "birth", "dob", "admitted", "discharged", "visit"],
        },
        {
            "name": "date_words",
            "entity": "DATE_TIME",
            "regex": _MONTH + r"\.? [0-9]{1,2},? [0-9]{4}|[0-9]{1,2} " + _MONTH + r" [0-9]{4}",
            "validator": "date",
            "score": 0.85,
            "context": ["date", "born", "birth", "dob"],
        },
    ],
    "columnHints": [
        {
            "entity": "PERSON",
            "column": r"(?i)^(full_?|first_?|last_?|middle_?|given_?|family_?|sur|patient_?|"
            r"customer_?|contact_?|employee_?)?name$|^(?i:patient|customer)$",
            "value": r"^[A-Za-z][A-Za-z'.\-]*(?: [A-Za-z][A-Za-z'.\-]*){0,4}$",
        },
        {"entity": "US_ZIP", "column": r"(?i)(^|_)(zip|zipcode|zip_code|postal_?code|postcode)$",
         "value": r"^[0-9]{3,5}(?:-[0-9]{4})?$"},
        {"entity": "AGE", "column": r"(?i)(^|_)age(_years)?$", "value": r"^[0-9]{1,3}$"},
        {"entity": "DATE_TIME", "column": r"(?i)(dob|birth|date|_at$|admitted|discharged)",
         "value": "date"},
        {"entity": "STREET_ADDRESS", "column": r"(?i)(^|_)(street|address|addr)(_?line_?[0-9])?$",
         "value": r"[0-9]"},
        {"entity": "LOCATION", "column": r"(?i)(^|_)(city|town|county)$", "value": r"^[A-Za-z]"},
        {"entity": "PHONE_NUMBER", "column": r"(?i)(phone|mobile|fax|tel)", "value": r"[0-9]{7}"},
    ],
}  # fmt: skip
