"""The finding and recognizer types shared by the scanner, the recognizers and the NER
bridge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One entity found inside a cell (character offsets; never stores the value)."""

    start: int
    end: int
    entity: str
    score: float
    source: str = "pattern"


@dataclass(frozen=True)
class Recognizer:
    """A Python recognizer behind an RE2 prefilter."""

    name: str
    entities: tuple[str, ...]
    prefilter: str
    find: Callable[[str], list[Finding]]
