# ruff: noqa: RUF001
"""A name found once in a cell is redacted wherever the cell repeats it.

Cues are uneven inside one text: ``Dr. Keola Kahale`` has a title, the ``Keola`` two
lines below has none; ``Dawn Church can swap with you, Dawn already said yes``. Every
word of a person finding that is no frequent word is looked for again in the same cell,
and each other copy of it is a person finding too (:func:`add_repeats`). A word that is
also an English word (``Dawn``) counts only written as the finding wrote it; one that is
none (``Keola``) in any letter case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding

REPEAT_SCORE = 0.6
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_NUMBER_NEXT = re.compile(r" ?[0-9]")
_GLUE = frozenset("@/\\_=#$%&*+<>[]{}|~`^.:-")


def add_repeats(text: str, found: Sequence[Finding]) -> list[Finding]:
    """``found`` and a person finding for each other copy of a name word in ``text``."""
    from nodes.privacy.names import english_words, very_common_words

    very, english = very_common_words(), english_words()
    words: set[str] = set()
    for f in found:
        if f.entity == "PERSON":
            for w in _WORD.findall(text[f.start : f.end]):
                if len(w) >= 3 and w.lower() not in very and not w.isupper():
                    words.add(w)
    if not words:
        return list(found)
    spans = sorted((f.start, f.end) for f in found)
    extra: list[Finding] = []
    for w in sorted(words):
        flags = 0 if w.lower() in english else re.IGNORECASE
        for m in re.finditer(r"(?<![\w'’\-])" + re.escape(w) + r"(?![\w'’\-])", text, flags):
            s, e = m.span()
            if any(a < e and s < b for a, b in spans):
                continue
            copy = m.group(0)
            if (copy.isupper() and len(copy) <= 4 and not w.isupper()) or _NUMBER_NEXT.match(
                text, e
            ):
                continue  # an acronym ("AKI" after "Aki Tanaka"), a numbered thing ("Ward 5")
            if (s > 0 and text[s - 1] in _GLUE) or (e < len(text) and text[e] in _GLUE and
                                                     text[e + 1 : e + 2].isalnum()):  # fmt: skip
                continue  # part of a path, address or key
            extra.append(Finding(s, e, "PERSON", REPEAT_SCORE, source="repeat"))
            spans.append((s, e))
    return [*found, *extra] if extra else list(found)
