"""Checksum and shape validators that confirm regex candidates.

Each validator takes the matched text and returns ``True`` when it is a real
identifier. They run only on candidates the vectorized regex search found, so they
can be plain Python. Pattern libraries reference them by name (``VALIDATORS``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import unicodedata
from collections.abc import Callable

_NON_DIGIT = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def digits(text: str) -> str:
    """Only the digits of ``text``."""
    return _NON_DIGIT.sub("", text)


def luhn(text: str) -> bool:
    """Luhn (mod 10) check over the digits of ``text``."""
    ds = digits(text)
    if len(ds) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(ds)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def credit_card(text: str) -> bool:
    """12-19 digits, Luhn-valid, a known issuer prefix, not one repeated digit."""
    ds = digits(text)
    if not 12 <= len(ds) <= 19 or len(set(ds)) == 1:
        return False
    if len(ds) == 12 and not ds.startswith(("50", "56", "57", "58", "6")):
        return False  # only Maestro issues 12-digit cards
    mastercard_2 = "2221" <= ds[:4] <= "2720"
    if ds[0] not in "3456" and not mastercard_2 and not ds.startswith(("1800", "2131", "81")):
        return False
    return luhn(ds)


def us_ssn(text: str) -> bool:
    """US SSN shape rules: area not 000/666/9xx, group not 00, serial not 0000."""
    ds = digits(text)
    if len(ds) != 9 or len(set(ds)) == 1:
        return False
    seps = _NON_ALNUM.findall(text)
    if seps and len(set(seps)) != 1:  # mixed separators such as 123-45.6789
        return False
    area, group, serial = ds[:3], ds[3:5], ds[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return ds not in ("123456789", "078051120", "219099999")


def iban(text: str) -> bool:
    """ISO 13616 IBAN: known length for the country and mod-97 == 1."""
    s = _NON_ALNUM.sub("", text).upper()
    want = _IBAN_LENGTHS.get(s[:2])
    if want is None or len(s) != want:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def npi(text: str) -> bool:
    """US National Provider Identifier: 10 digits, Luhn over '80840' + the digits."""
    ds = digits(text)
    return len(ds) == 10 and ds[0] in "12" and luhn("80840" + ds)


def aba_routing(text: str) -> bool:
    """ABA routing number: 9 digits, weights 3-7-1 sum divisible by 10."""
    ds = digits(text)
    if len(ds) != 9 or len(set(ds)) == 1:
        return False
    w = (3, 7, 1) * 3
    return sum(int(d) * k for d, k in zip(ds, w, strict=True)) % 10 == 0 and ds[:2] <= "32"


def dea(text: str) -> bool:
    """DEA registration: 2 letters + 7 digits with its check digit."""
    s = text.strip().upper()
    if len(s) != 9 or not s[2:].isdigit() or s[0] not in "ABCDEFGHJKLMPRSTUX":
        return False
    d = [int(c) for c in s[2:]]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return check == d[6]


def ip_address(text: str) -> bool:
    """A syntactically valid IPv4 or IPv6 address (not a version number like 1.2.3)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NUMERIC = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4}|[0-9]{2})")
_MONTH_FIRST = re.compile(r"([A-Za-z]+)\.? ([0-9]{1,2}),? ([0-9]{4})")
_DAY_FIRST = re.compile(r"([0-9]{1,2}) ([A-Za-z]+)\.? ([0-9]{4})")
_MONTH_NAMES = (
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"),
)  # fmt: skip
_MONTHS = {name: i + 1 for i, names in enumerate(_MONTH_NAMES) for name in names}
# Month names of Spanish, Portuguese, French, Italian, German and Dutch dates
# ("2 de octubre de 1972", "20 février 2019", "12. März 1980").
FOREIGN_MONTHS = {
    name: i + 1
    for i, names in enumerate((
        ("enero", "janeiro", "janvier", "gennaio", "januar", "jänner", "januari"),
        ("febrero", "fevereiro", "février", "fevrier", "febbraio", "februar", "februari"),
        ("marzo", "março", "marco", "mars", "märz", "maerz", "maart"),
        ("abril", "avril", "aprile", "april"),
        ("mayo", "maio", "mai", "maggio", "mei"),
        ("junio", "junho", "juin", "giugno", "juni"),
        ("julio", "julho", "juillet", "luglio", "juli"),
        ("agosto", "août", "aout", "august", "augustus"),
        ("septiembre", "setiembre", "setembro", "septembre", "settembre", "september"),
        ("octubre", "outubro", "octobre", "ottobre", "oktober"),
        ("noviembre", "novembro", "novembre", "november"),
        ("diciembre", "dezembro", "décembre", "decembre", "dicembre", "dezember", "december"),
    ))
    for name in names
} | {
    # Polish, Czech and Ukrainian (romanised) in the genitive of dates, Turkish, Swahili,
    # Tagalog, Catalan, Indonesian, Romanian, Finnish, Hungarian, Nordic
    name: i + 1
    for i, names in enumerate((
        ("stycznia", "ledna", "sichnia", "ocak", "januari", "enero", "gener", "ianuarie",
         "tammikuuta", "január", "januar"),
        ("lutego", "února", "unora", "liutoho", "lyutoho", "şubat", "subat", "februari", "pebrero",
         "febrer", "februarie", "helmikuuta", "február", "februar"),
        ("marca", "března", "brezna", "bereznia", "mart", "machi", "marso", "març", "maret",
         "martie", "maaliskuuta", "március", "marts", "mars"),
        ("kwietnia", "dubna", "kvitnia", "nisan", "aprili", "abril", "aprilie", "huhtikuuta",
         "április"),
        ("maja", "května", "kvetna", "travnia", "may\u0131s", "mayis", "mei", "mayo", "maig", "mai",
         "toukokuuta", "május", "maj"),
        ("czerwca", "června", "cervna", "chervnia", "haziran", "juni", "hunyo", "juny", "iunie",
         "kesäkuuta", "június"),
        ("lipca", "července", "cervence", "lypnia", "temmuz", "julai", "hulyo", "juliol", "juli",
         "iulie", "heinäkuuta", "július"),
        ("sierpnia", "srpna", "serpnia", "ağustos", "agustos", "agosti", "agosto", "agost",
         "agustus", "elokuuta", "augusztus", "augusti"),
        ("września", "wrzesnia", "září", "zari", "veresnia", "eylül", "eylul", "septemba",
         "setyembre", "setembre", "septembrie", "syyskuuta", "szeptember"),
        ("października", "pazdziernika", "října", "rijna", "zhovtnia", "ekim", "oktoba",
         "oktubre", "octubre", "octombrie", "lokakuuta", "október"),
        ("listopada", "listopadu", "lystopada", "kas\u0131m", "kasim", "novemba", "nobyembre",
         "novembre", "noiembrie", "marraskuuta"),
        ("grudnia", "prosince", "hrudnia", "aral\u0131k", "aralik", "desemba", "disyembre",
         "desembre", "desember", "decembrie", "joulukuuta", "december"),
    ))
    for name in names
}  # fmt: skip
_FOREIGN = re.compile(
    r"([0-9]{1,2})(?:\.|º|er)? ?(?:de )?([^\W\d_]+)\.?,? (?:de |del )?([0-9]{4})", re.IGNORECASE
)
_COMPACT = re.compile(r"((?:19|20)[0-9]{2})([0-9]{2})([0-9]{2})")


def parse_date(text: str) -> dt.date | None:
    """Parse a date in a common format (ISO, M/D/Y, D.M.Y, 'March 5, 2021', '2 de octubre
    de 1972', compact 20041113), else None.

    Plain regexes rather than ``strptime``, which is slow (locale lookups per call).
    """
    s = text.strip()
    if len(s) > 10 and s[:4].isdigit() and s[10] in "T ":
        s = s[:10]
    m = _ISO.fullmatch(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        return _date_or_none(y, mo, d)
    m = _NUMERIC.fullmatch(s)
    if m:
        a, b, y = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            y = pivot_year(y)
        return _date_or_none(y, a, b) or _date_or_none(y, b, a)
    m = _MONTH_FIRST.fullmatch(s)
    if m:
        month = _MONTHS.get(m.group(1).lower())
        return _date_or_none(int(m.group(3)), month, int(m.group(2))) if month else None
    m = _DAY_FIRST.fullmatch(s)
    if m:
        month = _MONTHS.get(m.group(2).lower())
        if month:
            return _date_or_none(int(m.group(3)), month, int(m.group(1)))
    m = _FOREIGN.fullmatch(s)
    if m:
        month = FOREIGN_MONTHS.get(m.group(2).lower()) or _MONTHS.get(m.group(2).lower())
        return _date_or_none(int(m.group(3)), month, int(m.group(1))) if month else None
    m = _COMPACT.fullmatch(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        return _date_or_none(y, mo, d)
    return None


def pivot_year(yy: int, today: dt.date | None = None) -> int:
    """The century of a 2-digit year: the latest year that is not in the future
    (``62`` -> 1962, ``21`` -> 2021 in 2026). Dates of birth are never in the future."""
    this_year = (today or dt.date.today()).year
    year = this_year - this_year % 100 + yy
    return year if year <= this_year else year - 100


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def date(text: str) -> bool:
    """A real calendar date between 1900 and 2100."""
    d = parse_date(text)
    return d is not None and 1900 <= d.year <= 2100


def swift_bic(text: str) -> bool:
    """SWIFT/BIC: bank code, a real ISO country code, location (and branch)."""
    s = text.strip().upper()
    country = s[4:6]
    return (
        len(s) in (8, 11) and s[:4].isalpha() and (country in _IBAN_LENGTHS or country in _EXTRA_CC)
    )


def phone(text: str) -> bool:
    """Between 10 and 15 digits, not one repeated digit, no leading separator junk."""
    ds = digits(text.split("x")[0].split("X")[0])
    if ds.startswith("001"):
        ds = ds[3:]
    return 10 <= len(ds) <= 15 and len(set(ds)) > 2


def email(text: str) -> bool:
    """Local part and a domain with a letters-only (or IDNA ``xn--``) top-level label.

    Letters of any script count (RFC 6531: ``δοκιμή@παράδειγμα.δοκιμή``), with their
    combining marks (a Devanagari vowel sign, an accent written as a separate code point).
    A local part that is a UUID names a message or a calendar event (``UID:<uuid>@host``,
    ``Message-ID``), not a mailbox.
    """
    local, _, domain = text.rpartition("@")
    tld = domain.rsplit(".", 1)[-1]
    tld_ok = _letters_only(tld) or (tld.lower().startswith("xn--") and tld[4:].isalnum())
    return (
        bool(local)
        and "." in domain
        and tld_ok
        and ".." not in domain
        and _UUID.fullmatch(local) is None
    )


_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _letters_only(text: str) -> bool:
    """A letter, then only letters and combining marks."""
    return (
        bool(text)
        and text[0].isalpha()
        and all(c.isalpha() or unicodedata.category(c).startswith("M") for c in text)
    )


def itin(text: str) -> bool:
    """US ITIN: 9xx, group 50-65/70-88/90-92/94-99, consistent separators."""
    ds = digits(text)
    if len(ds) != 9 or ds[0] != "9":
        return False
    seps = _NON_ALNUM.findall(text)
    if seps and len(set(seps)) != 1:
        return False
    g = int(ds[3:5])
    return 50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99


def uk_nhs(text: str) -> bool:
    """UK NHS number: 10 digits, modulus-11 check digit."""
    ds = digits(text)
    if len(ds) != 10 or len(set(ds)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(ds[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(ds[9])


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def bitcoin_address(text: str) -> bool:
    """A Bitcoin address: Base58Check (P2PKH/P2SH) or Bech32/Bech32m (segwit) checksum."""
    import hashlib

    s = text.strip()
    if s[:3].lower() == "bc1":
        s = s.lower()
        hrp, _, data = s.rpartition("1")
        if hrp != "bc" or not 6 <= len(data) <= 87 or any(c not in _BECH32 for c in data):
            return False
        values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
        values += [_BECH32.index(c) for c in data]
        return _bech32_polymod(values) in (1, 0x2BC830A3)
    if not 26 <= len(s) <= 35 or s[0] not in "13" or any(c not in _B58 for c in s):
        return False
    n = 0
    for c in s:
        n = n * 58 + _B58.index(c)
    try:
        raw = n.to_bytes(25, "big")
    except OverflowError:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


def medical_license(text: str) -> bool:
    """DEA registration number (Presidio's MEDICAL_LICENSE): letter, letter or 9, 7 digits."""
    return dea(text)


def us_bank_number(text: str) -> bool:
    """8-17 digits, not one repeated digit."""
    ds = digits(text)
    return 8 <= len(ds) <= 17 and len(set(ds)) > 1


def long_number(text: str) -> bool:
    """An unexplained 9-19 digit number (not one repeated digit, not 0-padded zeros)."""
    ds = digits(text)
    return 9 <= len(ds) <= 19 and len(set(ds)) > 1 and ds.strip("0") != ""


def passport(text: str) -> bool:
    """A passport number: 6-9 letters/digits, at least 5 of them digits, not one repeated
    digit."""
    ds = digits(text)
    return 6 <= len(text) <= 10 and len(ds) >= 5 and len(set(ds)) > 1


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "passport": passport,
    "luhn": luhn,
    "credit_card": credit_card,
    "us_ssn": us_ssn,
    "iban": iban,
    "npi": npi,
    "aba_routing": aba_routing,
    "dea": dea,
    "ip_address": ip_address,
    "date": date,
    "swift_bic": swift_bic,
    "phone": phone,
    "email": email,
    "itin": itin,
    "uk_nhs": uk_nhs,
    "bitcoin_address": bitcoin_address,
    "medical_license": medical_license,
    "us_bank_number": us_bank_number,
    "long_number": long_number,
}

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "LY": 25, "SD": 18, "BI": 27,
    "DJ": 27, "RU": 33, "SO": 23, "NI": 28, "MN": 20, "OM": 23, "FK": 18, "YE": 30,
    "HN": 28,
}  # fmt: skip
_EXTRA_CC = {"US", "CA", "AU", "JP", "CN", "IN", "SG", "HK", "MX", "NZ", "ZA", "KR", "AR", "CL"}
