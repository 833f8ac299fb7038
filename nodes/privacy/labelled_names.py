# ruff: noqa: RUF001
"""Names that a label or an initial announces, in any capitalisation.

* ``person_labelled``: the capitalised words after a label that names a person's role in a
  form or report (``Witness: Park, Funmilayo``, ``PATIENT: CURAQUEO, ITAMAR``, ``Next of
  kin - Ana LIMA``), the surname-first comma form and names in capitals included. Words
  that are labels or frequent words alone (``Patient: None``, ``Contact: Yes``) are not
  names.
* ``person_initial``: an initial before a surname (``D. Rhydderch``, ``K. Šimko``): a
  capitalised word that is no English word, or a surname of the names table.

A number in brackets right after a person (``Okafor, Chidi (7189009)``) is their record
number: :func:`numbers_after_names` marks it, once the cell's people are known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding, Recognizer

LABELLED_SCORE = 0.7
INITIAL_SCORE = 0.6
NUMBER_AFTER_NAME_SCORE = 0.6

_PERSON_LABELS = (
    "patient name|patient|pt name|pt|name|full name|surname|last name|first names|first name"
    "|given names|given name|forenames|forename|other names|middle names|middle name"
    "|family name|witness|client|customer|caller|visitor|resident|employee|member name"
    "|insured|policyholder|policy holder|guarantor|next of kin|nok|spouse|emergency contact"
    "|contact person|contact name|guardian|parent|mother|father|tenant"
    "|passenger|sender|recipient|addressee|applicant|claimant|victim|suspect|complainant"
    "|reported by|informant|attending|physician|doctor|clinician|surgeon|referrer"
    "|referring|ordering clinician|ordered by|signed by|signed|signature|seen by|author"
    "|tech|technician|pharmacist|nurse|carer|caregiver|interpreter|account holder"
    "|beneficiary|student|pupil|learner|staff|crew|officer|agent|assigned to|requester"
    "|requested by|approved by|prepared by|cc|attn|attention|provider|hygienist|dentist"
    "|therapist|midwife|companion|neighbour|neighbor|courier|owner|guest|organiser"
    "|organizer|volunteer|coordinator|team lead|supervisor|assignee|reviewer"
)
# "NAME (LAST, FIRST):": a parenthesised note between a label and its colon
_LABEL_NOTE = r"(?:[ \t]*\([^()\n]{1,30}\))?"
_WORDS = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"
# a capitalised word or an initial ("Funmilayo", "CURAQUEO", "K.")
_NAME_WORD = r"(?:[^\W\d_a-z]\.|[^\W\d_a-z](?:[^\W\d_]|['’\-](?=[^\W\d_]))*)"
_PARTICLE = r"(?:de|da|do|dos|das|van|von|der|den|del|della|la|le|du|di|bin|binti|al|el|ter)"
_LABELLED = re.compile(
    r"(?<![\w\-])(?i:" + _PERSON_LABELS + r")" + _LABEL_NOTE + r"[ \t]*(?:[:=]|[\-–—][ \t])[ \t]*"
    r"(?:(?i:dr|mr|mrs|ms|mx|prof|rn|sr|sra|dra)\.?[ \t]+)?"
    r"(" + _NAME_WORD + r"(?:,?[ \t]" + r"(?:" + _PARTICLE + r"[ \t])?" + _NAME_WORD + r"){0,3})"
)
_INITIAL = re.compile(r"(?<![\w./])([A-Z])\.[ \t]?(" + _NAME_WORD + r")(?![\w'’])")


def find_labelled_names(text: str) -> list[Finding]:
    from nodes.privacy.gazetteer import gazetteer
    from nodes.privacy.names import LABEL_WORDS, english_words, very_common_words
    from nodes.privacy.organisations import org_word

    very, english = very_common_words(), english_words()
    cands: list[tuple[int, int, list[str]]] = []
    for m in _LABELLED.finditer(text):
        start, end = m.span(1)
        words = re.findall(_WORDS, text[start:end])
        if text[end - 1] == "." and len(words[-1]) > 1:
            end -= 1  # a sentence's full stop; an initial keeps its dot
        lows = [w.lower() for w in words]
        if all(w in very or w in LABEL_WORDS or len(w) < 2 for w in lows):
            continue
        if any(org_word(w) for w in words):
            continue
        cands.append((start, end, words))
    if not cands:
        return []
    given, surname = gazetteer().ranks([w for _s, _e, ws in cands for w in ws])
    out, k = [], 0
    for start, end, words in cands:
        ranks = list(zip(given[k : k + len(words)], surname[k : k + len(words)], strict=True))
        k += len(words)
        if any(_name_like(w, rk, english, very) for w, rk in zip(words, ranks, strict=True)):
            out.append(Finding(start, end, "PERSON", LABELLED_SCORE, source="context"))
    return out


POPULAR_RANK = 2_000


def _name_like(
    word: str, ranks: tuple[int, int], english: frozenset[str], very: frozenset[str]
) -> bool:
    """A word that is no English word, or a popular given name or surname that is no
    very frequent word ("Thomas", "King"; not "Yes")."""
    low = word.lower()
    if len(word) < 2 or (word.isupper() and len(word) <= 3):
        return False  # an initial, or "OK", "N/A", "TBC"
    if low not in english:
        return True
    known = [r for r in ranks if r]
    return low not in very and bool(known) and min(known) <= POPULAR_RANK


def find_initial_names(text: str) -> list[Finding]:
    from nodes.privacy.gazetteer import gazetteer
    from nodes.privacy.names import LABEL_WORDS, english_words, very_common_words

    cands = [m for m in _INITIAL.finditer(text) if len(m.group(2)) >= 3]
    if not cands:
        return []
    english, very = english_words(), very_common_words()
    _given, surname = gazetteer().ranks([m.group(2) for m in cands])
    out = []
    for m, rank in zip(cands, surname, strict=True):
        low = m.group(2).lower()
        if low in very or low.rstrip(".") in LABEL_WORDS or low in _LABELS_ABROAD:
            continue
        if low not in english or 0 < rank <= 5_000:
            out.append(Finding(m.start(1), m.end(2), "PERSON", INITIAL_SCORE, source="context"))
    return out


# Labels of other languages that follow an abbreviation ("mg/L. Tél", "Str. Nr").
_LABELS_ABROAD = frozenset(["tél", "tel", "tfno", "telf", "fax", "nr", "nº", "adresse"])
_NUMBER_AFTER = re.compile(
    r"[ \t]*[(\[][ \t]*(?:#[ \t]?)?([0-9]{6,10}|[0-9]{2,3}(?: [0-9]{3}){2})[ \t]*[)\]]"
)


def numbers_after_names(text: str, found: Sequence[Finding]) -> list[Finding]:
    """``found`` and a record number for each bracketed number right after a person."""
    taken = [(f.start, f.end) for f in found]
    extra = []
    for f in found:
        if f.entity != "PERSON":
            continue
        m = _NUMBER_AFTER.match(text, f.end)
        if m is None:
            continue
        s, e = m.span(1)
        if not any(a < e and s < b for a, b in taken):
            extra.append(Finding(s, e, "MEDICAL_RECORD_NUMBER", NUMBER_AFTER_NAME_SCORE, "context"))
    return [*found, *extra] if extra else list(found)


def labelled_name_recognizers() -> list[Recognizer]:
    """The recognizers of this module (merged into ``RECOGNIZERS``)."""
    return [
        Recognizer(
            "person_labelled",
            ("PERSON",),
            r"(?i)(" + _PERSON_LABELS + r")" + _LABEL_NOTE + r"[ \t]*[:=\-–—]",
            find_labelled_names,
        ),
        Recognizer("person_initial", ("PERSON",), r"[A-Z]\. ?[A-Z]", find_initial_names),
    ]
