"""Phone numbers said digit by digit (a voicemail or call transcript): "call me back on
zero nine four six five one nine nine zero one", "plus two seven oh two one ...".

Seven or more digit words in a row ("oh" and "double"/"triple" included) are a number
someone read out; nothing else in running text is spoken that way.
"""

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding, Recognizer

_DIGIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_STEP = r"(?:(?:double|triple) )?" + _DIGIT
_SPOKEN = re.compile(r"(?i)\b(?:plus )?" + _STEP + r"(?:(?:[ ,\-]|, )+" + _STEP + r"){6,}\b")


def find_spoken_phone(text: str) -> list[Finding]:
    return [Finding(m.start(), m.end(), "PHONE_NUMBER", 0.7) for m in _SPOKEN.finditer(text)]


def spoken_number_recognizers() -> list[Recognizer]:
    word = "(zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    return [
        Recognizer(
            "phone_spoken",
            ("PHONE_NUMBER",),
            "(?i)" + word + "[ ,-]+" + word + "[ ,-]+" + word + "[ ,-]+" + word,
            find_spoken_phone,
        )
    ]
