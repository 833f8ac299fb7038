# ruff: noqa: RUF001
"""Names that no cue reveals, found because they are names: a given name followed by a
surname of :mod:`nodes.privacy.gazetteer` (``gaspard dubois``, ``HEMI WALKER``), and a
single word that is a known name and no English word (``ask tamati about it``).

English words are told apart by pyspellchecker's frequency list: ``will``, ``hope``,
``street`` or ``patient`` are given names somewhere, but a pair needs a given name that
is in none of the list's 160,000 words (which also holds most brand names) or two words
outside its 30,000 most frequent (:func:`nodes.privacy.names.opening_words`), and a
word alone must be in none of the 160,000. A word glued to code (``json=``,
``/home/keoni``, ``v2``) is not read as a name.
"""

from __future__ import annotations

import functools
import re

from nodes.privacy.gazetteer import gazetteer
from nodes.privacy.names import (
    _ORG_WORDS,
    _STOP_SURNAME,
    HONORIFICS,
    LABEL_WORDS,
    PARTICLES,
    RELATIONS,
    common_words,
    english_words,
    opening_words,
    very_common_words,
)
from nodes.privacy.scan_types import Finding

KNOWN_SCORE = 0.6
PAIR_RANK = 12_000  # both words of a pair ranked within this in some country
POPULAR_RANK = 2_000  # a pair of popular names may both be less frequent English words
SINGLE_RANK = 10_000
TOP_RANK = 1_000
SINGLE_MIN_LEN = 4

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_GAP = re.compile(r"[ \t]+")
_GLUE_BEFORE = frozenset("@/\\_=#$%&*+<>[{|~`^.-")
_GLUE_AFTER = frozenset("@/\\_=#$%&*+<>]}|~`^(-")
# Brands and words of software that the name data holds as given names (its profiles are
# self-declared), some of them towns too, and that pyspellchecker's English list does not
# hold: never a name or a place alone.
BRANDS = frozenset(["sudo", "json", "yaml", "cron", "docker", "debian", "ubuntu", "macos",
                        "jira", "django", "redis", "kafka", "asap", "humira", "zelle", "amex",
                        "kaiser", "nginx", "webex", "gmail", "okta", "whatsapp", "tiktok",
                        "spotify", "uber", "lenovo", "huawei", "xiaomi", "oppo", "vivo",
                        "fujifilm", "garmin", "tata", "mahindra", "skoda", "lada", "alfa",
                        "scania", "hino", "geely", "chery", "haval", "perodua", "miele",
                        "fanta", "wendys", "zimmer", "mazda", "hyundai", "suzuki", "dacia",
                        "chevy", "benz", "sony", "nike", "zara", "chanel", "hermes", "seiko",
                        "heinz", "cola", "athena", "lyra", "toyota", "honda", "nissan",
                        "subaru", "volvo", "audi", "lexus", "renault", "fiat", "ferrari",
                        "samsung", "acer", "philips", "puma", "gucci", "dior", "lego",
                        "nestle", "bayer", "roche", "abbott", "stripe", "fitbit"])  # fmt: skip
# Words of identifier labels ("this is an iban ...", "Server IP: ...").
_LABELS = frozenset(["iban", "bic", "swift", "ip", "ipv4", "ipv6", "imei", "vin", "itin",
                     "nhs", "cvv", "cvc", "otp", "url", "uri", "mbi", "npi", "ein", "tin",
                     "upi", "pesel", "nino", "aadhaar", "pan", "cpf", "cnpj", "rfc", "curp",
                     "nif", "nie", "dni", "bsn", "siren", "siret"])  # fmt: skip
_NEVER = (
    BRANDS
    | _LABELS
    | frozenset(HONORIFICS)
    | frozenset(r for r in RELATIONS if " " not in r)
    | LABEL_WORDS
    | _ORG_WORDS
    | _STOP_SURNAME
)


@functools.lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """Stop words, titles and relation words: never a given name, even capitalised."""
    try:
        from spacy.lang.en.stop_words import STOP_WORDS
    except ImportError:  # pragma: no cover - spaCy is a dependency of presidio-analyzer
        STOP_WORDS = set()
    return frozenset(STOP_WORDS) | frozenset(HONORIFICS) | frozenset(RELATIONS)


_BINOMIAL_BEFORE = re.compile(r"(?<![\w.])[A-Z]\.[ \t]?$")


def _free(text: str, start: int, end: int) -> bool:
    """The word stands as a word: not part of a path, key, address, tag or code."""
    if text[start : start + 1].islower() and _BINOMIAL_BEFORE.search(
        text, max(0, start - 4), start
    ):
        return False  # the species of a binomial ("E. coli", "H. pylori")
    if start > 0:
        c = text[start - 1]
        if (
            c.isdigit()
            or c in _GLUE_BEFORE
            or (c == "'" and start > 1 and text[start - 2].isalpha())
        ):
            return False
    if end < len(text):
        c = text[end]
        if c.isdigit() or c in _GLUE_AFTER:
            return False
        if c in ".:" and end + 1 < len(text) and text[end + 1].isalnum():
            return False  # "keoni.k@", "host.name", "user:pass"
    return True


def _case(word: str) -> str:
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    return "title" if word[0].isupper() and word[1:].islower() else "mixed"


def find_known_names(text: str) -> list[Finding]:
    toks = [m for m in _WORD.finditer(text) if _free(text, m.start(), m.end())]
    if not toks:
        return []
    words = [m.group(0) for m in toks]
    lows = [w.lower() for w in words]
    common, frequent, very = common_words(), opening_words(), very_common_words()
    english = english_words()
    # only words that could be part of a name are looked up (stop words never are)
    cases = [_case(w) for w in words]
    # frequent words that are given names too ("Faith", "Hope", "Summer"), capitalised
    # before a capitalised word that is no English word: asked for the pair rule below
    word_given = {
        i
        for i, w in enumerate(lows[:-1])
        if w in very
        and len(w) >= 3
        and w not in _NEVER
        and w not in function_words()
        and cases[i] == "title"
        and cases[i + 1] == "title"
        and lows[i + 1] not in english
        and _GAP.fullmatch(text, toks[i].end(), toks[i + 1].start()) is not None
    }
    ask = [
        i
        for i, w in enumerate(lows)
        if (w not in very and w not in _NEVER and len(w) > 1) or i in word_given
    ]
    if not ask:
        return []
    given, surname = [0] * len(words), [0] * len(words)
    g, s = gazetteer().ranks([words[i] for i in ask])
    for i, gi, si in zip(ask, g, s, strict=True):
        given[i], surname[i] = gi, si
    mixed_text = any(c.islower() for c in text) and any(c.isupper() for c in text)

    def usable(i: int) -> bool:
        # a two-letter word is a name only when written as one ("Li", "Ng"; not "mg", "IP")
        return (
            (len(lows[i]) >= 3 or (len(lows[i]) == 2 and cases[i] == "title"))
            and lows[i] not in very
            and lows[i] not in _NEVER
        )

    def adjacent(i: int, j: int) -> bool:
        return _GAP.fullmatch(text, toks[i].end(), toks[j].start()) is not None

    def same_case(i: int, j: int) -> bool:
        a, b = cases[i], cases[j]
        return a == b or (a in ("title", "upper") and b in ("title", "upper"))

    def surname_at(i: int, j: int, any_role: bool = False) -> int | None:
        """Index of the surname after word ``i`` (particles between), or None."""
        k = i + 1
        while k < len(toks) and lows[k] in PARTICLES and adjacent(k - 1, k):
            k += 1
        if k >= len(toks) or not adjacent(k - 1, k) or not same_case(i, k) or not usable(k):
            return None
        rank = surname[k] or (given[k] if any_role else 0)
        return k if 0 < rank <= PAIR_RANK else None

    def unknown_word(i: int, k: int) -> bool:
        """Word ``k`` beside name word ``i`` is another word of the name: written in the
        same case, no English word, no label, letters with a vowel."""
        a, b = (i, k) if i < k else (k, i)
        return (
            adjacent(a, b)
            and same_case(i, k)
            and usable(k)
            and lows[k] not in english
            and len(lows[k]) >= 3
            and any(c in "aeiouyàáâãäåèéêëìíîïòóôõöøùúûüāēīōū" for c in lows[k])
        )

    def named(i: int) -> bool:
        return 0 < (given[i] or surname[i]) <= PAIR_RANK

    out: list[Finding] = []
    i, n = 0, len(toks)
    while i < n:
        j = surname_at(i, i) if usable(i) and 0 < given[i] <= PAIR_RANK else None
        if j is None and usable(i) and named(i) and lows[i] not in english:
            j = surname_at(i, i, any_role=True)  # two name words that are no English words
            if j is not None and lows[j] in english:
                j = None
        if j is not None:
            a, b = lows[i], lows[j]
            popular = given[i] <= POPULAR_RANK and surname[j] <= POPULAR_RANK
            # a given name that is no English word ("hemi walker"), a given name before a
            # surname that is no English word ("thomas venkataraman"), or two rare words
            rare = (
                a not in english
                # a given name that is also a word, before a surname that is none
                # ("grace etxeberria", "Dawn Shabalala")
                or (b not in english and 0 < given[i] <= PAIR_RANK)
                or (a not in frequent and b not in frequent)
            )
            if rare or (popular and a not in common and b not in common):
                k = j
                while (nxt := surname_at(k, k)) is not None and lows[nxt] not in frequent:
                    k = nxt  # "maria da silva santos"
                out.append(Finding(toks[i].start(), toks[k].end(), "PERSON", KNOWN_SCORE,
                                   source="known"))  # fmt: skip
                i = k + 1
                continue
        # a popular given name, a word too ("Faith", "Grace"), before a capitalised word
        # that is no English word: a surname the table does not hold ("Faith Okafor")
        if (
            i in word_given
            and 0 < given[i] <= POPULAR_RANK
            and (0 < surname[i + 1] <= PAIR_RANK or unknown_word(i, i + 1))
            and usable(i + 1)
        ):
            out.append(Finding(toks[i].start(), toks[i + 1].end(), "PERSON", KNOWN_SCORE,
                               source="known"))  # fmt: skip
            i += 2
            continue
        # one word alone: a given name (a surname alone is as often a brand or a place),
        # written as a word, not opening a run of capitalised words ("Kaiser Permanente")
        if (
            0 < given[i] <= SINGLE_RANK
            and len(lows[i]) >= SINGLE_MIN_LEN
            and cases[i] in ("lower", "title")
            # no English word, or a very popular given name that is a rare one
            # ("mohammed", "lakshmi"; not "john", which subtitles use as a word too)
            and (lows[i] not in english or (given[i] <= TOP_RANK and lows[i] not in frequent))
            and usable(i)
            and (mixed_text or cases[i] == "lower" or n > 1)
            and not (
                cases[i] == "title"
                and i + 1 < n
                and cases[i + 1] in ("title", "upper")
                and adjacent(i, i + 1)
            )
        ):
            k = i
            while k + 1 < n and k - i < 2 and unknown_word(k, k + 1):
                k += 1  # "siriporn aglukkaq": a surname the table does not hold
            first = i - 1 if i > 0 and unknown_word(i, i - 1) else i
            out.append(Finding(toks[first].start(), toks[k].end(), "PERSON", KNOWN_SCORE,
                               source="known"))  # fmt: skip
            i = k
        i += 1
    return out
