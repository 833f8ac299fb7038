"""Fields that name what they hold: ``passport=C0Z523299``, ``"ssn": "034-91-8136"``,
``user tkahale logged in``.

:func:`kv_entity` maps a key in any spelling (``passport_no``, ``passportNo``,
``PASSPORT-NO``, ``subject_mrn``) to an entity, and :func:`kv_value_entity` says whether
a value can be one (a build label under ``name`` cannot). The ``key_value`` recognizer
(:func:`find_key_value`) and the readers of tables, SQL statements and vCards
(:mod:`nodes.privacy.recognizers`, :mod:`nodes.privacy.embedded_records`) share them.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding

# ------------------------------------------------------------------ key=value fields
# Log lines and serialized records name their fields: ``passport=C0Z523299``,
# ``dl=S309-5592-5488``, ``"ssn": "034-91-8136"``. The key says what the value is.
KV_KEYS: dict[str, str] = {
    "ssn": "US_SSN", "social_security": "US_SSN", "social_security_number": "US_SSN",
    "ss_no": "US_SSN", "passport": "US_PASSPORT", "passport_no": "US_PASSPORT",
    "passport_number": "US_PASSPORT", "pass_no": "US_PASSPORT", "dl": "US_DRIVER_LICENSE",
    "dl_no": "US_DRIVER_LICENSE", "dl_number": "US_DRIVER_LICENSE",
    "driver_license": "US_DRIVER_LICENSE", "drivers_license": "US_DRIVER_LICENSE",
    "license": "US_DRIVER_LICENSE", "licence": "US_DRIVER_LICENSE",
    "license_no": "US_DRIVER_LICENSE", "phone": "PHONE_NUMBER", "tel": "PHONE_NUMBER",
    "telephone": "PHONE_NUMBER", "mobile": "PHONE_NUMBER", "cell": "PHONE_NUMBER",
    "fax": "PHONE_NUMBER", "msisdn": "PHONE_NUMBER", "phone_number": "PHONE_NUMBER",
    "mrn": "MEDICAL_RECORD_NUMBER", "med_rec": "MEDICAL_RECORD_NUMBER",
    "patient_id": "MEDICAL_RECORD_NUMBER", "chart_no": "MEDICAL_RECORD_NUMBER",
    "dob": "DATE_TIME", "birth_date": "DATE_TIME", "birthdate": "DATE_TIME",
    "date_of_birth": "DATE_TIME", "user": "PERSON", "username": "PERSON",
    "user_name": "PERSON", "login": "PERSON", "name": "PERSON", "full_name": "PERSON",
    "first_name": "PERSON", "last_name": "PERSON", "patient": "PERSON",
    "patient_name": "PERSON", "customer": "PERSON", "customer_name": "PERSON",
    "given_name": "PERSON", "family_name": "PERSON", "surname": "PERSON",
    "contact_name": "PERSON",
    "contact": "PERSON",
    "contact_person": "PERSON", "display_name": "PERSON", "passport_id": "US_PASSPORT",
    "license_number": "US_DRIVER_LICENSE", "dl_num": "US_DRIVER_LICENSE",
    "medical_record_number": "MEDICAL_RECORD_NUMBER", "mobile_number": "PHONE_NUMBER",
    "cell_phone": "PHONE_NUMBER", "home_phone": "PHONE_NUMBER", "work_phone": "PHONE_NUMBER",
    "city": "LOCATION", "town": "LOCATION", "locality": "LOCATION", "village": "LOCATION",
    "municipality": "LOCATION", "suburb": "LOCATION", "county": "LOCATION",
    "birthplace": "LOCATION", "place_of_birth": "LOCATION",
    "zip": "POSTAL_CODE", "zipcode": "POSTAL_CODE", "zip_code": "POSTAL_CODE",
    "postcode": "POSTAL_CODE", "post_code": "POSTAL_CODE", "postal_code": "POSTAL_CODE",
    "postalcode": "POSTAL_CODE", "plz": "POSTAL_CODE", "eircode": "POSTAL_CODE",
    "national_id": "NATIONAL_ID", "national_id_number": "NATIONAL_ID", "nid": "NATIONAL_ID",
    "nin": "NATIONAL_ID", "nino": "NATIONAL_ID", "ni_number": "NATIONAL_ID",
    "pps": "NATIONAL_ID", "ppsn": "NATIONAL_ID", "pps_number": "NATIONAL_ID",
    "nhs": "NATIONAL_ID", "nhs_number": "NATIONAL_ID", "nhs_no": "NATIONAL_ID",
    "tax_id": "NATIONAL_ID", "personal_id": "NATIONAL_ID", "id_number": "NATIONAL_ID",
    "citizen_id": "NATIONAL_ID", "sin": "NATIONAL_ID", "bsn": "NATIONAL_ID",
    "medicare": "HEALTH_PLAN_ID", "medicare_number": "HEALTH_PLAN_ID",
    "member_id": "HEALTH_PLAN_ID", "policy_number": "HEALTH_PLAN_ID",
}  # fmt: skip
_KV_NORMAL = {k.replace("_", ""): v for k, v in KV_KEYS.items()}
# A key that ends in one of these after a prefix word ("subject_mrn", "patientMrn",
# "home-zip") names the same thing; names ("filename", "hostname") never match this way.
_KV_SUFFIXES = {k: v for k, v in _KV_NORMAL.items() if v != "PERSON" and len(k) >= 3}
_KV_PARTS = re.compile(r"[_\-]+|(?<=[a-z0-9])(?=[A-Z])")


def kv_entity(key: str) -> str | None:
    entity = _KV_NORMAL.get(key.lower().replace("_", "").replace("-", ""))
    if entity is not None:
        return entity
    parts = [p.lower() for p in _KV_PARTS.split(key) if p]
    for i in range(1, len(parts)):
        entity = _KV_SUFFIXES.get("".join(parts[i:]))
        if entity is not None:
            return entity
    return None


_KV = re.compile(
    r"(?<![\w.\-])\"?([A-Za-z][A-Za-z_\-]{1,30})\"?"
    r"(?:\s*[=:]\s*(?:\"([^\"\n]{1,80})\"|'([^'\n]{1,80})')|=([^\s\"',;&|)\]}=<]{1,80})"
    r"|:[ \t]*([^\s\"'<\[{][^\s\"',;|)\]}<]{0,40}"
    r"(?:(?:[ \t][A-ZÀ-Þ][^\s\"',;|)\]}<]{0,30}){1,2}|(?:[ \t]\d{2,4}){1,3})?))"
)
_KV_NUMERIC = {"US_SSN": (9, 9), "US_PASSPORT": (5, 9), "US_DRIVER_LICENSE": (4, 19),
               "PHONE_NUMBER": (7, 15), "MEDICAL_RECORD_NUMBER": (4, 15)}  # fmt: skip
_KV_NOT_A_NAME = frozenset(["null", "none", "nil", "n/a", "na", "-", "unknown", "anonymous",
                            "anon", "guest", "root", "admin", "system", "service", "true",
                            "false", "redacted", "masked", "*", "test"])  # fmt: skip


_KV_LOOSE_NAME_KEYS = frozenset(["name", "customer", "display_name", "displayname", "contact"])
# Keys that name a part of a person's name and nothing else: any word under them is a name
# ("first_name: Wing", "surname = Lamb"), ordinary English word or not.
_KV_NAME_PART_KEYS = frozenset(["firstname", "lastname", "givenname", "familyname", "surname",
                                "middlename", "forename", "forenames", "givennames"])  # fmt: skip


def _name_like_value(value: str, strict: bool = False) -> bool:
    """A name or user name, not a job or build label made of ordinary words
    (``name=nightly_export``, ``user=build-42``). ``strict``: the key may name a thing
    (``name=``), so every word must be rarer (outside the 30,000 most frequent)."""
    from nodes.privacy.names import common_words, opening_words

    parts = [p for p in re.split(r"[\s._\-/]+", value) if p]
    words = opening_words() if strict else common_words()
    return any(p.isalpha() and p.lower() not in words for p in parts) or (
        len(parts) == 1
        and any(c.isalpha() for c in value)
        and value.lower() not in words
        and sum(c.isdigit() for c in value) <= 4
    )


# "user tkahale logged in": a login name after the word user/login, no key syntax.
_USER_WORD = re.compile(r"(?i)\b(?:user(?:name)?|login|uid)[ \t]+([a-z][a-z0-9._\-]{2,30})\b")


def find_key_value(text: str) -> list[Finding]:
    from nodes.privacy.names import opening_words

    out = []
    for m in _USER_WORD.finditer(text):
        v = m.group(1)
        if v.lower() not in _KV_NOT_A_NAME and v.lower().strip("._-") not in opening_words():
            out.append(Finding(m.start(1), m.end(1), "PERSON", 0.7))
    for m in _KV.finditer(text):
        # the key in any spelling: passport_no, passportNo, passport-no, PASSPORT_NO
        entity = kv_entity(m.group(1))
        if entity is None:
            continue
        g = next(i for i in (2, 3, 4, 5) if m.group(i) is not None)
        if g == 5 and entity == "PERSON":
            continue  # "Name: ..." unquoted: the name rules read it in context
        if g == 5 and entity != "LOCATION" and not any(c.isdigit() for c in m.group(5).split()[0]):
            continue  # "MRN: DOB 1960": a number's value starts with its digits
        value, start, end = m.group(g), m.start(g), m.end(g)
        while end > start and text[end - 1] in " \t":
            end -= 1
        while end > start and text[end - 1] in ".:":
            end -= 1
        value = text[start:end]
        entity = kv_value_entity(entity, value, m.group(1))
        if entity is not None:
            out.append(Finding(start, end, entity, 0.9 if entity != "PERSON" else 0.75))
    return out


def kv_value_entity(entity: str, value: str, key: str) -> str | None:
    """The entity of ``value`` under a key that names ``entity``, or None when the value
    cannot be one (a build label under ``name``, a word under ``zip``)."""
    from nodes.privacy.validators import parse_date

    if not value or "@" in value or value.startswith("<"):
        return None  # an email has its own pattern; a tag was put there by a redaction
    if entity in _KV_NUMERIC:
        lo, hi = _KV_NUMERIC[entity]
        ds = sum(c.isdigit() for c in value)
        if not lo <= ds <= hi or len(set(c for c in value if c.isdigit())) < 2:
            return None
    elif entity == "DATE_TIME":
        if parse_date(value) is None:
            return None
    elif entity in ("POSTAL_CODE", "NATIONAL_ID", "HEALTH_PLAN_ID"):
        if not any(c.isdigit() for c in value) or not 3 <= len(value) <= 24:
            return None
        if entity == "POSTAL_CODE" and re.fullmatch(r"\d{5}(?:-\d{4})?", value):
            return "US_ZIP"
    elif entity == "LOCATION":
        if value.lower() in _KV_NOT_A_NAME or not any(c.isalpha() for c in value):
            return None
    elif value.lower() in _KV_NOT_A_NAME:
        return None
    elif re.sub(r"[^a-z]", "", key.lower()) in _KV_NAME_PART_KEYS and re.fullmatch(
        r"[^\W\d_]+\.?(?:['’\- ]+[^\W\d_]+\.?){0,3}", value
    ):
        return entity
    elif not _name_like_value(value, strict=key.lower() in _KV_LOOSE_NAME_KEYS):
        return None
    return entity
