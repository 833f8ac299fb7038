"""``patterns_default``: Presidio's predefined recognizers and the HIPAA identifiers.

Regex patterns (with checksum validators where Presidio has them) for emails, cards,
SSN, ITIN, IBAN, crypto wallets, UK NHS, ABA routing, DEA numbers, driver's licences,
passports, medical record and health plan numbers; built-in recognizers
(:mod:`nodes.privacy.recognizers`) for IP addresses, phone numbers, URLs, dates, postal
codes, street addresses and names in context; NER for names and places.

``ID_NUMBER`` is the fail-closed catch-all: a standalone run of 9-19 digits (or one or
two letters and 6-12 digits) that no other recognizer explains is treated as an
identifier, unless a business label right before it says what it is (``order``,
``invoice``, ``sku``, ``tracking``...).
"""

from __future__ import annotations

from typing import Any

from nodes.privacy.recognizers import RECOGNIZERS

# Labels of business numbers that are not personal identifiers.
BUSINESS_LABELS = [
    "order", "invoice", "inv", "po", "sku", "product", "item", "part", "model", "ticket",
    "tracking", "shipment", "parcel", "batch", "lot", "build", "version", "ver", "release",
    "transaction", "txn", "confirmation", "booking", "flight", "room", "isbn", "upc", "ean",
    "gtin", "asin", "catalog", "catalogue", "incident", "job", "request", "req", "quote",
    "receipt", "reference", "ref", "case", "sample", "specimen", "accession", "revision",
    "rev", "commit", "page", "issue", "bug", "pr", "run", "step", "error", "code",
]  # fmt: skip

_SSN_CONTEXT = ["ssn", "social security", "social", "ss#", "ss #", "tin"]

# Letters of the scripts an internationalized address (RFC 6531) is written in
# (``jürgen.müller@example.de``, ``用户@例子.广告``), as literal code-point ranges that
# Python's ``re`` and RE2 read alike (``re`` has no ``\p{L}``, RE2 no ``\u``). The
# punctuation blocks (Latin-1 signs, general punctuation, CJK and full-width punctuation)
# stay out, so an address ends before "。" or "»".
_EMAIL_LETTERS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u1fff"  # Latin ... Greek, Cyrillic, Arabic, Indic
    "\u2c00-\u2dff"  # Glagolitic, Latin Extended-C, Coptic, Georgian, Ethiopic Extended
    "\u3040-\ud7ff"  # kana, Bopomofo, Hangul, CJK ideographs, Yi, Hangul syllables
    "\uf900-\ufdff\ufe70-\ufefc"  # compatibility ideographs, presentation forms
    "\uff21-\uff3a\uff41-\uff5a\uff66-\uffdc"  # full-width Latin, half-width kana, Hangul
)
_EMAIL_REGEX = (
    f"[A-Za-z0-9._%+\\-{_EMAIL_LETTERS}]+@[A-Za-z0-9\\-{_EMAIL_LETTERS}]+"
    f"(?:\\.[A-Za-z0-9\\-{_EMAIL_LETTERS}]+)*"
    f"\\.(?:xn--[A-Za-z0-9]{{1,59}}|[A-Za-z{_EMAIL_LETTERS}]{{2,24}})"
)

DEFAULT_LIBRARY: dict[str, Any] = {
    "id": "patterns_default",
    "name": "Default personal data patterns",
    "ner": True,
    "recognizers": sorted(RECOGNIZERS),
    "patterns": [
        {
            "name": "email",
            "entity": "EMAIL_ADDRESS",
            "regex": _EMAIL_REGEX,
            "validator": "email",
            "score": 1.0,
            "context": ["email", "e-mail", "mail", "contact"],
        },
        {
            "name": "credit_card",
            "entity": "CREDIT_CARD",
            "regex": r"[0-9]{12,19}|[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{1,7}"
            r"|[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{1,7}|[0-9]{4}\.[0-9]{4}\.[0-9]{4}\.[0-9]{1,7}"
            r"|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5}",
            "validator": "credit_card",
            "score": 1.0,
            "context": ["card", "credit", "visa", "mastercard", "amex", "payment", "cc"],
        },
        {
            "name": "us_ssn",
            "entity": "US_SSN",
            "regex": r"[0-9]{3}[\-. ]?[0-9]{2}[\-. ]?[0-9]{4}",
            "validator": "us_ssn",
            "score": 0.6,
            "context": _SSN_CONTEXT,
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "us_itin",
            "entity": "US_ITIN",
            "regex": r"9[0-9]{2}[\-. ]?[0-9]{2}[\-. ]?[0-9]{4}",
            "validator": "itin",
            "score": 0.65,
            "context": ["itin", "taxpayer", "tax id", "tax"],
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "iban",
            "entity": "IBAN_CODE",
            "regex": r"[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?",
            "validator": "iban",
            "score": 1.0,
            "overlapping": True,
            "context": ["iban", "bank", "account", "transfer"],
        },
        {
            "name": "iban_lower",
            "entity": "IBAN_CODE",
            "regex": r"[a-z]{2}[0-9]{2}(?:[ \-]?[a-z0-9]{4}){2,7}(?:[ \-]?[a-z0-9]{1,3})?",
            "validator": "iban",
            "score": 1.0,
        },
        {
            "name": "iban_short",
            "entity": "IBAN_CODE",
            "regex": r"[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]{4}){2,7}",
            "validator": "iban",
            "score": 1.0,
        },
        {
            "name": "crypto_btc",
            "entity": "CRYPTO",
            "regex": r"[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[a-zA-HJ-NP-Z0-9]{6,87}",
            "validator": "bitcoin_address",
            "score": 1.0,
            "context": ["wallet", "btc", "bitcoin", "crypto"],
        },
        {
            "name": "uk_nhs",
            "entity": "UK_NHS",
            "regex": r"[0-9]{3}[\- ]?[0-9]{3}[\- ]?[0-9]{4}",
            "validator": "uk_nhs",
            "score": 0.55,
            "context": ["nhs", "health", "national health"],
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "aba_routing",
            "entity": "ABA_ROUTING_NUMBER",
            "regex": r"[0-9]{4}-[0-9]{4}-[0-9]|[0-9]{9}",
            "validator": "aba_routing",
            "score": 0.55,
            "context": ["routing", "aba", "rtn", "transit", "bank"],
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "dea",
            "entity": "DEA_NUMBER",
            "regex": r"[A-Z][A-Z9][0-9]{7}",
            "validator": "dea",
            "score": 0.8,
            "context": ["dea", "registration", "prescriber", "certificate", "license"],
        },
        {
            "name": "passport_labeled",
            "entity": "US_PASSPORT",
            "regex": r"[A-Z][0-9]{8}|[0-9]{9}",
            "score": 0.2,
            "context": ["passport", "travel document", "travel"],
            "negativeContext": BUSINESS_LABELS,
        },
        {
            # a passport number after its label, in every national shape: C0Z523299
            # (letter, digit, letter, 6 digits), 1-2 letters + 6-8 digits, 9 digits...
            "name": "passport_keyed",
            "entity": "US_PASSPORT",
            "regex": r"\b(?i:passport|pass ?#|pass[ _]no\.?|passeport|pasaporte|passaporto"
            r"|reisepass|paspoort|travel document)"
            r"(?i:[ _]number|[ _]no\.?|[ _]num| ?#|[ _]id)?[:#= ]*"
            r"([A-Z]{0,2}[0-9][A-Z0-9]{5,8})",
            "group": 1,
            "validator": "passport",
            "score": 0.9,
        },
        {
            "name": "driver_license_labeled",
            "entity": "US_DRIVER_LICENSE",
            "regex": r"\b(?i:driver'?s?[ _]licen[cs]e|driving[ _]licen[cs]e|licen[cs]e|lic\.?|dl)"
            r"(?i:[ _]number|[ _]no\.?|[ _]num| ?#|[ _]id)?[:#= ]*([A-Z0-9][A-Z0-9\-]{3,18}[0-9])",
            "group": 1,
            "score": 0.85,
        },
        {
            "name": "mrn_labeled",
            "entity": "MEDICAL_RECORD_NUMBER",
            "regex": r"\b(?i:mrn|mr ?#|mr no\.?|mr number"
            r"|med(?:ical|\.)? ?rec(?:ord|\.)?s?(?: ?number| ?no\.?| ?#| ?num| ?id)?"
            r"|(?:patient|hospital|hosp\.?|chart|record|case|health record|unit|rx|prescription"
            r"|client|file|pt|h|protokol|protocolo)"
            r" ?-?(?:id|no\.?|number|num|#|nr\.?)"
            # the same label in other languages: file, patient or register number
            r"|namba ya faili|nambari ya mgonjwa|환자 ?번호|hwanja ?beonho"
            r"|nr\.? ksi[eę]gi(?: g[lł][oó]wnej)?"
            r"|numer (?:pacjenta|historii choroby)|n[uú]mero de (?:historia|prontu[aá]rio|processo)"
            r"|historia cl[ií]nica|n° de dossier|num[eé]ro de dossier|patientennummer|fallnummer"
            r"|cartella clinica|dosya no|hasta no|protokol no)"
            # digits in spaced or dotted groups ("MRN 28 682 400"), or one run ("OPD/133362",
            # "547794/2024", "e849012")
            r"[:#= \-)]*([A-Za-z]{0,4}[-/]?(?:[0-9]{2,4}(?:[ .][0-9]{2,4}){1,3}\b"
            r"|[0-9][0-9\-/]{3,14}[0-9]))",
            "group": 1,
            "score": 0.9,
        },
        {
            "name": "health_plan_labeled",
            "entity": "HEALTH_PLAN_ID",
            "regex": r"(?i:member id|member #|member no\.?|subscriber id|medicaid(?: id)?"
            r"|medicare(?: id)?|policy(?: number| no\.?| #)?|plan id|insurance id|group no\.?)"
            r"[:# \-]*([A-Z0-9]{1,4}-?[0-9][0-9\-]{4,14}[0-9A-Z]?)",
            "group": 1,
            "score": 0.9,
        },
        {
            "name": "npi",
            "entity": "NPI",
            "regex": r"[0-9]{10}",
            "validator": "npi",
            # the checksum passes for 1 in 10 random numbers: only context makes it an NPI
            "score": 0.3,
            "context": ["npi", "provider", "prescriber", "physician"],
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "long_number",
            "entity": "ID_NUMBER",
            "regex": r"[0-9]{9,19}",
            "validator": "long_number",
            "score": 0.5,
            "textOnly": True,
            "negativeContext": BUSINESS_LABELS,
        },
        {
            "name": "alnum_id",
            "entity": "US_DRIVER_LICENSE",
            "regex": r"[A-Z]{1,2}[0-9]{6,12}",
            "score": 0.5,
            "textOnly": True,
            "negativeContext": BUSINESS_LABELS,
        },
    ],
    "columnHints": [
        {
            "entity": "PERSON",
            "column": r"(?i)^(full_?|first_?|last_?|middle_?|given_?|family_?|sur|patient_?|"
            r"customer_?|contact_?|employee_?|maiden_?|spouse_?|guardian_?|kin_?)?name$"
            r"|^(?i:patient|customer|spouse|guardian|next_of_kin|emergency_contact)$",
            "value": r"^[^\W\d_][\w'.\-]*(?: [^\W\d_][\w'.\-]*){0,4}$",
        },
        {"entity": "US_ZIP", "column": r"(?i)(^|_)(zip|zipcode|zip_code|postal_?code|postcode)$",
         "value": r"^[0-9]{3,5}(?:-[0-9]{4})?$"},
        {"entity": "POSTAL_CODE",
         "column": r"(?i)(^|_)(zip|zipcode|zip_code|postal_?code|postcode|plz)$",
         "value": r"^[A-Z0-9][A-Z0-9 \-]{2,9}$"},
        {"entity": "AGE", "column": r"(?i)(^|_)age(_years)?$", "value": r"^[0-9]{1,3}$"},
        {"entity": "DATE_TIME", "column": r"(?i)(dob|birth|date|_at$|admitted|discharged)",
         "value": "date"},
        {"entity": "STREET_ADDRESS", "column": r"(?i)(^|_)(street|address|addr)(_?line_?[0-9])?$",
         "value": r"[0-9]"},
        {"entity": "LOCATION", "column": r"(?i)(^|_)(city|town|county)$", "value": r"^[^\W\d_]"},
        {"entity": "PHONE_NUMBER", "column": r"(?i)(phone|mobile|fax|tel)",
         "value": r"[0-9]{7}|[0-9][ \-.()][0-9]"},
        {"entity": "US_SSN", "column": r"(?i)(^|_)(ssn|social_?security)(_|$)",
         "value": r"^[0-9]{3}[\- .]?[0-9]{2}[\- .]?[0-9]{4}$|^[0-9]{5,9}$"},
        {"entity": "CREDIT_CARD", "column": r"(?i)(card|pan|cc)_?(number|no|num)?$",
         "value": r"^[0-9][0-9 \-]{10,22}$"},
        {"entity": "MEDICAL_RECORD_NUMBER",
         "column": r"(?i)(^|_)(mrn|medical_?record(_?(number|no|id))?|patient_?id"
                   r"|chart_?(no|number))$",
         "value": r"^[A-Z]{0,4}-?[0-9]{4,12}$"},
        {"entity": "HEALTH_PLAN_ID",
         "column": r"(?i)(member|policy|plan|insurance|subscriber)_?(id|number|no)$",
         "value": r"^[A-Z0-9\-]{6,20}$"},
        {"entity": "US_DRIVER_LICENSE",
         "column": r"(?i)(driver_?s?_?licen[cs]e|dl_?(number|no)|licen[cs]e_?(number|no))$",
         "value": r"[0-9]"},
        {"entity": "US_PASSPORT", "column": r"(?i)passport(_?(number|no))?$", "value": r"[0-9]{6}"},
        {"entity": "NPI", "column": r"(?i)(^|_)npi$", "value": r"^[0-9]{10}$"},
        {"entity": "EMAIL_ADDRESS", "column": r"(?i)e_?mail", "value": r"@"},
        {"entity": "IP_ADDRESS", "column": r"(?i)(^|_)ip(_?addr(ess)?)?$",
         "value": r"[0-9a-fA-F][.:]"},
    ],
}  # fmt: skip
