"""A name gazetteer recognizer: ``First Last`` pairs from known given names and surnames.

NER (spaCy) misses a few percent of names, mostly at the start of short sentences;
under HIPAA one missed name is a leak. This recognizer adds title-case pairs whose
first token is a known given name and last token a known surname (optional title,
middle initial and suffix). The lists are Faker's English-locale person data, which
ships with the installed ``faker`` package (no download).

Caveat for evaluation: the test/benchmark evaluation set draws names from the same
Faker lists, so its PERSON recall *with* the gazetteer is optimistic; the suite also
reports NER-only figures, which is what it compares with Presidio.
"""

from __future__ import annotations

import functools

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx", "prof"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v", "md", "dds", "dvm", "phd", "rn", "np"}
_LOCALES = ("en_US", "en_GB", "en_CA", "en_AU", "en_IE", "en_NZ", "en_IN")

NAME_REGEX = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Mx|Prof)\.? )?"
    r"[A-Z][a-z]+(?:[\-'][A-Z][a-z]+)? (?:[A-Z]\.? )?[A-Z][a-z]+(?:[\-'][A-Z]?[a-z]+)?"
    r"(?: (?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|RN|NP)\.?)?"
)


@functools.lru_cache(maxsize=1)
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames) from the installed Faker English person providers."""
    import importlib

    first: set[str] = set()
    last: set[str] = set()
    for loc in _LOCALES:
        try:
            mod = importlib.import_module(f"faker.providers.person.{loc}")
        except ImportError:
            continue
        prov = mod.Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first |= set(getattr(prov, attr, ()) or ())
        last |= set(getattr(prov, "last_names", ()) or ())
    return frozenset(first), frozenset(last)


def person_name(text: str) -> bool:
    """True when ``text`` is ``[Title] Given [I.] Surname [Suffix]`` from the gazetteer."""
    first, last = gazetteer()
    toks = text.replace(".", " ").split()
    while toks and toks[0].lower() in _TITLES:
        toks = toks[1:]
    while toks and toks[-1].lower() in _SUFFIXES:
        toks = toks[:-1]
    if len(toks) < 2:
        return False
    return toks[0] in first and toks[-1] in last
