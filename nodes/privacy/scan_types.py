"""The finding type shared by the scanner, the recognizers and the NER bridge."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One entity found inside a cell (character offsets; never stores the value)."""

    start: int
    end: int
    entity: str
    score: float
    source: str = "pattern"
