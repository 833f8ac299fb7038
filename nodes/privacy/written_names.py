# ruff: noqa: RUF001
"""Names written in fixed conventions rather than in prose.

- ``person_booking``: the airline booking form of a name, surname and given names joined
  by a slash and followed by a title (``KANAHELE/LEILANI MS``, ``Wolf/Cliff Mr``), as on
  tickets, manifests and boarding passes;
- ``person_spelled``: a name spelled out letter by letter with hyphens
  (``Surname is S-I-R-I-P-A-N-I-C-H``), as in call transcripts; four letters or more;
- ``person_caps_title``: in a line written all in capitals, a title and the surname after
  it (``PAGE TO DR JAMA RE WARD 7C``, ``VET: DR CONDORI``), where the mixed-case rules
  cannot tell a name from the capitals around it. A word that is an ordinary frequent
  word, an identifier label or an organisation word is not taken (``DR ORDERS``).
"""

from __future__ import annotations

import re

from nodes.privacy.names import UPPER, _not_surname
from nodes.privacy.scan_types import Finding, Recognizer

WRITTEN_SCORE = 0.7
_CAP_WORD = UPPER + r"[^\W\d_]*(?:['’\-][^\W\d_]+)*"
_TITLES = "MR|MRS|MS|MISS|MSTR|MX|DR|PROF|REV|SIR|CHD|INF|Mr|Mrs|Ms|Miss|Mstr|Mx|Dr|Prof|Rev"
_BOOKING = re.compile(
    r"(?<![\w/])(" + _CAP_WORD + r"(?:[ \-]" + _CAP_WORD + r")?/" + _CAP_WORD
    + r"(?: " + _CAP_WORD + r")*?)\.?[ ]?(?:" + _TITLES + r")\.?(?![\w/])"
)  # fmt: skip
_SPELLED = re.compile(r"(?<![\w\-])(?:[^\W\d_]-){3,}[^\W\d_](?![\w\-])")
_CAPS_TITLES = "DR|DRA|PROF|MR|MRS|MS|MISS|SGT|CAPT|REV|SISTER|NURSE"
_CAPS_TITLE = re.compile(
    r"(?<![\w.])(?:" + _CAPS_TITLES + r")\.?[ ]+(" + UPPER + r"[^\W\d_a-z]{2,}"
    r"(?:['’\-]" + UPPER + r"[^\W\d_a-z]+)*)(?![\w'’\-])"
)


def _ordinary(word: str) -> bool:
    """A frequent English word, an identifier label or an organisation word, any case."""
    return _not_surname(word.capitalize())


def find_booking_names(text: str) -> list[Finding]:
    return [
        Finding(*m.span(1), "PERSON", WRITTEN_SCORE, source="context")
        for m in _BOOKING.finditer(text)
        if not all(_ordinary(w) for w in re.split(r"[ /\-]", m.group(1)) if w)
    ]


def find_spelled_names(text: str) -> list[Finding]:
    return [
        Finding(m.start(), m.end(), "PERSON", WRITTEN_SCORE, source="context")
        for m in _SPELLED.finditer(text)
    ]


def find_caps_title_names(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _CAPS_TITLE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if any(c.islower() for c in line):
            continue  # mixed case: the honorific rules read it
        if _ordinary(m.group(1)):
            continue
        out.append(Finding(*m.span(1), "PERSON", WRITTEN_SCORE, source="context"))
    return out


def written_name_recognizers() -> list[Recognizer]:
    """The recognizers of this module (merged into ``RECOGNIZERS``)."""
    return [
        Recognizer("person_booking", ("PERSON",), r"\pL/\pL", find_booking_names),
        Recognizer("person_spelled", ("PERSON",), r"\pL-\pL-\pL-\pL", find_spelled_names),
        Recognizer(
            "person_caps_title",
            ("PERSON",),
            r"\b(?:" + _CAPS_TITLES + r")\.? +\p{Lu}{3}",
            find_caps_title_names,
        ),
    ]
