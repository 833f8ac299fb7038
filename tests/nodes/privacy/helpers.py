"""Builders shared by the privacy tests."""

from __future__ import annotations

from typing import Any

from nodes.privacy.library import scanner_for, scanner_spec
from nodes.privacy.scan import Scanner


def make_scanner(lib: dict[str, Any], *, ner: bool, threshold: float = 0.5) -> Scanner:
    """A scanner over a resolved library (names: NER and context rules, no name list)."""
    spec = scanner_spec(
        lib,
        threshold=threshold,
        contextual=True,
        entities=None,
        ner_model="en_core_web_sm" if ner else None,
    )
    return scanner_for(spec)


def spans_by_cell(found: list[tuple[int, str, str, int, int]]) -> dict[tuple[int, str], set]:
    out: dict[tuple[int, str], set] = {}
    for r, c, e, s, t in found:
        out.setdefault((r, c), set()).add((e, s, t))
    return out
