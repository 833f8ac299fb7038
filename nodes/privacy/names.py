# ruff: noqa: RUF001
"""Names without a name list: which text NER must see, and names that context reveals.

There is no gazetteer of given names or surnames here. Names are found by

1. spaCy NER (:mod:`nodes.privacy.presidio_bridge`) on every sentence that could hold a
   name: one with a capitalised word (accented capitals included: ``Çağla``, ``Øystein``)
   that is not a frequent English word at the sentence start, and lower-case sentences,
   which are first *truecased* (words that are not frequent English words get a capital)
   so that the model sees ``spouse Maria Gonzalez called``. Sentences are not split after
   honorifics, initials and other abbreviations (``Dr.``, ``Mrs.``, ``J.``).
2. Context rules (:func:`find_person_context`): the words after an honorific (``Dr.``,
   ``Mrs``, ``Herr``, ``Mme``...) or a relation/role word (``spouse``, ``Pt``,
   ``daughter``, ``emergency contact``, ``seen by``...), and runs of capitalised words
   with non-ASCII letters that are not frequent words.

"Frequent English words" are the 5,000 most frequent entries of the English word
frequency list shipped with ``pyspellchecker`` (a subtitles corpus) plus spaCy's English
stop words: a list of words, not of names, from sources unrelated to any test data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding

COMMON_WORDS_TOP = 5000
OPENING_WORDS_TOP = 30000  # a capitalised sentence opener this frequent is not a name cue
CONTEXT_SCORE = 0.7
ACCENTED_SCORE = 0.6

HONORIFICS = ("dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sr", "sra", "srta", "herr",
              "frau", "mme", "mlle", "dott", "dra", "sig", "sgt", "capt", "rev", "fr", "sir",
              "dame", "lady", "lord")  # fmt: skip
RELATIONS = ("spouse", "wife", "husband", "partner", "fiancé", "fiance", "fiancée", "son",
             "daughter", "mother", "father", "mom", "mum", "dad", "brother", "sister",
             "grandmother", "grandfather", "grandson", "granddaughter", "aunt", "uncle",
             "niece", "nephew", "cousin", "friend", "neighbor", "neighbour", "pt", "patient",
             "guardian", "caregiver", "carer", "emergency contact", "next of kin", "nok",
             "my name is", "name is", "name", "named", "called", "signed by", "seen by",
             "referred by", "attending", "physician", "nurse", "surgeon", "provider",
             "dear", "attn", "c/o", "contact")  # fmt: skip
PARTICLES = frozenset(
    (
        "van",
        "von",
        "de",
        "der",
        "den",
        "da",
        "di",
        "del",
        "della",
        "la",
        "le",
        "du",
        "dos",
        "das",
        "bin",
        "ibn",
        "al",
        "el",
        "ter",
        "ten",
        "st",
    )
)
_ABBREVIATIONS = frozenset((*HONORIFICS, "st", "jr", "no", "vs", "etc", "mt", "ft", "gen",
                            "col", "lt", "hon", "pt", "approx", "dept", "inc", "ltd", "co",
                            "ave", "rd", "blvd", "e.g", "i.e", "fig", "vol"))  # fmt: skip

_TOKEN = re.compile(r"[^\W\d_][\w'’\-]*")
# Upper-case letters of the Latin, Greek and Cyrillic blocks (re has no \p{Lu}).
UPPER = "[" + "".join(re.escape(chr(i)) for i in range(0x41, 0x530) if chr(i).isupper()) + "]"
_NAME_TOKEN = UPPER + r"[^\W\d_]*(?:['’\-][^\W\d_]+)*"
_LOWER_TOKEN = r"[^\W\d_][^\W\d_]*(?:['’\-][^\W\d_]+)*"
_HONORIFIC_RX = re.compile(
    r"(?<![\w])(?i:" + "|".join(HONORIFICS) + r")\.?\s+"
    r"((?:"
    + _NAME_TOKEN
    + r")(?:\s+(?:(?:"
    + "|".join(PARTICLES)
    + r")\s+)*(?:[A-Z]\.\s*)?"
    + _NAME_TOKEN
    + r"){0,3})"
)
_RELATION_RX = re.compile(
    r"(?<![\w])(?i:"
    + "|".join(re.escape(r) for r in sorted(RELATIONS, key=len, reverse=True))
    + r")(?:\s*[:,\-]\s*|\s+(?i:is|was|:)\s+|\s+)"
    r"((?:"
    + _NAME_TOKEN
    + r")(?:\s+(?:(?:"
    + "|".join(PARTICLES)
    + r")\s+)*(?:[A-Z]\.\s*)?"
    + _NAME_TOKEN
    + r"){0,3})"
)
_RELATION_LOWER_RX = re.compile(
    r"(?<![\w])(?:"
    + "|".join(re.escape(r) for r in sorted(RELATIONS, key=len, reverse=True))
    + r")(?:\s*[:,\-]\s*|\s+(?:is|was)\s+|\s+)"
    r"(" + _LOWER_TOKEN + r"(?:\s+" + _LOWER_TOKEN + r"){0,3})"
)
_HONORIFIC_LOWER_RX = re.compile(
    r"(?<![\w])(?:"
    + "|".join(HONORIFICS)
    + r")\.?\s+("
    + _LOWER_TOKEN
    + r"(?:\s+"
    + _LOWER_TOKEN
    + r")?)"
)
_CAPS_RUN = re.compile(_NAME_TOKEN + r"(?:\s+(?:(?:" + "|".join(PARTICLES) + r")\s+)*"
                       + _NAME_TOKEN + r"){1,3}")  # fmt: skip


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Frequent English words (lower case): pyspellchecker's top list + spaCy stop words."""
    words: set[str] = set()
    try:
        from spellchecker import SpellChecker

        freq = SpellChecker(language="en").word_frequency.dictionary
        top = sorted(freq.items(), key=lambda kv: -kv[1])[:COMMON_WORDS_TOP]
        words |= {w for w, _n in top}
    except Exception:  # no frequency list: stop words only (more text goes to NER)
        pass
    try:
        from spacy.lang.en.stop_words import STOP_WORDS

        words |= set(STOP_WORDS)
    except Exception:
        pass
    words |= set(RELATIONS) | set(HONORIFICS)
    return frozenset(words)


def _is_common(token: str) -> bool:
    return token.lower().strip("'’-") in common_words()


@functools.lru_cache(maxsize=1)
def opening_words() -> frozenset[str]:
    """A wider frequent-word list for the first word of a sentence (always capitalised)."""
    try:
        from spellchecker import SpellChecker

        freq = SpellChecker(language="en").word_frequency.dictionary
        top = sorted(freq.items(), key=lambda kv: -kv[1])[:OPENING_WORDS_TOP]
        return frozenset(w for w, _n in top) | common_words()
    except Exception:
        return common_words()


def _trim_tokens(text: str, start: int, end: int, lower: bool) -> tuple[int, int] | None:
    """Drop leading/trailing frequent words (and particles) from a candidate name span."""
    toks = [(m.start() + start, m.end() + start) for m in _TOKEN.finditer(text[start:end])]
    while toks and text[toks[0][0] : toks[0][1]].isupper() and toks[0][1] - toks[0][0] <= 4:
        toks.pop(0)  # "Patient ID 123": an acronym is not a name
    while toks and (_is_common(text[toks[-1][0] : toks[-1][1]])
                    or text[toks[-1][0] : toks[-1][1]].lower() in PARTICLES):  # fmt: skip
        toks.pop()
    if not toks:
        return None
    if lower:
        # lower case: the words right after the cue must all be rare (particles aside);
        # the name ends at the first frequent word
        keep: list[tuple[int, int]] = []
        for s, e in toks:
            w = text[s:e].lower()
            if w in PARTICLES and keep:
                keep.append((s, e))
                continue
            if _is_common(w):
                break
            keep.append((s, e))
        while keep and text[keep[-1][0] : keep[-1][1]].lower() in PARTICLES:
            keep.pop()
        if not keep:
            return None
        toks = keep
    return toks[0][0], toks[-1][1]


def find_person_context(text: str) -> list[Finding]:
    """Names revealed by an honorific, a relation/role word, or accented capitals."""
    out: list[Finding] = []
    for rx in (_HONORIFIC_RX, _RELATION_RX):
        for m in rx.finditer(text):
            span = _trim_tokens(text, m.start(1), m.end(1), lower=False)
            if span is None:
                continue
            s, e = span
            # a relation word before an ordinary capitalised word is no evidence
            if rx is _RELATION_RX and all(_is_common(t) for t in _TOKEN.findall(text[s:e])):
                continue
            out.append(Finding(s, e, "PERSON", CONTEXT_SCORE, source="context"))
    if not any(c.isupper() for c in text):
        for m in _HONORIFIC_LOWER_RX.finditer(text):
            span = _trim_tokens(text, m.start(1), m.end(1), lower=True)
            if span is not None:
                out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
        for m in _RELATION_LOWER_RX.finditer(text):
            span = _trim_tokens(text, m.start(1), m.end(1), lower=True)
            if span is not None:
                out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    if not text.isascii():
        for m in _CAPS_RUN.finditer(text):
            v = m.group(0)
            if v.isascii() or any(_is_common(t) for t in _TOKEN.findall(v)):
                continue
            out.append(Finding(m.start(), m.end(), "PERSON", ACCENTED_SCORE, source="context"))
    return out


# ------------------------------------------------------------------ NER sentence choice
def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans; no split after abbreviations, honorifics or initials."""
    out = []
    start = 0
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\n":
            if start < i:
                out.append((start, i))
            start = i + 1
        elif c in ".!?;" and i + 1 < n and text[i + 1] in " \t\r\n":
            j = i
            while j > start and (text[j - 1].isalpha() or text[j - 1] == "."):
                j -= 1
            word = text[j:i].lower()
            glued = j > 0 and text[j - 1].isalnum()  # "327B." is not an initial
            if (
                c == "."
                and not glued
                and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))
            ):
                i += 1
                continue
            out.append((start, i + 1))
            start = i + 1
            while start < n and text[start] in " \t\r":
                start += 1
            i = start
            continue
        i += 1
    if start < n:
        out.append((start, n))
    return [(s, e) for s, e in out if e > s]


def _truecase(sent: str) -> str | None:
    """Capitalise the rare words of a lower-case sentence (offsets unchanged)."""
    chars = list(sent)
    changed = False
    for m in _TOKEN.finditer(sent):
        tok = m.group(0)
        if len(tok) < 2 or _is_common(tok) or any(c.isdigit() for c in tok):
            continue
        up = tok[0].upper()
        if len(up) == 1 and up != tok[0]:
            chars[m.start()] = up
            changed = True
    return "".join(chars) if changed else None


_HONORIFIC_SET = frozenset(HONORIFICS)
_RELATION_SET = frozenset(r for r in RELATIONS if " " not in r)


def name_sentences(text: str, known: Sequence[Finding] = ()) -> list[tuple[int, str]]:
    """Sentences of ``text`` that NER must read, with their offsets.

    A sentence goes to NER when it holds a capitalised word that is not already explained
    by an exact finding (a date, an address...) and is not just a frequent word opening the
    sentence or a short acronym; a lower-case sentence goes, truecased, when it holds a
    word that is not a frequent English word. The text passed may differ from the
    original only in letter case, so offsets stay valid.
    """
    covered = None
    if known:
        covered = bytearray(len(text) + 1)
        for f in known:
            covered[f.start : f.end] = b"\x01" * (f.end - f.start)
    out = []
    for s, e in sentences(text):
        sent = text[s:e]
        if not any(c.isupper() for c in sent):
            tc = _truecase(sent)
            if tc is not None:
                out.append((s, tc))
            continue
        first = True
        hit = False
        for m in _TOKEN.finditer(sent):
            tok = m.group(0)
            if tok[0].isupper() and not (covered and covered[s + m.start()]):
                acronym = tok.isupper() and len(tok) <= 4
                low = tok.lower().rstrip(".")
                cue = low in _HONORIFIC_SET or low in _RELATION_SET
                opener = first and low in opening_words()
                if not acronym and not cue and not opener and (first or not _is_common(tok)):
                    hit = True
                    break
            first = False
        if hit:
            out.append((s, sent))
    return out


_ORG_WORDS = frozenset(
    [
        "inc",
        "llc",
        "ltd",
        "corp",
        "co",
        "company",
        "corporation",
        "group",
        "bank",
        "hospital",
        "clinic",
        "center",
        "centre",
        "university",
        "college",
        "school",
        "institute",
        "foundation",
        "association",
        "society",
        "services",
        "pharmacy",
        "labs",
        "laboratory",
        "laboratories",
        "partners",
        "holdings",
        "systems",
        "solutions",
        "technologies",
        "international",
        "department",
        "dept",
        "ministry",
        "agency",
        "council",
        "church",
        "gmbh",
        "ag",
        "sa",
        "spa",
        "bv",
        "plc",
    ]
)


_SUFFIXES = frozenset(
    ["jr", "sr", "ii", "iii", "iv", "md", "dds", "dvm", "phd", "rn", "np", "pa", "do", "esq"]
)


@functools.lru_cache(maxsize=1)
def very_common_words() -> frozenset[str]:
    """The 1,500 most frequent words and the stop words (never part of a name shape)."""
    words: set[str] = set()
    try:
        from spellchecker import SpellChecker

        freq = SpellChecker(language="en").word_frequency.dictionary
        words |= {w for w, _n in sorted(freq.items(), key=lambda kv: -kv[1])[:1500]}
    except Exception:
        pass
    try:
        from spacy.lang.en.stop_words import STOP_WORDS

        words |= set(STOP_WORDS)
    except Exception:
        pass
    return frozenset(words | set(RELATIONS) | set(HONORIFICS))


def name_shaped(span: str) -> bool:
    """2-4 capitalised words, the last one not a frequent word, none very frequent or an
    organisation word: a person's name by its shape."""
    toks = _TOKEN.findall(span)
    if len(toks) != len(span.split()):
        return False
    while toks and toks[-1].lower().strip(".") in _SUFFIXES:
        toks = toks[:-1]
    if not 2 <= len(toks) <= 4:
        return False
    very = very_common_words()
    for t in toks:
        low = t.lower()
        if low in PARTICLES and t != toks[0]:
            continue
        if not t[0].isupper() or (t.isupper() and len(t) > 1):
            return False
        if low in _ORG_WORDS or low in very:
            return False
    return not _is_common(toks[-1])


SHAPE_SCORE = 0.6


def find_name_shapes(text: str) -> list[Finding]:
    """Runs of 2-4 capitalised words that are neither frequent words nor organisation
    words (``Teresa Maldonado``, ``Kofi Annan-Mensah``): names by their shape. Lower-case
    text is truecased first (rare words capitalised), so ``arne mattsson`` counts too."""
    if not any(c.isupper() for c in text):
        cased = _truecase(text)
        if cased is None:
            return []
        rare = opening_words()
        return [
            f
            for f in find_name_shapes(cased)
            if " " in cased[f.start : f.end]
            and not any(t.lower() in rare for t in _TOKEN.findall(cased[f.start : f.end]))
        ]
    out = []
    for m in _CAPS_RUN.finditer(text):
        span = m.group(0)
        if name_shaped(span):
            end = m.end()
            last = span.rsplit(" ", 1)[-1]
            if last.lower().strip(".") in _SUFFIXES:  # "Autumn Butler DDS": keep the title
                end -= len(last) + 1
            out.append(Finding(m.start(), end, "PERSON", SHAPE_SCORE, source="shape"))
            continue
        toks = [(t.start(), t.end()) for t in _TOKEN.finditer(span)]
        # a frequent word opening the run ("Patient Teresa Maldonado"): try without it
        if len(toks) >= 3 and name_shaped(span[toks[1][0] :]):
            s = m.start() + toks[1][0]
            out.append(Finding(s, m.end(), "PERSON", SHAPE_SCORE, source="shape"))
    return out
