"""Recognizers for the HIPAA Safe Harbor identifiers that have a shape only in context.

* ``age_over_89``: ages over 89 (``93 yo``, ``aged 102``, ``age: 91``, ``95-year-old``).
  Only the number is the finding, so HIPAA's ``generalize`` turns ``93 yo`` into
  ``90+ yo``; ages up to 89 are not identifiers and are not reported.
* ``vehicle_id``: VINs (17 characters without I, O, Q) whose check digit (position 9,
  ISO 3779 / 49 CFR 565) is right, or any VIN-shaped value after a ``VIN`` label;
  licence plates only after a label (``plate``, ``reg``, ``registration``, ``tag #``).
* ``account_number``: account numbers after a label (``account``, ``acct``, ``a/c``,
  ``bank account``, ``IBAN``).
* ``health_plan_id``: Medicare Beneficiary Identifiers (the CMS MBI format: 11
  characters, ``1EG4-TE5-MK73``, with or without dashes) and member, subscriber, group,
  policy and beneficiary numbers after their label.
* ``device_id``: serial numbers and device ids after a label (``serial``, ``S/N``,
  ``SN:``, ``device ID``, ``IMEI`` (15 digits, Luhn), ``UDI``) or right after the name
  of a medical or personal device (``insulin pump``, ``pacemaker``, ``laptop``), and
  MAC addresses.
* ``email_obfuscated``: e-mail addresses written to dodge a parser
  (``john at example dot com``, ``john [at] example [dot] com``, ``john(at)example.org``).

Every recognizer other than the checksummed VIN and the MBI needs its label, so words
and codes that merely look like identifiers (order numbers, SKUs, versions) stay.
"""

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding, Recognizer

# A value after its label: separators a label is written with ("VIN: X", '"vin": "X"',
# "acct no. X", "member ID #X").
_SEP = r"[\"']?\s{0,3}(?:[:=#]|is|was)?\s{0,3}[\"']?\s{0,2}#?"
_ID_WORD = r"(?:\s{0,2}(?:ID|Id|id|No\.?|no\.?|NO\.?|Nr\.?|number|Number|NUMBER|num|#))"
_END = r"(?![\w\-]|[.,/]\w)"

# ------------------------------------------------------------------------------ age
_AGE_MIN, _AGE_MAX = 90, 125
_AGE_NUM = r"(?<![\w.,+\-/])(\d{2,3})"
_AGE_UNIT = re.compile(
    _AGE_NUM + r"(?:\s?-\s?|\s)?(?i:y/o|y\.o\.?|yo|yrs?\.?\s*old|years?[\s\-]*old|yr[\s\-]*old"
    r"|years?\s+of\s+age)(?![\w])"
)
_AGE_LABEL = re.compile(
    r"(?i:\b(?:aged|age|ages|at\s+the\s+age\s+of|age\s+of))\b[\"']?\s{0,3}(?:[:=]|is|was)?"
    r"\s{0,3}[\"']?\s{0,2}(\d{2,3})(?![\d+%]|[.,]\d|\s*(?i:days?|d\b|weeks?|wks?|months?|mos?"
    r"|hours?|hrs?|h\b|mg|kg|g\b|ml|%|percent|units?|lbs?|cm|mm))"
)


def _age_ok(s: str) -> bool:
    return _AGE_MIN <= int(s) <= _AGE_MAX


def find_age(text: str) -> list[Finding]:
    out = []
    for rx in (_AGE_UNIT, _AGE_LABEL):
        for m in rx.finditer(text):
            if _age_ok(m.group(1)):
                out.append(Finding(m.start(1), m.end(1), "AGE", 0.95))
    return out


# -------------------------------------------------------------------------- vehicle
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN = r"[A-HJ-NPR-Z0-9]{17}"
_VIN_BARE = re.compile(r"(?<![\w\-])(" + _VIN + r")" + _END)
_VIN_LABELED = re.compile(
    r"(?i:\b(?:vin|vehicle\s+identification\s+(?:number|no\.?)|chassis(?:\s+(?:no\.?|number))?)"
    r")\b" + _SEP + r"(" + _VIN + r")" + _END
)


def vin_check_digit_ok(vin: str) -> bool:
    """True when position 9 of a 17-character VIN is its ISO 3779 check digit."""
    if len(vin) != 17 or any(c not in _VIN_VALUES for c in vin):
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if total == 10 else str(total))


def _vin_shaped(s: str) -> bool:
    return any(c.isdigit() for c in s) and any(c.isalpha() for c in s)


_PLATE_LABEL = re.compile(
    r"(?i:\b(?:licen[cs]e[\s\-]*plate|number[\s\-]*plate|registration\s+plate|plate"
    r"|vehicle\s+reg(?:istration)?|reg(?:istration)?|rego|tag\s*(?:#|no\.?|number)))"
    r"(?i:\s{0,2}(?:no\.?|number|num|#))?(?:(?<=#)|(?![\w]))"
    + _SEP
    + r"([A-Z0-9]{1,8}(?:[ \-][A-Z0-9]{1,8}){0,4})"
    r"(?![\w])"
)


def _plate(value: str) -> str | None:
    groups = re.split(r"([ \-])", value)
    while groups:
        body = "".join(groups[::2])
        if (
            4 <= len(body) <= 10
            and any(c.isdigit() for c in body)
            and any(c.isalpha() for c in body)
        ):
            return "".join(groups)
        groups = groups[:-2]
    return None


def find_vehicle(text: str) -> list[Finding]:
    out = []
    for m in _VIN_LABELED.finditer(text):
        if _vin_shaped(m.group(1)):
            out.append(Finding(m.start(1), m.end(1), "VEHICLE_ID", 0.95))
    for m in _VIN_BARE.finditer(text):
        if _vin_shaped(m.group(1)) and vin_check_digit_ok(m.group(1)):
            out.append(Finding(m.start(1), m.end(1), "VEHICLE_ID", 0.85))
    for m in _PLATE_LABEL.finditer(text):
        plate = _plate(m.group(1))
        if plate:
            out.append(Finding(m.start(1), m.start(1) + len(plate), "VEHICLE_ID", 0.9))
    return out


# ------------------------------------------------------------- accounts, health plans
# A code after its label: uppercase letters and digits in groups joined by one space or
# dash ("1234-567890-12", "GB29 NWBK 6016 1331 9268").
_CODE = r"([A-Z0-9]{1,20}(?:[ \-][A-Z0-9]{1,20}){0,7})(?![\w])"
_ACCOUNT_LABEL = re.compile(
    r"(?i:\b(?:bank\s+account|checking\s+account|savings\s+account|account|acct|a/c|iban"
    r"|sort\s+code\s+and\s+account))\b\.?" + r"(?i:" + _ID_WORD + r")?" + _SEP + _CODE
)
_PLAN_LABEL = re.compile(
    r"(?i:\b(?:(?:member(?:ship)?|subscriber|enrollee|group|policy|plan|insurance|insured"
    r"|beneficiary|medicare|medicaid)" + _ID_WORD + r"|(?:medicare|medicaid)(?:\s+beneficiary)?"
    r"|subscriber|beneficiary|mbi|hicn|health\s+plan(?:\s+beneficiary)?))"
    r"(?i:" + _ID_WORD + r")?(?:(?<=#)|(?![\w]))\.?" + _SEP + _CODE
)
# CMS MBI: C A AN N A AN N A A N N; letters exclude S, L, O, I, B, Z.
_MBI_A = "[AC-HJKMNP-RT-Y]"
_MBI_AN = "[0-9AC-HJKMNP-RT-Y]"
_MBI = re.compile(
    r"(?<![\w\-])([1-9]"
    + _MBI_A
    + _MBI_AN
    + r"[0-9]-?"
    + _MBI_A
    + _MBI_AN
    + r"[0-9]-?"
    + _MBI_A
    + _MBI_A
    + r"[0-9]{2})"
    + _END
)


def _code(value: str, min_digits: int) -> str | None:
    """The longest prefix of ``value`` (whole groups) that reads as one identifier."""
    groups = re.split(r"([ \-])", value)
    while groups:
        body = "".join(groups[::2])
        last = groups[-1]
        if (
            len(body) <= 34
            and sum(c.isdigit() for c in body) >= min_digits
            and len(body) >= 6
            and (len(groups) == 1 or any(c.isdigit() for c in last) or len(last) == 4)
        ):
            return "".join(groups)
        groups = groups[:-2]
    return None


def _labeled(rx: re.Pattern[str], text: str, entity: str, min_digits: int) -> list[Finding]:
    out = []
    for m in rx.finditer(text):
        code = _code(m.group(1), min_digits)
        if code:
            out.append(Finding(m.start(1), m.start(1) + len(code), entity, 0.9))
    return out


def find_account(text: str) -> list[Finding]:
    return _labeled(_ACCOUNT_LABEL, text, "US_BANK_NUMBER", 5)


def find_health_plan(text: str) -> list[Finding]:
    out = _labeled(_PLAN_LABEL, text, "HEALTH_PLAN_ID", 4)
    for m in _MBI.finditer(text):
        mbi = m.group(1)
        if ("-" in mbi) != (len(mbi) == 13):  # dashes in both places or in none
            continue
        out.append(Finding(m.start(1), m.end(1), "HEALTH_PLAN_ID", 0.9))
    return out


# --------------------------------------------------------------------------- device
_DEVICE_LABEL = re.compile(
    r"(?:(?i:\bserial(?:\s*(?:no\.?|number|num|#))?|\bdevice\s*(?:id|serial|no\.?|number)"
    r"|\budi|\bmeid|\besn)|\bS/N|\bs/n|\bSN|\bsn(?=\s*[:#]))(?![\w])"
    + _SEP
    + r"(?:(?:S/N|SN)\s{0,2}[:#]?\s{0,2})?"
    r"([A-Z0-9]{1,20}(?:[\-/.][A-Z0-9]{1,20}){0,5})(?![\w]|[\-/.]\w)"
)
_DEVICE_NOUN = re.compile(
    r"(?i:\b(?:pump|pacemaker|defibrillator|icd\s+device|implant|neurostimulator|stimulator"
    r"|hearing\s+aid|cochlear\s+implant|cgm|glucose\s+monitor|glucometer|ventilator"
    r"|laptop|notebook|tablet|handset|smartphone|smartwatch|wearable|device))\b\s{1,2}"
    r"(?:S/N|SN|serial)?\s{0,2}[:#]?\s{0,2}"
    r"([A-Z0-9]{1,20}(?:[\-/][A-Z0-9]{1,20}){0,5})(?![\w]|[\-/.]\w)"
)
_IMEI = re.compile(
    r"(?i:\bimei(?:\s*(?:no\.?|number|#))?)(?:(?<=#)|(?![\w]))"
    + _SEP
    + r"(\d{2}[ \-]?\d{6}[ \-]?\d{6}[ \-]?\d)"
    r"(?![\w\-])"
)
_MAC = re.compile(
    r"(?<![\w:\-])([0-9A-Fa-f]{2}([:\-])(?:[0-9A-Fa-f]{2}\2){4}[0-9A-Fa-f]{2})(?![\w:\-])"
)
_NOT_SERIAL = re.compile(r"(?:SKU|ORD|INV|PO|REF|V\d)", re.ASCII)


def luhn_ok(number: str) -> bool:
    ds = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(ds)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return bool(ds) and total % 10 == 0


def _serial_ok(value: str, min_digits: int, need_letter: bool) -> bool:
    body = re.sub(r"[\-/.]", "", value)
    if len(body) < 5 or _NOT_SERIAL.match(value):
        return False
    if need_letter and not any(c.isalpha() for c in body):
        return False
    return sum(c.isdigit() for c in body) >= min_digits


def find_device(text: str) -> list[Finding]:
    out = []
    for m in _IMEI.finditer(text):
        score = 0.95 if luhn_ok(m.group(1)) else 0.85
        out.append(Finding(m.start(1), m.end(1), "DEVICE_ID", score))
    for m in _DEVICE_LABEL.finditer(text):
        if _serial_ok(m.group(1), 2, False):
            out.append(Finding(m.start(1), m.end(1), "DEVICE_ID", 0.9))
    for m in _DEVICE_NOUN.finditer(text):
        if _serial_ok(m.group(1), 3, True):
            out.append(Finding(m.start(1), m.end(1), "DEVICE_ID", 0.85))
    for m in _MAC.finditer(text):
        if any(c.isalpha() for c in m.group(1)) or m.group(2) == ":":
            out.append(Finding(m.start(1), m.end(1), "DEVICE_ID", 0.85))
    return out


# -------------------------------------------------------------------- obfuscated email
_AT_WORD = r"(?:\s*[\[({<]\s*(?i:at)\s*[\])}>]\s*|\s+(?:at|AT)\s+|\s*[\[({<]\s*@\s*[\])}>]\s*)"
_DOT_WORD = r"(?:\s*[\[({<]\s*(?i:dot)\s*[\])}>]\s*|\s+(?:dot|DOT)\s+|\.)"
_LABEL_RX = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_OBF_EMAIL = re.compile(
    r"(?<![\w.%+\-@])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})("
    + _AT_WORD
    + r"|@)("
    + _LABEL_RX
    + r"(?:"
    + _DOT_WORD
    + _LABEL_RX
    + r"){1,4})(?![\w@]|\.\w)"
)
_DOT_SPLIT = re.compile(_DOT_WORD)
_GTLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "name",
        "pro",
        "mobi",
        "app",
        "dev",
        "io",
        "ai",
        "co",
        "me",
        "tv",
        "cloud",
        "online",
        "site",
        "tech",
        "email",
        "health",
        "care",
        "clinic",
        "hospital",
        "med",
    ]
)
_PROSE_WORDS = frozenset(
    ["the", "a", "an", "this", "that", "these", "those", "my", "your", "his", "her", "our",
     "their", "its", "home", "work", "night", "noon", "least", "most", "all", "first", "last"]
)  # fmt: skip
_EMAIL_CUE = re.compile(
    r"(?i)\b(?:e-?mail|mail|write|contact|reach|message|msg|address|inbox)\b[^\n]{0,30}$"
)


def find_obfuscated_email(text: str) -> list[Finding]:
    out = []
    for m in _OBF_EMAIL.finditer(text):
        at, domain = m.group(2), m.group(3)
        labels = _DOT_SPLIT.split(domain)
        tld = labels[-1]
        if not (tld.isalpha() and (tld.lower() in _GTLDS or (len(tld) == 2 and tld.islower()))):
            continue
        dot_obfuscated = len(labels) > domain.count(".") + 1
        if at == "@" and not dot_obfuscated:
            continue  # a plain address: the e-mail pattern's
        if at.strip().lower() == "at":
            # "x at y dot com": an address only if it looks like one, is introduced as
            # one or ends in a generic top-level domain ("look at the dot in" is prose)
            local = m.group(1)
            if labels[0].lower() in _PROSE_WORDS or not (
                any(c in local for c in "._+%") or any(c.isdigit() for c in local)
                or _EMAIL_CUE.search(text, max(0, m.start() - 40), m.start())
                or (dot_obfuscated and tld.lower() in _GTLDS)
            ):  # fmt: skip
                continue
        out.append(Finding(m.start(1), m.end(3), "EMAIL_ADDRESS", 0.9))
    return out


# ------------------------------------------------------------------------ registry
def identifier_recognizers() -> list[Recognizer]:
    """The recognizers of this module (merged into ``RECOGNIZERS``)."""
    return [
        Recognizer(
            "age_over_89",
            ("AGE",),
            r"(?i)(9[0-9]|1[0-2][0-9])\s*-?\s*y|(?i)age",
            find_age,
        ),
        Recognizer(
            "vehicle_id",
            ("VEHICLE_ID",),
            r"[A-HJ-NPR-Z0-9]{17}|(?i)(vin|chassis|plate|reg|rego|tag)",
            find_vehicle,
        ),
        Recognizer(
            "account_number",
            ("US_BANK_NUMBER",),
            r"(?i)(account|acct|a/c|iban)",
            find_account,
        ),
        Recognizer(
            "health_plan_id",
            ("HEALTH_PLAN_ID",),
            r"[1-9][A-Z][A-Z0-9][0-9]-?[A-Z][A-Z0-9][0-9]-?[A-Z]{2}[0-9]{2}"
            r"|(?i)(member|subscriber|enrollee|group|policy|plan|insur|beneficiary|medicare"
            r"|medicaid|mbi|hicn)",
            find_health_plan,
        ),
        Recognizer(
            "device_id",
            ("DEVICE_ID",),
            r"(?i)(serial|device|udi|meid|esn|s/n|sn|imei|pump|pacemaker|defibrillator|implant"
            r"|stimulator|hearing aid|cgm|monitor|glucometer|ventilator|laptop|notebook|tablet"
            r"|handset|smartphone|smartwatch|wearable)|[0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-]",
            find_device,
        ),
        Recognizer(
            "email_obfuscated",
            ("EMAIL_ADDRESS",),
            r"(?i)\sat\s|(?i)[\[({<]\s*(at|@)\s*[\])}>]|(?i)\sdot\s|(?i)[\[({<]\s*dot\s*[\])}>]",
            find_obfuscated_email,
        ),
    ]
