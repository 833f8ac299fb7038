"""National id numbers recognised by their own check digits and embedded birth dates.

Each number here carries a check (a checksum, a valid birth date inside it, or both), so it
is taken without a label: Polish PESEL, Turkish TC Kimlik No, Korean resident registration
number, Indian Aadhaar, Canadian SIN, Thai national id, South African id, Brazilian CPF,
Chinese resident id, Finnish HETU and Norwegian fødselsnummer (python-stdnum's checks, a
maintained library of these algorithms), the Kazakh IIN and the Indonesian NIK (province
and birth date; it has no check digit). Shapes that a check passes by chance too often (a
bare 12-digit Aadhaar or 9-digit SIN: one in ten; a 16-digit NIK) also need a label word
within the 40 characters before them. A bare 13-digit number is taken as a South African
id only (birth date, citizenship digit and Luhn): product barcodes (EAN-13) have that
length too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nodes.privacy.scan_types import Finding, Recognizer

ENTITY = "NATIONAL_ID"
SCORE = 0.85
_B = r"(?<![\w\-.])"  # not inside a longer number or word
_E = r"(?![\w\-]|[.,]\d)"
# a number written in groups is not one group of a longer one (a card number), nor inside
# an IBAN written in groups of four ("IE29 AIBK 9311 5212 3456 78")
_BG = _B + r"(?<!\d )(?<!\d-)"
_EG = _E + r"(?! \d)"
_IBAN_GROUPS = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ \-][A-Z0-9]{4}){2,8}(?:[ \-][A-Z0-9]{1,4})?\b")


def _date_ok(mm: int, dd: int) -> bool:
    return 1 <= mm <= 12 and 1 <= dd <= 31 and not (mm == 2 and dd > 29)


def _stdnum(module: str) -> Callable[[str], bool]:
    """``is_valid`` of a python-stdnum module: the library's check digits and dates."""
    import importlib

    is_valid = importlib.import_module(f"stdnum.{module}").is_valid

    def check(number: str) -> bool:
        try:
            return bool(is_valid(number))
        except Exception:  # the library raises on some inputs (cn.ric: unknown region code)
            return False

    return check


_pesel, _tckn, _no_fnr, _cpf = (
    _stdnum(m) for m in ("pl.pesel", "tr.tckimlik", "no.fodselsnummer", "br.cpf")
)
_kr_rrn_valid, _thai, _za, _aadhaar, _sin, _cn_ric, _hetu = (
    _stdnum(m)
    for m in ("kr.rrn", "th.pin", "za.idnr", "in_.aadhaar", "ca.sin", "cn.ric", "fi.hetu")
)


def _eleven_digits(d: str) -> bool:
    return _pesel(d) or _tckn(d) or _no_fnr(d) or _cpf(d)


def _kr_rrn(d: str) -> bool:
    # python-stdnum also takes numbers issued since 2020 (no check digit); a gender and
    # century digit of 1-8 keeps the shape to people born 1900-2099
    return d[6] in "12345678" and _kr_rrn_valid(d)


def _kz_iin(d: str) -> bool:
    """Kazakh IIN (not in python-stdnum): birth date, century/gender digit, weighted mod 11."""
    if not _date_ok(int(d[2:4]), int(d[4:6])) or d[6] not in "123456":
        return False
    n = [int(x) for x in d]
    check = sum(n[i] * (i + 1) for i in range(11)) % 11
    if check == 10:
        check = sum(n[i] * ((i + 2) % 11 + 1) for i in range(11)) % 11
    return check != 10 and check == n[11]


def _nik(d: str) -> bool:
    """Indonesian NIK (no check digit): province code and birth date (day + 40: women)."""
    province, day, month = int(d[:2]), int(d[6:8]), int(d[8:10])
    return 11 <= province <= 94 and _date_ok(month, day - 40 if day > 40 else day)


# (pattern, check of the digits, label words needed before it or None)
_Check = Callable[[str], bool]
_LABELS = {
    "aadhaar": re.compile(r"(?i)\b(?:aadhaa?r|uidai|uid)\b"),
    "sin": re.compile(r"(?i)\b(?:sin|nas|social insurance)\b"),
    "nik": re.compile(r"(?i)\b(?:nik|ktp|nomor induk)\b"),
}
_RULES: list[tuple[re.Pattern[str], _Check, str | None]] = [
    (re.compile(_B + r"(\d{11})" + _E), _eleven_digits, None),
    (re.compile(_B + r"(\d{3}\.\d{3}\.\d{3}-\d{2})" + _E), _cpf, None),
    (re.compile(_B + r"(\d{6}-\d{7})" + _E), _kr_rrn, None),
    (re.compile(_B + r"(\d{13})" + _E), _za, None),
    (re.compile(_BG + r"(\d[ \-]\d{4}[ \-]\d{5}[ \-]\d{2}[ \-]\d)" + _EG), _thai, None),
    (re.compile(_BG + r"([2-9]\d{3}[ \-]\d{4}[ \-]\d{4})" + _EG), _aadhaar, None),
    (re.compile(_B + r"([2-9]\d{11})" + _E), _aadhaar, "aadhaar"),
    (re.compile(_B + r"(\d{12})" + _E), _kz_iin, None),
    (re.compile(_BG + r"([1-79]\d{2}[ \-]\d{3}[ \-]\d{3})" + _EG), _sin, None),
    (re.compile(_B + r"([1-79]\d{8})" + _E), _sin, "sin"),
    (re.compile(_B + r"(\d{16})" + _E), _nik, "nik"),
    (re.compile(_B + r"(\d{17}[\dXx])" + _E), _cn_ric, None),
]
_HETU = re.compile(_B + r"(\d{6}[-+A-FU-Y]\d{3}[0-9A-Y])" + _E)


def find_checked_national_ids(text: str) -> list[Finding]:
    """National id numbers whose check digits (or embedded dates) hold."""
    out: list[Finding] = []
    taken: list[tuple[int, int]] = [m.span() for m in _IBAN_GROUPS.finditer(text)]
    for pattern, check, label in _RULES:
        for m in pattern.finditer(text):
            digits = re.sub(r"[ \-.]", "", m.group(1))
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if not check(digits):
                continue
            if label and not _LABELS[label].search(text, max(0, m.start() - 40), m.start()):
                continue
            out.append(Finding(m.start(1), m.end(1), ENTITY, SCORE))
            taken.append((m.start(1), m.end(1)))
    for m in _HETU.finditer(text):
        if _hetu(m.group(1)):
            out.append(Finding(m.start(1), m.end(1), ENTITY, SCORE))
    return out


def national_id_recognizers() -> list[Recognizer]:
    return [
        Recognizer(
            "national_id_checked",
            (ENTITY,),
            r"[0-9]{9}|[0-9]{3}[ \-.][0-9]{3}[ \-.][0-9]{3}|[0-9]{6}-[0-9]{7}"
            r"|[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}|[0-9][ \-][0-9]{4}[ \-][0-9]{5}"
            r"|[0-9]{6}[-+A-FU-Y][0-9]{3}",
            find_checked_national_ids,
        )
    ]
