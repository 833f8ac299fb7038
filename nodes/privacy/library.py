"""Resolve pattern libraries (``extends``, user patterns) and build cached scanners.

A *scanner spec* is a plain, picklable dict (resolved library + detection settings)
that crosses from the driver to Ray workers; :func:`scanner_for` turns it into a
:class:`~nodes.privacy.scan.Scanner` once per process (the NER model loads once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from nodes.privacy.scan import Scanner, compile_pattern

log = logging.getLogger(__name__)

_SCANNERS: dict[str, Scanner] = {}
_LOCK = threading.Lock()


def resolve_library(
    get: Callable[[str, str], dict[str, Any]], library_id: str, _seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Merge a pattern library with the libraries it ``extends`` (theirs first).

    Args:
        get: ``catalog.get``-like lookup ``(kind, id) -> resource``.
        library_id: The library to resolve.

    Raises:
        ValueError: a cycle in ``extends`` or a malformed library.
    """
    if library_id in _seen:
        raise ValueError(f"pattern library {library_id!r} extends itself: {' -> '.join(_seen)}")
    lib = get("patternLibraries", library_id)
    merged: dict[str, Any] = {
        "ids": [],
        "patterns": [],
        "columnHints": [],
        "denyList": {},
        "allowList": [],
        "ner": False,
        "entities": None,
        "recognizers": [],
    }
    for parent in lib.get("extends", []) or []:
        _merge(merged, resolve_library(get, parent, (*_seen, library_id)))
    _merge(merged, {**lib, "ids": [library_id]})
    return merged


def _merge(into: dict[str, Any], lib: dict[str, Any]) -> None:
    into["ids"] = [*into["ids"], *lib.get("ids", [])]
    names = {p.get("name") for p in lib.get("patterns", [])}
    # A child pattern with the same name replaces the parent's (user overrides).
    into["patterns"] = [p for p in into["patterns"] if p.get("name") not in names]
    into["patterns"] += list(lib.get("patterns", []) or [])
    into["columnHints"] += list(lib.get("columnHints", []) or [])
    for ent, words in (lib.get("denyList") or {}).items():
        into["denyList"].setdefault(ent, [])
        into["denyList"][ent] += list(words)
    into["allowList"] += list(lib.get("allowList", []) or [])
    into["ner"] = bool(lib.get("ner", into["ner"]))
    if lib.get("recognizers") is not None:
        into["recognizers"] = list(lib["recognizers"])
    if lib.get("entities"):
        into["entities"] = list(lib["entities"])


def check_library(lib: dict[str, Any]) -> list[str]:
    """Problems of a resolved library (bad regexes, unknown validators...)."""
    from nodes.privacy.recognizers import RECOGNIZERS

    problems = [
        f"unknown recognizer {r!r}; known: {', '.join(sorted(RECOGNIZERS))}"
        for r in lib.get("recognizers", [])
        if r not in RECOGNIZERS
    ]
    for i, p in enumerate(lib["patterns"]):
        try:
            compile_pattern(p, where=f"patterns[{i}] ({p.get('name', '?')})")
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def scanner_spec(
    lib: dict[str, Any],
    *,
    threshold: float,
    contextual: bool,
    entities: list[str] | None,
    ner_model: str | None,
) -> dict[str, Any]:
    """The picklable description of a scanner (no values, no secrets)."""
    wanted = entities or lib.get("entities")
    patterns = [
        p
        for p in lib["patterns"]
        if p.get("enabled", True) and (not wanted or p["entity"] in wanted)
    ]
    from nodes.privacy.recognizers import RECOGNIZERS

    recognizers = [
        r
        for r in lib.get("recognizers", [])
        if r in RECOGNIZERS and (not wanted or set(RECOGNIZERS[r].entities) & set(wanted))
    ]
    hints = [h for h in lib.get("columnHints", []) if not wanted or h["entity"] in wanted]
    spec = {
        "patterns": patterns,
        "recognizers": recognizers,
        "hints": hints if contextual else [],
        "threshold": threshold,
        "contextual": contextual,
        "deny": {k: v for k, v in lib["denyList"].items() if not wanted or k in wanted},
        "allow": sorted(set(lib["allowList"])),
        "ner_model": ner_model if lib.get("ner") else None,
        "ner_entities": [e for e in ("PERSON", "LOCATION") if not wanted or e in wanted],
    }
    spec["fingerprint"] = hashlib.sha256(
        json.dumps(spec, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return spec


def scanner_for(spec: dict[str, Any]) -> Scanner:
    """The process-wide scanner of a spec (built once; NER model loaded once)."""
    key = spec["fingerprint"]
    with _LOCK:
        found = _SCANNERS.get(key)
        if found is None:
            ner = None
            if spec.get("ner_model") and spec.get("ner_entities"):
                from nodes.privacy.presidio_bridge import spacy_ner

                ner = spacy_ner(spec["ner_model"], tuple(spec["ner_entities"]))
            from nodes.privacy.recognizers import RECOGNIZERS
            from nodes.privacy.scan import compile_hint

            found = Scanner(
                patterns=[compile_pattern(p) for p in spec["patterns"]],
                recognizers=[RECOGNIZERS[r] for r in spec.get("recognizers", [])],
                hints=[compile_hint(h) for h in spec.get("hints", [])],
                threshold=spec["threshold"],
                contextual=spec["contextual"],
                deny=spec["deny"],
                allow=frozenset(spec["allow"]),
                ner=ner,
            )
            _SCANNERS[key] = found
    return found
