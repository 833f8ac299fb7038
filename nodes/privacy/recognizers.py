# ruff: noqa: RUF001
"""Built-in recognizers that a regex and a validator alone cannot express.

Each recognizer has an RE2 *prefilter* (run vectorized over a whole Arrow column by
:class:`~nodes.privacy.scan.Scanner`; only matching cells reach Python) and a ``find``
function that returns exact findings with Presidio-like validation semantics:

* ``ip_address``: IPv4 and IPv6 in every textual form (``::``, ``::1``, zone ids,
  embedded IPv4, CIDR prefixes), validated by :mod:`ipaddress`.
* ``phone_number``: the ``phonenumbers`` library (what Presidio uses) on phone-shaped
  candidates, for international (``+44 (20) 7123 4567``) and national forms of a set of
  regions, plus North American numbers written with separators.
* ``url``: scheme URLs and bare domains (``microsoft.com``) whose top-level label is a
  real public suffix (tldextract's bundled list, offline).
* ``date``: the date formats of Presidio's date recognizer (``5-20-2021``, ``21.5.21``,
  ``May-2021``, ``05/21``, ISO 8601 with time and offset...), calendar-checked.
* ``postal_code``: US ZIP codes after a state or a ZIP label, UK and Canadian postcodes.
* ``street_address``: street lines in US, UK and continental European forms, with an
  optional unit, city, state and postal code that follow.
* ``person_context``: names after an honorific or a relation word (see
  :mod:`nodes.privacy.names`).
* ``place_known``: towns and cities of GeoNames without a cue phrase
  (:mod:`nodes.privacy.known_places`).
* ``table_fields``: the fields of a CSV/TSV/pipe table inside a cell whose header names
  what a column holds (``postcode``, ``CITY``, ``patient_name``), as a key would.
* ``person_known``: a given name and a surname of the names table, or a given name that
  is no English word, with no cue (:mod:`nodes.privacy.known_names`).
* ``person_labelled``, ``person_initial``: names after a role label in any case
  (``Witness: Park, Funmilayo``) and after an initial (``D. Rhydderch``)
  (:mod:`nodes.privacy.labelled_names`).
* ``person_subject``: a name opening a sentence as its subject (``Ahyoka is the main
  carer``) (:mod:`nodes.privacy.subject_names`).
* ``sql_values``, ``vcard_adr``, ``vcard_names``, ``phone_uri``: the values of an SQL
  ``INSERT`` read under their columns' names, the parts of a vCard address and name,
  iCalendar ``CN=`` names, ``tel:`` URIs and vCard phones
  (:mod:`nodes.privacy.embedded_records`).
* ``person_booking``, ``person_spelled``, ``person_caps_title``: names written in fixed
  conventions: ``KANAHELE/LEILANI MS``, ``S-I-R-I-P-A-N-I-C-H``, ``PAGE TO DR JAMA``
  (:mod:`nodes.privacy.written_names`).
* ``national_id`` (:mod:`nodes.privacy.hl7`): Spanish DNI/NIE, French NIR, UK National
  Insurance numbers, Italian codici fiscali, Belgian national numbers and Swedish
  personnummer, each by its check character or issuing rules.

Libraries list the recognizers they use under ``recognizers`` (default: all).
"""

from __future__ import annotations

import functools
import ipaddress
import re

from nodes.privacy.keyed_values import find_key_value, kv_entity, kv_value_entity
from nodes.privacy.postcodes import POSTCODE_ANY
from nodes.privacy.scan_types import Finding, Recognizer

# ------------------------------------------------------------------------------ IP
_V4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV4 = re.compile(r"(?<![\w.])(" + _V4 + r")(?:/(\d{1,3}))?(?![\w])")
_IPV6 = re.compile(
    r"(?<![\w:.%])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:" + _V4 + r"|[0-9A-Fa-f]{0,4}))"
    r"(%[0-9A-Za-z]+)?(?:/(\d{1,4}))?(?!\.?[\w:])"
)


def find_ip(text: str) -> list[Finding]:
    out = []
    for rx, limit in ((_IPV4, 32), (_IPV6, 128)):
        for m in rx.finditer(text):
            addr = m.group(1)
            zone = m.group(2) if rx is _IPV6 else None
            try:
                ipaddress.ip_address(addr + (zone or ""))
            except ValueError:
                continue
            end = m.end(1) + (len(zone) if zone else 0)
            pfx = m.group(3) if rx is _IPV6 else m.group(2)
            if pfx is not None and int(pfx) <= limit:
                end = m.end()
            out.append(Finding(m.start(1), end, "IP_ADDRESS", 0.95))
    return out


# --------------------------------------------------------------------------- phone
# Presidio's default regions, plus the larger European ones. National numbers outside
# North America are only tried when written with their trunk prefix 0.
PHONE_REGIONS = ("US", "GB", "DE", "IL", "IN", "CA", "BR", "FR", "IT", "ES", "NL", "AU")
_PHONE_CAND = re.compile(
    r"(?<![\w+\-./:])(?:\+|00)?\(?\d[\d ()./\-]{5,22}\d(?: ?(?:x|ext\.?|#) ?\d{1,5})?"
    r"(?![\w]|[./\-:]\d)"
)
_EXT = re.compile(r" ?(?:x|ext\.?|#) ?\d{1,5}$")
_NANP_BODY = (
    r"(?:(?:\+?1|001)[ .\-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .\-])[2-9]\d{2}[ .\-]\d{4}"
    r"(?: ?(?:x|ext\.?) ?\d{1,5})?"
)
_NANP = re.compile(_NANP_BODY + "$")
_NANP_IN = re.compile(r"(?<![\d\-.])" + _NANP_BODY + r"(?![\d\-.])")
_IP_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){2,3}$")
_CODE_GROUP = re.compile(r"(?:^|\s)(?=[A-Z0-9]{2,4}\s*$)[A-Z0-9]*[A-Z][A-Z0-9]*\s*$")
_DATE_SHAPE = re.compile(r"\d{1,4}([./\-])\d{1,2}\1\d{1,4}$")


@functools.lru_cache(maxsize=1)
def _phonenumbers():  # type: ignore[no-untyped-def]
    import phonenumbers

    return phonenumbers


def _valid_phone(cand: str) -> bool:
    pn = _phonenumbers()
    digits = sum(c.isdigit() for c in cand)
    if digits < 7 or digits > 15 or _DATE_SHAPE.match(cand) or _IP_SHAPE.match(cand):
        return False
    if "." in cand and ("-" in cand or " " in cand):  # mixed separators: not a phone
        return False
    international = cand.startswith(("+", "00"))
    if international:
        try:
            num = pn.parse("+" + cand[2:] if cand.startswith("00") else cand, None)
        except pn.NumberParseException:
            return False
        if pn.is_valid_number(num):
            return True
        # a number in a country's plan that its metadata reserves (drama and test
        # ranges, new blocks): written with "+" and grouped, it is still a phone number
        return (
            cand.startswith("+")
            and bool(re.search(r"\d[ \-]\d", cand))
            and pn.region_code_for_country_code(num.country_code) not in (None, "ZZ")
            and bool(pn.is_possible_number(num))
        )
    grouped = any(c in cand for c in " ()-./")
    # A bare run of digits is a phone number only in North American form (10 digits,
    # or 11 with the leading 1); other bare runs are left to the long-number pattern.
    if not grouped and not (
        (digits == 10 and cand[0] in "23456789") or (digits == 11 and cand[0] == "1")
    ):
        return False
    groups = re.split(r"[ ()./\-]+", cand.strip("()"))
    if len(groups) >= 3 and len(groups[0]) <= 3 and groups[0][0] != "0":
        # a country code written without its "+": 91-415-555-0132, 44 20 7123 4567
        try:
            num = pn.parse("+" + cand.strip("()"), None)
            if pn.is_valid_number(num) and not _NANP.match(cand):
                return True
        except pn.NumberParseException:
            pass
    national = cand.lstrip("(")[0] == "0"
    for region in PHONE_REGIONS if national else ("US", "CA"):
        try:
            num = pn.parse(cand, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(num):
            return True
    return False


_PHONE_CTX = re.compile(
    r"(?i)\b(?:phone|ph|tel|telephone|call|callback|mobile|mob|cell|celular|fax|contact"
    r"|contact number|number|reach|whatsapp|sms|text|telefon|téléphone|teléfono|telefono"
    r"|telefone|fone|tlf|puh|gsm|ring|rang|sími|simi|puhelin|handphone|hp)\b\.?[^.;\n]{0,30}$"
    # a signature block's one-letter label: "M 8 616 57497", "T: 020 7946 0018"
    r"|(?:^|(?<=[\n|]))[ \t]*[MTPF][ \t]*:?[ \t]*$"
)
# A national number written with its area code in parentheses and no trunk prefix, the
# usual form in Latin America and elsewhere: (11) 3456-7890, (55) 1234 5678.
_PAREN_AREA = re.compile(r"\(\d{1,4}\) ?\d{2,5}[ \-.]?\d{3,5}(?:[ \-.]\d{2,4})?$")
PAREN_AREA_REGIONS = ("BR", "AR", "MX", "CO", "CL", "PE", "VE", "EC", "UY", "PY", "BO",
                      "AU", "IN", "CN", "ZA", "NG", "KE", "PH", "MY", "ID", "TH", "VN", "TR",
                      "PL")  # fmt: skip


def _paren_area_phone(cand: str) -> bool:
    if not _PAREN_AREA.match(cand):
        return False
    pn = _phonenumbers()
    for region in PAREN_AREA_REGIONS:
        try:
            num = pn.parse(cand, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(num):
            return True
    return False


def _phone_context(text: str, start: int) -> bool:
    return _PHONE_CTX.search(text, max(0, start - 45), start) is not None


# A number right after the word of a business reference ("order 023-7598772", "ref
# Invoice 02-583239", "PO 4500325710") is that reference, not a phone number.
_REFERENCE_BEFORE = re.compile(
    r"(?i)\b(?:order|invoice|inv|po|ref|reference|ticket|tracking|receipt|transaction|txn"
    r"|sku|item|batch|lot|awb|waybill|consignment)(?:[ \t]*(?:no\.?|nr\.?|number|num))?"
    r"[ \t]*[#:.]?[ \t]*$"
)


def find_phone(text: str) -> list[Finding]:
    out = []
    for m in _PHONE_CAND.finditer(text):
        cand = m.group(0)
        start = m.start()
        if _REFERENCE_BEFORE.search(text, max(0, start - 24), start):
            continue
        group = _CODE_GROUP.search(text, 0, start)
        if group is not None and not (
            group.group(0).strip().isalpha() and _phone_context(text, start)
        ):  # inside a grouped code (IBAN-like), not "CALL BACK 01248 509445"
            continue
        after = m.end()
        if after + 1 < len(text) and text[after] == "-" and text[after + 1].isalnum():
            continue  # the head of a hyphenated code (a UUID, ORD-...), not a phone
        # keep parentheses balanced at the edges: "(415) 555-0132" but not "555-0132)"
        while (
            cand
            and cand[-1] in " ()-./"
            and not (cand[-1] == ")" and cand.count("(") >= cand.count(")"))
        ):
            cand = cand[:-1]
        if cand.startswith("(") and ")" not in cand:
            cand, start = cand[1:], start + 1
        if _NANP.match(cand):
            out.append(Finding(start, start + len(cand), "PHONE_NUMBER", 0.75))
            continue
        inner = [p for p in _NANP_IN.finditer(cand)]
        if inner:
            out += [Finding(start + p.start(), start + p.end(), "PHONE_NUMBER", 0.75)
                    for p in inner]  # fmt: skip
            continue
        if _valid_phone(_EXT.sub("", cand)) or _paren_area_phone(cand):
            out.append(Finding(start, start + len(cand), "PHONE_NUMBER", 0.75))
            continue
        n_digits = sum(c.isdigit() for c in cand)
        if 7 <= n_digits <= 15 and _phone_context(text, start) and not _IP_SHAPE.match(cand):
            # a national number of a region not tried, announced as a phone number
            out.append(Finding(start, start + len(cand), "PHONE_NUMBER", 0.7))
            continue
        # two numbers glued by separators ("... 0132 / 020 7123 4567"): try the parts
        for part in re.finditer(r"(?:\+|00)?\(?\d[\d ()\-.]{5,}\d", cand):
            p = part.group(0).strip()
            if p != cand and (_NANP.match(p) or _valid_phone(p)):
                s = start + part.start()
                out.append(Finding(s, s + len(p), "PHONE_NUMBER", 0.7))
    return out


# ----------------------------------------------------------------------------- URL
_FILE_EXTENSIONS = frozenset(
    [
        "py",
        "md",
        "sh",
        "js",
        "ts",
        "rs",
        "pl",
        "pm",
        "cs",
        "cc",
        "cpp",
        "hpp",
        "h",
        "c",
        "so",
        "txt",
        "csv",
        "json",
        "yaml",
        "yml",
        "xml",
        "html",
        "htm",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "zip",
        "gz",
        "tar",
        "log",
        "cfg",
        "ini",
        "conf",
        "java",
        "kt",
        "go",
        "rb",
        "php",
        "sql",
        "exe",
        "dll",
        "bin",
        "dat",
        "bak",
        "tmp",
    ]
)
_HOST = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[a-z0-9\-]{1,59})"
)
_URL_SCHEME = re.compile(
    r"(?:https?|ftp)://(?:\[[0-9A-Fa-f:.%A-Za-z]+\]|[^\s/<>\"'?#:]+)(?::\d{1,5})?"
    r"(?:[/?#][^\s<>\"']*)?"
)
_URL_WWW = re.compile(r"(?<![\w@.\-/])www\.[^\s<>\"'/]+(?:/[^\s<>\"']*)?")
_DOMAIN = re.compile(
    r"(?<![\w@.\-/:])(" + _HOST + r")(?::\d{2,5})?(?:/[^\s<>\"']*)?(?![\w@\-]|\.[A-Za-z0-9])"
)
_TRAIL = ".,;:!?)]}'\""


@functools.lru_cache(maxsize=1)
def _suffixes() -> frozenset[str]:
    from nodes.privacy.presidio_bridge import offline_tldextract

    ext = offline_tldextract()
    try:
        lists = ext._get_tld_extractor()
        names = set(lists.tlds())  # type: ignore[attr-defined]
    except Exception:  # tldextract internals moved: fall back to a plain lookup
        names = set()
    return frozenset(n.lower() for n in names if "." not in n)


def _real_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host.startswith("[") or host.replace(".", "").isdigit():
        return True
    if "." not in host:
        return False
    tld = host.rsplit(".", 1)[1]
    sfx = _suffixes()
    if sfx:
        return tld in sfx or tld.startswith("xn--")
    from nodes.privacy.presidio_bridge import offline_tldextract

    return bool(offline_tldextract()(host).suffix)


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _TRAIL:
        if text[end - 1] == ")" and "(" in text[start:end]:
            break
        end -= 1
    return end


def find_url(text: str) -> list[Finding]:
    out = []
    for m in _URL_SCHEME.finditer(text):
        host = re.sub(r"^[a-z]+://", "", m.group(0)).split("/")[0].split(":")[0]
        if m.group(0).split("://", 1)[1].startswith("["):
            host = "[v6]"
        if not _real_host(host):
            continue
        out.append(Finding(m.start(), _trim(text, m.start(), m.end()), "URL", 0.85))
    for m in _URL_WWW.finditer(text):
        host = m.group(0).split("/")[0].rstrip(_TRAIL)
        if _real_host(host) and host.count(".") >= 2:
            out.append(Finding(m.start(), _trim(text, m.start(), m.end()), "URL", 0.85))
    for m in _DOMAIN.finditer(text):
        host = m.group(1)
        tld = host.rsplit(".", 1)[1].lower()
        if tld in _FILE_EXTENSIONS or not _real_host(host):
            continue
        labels = host.split(".")
        if (
            (labels[0].lower() == "www" and len(labels) < 3)
            or len(labels[-2]) < 2
            or any(lab.isdigit() for lab in labels)
        ):
            continue
        out.append(Finding(m.start(), _trim(text, m.start(), m.end()), "URL", 0.6))
    return out


# ---------------------------------------------------------------------------- dates
_MON = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
        r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")  # fmt: skip
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_L = r"(?<![\w.\-/:])"
_R = r"(?![\w]|[.\-/:]\d)"
_DATE_RX: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            _L + r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{2}):(\d{2})(:\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+\-]\d{2}:?\d{2})?)?" + _R
        ),
        "ymd",
    ),
    (re.compile(_L + r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})" + _R), "y_md"),
    (re.compile(_L + r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _R), "ab_y"),
    (
        re.compile(
            _L
            + r"(\d{1,2})(?:st|nd|rd|th)?(?:[\- ]| of )("
            + _MON
            + r")\.?,?[\- ](\d{4}|\d{2})"
            + _R,
            re.IGNORECASE,
        ),
        "d_mon_y",
    ),
    (
        re.compile(
            _L + r"(" + _MON + r")\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})" + _R, re.IGNORECASE
        ),
        "mon_d_y",
    ),
    (re.compile(_L + r"(" + _MON + r")[\- ](\d{4})" + _R), "mon_y"),
    (re.compile(_L + r"(" + _MON + r")-(\d{2})" + _R), "mon_yy"),
    (re.compile(_L + r"(\d{1,2})-(" + _MON + r")" + _R), "d_mon"),
    (
        re.compile(_L + r"(\d{1,2})(?:st|nd|rd|th)?(?: | of )(" + _MON + r")" + _R),
        "d_mon",
    ),
    (
        re.compile(
            _L + r"(January|February|March|April|June|July|August|September|October"
            r"|November|December) (\d{1,2})(?:st|nd|rd|th)?" + _R
        ),
        "mon_d",
    ),
    (re.compile(_L + r"(\d{1,2})/(\d{4}|\d{2})" + _R), "m_y"),
]


def _ok_date(y: int | None, m: int, d: int | None) -> bool:
    import datetime as dt

    if not 1 <= m <= 12:
        return False
    if d is None:
        return y is None or 1900 <= y <= 2100
    try:
        dt.date(y if y is not None else 2000, m, d)
    except ValueError:
        return False
    return y is None or 1900 <= y <= 2100


def _year(s: str) -> int:
    from nodes.privacy.validators import pivot_year

    y = int(s)
    return pivot_year(y) if len(s) == 2 else y


def _mon(s: str) -> int:
    return _MONTHS.get(s[:3].lower(), 0)


def _date_ok(kind: str, m: re.Match[str]) -> bool:
    g = m.groups()
    if kind == "ymd":
        if g[3] is not None and (int(g[3]) > 23 or int(g[4]) > 59):
            return False
        return _ok_date(int(g[0]), int(g[1]), int(g[2]))
    if kind == "y_md":
        return _ok_date(int(g[0]), int(g[2]), int(g[3]))
    if kind == "ab_y":
        y = _year(g[3])
        if 2443 <= y <= 2643:  # a Thai Buddhist-era year (2525 = 1982)
            y -= 543
        a, b = int(g[0]), int(g[2])
        return _ok_date(y, a, b) or _ok_date(y, b, a)
    if kind == "d_mon_y":
        return _ok_date(_year(g[2]), _mon(g[1]), int(g[0]))
    if kind == "mon_d_y":
        return _ok_date(int(g[2]), _mon(g[0]), int(g[1]))
    if kind == "mon_y":
        return _ok_date(int(g[1]), _mon(g[0]), None)
    if kind == "mon_yy":
        return _mon(g[0]) > 0
    if kind == "d_mon":
        return _ok_date(None, _mon(g[1]), int(g[0]))
    if kind == "mon_d":
        return _ok_date(None, _mon(g[0]), int(g[1]))
    if kind == "m_y":
        return _ok_date(_year(g[1]), int(g[0]), None) and (len(g[1]) == 4 or int(g[0]) <= 12)
    return False


# Words that make a date one of a person's (birth, admission, death, care): such a date is
# an identifier even when written as a machine timestamp.
_PERSONAL_DATE_CTX = re.compile(
    r"(?i)(?:\b(?:dob|d\.o\.b\.?|birth\w*|born|b\.|bday|admit\w*|admission|discharg\w*|death"
    r"|died|deceased|dod|deliver\w*|surgery|operat\w*|procedure|visit\w*|seen|appointment"
    r"|appt|dos|date of service|encounter|expired|arrival|arrived|injur\w*)\b|_date|date_)"
    r"[^.;\n]{0,25}$"
)
EVENT_TIMESTAMP = "timestamp"  # Finding.source of a machine timestamp (see find_date)


# The stamp opening a chat or log line: a date and a time of day, then the message
# ("[2/03/2024, 20:14] Ana: ...", "02.03.2024 20:14 - Ana: ...", "2024/03/02 20:14 GET").
_STAMP_BEFORE = re.compile(r"(?:^|\n)[ \t]*\[?$")
_STAMP_AFTER = re.compile(r",?[ \t]+\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]?[AaPp][Mm])?\]?(?:[ \t]|$)")


def _message_stamp(text: str, start: int, end: int) -> bool:
    return (
        _STAMP_BEFORE.search(text, max(0, start - 8), start) is not None
        and _STAMP_AFTER.match(text, end) is not None
    )


_FOREIGN_DATE = re.compile(
    r"(?<![\w.\-/:])(\d{1,2})(?:\.|º|er)? ?(?:de )?([^\W\d_]{3,13})\.?,? (?:de |del )?(\d{4})"
    r"(?![\w]|[.\-/:]\d)",
    re.IGNORECASE,
)
# Month first in other languages ("Setyembre 5, 2011").
_FOREIGN_MONTH_FIRST = re.compile(
    r"(?<![\w.\-/:])([^\W\d_]{3,13}) (\d{1,2}),? (\d{4})(?![\w]|[.\-/:]\d)", re.IGNORECASE
)
# A compact date (20041113) after a birth word or as an HL7 date field.
_COMPACT_DATE = re.compile(
    r"(?i:\b(?:dob|born|birth\w*|bday|geb\.?|né[e]?|nacid[oa])\b[^\n\d]{0,12})"
    r"((?:19|20)\d{6})(?!\d)"
)
# Dates written the other ways the scan meets: East Asian (1965년 7월 16일, 1965年7月16日,
# 1963. 2. 23.), airline and military (21AUG81, 21AUG1981), an ISO date right after a
# field label ("BDAY:2003-10-04"), and spoken ("the fourth of may nineteen twenty eight").
_CJK_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?:년|年) ?(\d{1,2})(?:월|月) ?(\d{1,2})(?:일|日)"
    r"|(?<![\d.])((?:19|20)\d{2})\. (\d{1,2})\. (\d{1,2})\.?(?![\d])"
)
_MON_CAPS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_AIRLINE_DATE = re.compile(r"(?<![\w])(\d{2})(" + _MON_CAPS + r")(\d{4}|\d{2})(?![\w])")
_LABEL_ISO = re.compile(r"(?<=[A-Za-z]:)((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\w]|[.\-/:]\d)")
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
]
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred|thousand|oh|and)"
)
_SPOKEN_DATE = re.compile(
    r"(?i)\b(?:(?:twenty|thirty)[- ])?(?:" + "|".join(_ORDINALS) + r") of "
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december)(?:,? " + _NUMBER_WORDS + r"(?:[- ]" + _NUMBER_WORDS + r"){0,5})?\b"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december) (?:the )?(?:(?:twenty|thirty)[- ])?(?:" + "|".join(_ORDINALS) + r")"
    r"(?:,? " + _NUMBER_WORDS + r"(?:[- ]" + _NUMBER_WORDS + r"){0,5})?\b"
)


def _other_dates(text: str) -> list[Finding]:
    from nodes.privacy.validators import FOREIGN_MONTHS

    out = []
    for m in _FOREIGN_MONTH_FIRST.finditer(text):
        month = FOREIGN_MONTHS.get(m.group(1).lower())
        if month and _ok_date(int(m.group(3)), month, int(m.group(2))):
            out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    for m in _CJK_DATE.finditer(text):
        y, mo, d = (g for g in m.groups() if g is not None)
        if _ok_date(int(y), int(mo), int(d)):
            out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    for m in _AIRLINE_DATE.finditer(text):
        if _ok_date(_year(m.group(3)), _mon(m.group(2)), int(m.group(1))):
            out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    for m in _LABEL_ISO.finditer(text):
        if _ok_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    for m in _SPOKEN_DATE.finditer(text):
        out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    return out


# A version or release number written like a date ("release 2024.2.1", "firmware
# 2023.11.02"): the word right before it says what it is.
_VERSION_BEFORE = re.compile(
    r"(?i)\b(?:release|version|ver|v|firmware|fw|build|revision|sdk|api)\.?"
    r"[ \t]*[:#=]?[ \t]*$"
)


def find_date(text: str) -> list[Finding]:
    """Dates; a full timestamp to the second (``2026-04-27T17:37:08.550Z``,
    ``2026-04-27 17:37:08,550``) with no personal-date word before it is reported with
    source ``timestamp``: the time an event was logged, which a date generalization leaves."""
    from nodes.privacy.validators import FOREIGN_MONTHS, parse_date

    out = _other_dates(text)
    for m in _FOREIGN_DATE.finditer(text):
        if m.group(2).lower() in FOREIGN_MONTHS and parse_date(m.group(0)) is not None:
            out.append(Finding(m.start(), m.end(), "DATE_TIME", 0.85))
    for m in _COMPACT_DATE.finditer(text):
        if parse_date(m.group(1)) is not None:
            out.append(Finding(m.start(1), m.end(1), "DATE_TIME", 0.85))
    for rx, kind in _DATE_RX:
        for m in rx.finditer(text):
            if _date_ok(kind, m) and not _VERSION_BEFORE.search(
                text, max(0, m.start() - 24), m.start()
            ):
                score = 0.85 if kind in ("ymd", "ab_y", "d_mon_y", "mon_d_y", "y_md") else 0.6
                source = "pattern"
                # a personal-date word counts on the stamp's own line ("dob=1974" on the
                # log line before does not make the next line's stamp a birth date)
                line = max(m.start() - 40, text.rfind("\n", 0, m.start()) + 1, 0)
                logged = (
                    kind == "ymd"
                    and m.group(6) is not None
                    and _PERSONAL_DATE_CTX.search(text, line, m.start()) is None
                )
                if logged or (
                    kind in ("ymd", "y_md", "ab_y") and _message_stamp(text, m.start(), m.end())
                ):
                    source = EVENT_TIMESTAMP
                out.append(Finding(m.start(), m.end(), "DATE_TIME", score, source))
    return out


# ---------------------------------------------------------------------- postal codes
_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "PR",
]
_STATE_NAMES = ("Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|"
                "Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|"
                "Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|"
                "Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|"
                "North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|"
                "South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|"
                "Wisconsin|Wyoming")  # fmt: skip
_US_ZIP = re.compile(
    r"(?:\b(?:" + "|".join(_STATES) + r")\.?,?\s+|\b(?:" + _STATE_NAMES + r"),?\s+"
    r"|(?i:\bzip(?:\s*code)?|\bpostal\s*code|\bpost\s*code|\bpostcode)\s*[:#]?\s*)"
    r"(\d{5}(?:-\d{4})?)(?![\w\-])"
)
_POSTAL_LABELED = re.compile(
    r"(?i:\b(?:postal\s*code|post\s*code|postcode|plz|code\s*postal|cap|cp)\s*[:#]?\s*)"
    r"([A-Z0-9]{2,4}[ \-]?[A-Z0-9]{2,4})(?![\w\-])"
)
_UK_POSTCODE = re.compile(r"(?<![\w\-])([A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?![\w\-])")
_CA_POSTCODE = re.compile(
    r"(?<![\w\-])([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d)(?![\w\-])"
)


def find_postal(text: str) -> list[Finding]:
    out = [Finding(m.start(1), m.end(1), "US_ZIP", 0.7) for m in _US_ZIP.finditer(text)]
    for rx in (_UK_POSTCODE, _CA_POSTCODE, _POSTAL_LABELED):
        for m in rx.finditer(text):
            if any(c.isdigit() for c in m.group(1)):
                out.append(Finding(m.start(1), m.end(1), "POSTAL_CODE", 0.6))
    return out


# -------------------------------------------------------------------- street address
_STREET_TYPES = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|Close|"
    "Row|Alley|Loop|Path|Pike|Plaza|Grove|Gardens|Gdns|Mews|Hill|Park|Walk|Green|Rise|Vale|"
    "View|Wharf|Quay|Broadway|Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Heights|Parade|"
    "Esplanade|Promenade|Embankment|Causeway"
)
_UNIT = r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Rm|Room|#)\.?\s*#?[\w\-]{1,6})?"
_NAME_WORD = r"(?:[A-ZÀ-ÖØ-Þ0-9][\w'’\-]*)"
_CITY_TAIL = (
    r"(?:,\s*(?:[A-ZÀ-ÖØ-Þ][\w'’.\-]*\s?){1,3}(?:,?\s*(?:[A-Z]{2,3}|" + _STATE_NAMES + r"))?"
    r"(?:,?\s*\d{4,5}(?:-\d{4})?|,?\s*[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})?)?"
)
_US_STREET = re.compile(
    # "Unit 11/178 Oxford St", "Flat 3, 12 High St": the unit may come first
    r"(?<![\w\-./])(?:(?:Unit|Flat|Apt|Apartment|Suite|Shop|Lot)\.?[ \t]*\d{1,5}[A-Za-z]?"
    r"(?:/|,?[ \t]+))?(?:\d{1,5}[A-Za-z]?/)?\d{1,6}[A-Za-z]?(?:-\d{1,5})?[ \t]+"
    r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|"
    r"East|West)\.?[ \t]+)?(?:" + _NAME_WORD + r"[ \t]+){1,4}(?:" + _STREET_TYPES + r")\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?" + _UNIT + _CITY_TAIL
)
# The same street written all in capitals (forms, runsheets): "1312 KAMEHAMEHA ST, PAWHUSKA",
# kept to its line (in capitals the next line's label would read as a state: "WA\nPT:").
_US_STREET_CAPS = re.compile(
    _US_STREET.pattern.replace(
        "(?:" + _STREET_TYPES + r")\b", "(?:" + _STREET_TYPES.upper() + r")\b"
    ).replace(r"\s", r"[ \t]")
)
# Post office, highway contract and rural route boxes, and private mailboxes: a mailing
# address as much as a street is ("PO Box 39, Liberty, MS", "HC 69 Box 94", "P.O. BOX 12").
_PO_BOX = re.compile(
    r"(?<![\w])(?:(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]office[ \t]box|pmb)"
    r"|(?:HC|RR|R\.R\.|Rural Route)[ \t]?\d{1,4}[ \t]+(?i:box))[ \t]*#?\d{1,6}\b" + _CITY_TAIL
)
_US_STREET_LOWER = re.compile(
    r"(?<![\w\-./])\d{1,6}[a-z]?\s+(?:[a-z][\w'.\-]*\s+){1,3}(?:street|st|avenue|ave|road|rd|"
    r"boulevard|blvd|lane|ln|drive|court|ct|place|way|terrace|circle|parkway|pkwy|highway|hwy)"
    r"\b\.?(?:,?\s*(?:apt|suite|ste|unit)\.?\s*#?[\w\-]{1,6})?"
)
_EU_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|laan|straat|gracht|plein|"
    r"kade|dijk|vej|gade|alle|gatan|vägen|gata|veien|vegen|gate|katu|tie|utca|ulica|ulice|cesta|"
    r"stræti|vegur|braut|stígur)"
)
_EU_STREET = re.compile(
    # a word before the street name only when capitalised, whatever the flag below says
    # ("Große Bockenheimer Straße 5", not the "to" of "sent to Hauptstraße 5")
    r"(?<![\w\-])(?:(?-i:[A-ZÀ-ÖØ-Þ])[\w'’\-]*\s)?[A-ZÀ-ÖØ-Þ]?[\w'’\-]*"
    + _EU_SUFFIX
    # the house number may carry a staircase/flat ("Hauptstraße 12/3/5", "Jungferstr. 1/1")
    + r"\s+\d{1,5}(?:/\d{1,4}){0,2}\s?[a-zA-Z]?\b(?:,?\s*\d{3,5}\s+[A-ZÀ-ÖØ-Þ][\w\-]+)?",
    re.IGNORECASE,
)
_ROMANCE = (r"(?:Rue|Avenue|Av\.|Boulevard|Bd|Bld|Chemin|Allée|Quai|Impasse|Via|Viale|Piazza|"
            r"Corso|Largo|Vicolo|Calle|Avenida|Avda\.?|Paseo|Plaza|Carrer|Passeig|Rua|Praça|"
            r"Travessa|Estrada|Ulica|ul\.|Ul\.|Aleja|Al\.|Bd\.|Bulevardul|Strada|Str\.|Calea|"
            r"Șoseaua|Sos\.|Splaiul|Aleea)")  # fmt: skip
_ROMANCE_STREET = re.compile(
    r"(?<![\w\-])(?:\d{1,5} ?(?:bis|ter)?,?[ ]+)?"
    + _ROMANCE
    + r"\s+(?:(?:de|del|de la|des|du|di|della|da|do|dos|das|la|le|les)\s+)*"
    r"[A-ZÀ-ÖØ-Þ][\w'’\-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w'’\-]*){0,3}"
    r"(?:,?\s+(?:n[º°.]?\s*|nr\.?\s*)?\d{1,5}[a-zA-Z]?\b)?"
    r"(?:,?\s*\d{4,6}\s+[A-ZÀ-ÖØ-Þ][\w\-]+)?"
)


# A house number before a lower-case street word is written so in French, Spanish,
# Portuguese and Italian addresses: "17 rue des Lilas", "5 calle Mayor".
_ROMANCE_LOWER_STREET = re.compile(
    # not the digits after a thousands separator ("TSh 706,406 via M-Pesa")
    r"(?<![\w\-./,])\d{1,5}\s?(?:bis|ter)?,?\s+(?:rue|avenue|boulevard|chemin|allée|quai|impasse"
    r"|calle|avenida|paseo|rua|travessa|estrada|via|viale|piazza|corso)\s+"
    r"(?:(?:de|del|de la|des|du|di|della|da|do|dos|das|la|le|les)\s+)*"
    r"[^\W\d_][\w'’\-]*(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’\-]*){0,2}"
)
# What follows a street on the same line: a postal code and/or a town, in the orders of
# many countries ("Cape Town 8001", "80-827 Gdańsk", "1016 EZ Amsterdam", "ON M4C 1B4").
_POSTCODE_ANY = POSTCODE_ANY
_TOWN = (
    r"[A-ZÀ-ÖØ-Þ][\w'’\-]*"
    # particles inside town names: "Rothenburg ob der Tauber", "Frankfurt am Main",
    # "Bergen op Zoom", "Königstein im Taunus"
    r"(?:[ \t]+(?:[A-ZÀ-ÖØ-Þ][\w'’\-]*|de|del|la|le|am|an|sur|upon|ob|der|den|dem|im|"
    r"bei|op|aan|van|von|zu|zum|zur|sous|lès)){0,3}"
)
_TAIL_BODY = (
    r"(?:[ \t]*,[ \t]*|[ \t]+)(?:" + _POSTCODE_ANY + r"(?:[ \t]+" + _TOWN + r")?"
    r"|" + _TOWN + r"(?:,?[ \t]+[A-Z]{2,3})?(?:,?[ \t]+" + _POSTCODE_ANY + r")?"
    # a floor and door ("2º B", "3ª"), as Spanish and Portuguese addresses write them
    r"|\d{1,3}[º°ª](?:[ \t]?[A-Z](?![\w]))?"
    r"|\d[A-Z]{2})"
)
_ADDRESS_TAIL = re.compile(_TAIL_BODY + r"(?=[ \t]*(?:$|[\n\r\"'),;|]|\.(?:\s|$)))")
# mid-sentence, a tail is taken only up to a postal code ("..., Napier 4110 and ...")
_ADDRESS_TAIL_POSTCODE = re.compile(
    r"(?:[ \t]*,[ \t]*|[ \t]+)(?:"
    + _TOWN
    + r"(?:,?[ \t]+[A-Z]{2,3})?,?[ \t]+)?"
    + _POSTCODE_ANY
    + r"(?![\w\-])"
)
_ENDS_POSTCODE = re.compile(r"(?<![\w\-])" + _POSTCODE_ANY + r"$")
_ADDRESS_REST = re.compile(r"[ \t]?\d[A-Z]{2}(?![\w])")


def _address_tail(text: str, end: int) -> int:
    """The end of a street address with the town and postal code written after it on the
    same line (a whole field: the tail must reach the end of the line or a delimiter)."""
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    for _ in range(4):
        m = _ADDRESS_TAIL.match(text, end) or _ADDRESS_TAIL_POSTCODE.match(text, end)
        if m is None:
            rest = _ADDRESS_REST.match(text, end)  # the inward half of a UK postcode
            return rest.end() if rest is not None else end
        tail = m.group(0)
        # a town alone needs its comma ("..., Brighton"); a postcode does not
        if (
            not any(c.isdigit() for c in tail)
            and "," not in tail
            and not _ENDS_POSTCODE.search(text, max(0, end - 12), end)
        ):
            return end
        end = m.end()
    return end


def find_address(text: str) -> list[Finding]:
    out = [Finding(m.start(), _address_tail(text, m.end()), "STREET_ADDRESS", 0.7)
           for m in _US_STREET.finditer(text)]  # fmt: skip
    out += [Finding(m.start(), _address_tail(text, m.end()), "STREET_ADDRESS", 0.7)
            for m in _ROMANCE_LOWER_STREET.finditer(text)]  # fmt: skip
    out += [Finding(m.start(), _address_tail(text, m.end()), "STREET_ADDRESS", 0.7)
            for m in _US_STREET_CAPS.finditer(text) if m.group(0).isupper()]  # fmt: skip
    out += [Finding(m.start(), _address_tail(text, m.end()), "STREET_ADDRESS", 0.7)
            for m in _PO_BOX.finditer(text)]  # fmt: skip
    if not any(c.isupper() for c in text):
        out += [Finding(m.start(), m.end(), "STREET_ADDRESS", 0.6)
                for m in _US_STREET_LOWER.finditer(text)]  # fmt: skip
    for rx in (_EU_STREET, _ROMANCE_STREET):
        for m in rx.finditer(text):
            s = m.group(0)
            if any(c.isdigit() for c in s):  # a street name needs its house number
                end = m.end()
                while end > m.start() and text[end - 1] in " ,":
                    end -= 1
                out.append(Finding(m.start(), _address_tail(text, end), "STREET_ADDRESS", 0.7))
    return out


_ADDR_CTX = re.compile(
    r"(?i)(?:\baddress|\baddr\.?|\blives at|\bliving at|\bresid(?:es|ing|e) at|\blocated at"
    r"|\bmail(?:ed)?\b[^.;:\n]{0,20}?\bto|\bsen[dt]\b[^.;:\n]{0,20}?\bto|\bship(?:ped)? to"
    r"|\bdeliver(?:ed|y)? to|\bdomicile|\badresse|\bdirecci[oó]n|\bindirizzo|\banschrift"
    r"|\badres|\bwohnt in|\bhabite)\b[\"']?[ \t]*[:=]?[ \t]*(?:\n[ \t]*)?([\"']?)"
)
# the next key of a logfmt line ("... dob=1961-10-27"): the value before it has ended
_NEXT_KEY = re.compile(r"[ \t]+[A-Za-z_][\w.\-]{0,30}=")
_FIELD_LABEL = re.compile(r"[^\W\d_][\w /]{0,24}:")
_SHORT_ABBR = frozenset(
    ["al", "ul", "st", "nr", "no", "str", "av", "ave", "bd", "rd", "dr", "apt", "ste", "pl", "sq"]
)


def find_address_context(text: str) -> list[Finding]:
    """A span with a house number after an address label, up to the end of the sentence."""
    out = []
    for m in _ADDR_CTX.finditer(text):
        start = m.end()
        if "\n" in m.group(0) and (start >= len(text) or _FIELD_LABEL.match(text, start)):
            continue  # the label's line is empty and the next line is another field
        end = start
        n = len(text)
        quote = m.group(1)
        # inside a quoted value that opened before the label (msg="address verified ...")
        line_start = text.rfind("\n", 0, start) + 1
        if not quote and text.count('"', line_start, start) % 2 == 1:
            quote = '"'
        while end < n:
            c = text[end]
            if quote and c == quote:  # a quoted value ends at its quote
                break
            if c in " \t" and _NEXT_KEY.match(text, end):
                break
            if c in ";\n" or (c == "." and (end + 1 == n or text[end + 1] in " \t")):
                j = end
                while j > start and text[j - 1].isalpha():
                    j -= 1
                word = text[j:end].lower()
                if c == "." and (word in _SHORT_ABBR or len(word) == 1) and end + 1 < n:
                    end += 1
                    continue
                break
            end += 1
        span = text[start:end].rstrip(" ,")
        if span and any(ch.isdigit() for ch in span) and len(span) <= 120:
            out.append(Finding(start, start + len(span), "STREET_ADDRESS", 0.9))
    return out


# ------------------------------------------------------------------- tables in a cell
# A CSV, TSV, pipe or semicolon table inside one cell: a header line of field names, then
# rows with as many fields. The header says what each column holds (as a key would).
_TABLE_DELIMS = ",|;\t"


def _split_fields(line: str, delim: str, offset: int) -> list[tuple[int, int]]:
    """Field spans of one delimited line (double quotes honoured), quotes and blanks
    trimmed."""
    spans: list[tuple[int, int]] = []
    i, n, start, quoted = 0, len(line), 0, False
    while i <= n:
        c = line[i] if i < n else delim
        if c == '"':
            quoted = not quoted
        elif c == delim and not quoted:
            s, e = start, i
            while s < e and line[s] in ' \t"':
                s += 1
            while e > s and line[e - 1] in ' \t"':
                e -= 1
            spans.append((offset + s, offset + e))
            start = i + 1
        i += 1
    return spans


def find_table_fields(text: str) -> list[Finding]:
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line.rstrip("\r")))
        pos += len(line) + 1
    out: list[Finding] = []
    i = 0
    while i < len(lines) - 1:
        off, head = lines[i]
        delim = max(_TABLE_DELIMS, key=head.count)
        if head.count(delim) == 0:
            i += 1
            continue
        cols = [text[s:e] for s, e in _split_fields(head, delim, off)]
        keys = [(kv_entity(c.replace(" ", "_")) if re.fullmatch(r"[A-Za-z][\w \-]{0,30}", c)
                 else None) for c in cols]  # fmt: skip
        if not any(keys):
            i += 1
            continue
        j = i + 1
        while j < len(lines):
            roff, row = lines[j]
            fields = _split_fields(row, delim, roff)
            if len(fields) != len(cols):
                break
            for key, col, (s, e) in zip(keys, cols, fields, strict=True):
                if key is None or e <= s:
                    continue
                entity = kv_value_entity(key, text[s:e], col)
                if entity is not None:
                    out.append(Finding(s, e, entity, 0.85))
            j += 1
        i = j if j > i + 1 else i + 1
    return out


# ------------------------------------------------------------------------ places
# HIPAA's geographic subdivisions smaller than a state: a place named after a phrase that
# says it is one (``transferred from Tromsø``, ``lives in Accra``, ``born in İzmir``).
_PLACE_CUES = (
    r"(?:transferred|referred|moved|relocated|travel(?:l)?ed|flown|flew|came|comes|arrived"
    r"|returned|visiting|evacuated|discharged|sent|originally|is|was|are|were|hails) from"
    r"|(?:lives|living|lived|resides|residing|resided|resident|born|raised|located|based"
    r"|stays|staying|grew up|works|working) in|resident of|native of|moved to|relocated to"
    r"|(?:pt|patient|family|visitor|traveller|traveler|tourist|migrant|refugee|student"
    r"|worker|resident|someone|people)s? from"
    r"|travel(?:l)?ed to|trip to|returning to|returned to|hometown(?: of| is)?"
)
_PLACE_RX = re.compile(
    r"\b(?:" + _PLACE_CUES + r")\s+((?:[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’\-]*\.?)(?:\s+(?:de|del|da|do|la|le"
    r"|am|an|upon|on|sur|en)?\s*[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’\-]*){0,3})"
)
_NOT_PLACE = frozenset(["the", "a", "an", "his", "her", "their", "our", "my", "icu", "er",
                        "home", "hospital", "clinic", "work", "school", "dr", "mr", "mrs",
                        "ms", "monday", "tuesday", "wednesday", "thursday", "friday",
                        "saturday", "sunday", "january", "february", "march", "april",
                        "june", "july", "august", "september", "october", "november",
                        "december", "today", "tomorrow", "yesterday"])  # fmt: skip


_PLACE_NEXT = re.compile(
    r",?\s+(?:to|and|or|via|then|,)\s+((?:[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’\-]*)(?:\s+[A-ZÀ-ÖØ-ÞĀ-ſ][\w'’\-]*){0,2})"
)


def find_place_context(text: str) -> list[Finding]:
    out = []
    for m in _PLACE_RX.finditer(text):
        s, e = m.start(1), m.end(1)
        while e > s and text[e - 1] in ".'’-":
            e -= 1
        first = text[s:e].split()[0].rstrip(".").lower()
        if first in _NOT_PLACE or text[s:e].isupper():
            continue
        out.append(Finding(s, e, "LOCATION", 0.7, source="context"))
        # "from Trondheim to Bergen", "Accra and Kumasi": the next place of a list
        nxt = _PLACE_NEXT.match(text, e)
        if nxt is not None and nxt.group(1).split()[0].lower() not in _NOT_PLACE:
            out.append(Finding(nxt.start(1), nxt.end(1), "LOCATION", 0.7, source="context"))
    return out


def find_person_context(text: str) -> list[Finding]:
    from nodes.privacy.names import find_person_context as f

    return f(text)


def find_person_shape(text: str) -> list[Finding]:
    from nodes.privacy.names import find_name_shapes as f

    return f(text)


def find_place_known(text: str) -> list[Finding]:
    from nodes.privacy.known_places import find_known_places as f

    return f(text)


def find_person_known(text: str) -> list[Finding]:
    from nodes.privacy.known_names import find_known_names as f

    return f(text)


_STREET_WORDS = "|".join(
    [
        *_STREET_TYPES.lower().split("|"),
        "straße",
        "strasse",
        "str",
        "weg",
        "gasse",
        "allee",
        "platz",
        "laan",
        "straat",
        "gracht",
        "vej",
        "gade",
        "gatan",
        "vägen",
        "gata",
        "veien",
        "katu",
        "utca",
        "ulica",
        "rue",
        "via",
        "viale",
        "piazza",
        "corso",
        "calle",
        "avenida",
        "paseo",
        "plaza",
        "carrer",
        "rua",
        "praça",
    ]
)
_HONORIFIC_PREFILTER = (
    r"(?i)\b(?:dr|mr|mrs|ms|miss|mx|prof|sr|sra|srta|herr|frau|mme|mlle|spouse|wife|husband|"
    r"partner|son|daughter|mother|father|mom|dad|brother|sister|pt|patient|guardian|caregiver|"
    r"contact|kin|name|named|called|signed|nurse|attending|physician|seen by|referred by|"
    r"dear|hi|hello|thanks|regards|from|to|with|by|cc)\b"
)

RECOGNIZERS: dict[str, Recognizer] = {
    r.name: r
    for r in (
        Recognizer(
            "ip_address", ("IP_ADDRESS",), r"[0-9]\.[0-9]|[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:|::", find_ip
        ),
        Recognizer("phone_number", ("PHONE_NUMBER",), r"[0-9][0-9 ()./\-]{5,}[0-9]", find_phone),
        Recognizer("url", ("URL",), r"(?i)[a-z0-9]\.[a-z]{2}|://", find_url),
        Recognizer(
            "date",
            ("DATE_TIME",),
            r"[0-9][/.\-][0-9]|[0-9]-[A-Za-z]|[A-Za-z]-[0-9]|[0-9]{4}-|"
            r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,? ?[0-9]|"
            r"(?i)[0-9] ?(st|nd|rd|th)? (of )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
            r"(?i)[0-9](\.|º|er)? ?(de )?\pL{3,13}\.?,? (de |del )?[0-9]{4}|"
            r"\pL{3,13} [0-9]{1,2},? [0-9]{4}|[0-9]{4}(년|年)|[0-9]{4}\. [0-9]|"
            r"(?i)(st|nd|rd|th) of (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
            r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (the )?[a-z\- ]{1,16}"
            r"(st|nd|rd|th)\b|"
            r"(?i)(dob|born|birth|bday|geb|né|nacid)[^\n0-9]{0,12}(19|20)[0-9]{6}",
            find_date,
        ),
        Recognizer(
            "postal_code",
            ("US_ZIP", "POSTAL_CODE"),
            r"[0-9]{5}|[A-Z][0-9][A-Z0-9]? ?[0-9][A-Z]{2}|[A-Z][0-9][A-Z] ?[0-9]|"
            r"(?i)(postal|post ?code|plz|zip|cap|cp)",
            find_postal,
        ),
        Recognizer(
            "street_address",
            ("STREET_ADDRESS",),
            r"(?i)[0-9].*\b(" + _STREET_WORDS + r")\b|(?i)(" + _STREET_WORDS + r")\.? *[0-9]|"
            r"(?i)(str\.|straße|strasse|weg|gasse|allee|laan|straat|vej|gade|gatan|vägen|"
            r"gata|veien|katu|utca|ulica) *[0-9]|"
            r"(?i)\b(ul|al|aleja|rua|rue|calle|via|avenida|carrer|praça|bd|bulevardul|strada|str"
            r"|calea|sos|șoseaua|splaiul|aleea)\.? [^\n]{1,40}[0-9]|"
            r"(?i)(stræti|vegur|braut|stígur) *[0-9]|"
            r"(?i)\b(box|pmb) *#?[0-9]",
            find_address,
        ),
        Recognizer(
            "address_context",
            ("STREET_ADDRESS",),
            r"(?i)(address|addr|lives at|living at|resid|located at|mail|send|sent|ship|"
            r"deliver|domicile|adresse|direcci|indirizzo|anschrift|adres|wohnt|habite)",
            find_address_context,
        ),
        Recognizer(
            "key_value",
            (
                "US_SSN",
                "US_PASSPORT",
                "US_DRIVER_LICENSE",
                "PHONE_NUMBER",
                "MEDICAL_RECORD_NUMBER",
                "DATE_TIME",
                "PERSON",
            ),
            r"(?i)(ssn|social_sec|ss_no|pass|dl|licen|phone|tel|mobile|cell|fax|msisdn|mrn"
            r"|med_rec|medical|patient|chart|dob|birth|user|login|name|customer|contact"
            r"|city|town|locality|village|municipality|suburb|county|zip|post|plz|eircode"
            r"|national|nid|nin|ni_|pps|nhs|tax|personal|id_number|citizen|sin|bsn|medicare"
            r"|member|policy)"
            r"[a-z_\-]*\"? *[=:]"
            r"|(?i)\b(user|login|uid) +[a-z]",
            find_key_value,
        ),
        Recognizer(
            "place_known",
            ("LOCATION",),
            r"\p{Lu}\pL\pL|(?i)\b(in|from|to|at|near|of|via) +\pL\pL\pL",
            find_place_known,
        ),
        Recognizer(
            "table_fields",
            (
                "PERSON",
                "LOCATION",
                "POSTAL_CODE",
                "US_ZIP",
                "DATE_TIME",
                "PHONE_NUMBER",
                "MEDICAL_RECORD_NUMBER",
                "NATIONAL_ID",
                "US_SSN",
            ),
            r"(?i)[a-z][a-z_ \-]*[,|;\t][^\n]*\n[^\n]*[,|;\t]",
            find_table_fields,
        ),
        Recognizer(
            "place_context",
            ("LOCATION",),
            r"(?:from|in|of|to|hometown) +[A-Z\x{C0}-\x{17F}]",
            find_place_context,
        ),
        Recognizer(
            "person_context",
            ("PERSON",),
            _HONORIFIC_PREFILTER + r"|[^\x00-\x7f]|\[[^\]]{2,60}\]|<[^>]{2,60}>|\w \(\w"
            r"|(?m)^[ \t]*[^ \t:]+(?: [^ \t:]+)?:[ \t]"
            r"|(?i)\b(this is|it'?s|it is|i'?m|i am|call me|name'?s|regards|thanks)\b"
            r"|(?i)(thanks|thank you|thx|ty|cheers|regards|best|br|sincerely|yours|love|soon"
            r"|care|wishes)[ \t]*[,!.\-–—]"
            r"|(?im)^[ \t]*(hi|hello|hey|hiya|dear|morning|good) |(?m)^[ \t]*[0-9]{1,2}:[0-9]{2}"
            r"|(?im)(regards|thanks|thank you|cheers|best|sincerely|yours|br)[ \t]*[,.!]?[ \t]*$"
            r"|[A-Z\x{C0}-\x{DE}][A-Z\x{C0}-\x{DE}'’\-]+[ \t]+[A-Z\x{C0}-\x{DE}]{2,}"
            r"|(?i)\b(if|when|unless|whether|until|before|after|because|since|so|that|ring|call"
            r"|phone|text|email|e-mail|message|ask|tell|remind|ping|cc|thank|to|with) +[A-Z]"
            r"|[,;\t|] *\"?[^\W\d_]+ [^\W\d_]+[^,;\t|\n]*\"? *[,;\t|]",
            find_person_context,
        ),
        Recognizer(
            "person_shape",
            ("PERSON",),
            r"[A-Z][a-z]+ (?:[A-Z]\.? |[a-z]{1,4} ){0,3}[A-Z][a-z]|^[^A-Z]*$",
            find_person_shape,
        ),
        Recognizer("person_known", ("PERSON",), r"\pL\pL\pL|\pL\pL \pL\pL", find_person_known),
    )
}

from nodes.privacy.address_chains import address_chain_recognizers  # noqa: E402
from nodes.privacy.embedded_records import embedded_record_recognizers  # noqa: E402
from nodes.privacy.hl7 import hl7_recognizers  # noqa: E402
from nodes.privacy.identifiers import identifier_recognizers  # noqa: E402
from nodes.privacy.labelled_names import labelled_name_recognizers  # noqa: E402
from nodes.privacy.national_ids import national_id_recognizers  # noqa: E402
from nodes.privacy.spoken_numbers import spoken_number_recognizers  # noqa: E402
from nodes.privacy.subject_names import subject_name_recognizers  # noqa: E402
from nodes.privacy.written_names import written_name_recognizers  # noqa: E402

RECOGNIZERS.update((r.name, r) for r in identifier_recognizers())
RECOGNIZERS.update((r.name, r) for r in hl7_recognizers())
RECOGNIZERS.update((r.name, r) for r in address_chain_recognizers())
RECOGNIZERS.update((r.name, r) for r in labelled_name_recognizers())
RECOGNIZERS.update((r.name, r) for r in national_id_recognizers())
RECOGNIZERS.update((r.name, r) for r in spoken_number_recognizers())
RECOGNIZERS.update((r.name, r) for r in subject_name_recognizers())
RECOGNIZERS.update((r.name, r) for r in written_name_recognizers())
RECOGNIZERS.update((r.name, r) for r in embedded_record_recognizers())
