"""Records of other formats pasted into a cell, whose syntax says what each value holds.

- ``sql_values``: an SQL ``INSERT INTO t (col, ...) VALUES (...), (...)`` statement; each
  value is read under its column's name, as a key would be (``postcode``, ``family_name``,
  ``mrn``: :func:`nodes.privacy.keyed_values.kv_entity`);
- ``vcard_adr``: a vCard ``ADR`` property (RFC 6350, 6.3.1), whose components are, in
  order, post office box, extended address, street, locality, region, postal code and
  country: the extended address and the street are a street address, the locality a
  place and the postal code a postal code;
- ``vcard_names``: the family, given and additional names of a vCard ``N`` property
  (6.2.2) and an iCalendar ``CN=`` parameter (RFC 5545, 3.2.2);
- ``phone_uri``: a ``tel:``, ``sms:``, ``fax:`` or ``callto:`` URI (RFC 3966), as in an
  HTML link, and a vCard ``TEL`` property's value: a phone number whatever its shape.
"""

from __future__ import annotations

import re

from nodes.privacy.keyed_values import KV_KEYS, kv_entity, kv_value_entity
from nodes.privacy.scan_types import Finding, Recognizer

RECORD_SCORE = 0.85
_INSERT = re.compile(
    r"(?i)\binsert\s+into\s+[\w.\"`\[\]]+\s*\(([^()]{1,2000})\)\s*values\s*", re.DOTALL
)
_SQL_VALUE = re.compile(r"'((?:[^']|'')*)'|(null|[+\-]?[\w.:\-]+)", re.IGNORECASE)
_ADR = re.compile(r"(?im)^[ \t]*(?:item\d+\.)?ADR(?:;[^:\n]*)?:([^\n]*)")
_ADR_PARTS = {1: "STREET_ADDRESS", 2: "STREET_ADDRESS", 3: "LOCATION", 5: "POSTAL_CODE"}


def _value(text: str, pos: int) -> tuple[int, int, int] | None:
    """``(start, end, next position)`` of one SQL literal at ``pos`` (quotes left out)."""
    m = _SQL_VALUE.match(text, pos)
    if m is None:
        return None
    if m.group(1) is not None:
        return m.start(1), m.end(1), m.end()
    if m.group(2).lower() == "null":
        return m.end(), m.end(), m.end()
    return m.start(2), m.end(2), m.end()


def find_sql_values(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _INSERT.finditer(text):
        cols = [c.strip().strip('"`[]') for c in m.group(1).split(",")]
        keys = [kv_entity(c) if re.fullmatch(r"[A-Za-z][\w\-]{0,40}", c) else None for c in cols]
        if not any(keys):
            continue
        pos = m.end()
        while pos < len(text) and text[pos] == "(":
            pos += 1
            for i in range(len(cols)):
                while pos < len(text) and text[pos] in " \t\r\n":
                    pos += 1
                v = _value(text, pos)
                if v is None:
                    break
                s, e, pos = v
                key = keys[i]
                if key is not None and e > s:
                    entity = kv_value_entity(key, text[s:e].replace("''", "'"), cols[i])
                    if entity is not None:
                        out.append(Finding(s, e, entity, RECORD_SCORE))
                while pos < len(text) and text[pos] in " \t\r\n":
                    pos += 1
                if pos < len(text) and text[pos] == ",":
                    pos += 1
            close = text.find(")", pos)
            if close < 0:
                break
            pos = close + 1
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
    return out


def _components(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each ``;``-separated component of a vCard value (``\\;`` and
    other escapes kept inside), blanks trimmed."""
    parts: list[tuple[int, int]] = []
    pos = begin = start
    while pos <= end:
        c = text[pos] if pos < end else ";"
        if c == "\\":
            pos += 2
            continue
        if c == ";":
            s, e = begin, min(pos, end)
            while s < e and text[s] in " \t":
                s += 1
            while e > s and text[e - 1] in " \t\r":
                e -= 1
            parts.append((s, e))
            begin = pos + 1
        pos += 1
    return parts


def find_vcard_addresses(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _ADR.finditer(text):
        parts = _components(text, *m.span(1))
        for i, entity in _ADR_PARTS.items():
            if i >= len(parts):
                continue
            s, e = parts[i]
            if e <= s:
                continue
            kind: str | None = entity
            if entity == "POSTAL_CODE":
                kind = kv_value_entity(entity, text[s:e], "postcode")
            elif not any(ch.isalpha() for ch in text[s:e]):
                kind = None
            if kind is not None:
                out.append(Finding(s, e, kind, RECORD_SCORE))
    return out


# vCard N (family;given;additional;prefixes;suffixes), iCalendar's CN parameter
_VCARD_N = re.compile(r"(?im)^[ \t]*(?:item\d+\.)?N(?:;[^:\n]*)?:([^\n]*)")
_ICAL_CN = re.compile(r"(?i);CN=(?:\"([^\"\n]{1,80})\"|([^;:\n]{1,80}))")


def find_vcard_names(text: str) -> list[Finding]:
    """The name parts of a vCard ``N`` property (family, given and additional names; not
    the honorifics) and an iCalendar ``CN=`` parameter (``ATTENDEE;CN=...``); not ``FN``,
    which may name an office or a company as well as a person."""
    out: list[Finding] = []
    for m in _VCARD_N.finditer(text):
        for s, e in _components(text, *m.span(1))[:3]:
            if any(ch.isalpha() for ch in text[s:e]):
                out.append(Finding(s, e, "PERSON", RECORD_SCORE))
    for m in _ICAL_CN.finditer(text):
        g = 1 if m.group(1) is not None else 2
        s, e = m.span(g)
        while e > s and text[e - 1] in " \t\r":
            e -= 1
        if any(ch.isalpha() for ch in text[s:e]):
            out.append(Finding(s, e, "PERSON", RECORD_SCORE))
    return out


_PHONE_URI = re.compile(r"(?i)(?<![\w])(?:tel|sms|fax|callto):(\+?[\d(][\d\-.() ]{5,30}\d)")
_VCARD_TEL = re.compile(r"(?im)^[ \t]*(?:item\d+\.)?TEL(?:;[^:\n]*)?:(?:tel:)?([^\n]+)")


def find_phone_uris(text: str) -> list[Finding]:
    out = [
        Finding(*m.span(1), "PHONE_NUMBER", RECORD_SCORE)
        for m in _PHONE_URI.finditer(text)
        if 6 <= sum(c.isdigit() for c in m.group(1)) <= 15
    ]
    for m in _VCARD_TEL.finditer(text):
        s, e = m.span(1)
        while e > s and text[e - 1] in " \t\r":
            e -= 1
        if 6 <= sum(c.isdigit() for c in text[s:e]) <= 20:
            out.append(Finding(s, e, "PHONE_NUMBER", RECORD_SCORE))
    return out


def embedded_record_recognizers() -> list[Recognizer]:
    """The recognizers of this module (merged into ``RECOGNIZERS``)."""
    return [
        Recognizer(
            "sql_values",
            tuple(sorted({*KV_KEYS.values(), "US_ZIP"})),
            r"(?i)insert\s+into\s",
            find_sql_values,
        ),
        Recognizer(
            "vcard_adr",
            ("STREET_ADDRESS", "LOCATION", "POSTAL_CODE", "US_ZIP"),
            r"(?im)^[ \t]*(?:item\d+\.)?ADR[;:]",
            find_vcard_addresses,
        ),
        Recognizer(
            "vcard_names",
            ("PERSON",),
            r"(?im)^[ \t]*(?:item\d+\.)?N[;:]|(?i);CN=",
            find_vcard_names,
        ),
        Recognizer(
            "phone_uri",
            ("PHONE_NUMBER",),
            r"(?i)(?:tel|sms|fax|callto):[+(0-9]|(?im)^[ \t]*(?:item\d+\.)?TEL[;:]",
            find_phone_uris,
        ),
    ]
