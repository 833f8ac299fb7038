"""HL7 v2 segments inside a cell (``PID|1||2024-715742^^^HOSP^MR||JURIĆ^LOEIZ^J||20041113|F``)
and national id numbers with a check character (Spanish DNI/NIE, French NIR).

HL7 v2 says by position what each field of a segment holds, so the personal fields are
taken whole: the patient's, next of kin's, guarantor's and insured's names, birth dates,
addresses, phone numbers and ids, and the doctors of a visit. Field numbers follow the
standard (``PID-5`` patient name, ``NK1-2`` next-of-kin name...).
"""

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding, Recognizer

# segment -> {field number: entity}
HL7_FIELDS: dict[str, dict[int, str]] = {
    "PID": {2: "MEDICAL_RECORD_NUMBER", 3: "MEDICAL_RECORD_NUMBER", 4: "MEDICAL_RECORD_NUMBER",
            5: "PERSON", 6: "PERSON", 7: "DATE_TIME", 9: "PERSON", 11: "STREET_ADDRESS",
            13: "PHONE_NUMBER", 14: "PHONE_NUMBER", 18: "MEDICAL_RECORD_NUMBER",
            19: "US_SSN", 20: "US_DRIVER_LICENSE", 23: "LOCATION", 29: "DATE_TIME"},
    "NK1": {2: "PERSON", 4: "STREET_ADDRESS", 5: "PHONE_NUMBER", 6: "PHONE_NUMBER",
            30: "PERSON", 31: "PHONE_NUMBER", 32: "STREET_ADDRESS"},
    "PV1": {7: "PERSON", 8: "PERSON", 9: "PERSON", 17: "PERSON", 19: "MEDICAL_RECORD_NUMBER"},
    "GT1": {3: "PERSON", 5: "STREET_ADDRESS", 6: "PHONE_NUMBER", 7: "PHONE_NUMBER",
            8: "DATE_TIME", 12: "US_SSN"},
    "IN1": {16: "PERSON", 18: "DATE_TIME", 19: "STREET_ADDRESS", 36: "HEALTH_PLAN_ID"},
    "IN2": {1: "PERSON", 2: "US_SSN"},
    "MRG": {1: "MEDICAL_RECORD_NUMBER", 7: "PERSON"},
}  # fmt: skip
_SEGMENT = re.compile(r"(?m)^[ \t]*(" + "|".join(HL7_FIELDS) + r")\|([^\r\n]*)")


def find_hl7(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _SEGMENT.finditer(text):
        fields = HL7_FIELDS[m.group(1)]
        pos = m.start(2)
        for number, value in enumerate(m.group(2).split("|"), start=1):
            entity = fields.get(number)
            if entity is not None and value.strip(" ^~&"):
                for rep_start, rep in _repetitions(value, pos):
                    if rep.strip(" ^&"):
                        s = rep_start + (len(rep) - len(rep.lstrip(" ^")))
                        e = rep_start + len(rep.rstrip(" ^&"))
                        out.append(Finding(s, e, entity, 0.9))
            pos += len(value) + 1
    return out


def _repetitions(value: str, start: int) -> list[tuple[int, str]]:
    out = []
    for rep in value.split("~"):
        out.append((start, rep))
        start += len(rep) + 1
    return out


# Spanish DNI (8 digits + check letter) and NIE (X/Y/Z + 7 digits + letter).
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"(?<![\w\-])([XYZ]?)(\d{7,8})[ \-]?([A-Z])(?![\w\-])")
# French NIR: sex, year, month, department, commune, order, key (97 - n mod 97).
_NIR = re.compile(
    r"(?<![\w\-])([12])[ .]?(\d{2})[ .]?(0[1-9]|1[0-2]|[2-9]\d)[ .]?(\d{2}|2[AB])[ .]?(\d{3})"
    r"[ .]?(\d{3})[ .]?(\d{2})(?![\w\-])"
)


# UK National Insurance number: two prefix letters (HMRC's allowed ones), six digits, a
# suffix A-D ("QQ 12 34 56 C").
_NINO = re.compile(
    r"(?<![\w\-])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ ]?(\d{2})[ ]?(\d{2})[ ]?(\d{2})[ ]?"
    r"([A-D])(?![\w\-])"
)
_NINO_UNUSED = frozenset(["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
# Italian codice fiscale: 6 letters, year, month letter, day, place, check letter.
_CF = re.compile(r"(?<![\w\-])([A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3})([A-Z])(?![\w\-])")
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4,
                    18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23], strict=True))  # fmt: skip
# Belgian national register number, as written (YY.MM.DD-XXX.CC).
_BE_NN = re.compile(r"(?<![\w.\-])(\d{2})\.(\d{2})\.(\d{2})-(\d{3})\.(\d{2})(?![\w\-]|\.\d)")
# Swedish personnummer with its separator (YYMMDD-XXXX, YYYYMMDD-XXXX), Luhn-checked.
_PNR = re.compile(r"(?<![\w\-])(?:19|20)?(\d{2})(0[1-9]|1[0-2])(\d{2})[-+](\d{4})(?![\w\-])")


def _cf_ok(body: str, check: str) -> bool:
    total = sum(
        _CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
        for i, c in enumerate(body)
    )
    return chr(65 + total % 26) == check


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _other_national_ids(text: str) -> list[Finding]:
    out = []
    for m in _NINO.finditer(text):
        if m.group(1) not in _NINO_UNUSED:
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    for m in _CF.finditer(text):
        if _cf_ok(m.group(1), m.group(2)):
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    for m in _BE_NN.finditer(text):
        body, check = "".join(m.groups()[:4]), int(m.group(5))
        if check in (97 - int(body) % 97, 97 - int("2" + body) % 97):
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    for m in _PNR.finditer(text):
        yy, mm, dd, tail = m.groups()
        if 1 <= int(dd) <= 31 + 60 and _luhn(yy + mm + dd + tail):  # +60: coordination numbers
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    return out


def find_national_id(text: str) -> list[Finding]:
    out = []
    for m in _DNI.finditer(text):
        prefix, digits, letter = m.groups()
        if prefix:
            digits = str("XYZ".index(prefix)) + digits
        if len(digits) == 8 and _DNI_LETTERS[int(digits) % 23] == letter:
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    for m in _NIR.finditer(text):
        g = m.groups()
        body = "".join(g[:6]).replace("2A", "19").replace("2B", "18")
        if int(g[6]) == 97 - int(body) % 97:
            out.append(Finding(m.start(), m.end(), "NATIONAL_ID", 0.85))
    return out + _other_national_ids(text)


def hl7_recognizers() -> list[Recognizer]:
    return [
        Recognizer(
            "hl7_fields",
            (
                "PERSON",
                "DATE_TIME",
                "STREET_ADDRESS",
                "PHONE_NUMBER",
                "MEDICAL_RECORD_NUMBER",
                "US_SSN",
                "US_DRIVER_LICENSE",
                "LOCATION",
                "HEALTH_PLAN_ID",
            ),
            r"(?m)^[ \t]*(PID|NK1|PV1|GT1|IN1|IN2|MRG)\|",
            find_hl7,
        ),
        Recognizer(
            "national_id",
            ("NATIONAL_ID",),
            r"[0-9]{7,8}[ \-]?[A-Z]\b|[12][ .]?[0-9]{2}"
            r"[ .]?[0-9]{2}[ .]?[0-9AB]{2}[ .]?[0-9]{3}[ .]?[0-9]{3}[ .]?[0-9]{2}"
            r"|[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b|[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z]"
            r"|[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}|[0-9]{6}[-+][0-9]{4}",
            find_national_id,
        ),
    ]
