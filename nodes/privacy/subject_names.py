"""A name that opens a sentence as its subject (``Ahyoka is the main carer``,
``Hovhannisyan is making slow progress``, ``Iris rang re results``).

``person_subject``: a capitalised word at the start of a sentence or line, followed by a
verb that people are the subject of, is a name when it is no English word and does not
end like a drug's name (``Sertraline was increased``), or when it is a popular given
name and the verb is one of speech (``Faith said``, ``Iris rang``).
"""

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding, Recognizer

SUBJECT_SCORE = 0.6
SPEAKER_RANK = 1_000  # a given name this popular, before a verb of speech
_VERBS = (
    "is|was|has|had|will|would|can|could|did|does|says|said|reports|reported|responded"
    "|rang|rings|called|calls|phoned|texted|emailed|attended|denies|denied|felt|feels"
    "|agreed|agrees|asked|asks|went|came|returned|remains|continues|lives|lived|presented"
    "|presents|complains|complained|stated|states|told|wants|wanted|needs|needed|prefers"
    "|declined|refused|lost|left|arrived|walked|slept|ate|became|got|looks|looked|seems"
    "|seemed|understands|understood|knows|thinks|thought|plans|hopes|works|worked"
)
_SPEECH = frozenset(
    ["says", "said", "reports", "reported", "rang", "rings", "called", "calls", "phoned",
     "texted", "emailed", "stated", "states", "told", "asked", "asks", "agreed", "agrees",
     "denies", "denied", "declined", "refused"]
)  # fmt: skip
_SUBJECT = re.compile(
    r"(?:^|(?<=[.!?][ \t])|(?<=[.!?][ \t]{2})|(?<=\n)|(?<=\n[ \t]))"
    r"([^\W\d_a-z][^\W\d_A-Z]{2,}(?:-[^\W\d_][^\W\d_]+)?)[ \t]+(" + _VERBS + r")\b"
)
# Endings of drug and chemical names (INN stems): never a person at a sentence start.
_DRUG_END = re.compile(
    r"(?i)(?:ine|ol|one|ide|ate|mab|nib|pril|sartan|statin|azole|cillin|mycin|cycline|oxacin"
    r"|parin|pam|lam|done|tide|vir|xaban|gliptin|gliflozin|dronate|lukast|setron|triptan"
    r"|profen|fenac|caine|sone|lone|mide|dipine|afil|oxetine|apine|ium|cin|fen|kin|gen|ase"
    r"|ose|rin|pine|tan|zole|lin|fil|stat|mus|ceph|ex|min|nin|grel|pentin|oxin|pram"
    r"|proxen|pezil|tin|morph|derm)$"
)


def drug_shaped(word: str) -> bool:
    """A word ending like a drug's or a chemical's name (``sertraline``, ``apixaban``)."""
    return _DRUG_END.search(word) is not None


def find_subject_names(text: str) -> list[Finding]:
    from nodes.privacy.gazetteer import gazetteer
    from nodes.privacy.known_names import function_words
    from nodes.privacy.names import english_words, very_common_words

    cands = list(_SUBJECT.finditer(text))
    if not cands:
        return []
    english, very = english_words(), very_common_words()
    given, _surname = gazetteer().ranks([m.group(1) for m in cands])
    out = []
    for m, g in zip(cands, given, strict=True):
        word, low = m.group(1), m.group(1).lower()
        speaker = 0 < g <= SPEAKER_RANK and m.group(2) in _SPEECH and low not in function_words()
        if low in very and not speaker:
            continue
        unknown = low not in english and all(p.lower() not in english for p in word.split("-"))
        if (unknown and not drug_shaped(low)) or speaker:
            out.append(Finding(m.start(1), m.end(1), "PERSON", SUBJECT_SCORE, source="context"))
    return out


def subject_name_recognizers() -> list[Recognizer]:
    """The recognizers of this module (merged into ``RECOGNIZERS``)."""
    return [
        Recognizer(
            "person_subject",
            ("PERSON",),
            r"(?:^|[.!?\n] ?)[A-Z\x{C0}-\x{DE}]\pL{2,}\S* +(?:" + _VERBS + r")\b",
            find_subject_names,
        )
    ]
