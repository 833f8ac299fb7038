"""Words that belong to a number: a currency beside an amount, a unit after a slash, the
label of a reference or a room.

NER takes a capitalised currency abbreviation for part of a name (``Biaya Rp
1.386.000``: "Biaya Rp" a person; ``Malipo KSh 2,373.83``) and the litre of ``Hb 112
g/L`` for the start of one. Neither identifies anyone, and redacting them breaks the
amount or the lab value. :func:`trim_quantities` takes them out of person and place
findings:

- a currency word (an ISO 4217 code, from ``pycountry``, or a local abbreviation such
  as ``Rp``, ``KSh``, ``Rs.``, ``R$``, ``zł``) at the end of a finding with an amount
  right after it, or at its start with an amount right before it;
- a unit at a finding's start right after ``<digit or unit>/`` (``g/L``, ``mmol/L``,
  ``km/h``);
- a dose's unit, route and frequency at a finding's start right after a number (``500
  mg tds``, ``2.5 mg sc q4h prn``: lower-case text that NER reads after truecasing).
- the word that labels the number right after a finding (``INCIDENT ORD-77356142``,
  ``CHECK-IN Suite 9``, ``Invoice 24-051111``): a reference or room label
  (:data:`NUMBER_LABELS`), or a short code prefix in capitals joined to the number by a
  hyphen.

A finding with nothing left, or with only such labels left, is dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Currency abbreviations in use beside amounts that are not ISO 4217 codes.
LOCAL_CURRENCY = _words(
    "rp ksh tsh ush rs rs. r$ us$ a$ c$ nz$ hk$ s$ zł zl kč kc ft kr kn rm lei dhs dh"
    " gh₵ ₦ ₱ ₹ ₪ ₩ ₫ ₺ ₴ ₸ ₼ ₾ tk sfr chf eur usd"
)
_ENTITIES = frozenset(["PERSON", "LOCATION"])
_TOKEN = re.compile(r"\S+")
_AMOUNT_AFTER = re.compile(r"[ \t\u00a0]*[\d]")
_AMOUNT_BEFORE = re.compile(r"\d[\d.,\u00a0 ]*[ \t\u00a0]*$")
_UNIT_SLASH = re.compile(r"(?:\d|[A-Za-zµμ]{1,4})/$")
# Units, routes and frequencies of a drug's dose ("500 mg tds", "2.5 mg sc q4h prn").
DOSE_WORDS = _words(
    "mg mcg µg ug g kg ml l iu units unit mmol meq % tab tabs cap caps puff puffs drop drops"
    " po iv im sc sq sl pr neb inh top od bd bid tds tid qds qid qd qh prn nocte mane stat"
    " q4h q6h q8h q12h q24h q2h q1h daily weekly"
)
# Words that label the number after them: references, rooms and places in a building.
NUMBER_LABELS = _words(
    "invoice inv order ord po ref reference ticket tkt receipt lot batch sku item case claim"
    " incident job booking suite room rm bed bay pod ward gate seat desk cabin berth locker"
    " platform terminal dock pier"
)
_NUMBER_AFTER = re.compile(r"[ \t]*(?:#|no\.?|nr\.?)?[ \t]*[A-Z]?-?\d")
_CODE_PREFIX_AFTER = re.compile(r"-\d")
_NUMBER_BEFORE = re.compile(r"\d[ \t\u00a0]*$")
# Units of the denominator of a rate or a concentration.
UNITS = _words("l dl ml µl h hr hrs d min s kg g mg m wk")


@functools.lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def currency_word(word: str) -> bool:
    """True for an ISO 4217 code in capitals (``KES``) or a local abbreviation (``KSh``)."""
    w = word.strip(",;:")
    return w.lower() in LOCAL_CURRENCY or (len(w) == 3 and w.isupper() and w in _iso_codes())


def trim_quantities(text: str, found: Sequence[Finding]) -> list[Finding]:
    """``found`` with currency and unit words taken out of person and place findings."""
    out = []
    for f in found:
        if f.entity in _ENTITIES:
            start, end = _trimmed(text, f.start, f.end)
            if start >= end:
                continue
            if (start, end) != (f.start, f.end):
                f = Finding(start, end, f.entity, f.score, f.source)
        out.append(f)
    return out


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    toks = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
    if not toks:
        return start, end
    first = text[toks[0][0] : toks[0][1]].rstrip(".,;:)")
    if first.lower() in UNITS and _UNIT_SLASH.search(text, max(0, start - 5), start):
        toks.pop(0)
    if toks and _NUMBER_BEFORE.search(text, max(0, start - 3), start):
        while toks and text[toks[0][0] : toks[0][1]].rstrip(".,;:)").lower() in DOSE_WORDS:
            toks.pop(0)
    while (
        toks
        and currency_word(text[toks[-1][0] : toks[-1][1]])
        and _AMOUNT_AFTER.match(text, toks[-1][1])
    ):
        toks.pop()
    while (
        toks
        and currency_word(text[toks[0][0] : toks[0][1]])
        and _AMOUNT_BEFORE.search(text, max(0, toks[0][0] - 20), toks[0][0])
    ):
        toks.pop(0)
    while toks and _labels_number(text, *toks[-1]):
        toks.pop()
    if not toks or all(_bare(text, *t).lower() in NUMBER_LABELS for t in toks):
        return start, start
    if toks[0][0] == start and toks[-1][1] == end:
        return start, end
    s, e = toks[0][0], toks[-1][1]
    while e > s and text[e - 1] in ".,;:":
        e -= 1
    return s, e


def _bare(text: str, start: int, end: int) -> str:
    return text[start:end].strip(".,;:()[]")


def _labels_number(text: str, start: int, end: int) -> bool:
    """The token ``text[start:end]`` labels the number right after it."""
    word = _bare(text, start, end)
    if word.lower() in NUMBER_LABELS and _NUMBER_AFTER.match(text, end):
        return True
    return 1 < len(word) <= 4 and word.isupper() and _CODE_PREFIX_AFTER.match(text, end) is not None
