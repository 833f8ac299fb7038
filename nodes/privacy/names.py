# ruff: noqa: RUF001
"""Names from language and context: which text NER must see, and names that context
reveals.

Names are found by

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
3. Names that nothing reveals but that are names (:mod:`nodes.privacy.known_names`):
   the given names and surnames of ``names-dataset`` (:mod:`nodes.privacy.gazetteer`),
   a library unrelated to any data the tests and benchmarks generate.

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
        "ó",
        "ní",
        "nic",
        "mac",
        "mc",
        "ua",
        "te",
        "ap",
        "y",
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
_CAPS_RUN = re.compile(_NAME_TOKEN + r"(?:[ \t]+(?:(?:" + "|".join(PARTICLES) + r")[ \t]+)*"
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


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every word of pyspellchecker's English list (lower case), however rare."""
    try:
        from spellchecker import SpellChecker

        return frozenset(SpellChecker(language="en").word_frequency.dictionary) | common_words()
    except Exception:
        return common_words()


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


def _trim_tokens(
    text: str, start: int, end: int, lower: bool, surname: bool = False
) -> tuple[int, int] | None:
    """Drop leading/trailing frequent words (and particles) from a candidate name span.

    ``surname``: the span follows an honorific or starts with a rare name word, so a
    capitalised word that is also an ordinary English word (``Mrs. Park``, ``Sung-min
    Park``) stays; only very frequent words and organisation/street words are dropped.
    """
    toks = [(m.start() + start, m.end() + start) for m in _TOKEN.finditer(text[start:end])]
    while toks and text[toks[0][0] : toks[0][1]].isupper() and toks[0][1] - toks[0][0] <= 4:
        toks.pop(0)  # "Patient ID 123": an acronym is not a name
    if surname and not lower:
        while toks and _not_surname(text[toks[-1][0] : toks[-1][1]]):
            toks.pop()
        return (toks[0][0], toks[-1][1]) if toks else None
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
            if (w in PARTICLES and keep) or after_hyphenated_given(text, keep, w):
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


_STOP_SURNAME = frozenset(["street", "st", "road", "rd", "avenue", "ave", "lane", "drive",
                           "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                           "sunday", "january", "february", "march", "april", "june", "july",
                           "august", "september", "october", "november", "december"])  # fmt: skip


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS

        return frozenset(STOP_WORDS) | frozenset(HONORIFICS) | frozenset(RELATIONS)
    except Exception:
        return frozenset(HONORIFICS) | frozenset(RELATIONS)


def _not_surname(token: str) -> bool:
    low = token.lower().strip("'’-.")
    return (
        low in very_common_words()
        or low in PARTICLES
        or low in _ORG_WORDS
        or low in _STOP_SURNAME
        or low in LABEL_WORDS
        or (token.isupper() and len(token) > 1)
    )


# Words of identifier labels ("Med Rec #", "Patient ID", "DL"): never a name.
LABEL_WORDS = frozenset(["med", "rec", "record", "records", "medical", "mrn", "mr", "no",
                         "number", "num", "chart", "hospital", "id", "dob", "ssn", "dl",
                         "passport", "pass", "tel", "phone", "fax", "ref", "dx", "rx", "icd",
                         "npi", "dea", "acct", "account", "member", "policy", "case", "hx",
                         "sx", "tx", "px", "fx", "hpi", "ros", "pmh", "psh", "meds", "hosp",
                         "vitals", "labs", "plan", "note", "notes", "driver", "drivers",
                         "lic", "license", "licence", "licensed"])  # fmt: skip


def label_words_only(span: str) -> bool:
    """True when every word of ``span`` is a word of identifier labels (``Med Rec``)."""
    toks = [t.lower().strip(".#") for t in _TOKEN.findall(span)]
    return bool(toks) and all(t in LABEL_WORDS for t in toks)


def ordinary_words_only(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` has words and every one is a frequent word, a word
    opening a sentence judged against the wider list of openers (as
    :func:`name_sentences` does): "Lives at", "Discharged" are no name by themselves."""
    toks = list(_TOKEN.finditer(text, start, end))
    return bool(toks) and all(
        t.group(0).lower() in opening_words() if _opens_sentence(text, t.start())
        else _is_common(t.group(0))
        for t in toks
    )  # fmt: skip


def _opens_sentence(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t")
    return not before or before[-1] in ".!?:;\n"


# Self-introductions: "my name is keoni", "hi, this is jurgita", "I'm Wiremu".
_INTRO_ANYWHERE = r"(?:my name is|my name's|name's|call me|you can call me|signed|regards,|thanks,)"
_INTRO_GREETED = (
    r"(?:(?:^|(?<=[\n.!?]))\s*|\b(?:hi|hello|hey|hiya|heya|yo|hola|ciao|salut|bonjour|kia ora"
    r"|dear|good (?:morning|afternoon|evening)|greetings)\b[ ,!.\-]*(?:there[ ,!.\-]*)?)"
    r"(?:this is|it'?s|it is|i'?m|i am)"
)
_INTRO_RX = re.compile(
    r"(?i)(?:\b" + _INTRO_ANYWHERE + r"|" + _INTRO_GREETED + r")[ \t]+"
    r"(" + _LOWER_TOKEN + r"(?:[ \t]+" + _LOWER_TOKEN + r"){0,2})"
)
# "keoni (keoni kahale)": a word repeated as the start of a parenthesised name.
_REPEAT_RX = re.compile(
    r"(?i)(?<![\w])(" + _LOWER_TOKEN + r")[ \t]*\((\1(?:[ \t]+" + _LOWER_TOKEN + r"){1,3})\)"
)
# A chat handle at the start of a line: "[João] my new mail is...", "12:04 [Siobhán]: hi".
_HANDLE_RX = re.compile(
    r"(?m)^[ \t]*(?:[\d:.\-T/]+[ \t]+)?[\[<]("
    + _LOWER_TOKEN
    + r"(?:[ \t]+"
    + _LOWER_TOKEN
    + r"){0,2})[\]>]"
)
# An honorific (any case) before a lower-case name inside mixed-case text: "Sr. aarav
# venkataraman seen today".
_MIXED_CUES = (*HONORIFICS, "pt", "patient", "spouse", "wife", "husband", "partner", "son",
               "daughter", "mother", "father", "brother", "sister", "guardian", "caregiver",
               "nok", "next of kin", "emergency contact", "seen by", "referred by", "nurse",
               "customer", "client", "member", "name", "named", "contact", "attn", "dear",
               "signed by", "c/o")  # fmt: skip
_HONORIFIC_MIXED_RX = re.compile(
    r"(?<![\w])(?i:" + "|".join(_MIXED_CUES) + r")\.?(?:[ \t]*[:\-–—,])?[ \t]+("
    r"[^\W\d_A-Z][^\W\d_]*"
    r"(?:['’\-][^\W\d_]+)*(?:[ \t]+[^\W\d_A-Z][^\W\d_]*(?:['’\-][^\W\d_]+)*){0,2})"
)


def _rare_run(text: str, start: int, end: int, words: frozenset[str]) -> tuple[int, int] | None:
    """The leading run of tokens of ``text[start:end]`` that are not in ``words``."""
    keep: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text, start, end):
        w = m.group(0).lower().strip("'’-")
        if (w in PARTICLES and keep) or after_hyphenated_given(text, keep, w):
            keep.append(m.span())
            continue
        if w in words or w in LABEL_WORDS or len(w) < 2 or m.group(0).isupper():
            break
        keep.append(m.span())
    while keep and text[keep[-1][0] : keep[-1][1]].lower() in PARTICLES:
        keep.pop()
    return (keep[0][0], keep[-1][1]) if keep else None


def after_hyphenated_given(text: str, keep: list[tuple[int, int]], word: str) -> bool:
    """A word right after a hyphenated given name (``Sung-min Park``, ``ji-woo kim``) is
    the surname even when it is also an English word, unless it is a very frequent one."""
    if not keep:
        return False
    prev = text[keep[-1][0] : keep[-1][1]]
    return (
        "-" in prev.strip("-")
        and not _is_common(prev)
        and prev.split("-")[-1][:1].islower()
        and not _not_surname(word)
    )


# A sign-off closing a message or line: "thanks, keoni", "cheers - Wiremu", "br, Agnieszka".
_SIGNOFF_RX = re.compile(
    r"(?im)\b(?:thanks|thank you|thx|ty|cheers|regards|kind regards|best|best wishes|br"
    r"|sincerely|yours|love|talk soon|take care)[ \t]*[,!.\-–—]+[ \t]*("
    + _LOWER_TOKEN
    + r"(?:[ \t]+"
    + _LOWER_TOKEN
    + r"){0,2})[ \t]*[.!]*[ \t]*$"
)


# A chat speaker label at the start of a line: "Lucía: can you resend it", "Keoni Kahale: ok".
_SPEAKER_RX = re.compile(
    r"(?m)^[ \t]*(?:[\d:.\-T/]+[ \t]+)?(" + _NAME_TOKEN + r"(?:[ \t]+" + _NAME_TOKEN + r")?):[ \t]+"
    r"(?=[^\W\d_])"  # a message follows, not a value ("Subnet: 10.0.0.0/8")
)


def _overlapping(rx: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches of ``rx``, each search restarting at the previous match's group 1 (a cue
    word taken as the name, "Pt name - hemi", leaves the next cue its turn)."""
    out = []
    pos = 0
    while (m := rx.search(text, pos)) is not None:
        out.append(m)
        pos = max(m.start(1), m.start() + 1)
    return out


# "KAHALE, Keoni", "Park, Sung-min": a surname, a comma, then the given name (the order
# of charts and lists). The surname is written in capitals, or the given name has the
# hyphenated shape of a given name.
_SURNAME_COMMA_RX = re.compile(
    r"(?<![\w'’\-])("
    + _NAME_TOKEN
    + r"),[ \t]+("
    + _NAME_TOKEN
    + r"(?:[ \t]+"
    + _NAME_TOKEN
    + r")?)(?![\w'’\-])"
)


def find_surname_comma(text: str) -> list[Finding]:
    out = []
    for m in _SURNAME_COMMA_RX.finditer(text):
        sur, given = m.group(1), m.group(2)
        first = given.split()[0]
        if _is_common(first) or first.lower() in LABEL_WORDS or first.isupper():
            continue
        caps = (
            sur.isupper()
            and len(sur) >= 3
            and not _is_common(sur)
            and sur.lower() not in LABEL_WORDS
        )
        hyph = (
            after_hyphenated_given(first, [(0, len(first))], "x")
            or ("-" in first and first.split("-")[-1][:1].islower())
        ) and not _not_surname(sur)
        if caps or hyph:
            span = _rare_run(text, m.start(2), m.end(2), common_words())
            out.append(Finding(m.start(1), m.end(1), "PERSON", CONTEXT_SCORE, source="context"))
            if span is not None:
                out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    return out


def find_self_intro(text: str) -> list[Finding]:
    """Names a writer gives for themselves or repeats: introductions, chat handles,
    sign-offs."""
    out: list[Finding] = []
    rare = opening_words()
    for m in _SIGNOFF_RX.finditer(text):
        span = _rare_run(text, m.start(1), m.end(1), common_words())
        if span is not None and span[1] == m.end(1):
            out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _INTRO_RX.finditer(text):
        span = _rare_run(text, m.start(1), m.end(1), rare if m.group(1).islower() else
                         common_words())  # fmt: skip
        if span is not None:
            out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _REPEAT_RX.finditer(text):
        if _is_common(m.group(1)) or m.group(1).isupper():
            continue
        inner = _rare_run(text, m.start(2), m.end(2), common_words())
        if inner is None:
            continue
        out.append(Finding(m.start(1), m.end(1), "PERSON", CONTEXT_SCORE, source="context"))
        out.append(Finding(*inner, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _SPEAKER_RX.finditer(text):
        # only rare words: "Agent:", "Customer:", "Plan:" are roles and headings
        if not all(t[1:] == t[1:].lower() for t in m.group(1).split()):
            continue  # "IPs:", "McKinsey:" are not written like a first name
        span = _rare_run(text, m.start(1), m.end(1), rare)
        if span is not None and span[1] == m.end(1):
            out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _HANDLE_RX.finditer(text):
        span = _rare_run(text, m.start(1), m.end(1), common_words())
        if span is not None and span[1] == m.end(1):
            out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _overlapping(_HONORIFIC_MIXED_RX, text):
        # after a title a name may be an ordinary given name (ingrid); after a relation
        # word only a rare word is taken (not "patient denies")
        cue = text[m.start() : m.start(1)].strip(" \t.:").lower()
        titled = cue in _HONORIFIC_SET or cue in ("nurse", "doctor", "professor", "attn", "dear")
        span = _rare_run(text, m.start(1), m.end(1), common_words() if titled else rare)
        if span is not None:
            out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
    return out


# ------------------------------------------------------------ names by message layout
# A chat line's stamp and sender: "[2/03/2024, 20:14] AMARA: ...", "14:02 Lukas: ...",
# "2024-03-02 20:14 - TOMÁS: ...". Senders are written in any case.
_WORD = r"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*"
_CHAT_STAMP = (
    r"(?:\[[\d/.\-]{6,10},?[ \t]+\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]?[AaPp][Mm])?\]"
    r"|[\d/.\-]{6,10},?[ \t]+\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]?[AaPp][Mm])?[ \t]*[\-–]"
    r"|\[?\d{1,2}:\d{2}(?::\d{2})?\]?)"
)
_CHAT_SENDER_RX = re.compile(
    r"(?m)^[ \t]*(" + _CHAT_STAMP + r")?[ \t]*(" + _WORD + r"(?:,?[ \t]+" + _WORD + r"){0,2})"
    r":[ \t]+(?=\S)"
)
# A greeting opening a message: "Hi Amara,", "Dear TOMÁS KOWAL,", "hello rangi!".
_GREETING_RX = re.compile(
    r"(?im)^[ \t]*(?:hi|hello|hey|hiya|dear|morning|good (?:morning|afternoon|evening))[ \t]+("
    + _WORD
    + r"(?:[ \t]+"
    + _WORD
    + r"){0,2})[ \t]*(?:[,!:]|$)"
)
# Whom a greeting may address that is not a name.
_ADDRESSEES = frozenset(["all", "team", "there", "everyone", "everybody", "folks", "guys",
                         "sir", "sirs", "madam", "colleagues", "both", "again", "friends",
                         "support", "you", "people", "world", "ladies", "gentlemen", "mum",
                         "mom", "dad", "doc", "love", "dear", "mate", "boss", "customer",
                         "client", "patient", "member", "user", "valued", "applicant",
                         "hiring", "manager", "admin", "sales", "billing", "neighbour",
                         "neighbor", "y'all", "yall", "gang", "class", "parents", "staff",
                         "and", "or", "to", "whom", "it", "may", "concern", "the",
                         "my"])  # fmt: skip
# A sign-off alone at the end of a line, with the writer's name alone on the next line.
_SIGNATURE_RX = re.compile(
    r"(?im)^[ \t]*(?:best regards|kind regards|warm regards|regards|many thanks|thanks|"
    r"thank you|cheers|best|best wishes|sincerely|yours sincerely|yours truly|yours|br|"
    r"atentamente|saludos|cordialement|mit freundlichen grüßen|groeten|pozdrawiam)"
    r"[ \t]*[,.!\-–—]?[ \t]*\r?\n[ \t]*("
    + _WORD
    + r"(?:[ \t]+(?:"
    + "|".join(PARTICLES)
    + r"|"
    + _WORD
    + r")){0,3})[ \t]*$"
)
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿāăąēęěīıōőœūůűų")


def _speakable(token: str) -> bool:
    """A word with the vowels of a name, not an acronym (``NSTEMI``, ``CABG``)."""
    low = token.lower()
    letters = [c for c in low if c.isalpha()]
    vowels = sum(c in _VOWELS for c in letters)
    if len(letters) < 3 or vowels * 3 < len(letters):
        return False
    head = letters[:3]
    return any(c in _VOWELS for c in head)


def _name_words(words: list[str], rare: frozenset[str]) -> bool:
    """Words that can be a name: none a label word, at least one not a frequent word."""
    lows = [w.lower().strip("'’-") for w in words]
    if any(w in LABEL_WORDS or w in _ADDRESSEES for w in lows):
        return False
    return any(w not in rare and len(w) >= 2 for w in lows)


_CAPS_WORD = UPPER + r"+(?:['’\-]" + UPPER + r"+)*"
_CAPS_NAME_RX = re.compile(
    r"(?<![\w'’\-])(" + _CAPS_WORD + r"(?:[ \t]+" + _CAPS_WORD + r"){1,3})(?![\w'’\-])"
)


# A capitalised word in the slot of a person: the subject of "if/when ... needs", or
# whom one rings or emails ("ring Grace on 07...", "ask Will to"). An ordinary word
# written with a capital in mid-sentence is a proper noun there.
_SUBJECT_SLOT_RX = re.compile(
    r"(?<=[a-z,] )(?:if|when|unless|whether|until|before|after|because|since|so|that)[ \t]+"
    r"(" + _NAME_TOKEN + r")[ \t]+(?:needs|wants|has|had|is|was|says|said|asks|asked|calls"
    r"|called|thinks|agrees|agreed|prefers|can|could|would|will|should|might|does|did)\b"
)
_CONTACT_SLOT_RX = re.compile(
    r"(?i:\b(?:ring|call|phone|text|email|e-mail|message|ask|tell|remind|ping|cc|thank)"
    r"|\b(?:spoke|speak|talk|talked|spoken|chat|chatted) (?:to|with))[ \t]+"
    r"(" + _NAME_TOKEN + r")(?=[ \t]+(?:on|at|to|about|back|that|if|for|when)\b|[,.!?])"
)
_NOT_SLOT = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday", "january", "february", "march", "april", "may", "june",
                       "july", "august", "september", "october", "november", "december",
                       "i", "it", "we", "they", "you", "he", "she", "this", "that",
                       "support", "reception", "billing", "pharmacy", "security", "admin",
                       "ward", "clinic", "desk"])  # fmt: skip


def find_slot_names(text: str) -> list[Finding]:
    out = []
    for rx in (_SUBJECT_SLOT_RX, _CONTACT_SLOT_RX):
        for m in rx.finditer(text):
            w = m.group(1)
            if w.lower() in _NOT_SLOT or w.lower() in LABEL_WORDS or w.isupper():
                continue
            out.append(Finding(*m.span(1), "PERSON", CONTEXT_SCORE, source="context"))
    return out


# A delimited record written into one cell ("ORD-1,\"ana lima\",+351...,ana@x.pt"): a
# field of two to four words and nothing else, in a record that also holds an e-mail
# address or a phone-like number, is the person the record is about.
_RECORD_FIELD = re.compile(
    r"(?:^|(?<=[,;\t|]))[ \t]*(\"?)(" + _WORD + r"(?:[ \t]+" + _WORD + r"){1,3})\1[ \t]*"
    r"(?=[,;\t|]|$)",
    re.MULTILINE,
)
# in a tab- or pipe-separated record a comma belongs to the field ("Eze, Sage")
_RECORD_FIELD_NO_COMMA = re.compile(
    r"(?:^|(?<=[\t|]))[ \t]*(\"?)(" + _WORD + r"(?:,?[ \t]+" + _WORD + r"){1,3})\1[ \t]*"
    r"(?=[\t|]|$)",
    re.MULTILINE,
)
_RECORD_CONTACT = re.compile(r"[\w.+\-]@[\w\-]+\.\w|\d[\d ()\-.]{6,}\d")


def find_record_names(text: str) -> list[Finding]:
    out: list[Finding] = []
    rare = opening_words()
    for line_m in re.finditer(r"[^\n]+", text):
        line = line_m.group(0)
        if sum(line.count(d) for d in ",;\t|") < 2 or not _RECORD_CONTACT.search(line):
            continue
        rx = _RECORD_FIELD_NO_COMMA if ("\t" in line or "|" in line) else _RECORD_FIELD
        for m in rx.finditer(text, line_m.start(), line_m.end()):
            words = m.group(2).replace(",", " ").split()
            lows = [w.lower() for w in words]
            if any(w in LABEL_WORDS or w in _ORG_WORDS for w in lows):
                continue
            capital = [w[:1].isupper() for w in words]
            if any(capital) and any(
                not c and low not in PARTICLES for c, low in zip(capital, lows, strict=True)
            ):
                continue  # prose ("Payroll change for MANALO"), not a name written as one
            if any(w not in rare for w in lows):
                out.append(Finding(*m.span(2), "PERSON", CONTEXT_SCORE, source="context"))
    return out


def find_layout_names(text: str) -> list[Finding]:
    """Names that the layout of a message reveals: chat senders, greetings, signature
    lines, and full names written in capitals inside mixed-case text."""
    out: list[Finding] = []
    rare = opening_words()
    senders: dict[str, list[tuple[int, int]]] = {}
    stamped: set[str] = set()
    for m in _CHAT_SENDER_RX.finditer(text):
        label = m.group(2)
        words = label.replace(",", " ").split()
        # after a stamp a sender may be written in lower case too ("9:02 PM - ana lima:")
        if label.isupper() or all(w[:1].isupper() for w in words) or m.group(1):
            senders.setdefault(label, []).append(m.span(2))
            if m.group(1):
                stamped.add(label)
    for label, spans in senders.items():
        # a sender that a chat stamp introduces, or that speaks on several lines
        if label not in stamped and len(spans) < 2:
            continue
        words = label.replace(",", " ").split()
        # a stamped sender is a person unless it is an ordinary word ("System", "Agent")
        if not _name_words(words, common_words() if label.isupper() or label in stamped else rare):
            continue
        out += [Finding(s, e, "PERSON", CONTEXT_SCORE, source="context") for s, e in spans]
    for m in _GREETING_RX.finditer(text):
        words = m.group(1).split()
        lows = [w.lower() for w in words]
        if lows[0] in _ADDRESSEES or lows[0] in LABEL_WORDS or lows[0] in HONORIFICS:
            continue
        # keep the leading words that are not ordinary addressees ("Hi Rose and team")
        n = 1
        while n < len(words) and lows[n] not in _ADDRESSEES and lows[n] not in common_words():
            n += 1
        s = m.start(1)
        e = s + len(" ".join(words[:n])) if n == len(words) else s + len(words[0])
        if n > 1:
            e = m.start(1) + m.group(1).find(words[n - 1]) + len(words[n - 1])
        out.append(Finding(s, e, "PERSON", CONTEXT_SCORE, source="context"))
    for m in _SIGNATURE_RX.finditer(text):
        words = [w for w in m.group(1).split() if w.lower() not in PARTICLES]
        if words and _name_words(words, rare):
            out.append(Finding(*m.span(1), "PERSON", CONTEXT_SCORE, source="context"))
    if any(c.islower() for c in text):
        for m in _CAPS_NAME_RX.finditer(text):
            out += _caps_name(text, m.start(1), m.end(1))
    return out


_RUN_BREAK = re.compile(r"[ \t]{2,}|\t")


def _caps_name(text: str, start: int, end: int) -> list[Finding]:
    """A full name in capitals in a run of capitalised words: the run is cut at wide gaps
    (columns) and at label words (``KOFI MENSAH  DOB``, ``MRN``)."""
    out: list[Finding] = []
    rare = opening_words()
    pieces: list[tuple[int, int]] = []
    pos = start
    for gap in _RUN_BREAK.finditer(text, start, end):
        pieces.append((pos, gap.start()))
        pos = gap.end()
    pieces.append((pos, end))
    for ps, pe in pieces:
        toks = list(_TOKEN.finditer(text, ps, pe))
        while toks and toks[-1].group(0).lower() in LABEL_WORDS:
            toks.pop()
        while toks and toks[0].group(0).lower() in LABEL_WORDS:
            toks.pop(0)
        if len(toks) < 2:
            continue
        s, e = toks[0].start(), toks[-1].end()
        v = text[s:e]
        words = v.split()
        if not v.isupper() or any(w.lower() in LABEL_WORDS for w in words):
            continue
        long_words = [w for w in words if len(w) >= 3]
        if len(long_words) < 2 or not all(any(c.lower() in _VOWELS for c in w)
                                          for w in long_words):  # fmt: skip
            continue
        if any(_speakable(w) and w.lower() not in rare for w in long_words) and not all(
            w.lower() in rare for w in long_words[1:]
        ):
            out.append(Finding(s, e, "PERSON", CONTEXT_SCORE, source="context"))
    return out


def find_person_context(text: str) -> list[Finding]:
    """Names revealed by an honorific, a relation/role word, a self-introduction, a chat
    handle, or accented capitals."""
    out: list[Finding] = [
        *find_self_intro(text),
        *find_surname_comma(text),
        *find_layout_names(text),
        *find_slot_names(text),
        *find_record_names(text),
    ]
    for rx in (_HONORIFIC_RX, _RELATION_RX):
        for m in rx.finditer(text):
            first = _TOKEN.match(text, m.start(1))
            rare_start = first is not None and not _is_common(first.group(0))
            span = _trim_tokens(text, m.start(1), m.end(1), lower=False,
                                surname=rx is _HONORIFIC_RX or rare_start)  # fmt: skip
            if span is None and rx is _HONORIFIC_RX and first is not None:
                # "Mr. Young", "Mrs. White": after a title a capitalised word is a surname
                w = first.group(0)
                low = w.lower().strip("'’-.")
                if not (low in _stop_words() or low in LABEL_WORDS or low in _STOP_SURNAME
                        or low in _ORG_WORDS or w.isupper()):  # fmt: skip
                    span = first.span()
            if span is None:
                continue
            s, e = span
            # a relation word before an ordinary capitalised word is no evidence
            if rx is _RELATION_RX and all(_is_common(t) for t in _TOKEN.findall(text[s:e])):
                continue
            if label_words_only(text[s:e]):
                continue
            out.append(Finding(s, e, "PERSON", CONTEXT_SCORE, source="context"))
    if not any(c.isupper() for c in text):
        for m in _HONORIFIC_LOWER_RX.finditer(text):
            span = _trim_tokens(text, m.start(1), m.end(1), lower=True)
            if span is not None:
                out.append(Finding(*span, "PERSON", CONTEXT_SCORE, source="context"))
        for m in _RELATION_LOWER_RX.finditer(text):
            span = _trim_tokens(text, m.start(1), m.end(1), lower=True)
            if span is None:
                continue
            word = text[span[0] : span[1]]
            if " " not in word and word.lower() in opening_words():
                continue  # "patient denies chest pain": one ordinary word is not a name
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
    if len(toks) == 2 and after_hyphenated_given(toks[0], [(0, len(toks[0]))], toks[1]):
        return True
    return not _is_common(toks[-1])


SHAPE_SCORE = 0.6
_LINE_OF_NAME = re.compile(r"[ \t]*" + _NAME_TOKEN + r",?(?:[ \t]+\S+){1,3}[ \t]*$")


_EPONYM_HEADS = (
    r"(?:disease|syndrome|phenomenon|palsy|sign|fracture|lymphoma|"
    r"sarcoma|tumou?r|ulcer|reflex|triad|thyroiditis|encephalopathy|disorder|anomaly|"
    r"dystrophy|ataxia|chorea|contracture|neuralgia|neuroma|aneurysm|diverticulum|"
    r"scale|score|criteria|classification|index|manoeuvre|maneuver|procedure|operation|"
    r"technique|position|questionnaire|staging|catheter|stockings?|oesophagus|esophagus|"
    r"respiration|respirations|murmur)"
)
# lower-case words an eponym's head may follow ("Duchenne muscular dystrophy", "Kennedy
# terminal ulcer")
_EPONYM_MODIFIERS = r"(?:muscular|terminal|spinal|myotonic|progressive|pressure|cell|nerve|coma)"
_EPONYM = re.compile(
    # up to two capitalised words between ("Glasgow Coma Scale", "Bristol Stool Chart")
    r"(?:'s|’s|s'|')?(?:(?-i:[ \t]+[A-Z][a-z]+)|[ \t]+" + _EPONYM_MODIFIERS + r"){0,2}[ \t]+"
    + _EPONYM_HEADS
    + r"\b",
    re.IGNORECASE,
)
# a span that itself holds the head word ("Glasgow Coma Scale" tagged whole by NER,
# "kennedy terminal ulcer noted" read as a name after truecasing)
_EPONYM_END = re.compile(r"[ \t]" + _EPONYM_HEADS + r"(?![\w'’\-])", re.IGNORECASE)


def eponym(text: str, start: int, end: int) -> bool:
    """A name that names a disease, sign or procedure (``Raynaud's phenomenon``,
    ``Crohn's disease``): not a person of the record."""
    apostrophe = max(text.rfind("'s", start, end), text.rfind("’s", start, end))
    at = apostrophe if apostrophe > start else end
    return _EPONYM.match(text, at) is not None or eponym_inside(text, start, end)


def eponym_inside(text: str, start: int, end: int) -> bool:
    """A span holding an eponym's head word after a first word (``Glasgow Coma Scale``)."""
    m = _EPONYM_END.search(text, start, end)
    return m is not None and m.start() > start


def role_words(text: str, start: int, end: int) -> bool:
    """Two or more ordinary words that head a field ("Senior Accountant:", "Charge
    Nurse:") or stand under a name in a signature ("Jo Mensah\nWard Clerk"): a role or
    a heading, not a name."""
    rare = opening_words()
    toks = _TOKEN.findall(text[start:end])
    if len(toks) < 2 or not all(t.lower() in rare for t in toks):
        return False
    return text.startswith(":", end) or _title_line(text, start, end, rare)


def _title_line(text: str, start: int, end: int, rare: frozenset[str]) -> bool:
    """Ordinary words alone on a line, under a line that is itself a short run of words
    (a signature: name, then title): a job title, not a second name."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:start].strip() or text[end:line_end].strip() or line_start == 0:
        return False
    if not all(t.lower() in rare for t in _TOKEN.findall(text[start:end])):
        return False
    prev_start = text.rfind("\n", 0, line_start - 1) + 1
    prev = text[prev_start : line_start - 1]
    # (a line of blanks: a name already redacted, as a second pass sees it)
    return (prev != "" and prev.strip() == "") or _LINE_OF_NAME.fullmatch(
        text, prev_start, line_start - 1
    ) is not None


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
    rare = opening_words()
    for m in _CAPS_RUN.finditer(text):
        span = m.group(0)
        if label_words_only(span) or (m.end() < len(text) and text[m.end()].isalnum()):
            continue  # "Dx Z79.4": a code, not a name
        if role_words(text, m.start(), m.end()):
            continue
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


_EXTEND_RX = re.compile(r"[ \t](" + _NAME_TOKEN + r")(?![\w'’\-])")


def extend_names(text: str, found: list[Finding]) -> list[Finding]:
    """A name followed by one more capitalised word that is not an ordinary word takes it
    in (``<Sung-min> Park``: NER often tags only the hyphenated given name)."""
    out = []
    changed = False
    for f in found:
        if f.entity == "PERSON":
            m = _EXTEND_RX.match(text, f.end)
            if (
                m is not None
                and not _not_surname(m.group(1))
                and not any(g.start < m.end() and g.end > m.start(1) for g in found if g is not f)
            ):
                f = Finding(f.start, m.end(1), f.entity, f.score, f.source)
                changed = True
            g = _comma_partner(text, f, found)
            if g is not None:
                f = g
                changed = True
            partners = _pair_partners(text, f, found)
            if partners:
                out += partners
                changed = True
        out.append(f)
    return out if changed else found


# "<Amara> & Dragoș's wedding", "Malis & <Ren>", "CREW: <Okafor> / Goldberg": the word
# joined to a found name by "&", "and" or "/" is a second name when it is written as one
# and is no ordinary word ("<Smith> & Sons", "<Lee> and Team").
_PAIR_AFTER_RX = re.compile(r"[ \t]*(?:&|\+|/|and)[ \t]+(" + _NAME_TOKEN + r")(?![\w\-])")
_PAIR_BEFORE_RX = re.compile(
    r"(?:^|(?<=[\s(\"'|:;*>\[]))(" + _NAME_TOKEN + r")[ \t]+(?:&|\+|/|and)[ \t]*$"
)


def _pair_partners(text: str, f: Finding, found: list[Finding]) -> list[Finding]:
    out = []
    spans = []
    m = _PAIR_AFTER_RX.match(text, f.end)
    if m is not None:
        spans.append(m.span(1))
    b = _PAIR_BEFORE_RX.search(text, max(0, f.start - 40), f.start)
    if b is not None:
        spans.append(b.span(1))
    for s, e in spans:
        w = text[s:e]
        if w[-2:] in ("'s", "’s"):
            e -= 2
            w = w[:-2]
        low = w.lower()
        if (
            len(w) < 2
            or (w.isupper() and not text[f.start : f.end].isupper())
            or _is_common(w)
            or _not_surname(w)
            or low in HONORIFICS
            or low in _ADDRESSEES
            or any(g.start < e and g.end > s for g in found)
        ):
            continue
        out.append(Finding(s, e, "PERSON", f.score, f.source))
    return out


# "Eze, <Patience>", "<Bauer>, Kwame": one word of a surname-first name found, the other
# across the comma, written as a name and followed by no further name-list comma.
_COMMA_AFTER_RX = re.compile(r",[ \t]+(" + _NAME_TOKEN + r")(?![\w'’\-]|,[ \t]*[A-Z])")
_COMMA_BEFORE_RX = re.compile(r"(?:^|(?<=[\s(\"'|:;*_>\[]))(" + _NAME_TOKEN + r"),[ \t]+$")


def _comma_partner(text: str, f: Finding, found: list[Finding]) -> Finding | None:
    if " " in text[f.start : f.end].strip():
        return None  # already a full name
    others = [g for g in found if g is not f]
    m = _COMMA_AFTER_RX.match(text, f.end)
    if m is not None:
        w = m.group(1)
        low = w.lower()
        if (
            not (w.isupper() and len(w) > 1)
            and not (_is_common(w) or low in LABEL_WORDS or low in _ADDRESSEES or low in HONORIFICS)
            and not any(g.start < m.end(1) and g.end > m.start(1) for g in others)
        ):
            return Finding(f.start, m.end(1), f.entity, f.score, f.source)
    b = _COMMA_BEFORE_RX.search(text, max(0, f.start - 40), f.start)
    if b is not None:
        w = b.group(1)
        # "OKONKWO, Chinedu", "STONE, Bill": a surname in capitals before the comma
        caps_surname = (
            w.isupper()
            and len(w) > 2
            and w.lower() not in very_common_words()
            and w.lower() not in LABEL_WORDS
        )
        if not (
            w.lower() in LABEL_WORDS or ((_is_common(w) or _not_surname(w)) and not caps_surname)
        ) and not any(g.start < b.end(1) and g.end > b.start(1) for g in others):
            return Finding(b.start(1), f.end, f.entity, f.score, f.source)
    return None
