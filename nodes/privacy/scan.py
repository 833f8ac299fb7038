"""Find personal data in text: a vectorized fast path and a plain per-cell path.

Both paths share :meth:`Scanner.confirm_cell`, the exact check (Python ``re`` in ASCII
mode, validators, boundaries, context boost, negative context, deny/allow lists, overlap
resolution) and the built-in recognizers (:mod:`nodes.privacy.recognizers`). They
differ only in which cells reach them:

* :meth:`Scanner.scan_cells` (plain path) checks every pattern on every cell.
* :meth:`Scanner.scan_array` (fast path) dictionary-encodes an Arrow column, runs one
  combined RE2 regex (``pyarrow.compute.match_substring_regex``) over the distinct
  values, then per-pattern/per-recognizer RE2 filters over the survivors, and confirms
  only the (value, pattern) pairs RE2 flagged. The RE2 prefilters are supersets of the
  exact checks, so the fast path cannot miss; the test suite checks that both paths give
  identical findings.

Every cell is scanned: typed columns (integers, decimals...) are scanned as their text,
and column hints (a column name plus a value shape) apply cell by cell. NER (spaCy,
through :mod:`nodes.privacy.presidio_bridge`) runs on the sentences that could hold a
name (:mod:`nodes.privacy.names`), with a bounded per-process memo.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from nodes.privacy.amounts import trim_quantities
from nodes.privacy.form_labels import drop_form_labels
from nodes.privacy.labelled_names import numbers_after_names
from nodes.privacy.names import eponym, extend_names, ordinary_words_only, role_words
from nodes.privacy.organisations import drop_organisations
from nodes.privacy.recognizers import Recognizer
from nodes.privacy.repeated_names import add_repeats
from nodes.privacy.scan_types import Finding
from nodes.privacy.validators import VALIDATORS

__all__ = ["CompiledPattern", "Finding", "Scanner", "compile_pattern", "distinct"]

_TEXT_ONLY_RECOGNIZERS = frozenset(
    (
        "person_context",
        "person_shape",
        "person_known",
        "person_labelled",
        "person_initial",
        "person_subject",
        "person_booking",
        "person_spelled",
        "person_caps_title",
        "table_fields",
        "hl7_fields",
        "place_known",
        "street_address",
        "address_context",
        "url",
        "key_value",
        "place_context",
    )
)
CONTEXT_BOOST = 0.35  # Presidio's default context similarity factor
CONTEXT_MIN_SCORE = 0.4  # ... and minimum score once context is found
CONTEXT_WINDOW_WORDS = 5
_WORD = re.compile(r"[a-z0-9#\-]+")
_MEMO_LIMIT = 200_000


@dataclass(frozen=True)
class CompiledPattern:
    """A pattern of a library, compiled for both engines."""

    name: str
    entity: str
    regex: str
    py: re.Pattern[str]
    score: float
    validator: Callable[[str], bool] | None
    context: tuple[str, ...]
    group: int
    trim: str
    overlapping: bool = False
    negative: tuple[str, ...] = ()
    text_only: bool = False


def compile_pattern(raw: dict[str, Any], where: str = "pattern") -> CompiledPattern:
    """Compile one pattern definition; raise ValueError naming the problem."""
    regex = raw.get("regex")
    entity = raw.get("entity")
    if not isinstance(regex, str) or not isinstance(entity, str) or not entity:
        raise ValueError(f"{where}: needs 'entity' and 'regex' strings")
    try:
        py = re.compile(regex, re.ASCII)
    except re.error as exc:
        raise ValueError(f"{where}: regex {regex!r} does not compile: {exc}") from None
    try:  # RE2 must accept it too, or the fast path could not use it
        pc.match_substring_regex(pa.array(["x"]), regex)
    except pa.ArrowInvalid as exc:
        raise ValueError(
            f"{where}: regex {regex!r} is not RE2-compatible (no lookarounds or "
            f"backreferences): {exc}"
        ) from None
    vname = raw.get("validator")
    validator = None
    if vname:
        validator = VALIDATORS.get(vname)
        if validator is None:
            raise ValueError(
                f"{where}: unknown validator {vname!r}; known: {', '.join(sorted(VALIDATORS))}"
            )
    group = int(raw.get("group", 0))
    if group > py.groups:
        raise ValueError(f"{where}: group {group} but the regex has {py.groups} group(s)")
    score = float(raw.get("score", 0.5))
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"{where}: score must be between 0 and 1, got {score}")
    return CompiledPattern(
        name=str(raw.get("name", entity.lower())),
        entity=entity,
        regex=regex,
        py=py,
        score=score,
        validator=validator,
        context=tuple(str(c).lower() for c in raw.get("context", ())),
        group=group,
        trim=str(raw.get("trimTrailing", "")),
        overlapping=bool(raw.get("overlapping", False)),
        negative=tuple(str(c).lower() for c in raw.get("negativeContext", ())),
        text_only=bool(raw.get("textOnly", False)),
    )


@dataclass(frozen=True)
class CompiledHint:
    """A column hint: cells of a column whose name matches and whose value fits."""

    entity: str
    column: re.Pattern[str]
    value: Callable[[str], bool]
    score: float


def compile_hint(raw: dict[str, Any]) -> CompiledHint:
    """Compile a ``columnHints`` entry (``value``: a validator name or a regex)."""
    check = raw.get("value")
    fn: Callable[[str], bool]
    if check in VALIDATORS:
        fn = VALIDATORS[check]
    elif check:
        rx: re.Pattern[str] = re.compile(check)

        def fn(v: str, rx: re.Pattern[str] = rx) -> bool:
            return rx.search(v) is not None

    else:
        fn = lambda v: True  # noqa: E731
    return CompiledHint(
        entity=raw["entity"],
        column=re.compile(raw["column"]),
        value=fn,
        score=float(raw.get("score", 0.9)),
    )


def _next_word(text: str, pos: int) -> int:
    """Index of the next word start after ``pos`` (or the end of ``text``)."""
    i = text.find(" ", pos)
    return len(text) if i < 0 else i + 1


def _touches_word(text: str, start: int, end: int) -> bool:
    """True when the span is glued to a letter/digit (or a digit after '.'/'-')."""
    if start > 0:
        c = text[start - 1]
        if c.isalnum() or (c in ".-" and start > 1 and text[start - 2].isdigit()):
            return True
    if end < len(text):
        c = text[end]
        if c.isalnum() or (c in ".-" and end + 1 < len(text) and text[end + 1].isdigit()):
            return True
    return False


@dataclass
class Scanner:
    """Finds entities in strings according to a resolved pattern library.

    Args:
        patterns: Compiled patterns.
        threshold: Minimum score a finding needs.
        contextual: Use context words around a match and the column name.
        deny: Entity -> words always flagged (whole words, any case).
        allow: Values never flagged.
        ner: Optional callable ``(texts, known findings) -> findings per text`` (spaCy
            NER); it may skip text that the known findings already explain.
    """

    patterns: list[CompiledPattern]
    threshold: float = 0.5
    contextual: bool = True
    deny: dict[str, list[str]] = field(default_factory=dict)
    allow: frozenset[str] = frozenset()
    ner: Callable[[list[str], list[list[Finding]]], list[list[Finding]]] | None = None
    recognizers: list[Recognizer] = field(default_factory=list)
    hints: list[CompiledHint] = field(default_factory=list)
    _memo: dict[tuple[str, bool, str], tuple[Finding, ...]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        self._deny_patterns = [
            compile_pattern(
                {
                    "entity": ent,
                    "name": f"deny_{ent.lower()}",
                    "regex": "(?i:" + "|".join(re.escape(w) for w in words) + ")",
                    "score": 1.0,
                }
            )
            for ent, words in self.deny.items()
            if words
        ]
        self._all = [*self.patterns, *self._deny_patterns]
        self._typed = [p for p in self._all if not p.text_only]
        alts = [p.regex for p in self._all] + [r.prefilter for r in self.recognizers]
        self._combined = "|".join(f"(?:{a})" for a in alts) if alts else None

    @property
    def entities(self) -> set[str]:
        return (
            {p.entity for p in self._all}
            | {e for r in self.recognizers for e in r.entities}
            | {h.entity for h in self.hints}
        )

    def hint_findings(self, text: str, column: str | None) -> list[Finding]:
        """Column hints: the whole (stripped) cell, when the column and the value fit."""
        if not column or not self.hints or not self.contextual:
            return []
        out = []
        stripped = text.strip()
        if not stripped:
            return []
        start = text.index(stripped[0])
        for h in self.hints:
            if h.column.search(column) and h.value(stripped):
                out.append(Finding(start, start + len(stripped), h.entity, h.score, "hint"))
                break
        return out

    def _recognize(
        self, text: str, recs: Iterable[Recognizer], column: str | None, typed: bool
    ) -> list[Finding]:
        found: list[Finding] = []
        for r in recs:
            if typed and r.name in _TEXT_ONLY_RECOGNIZERS:
                continue
            for f in r.find(text):
                if f.score >= self.threshold and text[f.start : f.end] not in self.allow:
                    found.append(f)
        return found

    # ---------------------------------------------------------------- exact check
    def confirm_cell(
        self,
        text: str,
        pats: Iterable[CompiledPattern],
        column: str | None = None,
        recs: Iterable[Recognizer] = (),
        typed: bool = False,
    ) -> list[Finding]:
        """Exact findings of ``pats`` and ``recs`` in ``text`` (no NER), overlaps resolved."""
        found: list[Finding] = self.hint_findings(text, column)
        lowered: str | None = None
        col_words = _column_words(column) if column and self.contextual else frozenset()
        for p in pats:
            if typed and p.text_only:
                continue
            pos = 0
            while True:
                m = p.py.search(text, pos)
                if m is None:
                    break
                # Overlapping patterns retry from the next word after a rejected match.
                pos = max(m.end(), m.start() + 1)
                start, end = m.span(p.group)
                if start < 0 or end <= start:
                    continue
                if p.trim:
                    while end > start and text[end - 1] in p.trim:
                        end -= 1
                value = text[start:end]
                if (
                    _touches_word(text, start, end)
                    or value in self.allow
                    or (p.validator is not None and not p.validator(value))
                ):
                    if p.overlapping:
                        pos = _next_word(text, m.start())
                    continue
                score = p.score
                if p.negative and col_words & set(p.negative) and _whole_cell(text, start, end):
                    continue  # a bare number in a column named order_no is an order number
                if p.negative:
                    if lowered is None:
                        lowered = text.lower()
                    if self._has_label(lowered, m.start(), p.negative):
                        continue
                if self.contextual and p.context and score < 1.0:
                    if lowered is None:
                        lowered = text.lower()
                    if self._has_context(lowered, m.start(), p.context, column):
                        score = max(min(1.0, score + CONTEXT_BOOST), CONTEXT_MIN_SCORE)
                if score >= self.threshold:
                    found.append(Finding(start, end, p.entity, round(score, 4)))
        rec_found = self._recognize(text, recs, column, typed)
        if col_words & _BUSINESS_WORDS:
            rec_found = [f for f in rec_found if not (
                f.entity == "PHONE_NUMBER" and _whole_cell(text, f.start, f.end)
                and text[f.start : f.end].isdigit())]  # fmt: skip
        found += rec_found
        return resolve_overlaps(found, text)

    def _has_context(
        self,
        lowered: str,
        start: int,
        words: Sequence[str],
        column: str | None,
        window_words: int = CONTEXT_WINDOW_WORDS,
    ) -> bool:
        # Prefix match on words stands in for lemmas ("phones", "emailed" -> phone, email),
        # which Presidio gets from spaCy's lemmatizer and a blank pipeline would lose.
        window_text = lowered[max(0, start - 80) : start]
        cut = max(window_text.rfind(". "), window_text.rfind("; "), window_text.rfind("\n"))
        if cut >= 0:  # context words count within the same sentence only
            window_text = window_text[cut + 1 :]
        before = _WORD.findall(window_text)[-window_words:]
        if column:
            before += _WORD.findall(column.lower().replace("_", " "))
        window = " ".join(before)
        for w in words:
            if " " in w:
                if w in window:
                    return True
            elif any(tok.startswith(w) for tok in before):
                return True
        return False

    @staticmethod
    def _has_label(lowered: str, start: int, labels: Sequence[str]) -> bool:
        """A business label (whole word) among the 3 words right before ``start``."""
        window_text = lowered[max(0, start - 40) : start]
        cut = max(window_text.rfind(". "), window_text.rfind("; "), window_text.rfind("\n"))
        if cut >= 0:
            window_text = window_text[cut + 1 :]
        before = [w.strip("#-") for w in _WORD.findall(window_text)[-3:]]
        return any(w in labels for w in before)

    # ---------------------------------------------------------------- plain path
    def scan_cells(
        self, values: Sequence[str | None], column: str | None = None, typed: bool = False
    ) -> list[list[Finding]]:
        """Per-cell reference path: every pattern and recognizer on every cell, then NER."""
        out = [
            self.confirm_cell(v, self._all, column, self.recognizers, typed)
            if isinstance(v, str) and v
            else []
            for v in values
        ]
        if typed:
            return out
        out = self._add_ner(values, out)
        return [_names_settled(v, fs) for v, fs in zip(values, out, strict=True)]

    # ---------------------------------------------------------------- fast path
    def scan_array(
        self, arr: pa.Array | pa.ChunkedArray, column: str | None = None
    ) -> tuple[pa.Array, list[str], list[list[Finding]]]:
        """Fast path over an Arrow column (any type: non-strings are scanned as text).

        Returns:
            ``(indices, dictionary, findings)``: ``indices`` (Int32 array, null for null
            cells) maps each row to a distinct value in ``dictionary`` (a Python list of
            str); ``findings[i]`` are the findings of ``dictionary[i]``.
        """
        typ = arr.type
        temporal = pa.types.is_date(typ) or pa.types.is_timestamp(typ)
        typed = not (pa.types.is_string(typ) or pa.types.is_large_string(typ)) and not (
            pa.types.is_dictionary(typ) and pa.types.is_string(typ.value_type)
        )
        indices, dictionary = distinct(arr)
        if temporal:  # a date/timestamp column: every value is a date
            return (
                indices,
                dictionary,
                [[Finding(0, len(v), "DATE_TIME", 0.85, "type")] if v else [] for v in dictionary],
            )
        findings = self.scan_distinct(dictionary, column, typed=typed)
        if pa.types.is_integer(typ):
            findings = _lost_leading_zeros(dictionary, findings)
        return indices, dictionary, findings

    def scan_distinct(
        self, values: list[str], column: str | None = None, typed: bool = False
    ) -> list[list[Finding]]:
        """Findings for each of ``values`` (already distinct), with a per-process memo."""
        results: list[list[Finding] | None] = [None] * len(values)
        todo: list[int] = []
        key_col = column or ""
        for i, v in enumerate(values):
            hit = self._memo.get((key_col, typed, v))
            if hit is not None:
                results[i] = list(hit)
            else:
                todo.append(i)
        if todo:
            fresh = self._scan_distinct_uncached([values[i] for i in todo], column, typed)
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            for i, f in zip(todo, fresh, strict=True):
                results[i] = f
                self._memo[(key_col, typed, values[i])] = tuple(f)
        return [r or [] for r in results]

    def _scan_distinct_uncached(
        self, values: list[str], column: str | None, typed: bool = False
    ) -> list[list[Finding]]:
        out: list[list[Finding]] = [[] for _ in values]
        hinted = bool(column and self.contextual and any(h.column.search(column)
                                                          for h in self.hints))  # fmt: skip
        if hinted:  # column hints apply to every cell: no prefilter can skip one
            for i, v in enumerate(values):
                out[i] = self.hint_findings(v, column)
        if self._combined and values:
            dict_arr = pa.array(values, pa.string())
            hit = pc.match_substring_regex(dict_arr, self._combined)
            cand = pc.indices_nonzero(hit)
            if len(cand):
                sub = pc.take(dict_arr, cand)
                cand_py = cand.to_pylist()
                per_value: dict[int, list[CompiledPattern]] = {}
                per_rec: dict[int, list[Recognizer]] = {}
                for p in self._all if not typed else self._typed:
                    mask = pc.match_substring_regex(sub, p.regex)
                    for j in pc.indices_nonzero(mask).to_pylist():
                        per_value.setdefault(cand_py[j], []).append(p)
                for r in self.recognizers:
                    mask = pc.match_substring_regex(sub, r.prefilter)
                    for j in pc.indices_nonzero(mask).to_pylist():
                        per_rec.setdefault(cand_py[j], []).append(r)
                order = {id(p): k for k, p in enumerate(self._all)}
                for i in set(per_value) | set(per_rec):
                    pats = sorted(per_value.get(i, ()), key=lambda p: order[id(p)])
                    out[i] = self.confirm_cell(values[i], pats, column, per_rec.get(i, ()), typed)
        if typed:
            return out
        out = self._add_ner(values, out)
        return [_names_settled(v, fs) for v, fs in zip(values, out, strict=True)]

    def _add_ner(
        self, values: Sequence[str | None], out: list[list[Finding]]
    ) -> list[list[Finding]]:
        if self.ner is None:
            return out
        idx = [i for i, v in enumerate(values) if isinstance(v, str) and _may_hold_name(v)]
        if not idx:
            return out
        ner_found = self.ner([values[i] for i in idx], [out[i] for i in idx])  # type: ignore
        for i, extra in zip(idx, ner_found, strict=True):
            text = values[i]
            assert isinstance(text, str)
            keep = [
                f
                for f in extra
                if f.score >= self.threshold
                and not (
                    f.entity == "PERSON"
                    and (role_words(text, f.start, f.end) or eponym(text, f.start, f.end))
                )
            ]
            if keep:
                out[i] = resolve_overlaps([*out[i], *keep], text)
            if any(f.entity == "PERSON" for f in out[i]):
                out[i] = extend_names(values[i], out[i])  # type: ignore[arg-type]
        return out


_BUSINESS_WORDS = frozenset(["order", "invoice", "inv", "po", "sku", "product", "item",
                             "ticket", "tracking", "shipment", "transaction", "txn",
                             "confirmation", "booking", "receipt", "batch", "lot", "build",
                             "version", "qty", "quantity", "amount", "price"])  # fmt: skip


def _names_settled(text: str | None, found: list[Finding]) -> list[Finding]:
    """Field labels, organisations, departments, roles, currencies and units out of the
    person and place findings; then every other copy of a person's name in the cell
    in."""
    if not found or not text:
        return found
    found = trim_quantities(text, drop_organisations(text, drop_form_labels(text, found)))
    if any(f.entity == "PERSON" for f in found):
        # (a label's copy elsewhere in the text, "simu 0753...", must not bring it back)
        found = drop_form_labels(text, numbers_after_names(text, add_repeats(text, found)))
        found = sorted(found, key=lambda f: (f.start, f.end))
    return found


def _column_words(column: str) -> frozenset[str]:
    return frozenset(w for w in re.split(r"[^a-z0-9]+", column.lower()) if w)


def _whole_cell(text: str, start: int, end: int) -> bool:
    return not text[:start].strip() and not text[end:].strip()


# Fixed-width identifiers that an integer column may hold without their leading zeros
# (an SSN 034918136 read as the int64 34918136): entity -> width.
FIXED_WIDTH = {"US_SSN": 9}
FIXED_WIDTH_SHARE = 0.5


def _lost_leading_zeros(values: list[str], findings: list[list[Finding]]) -> list[list[Finding]]:
    """An integer column whose values mostly are one fixed-width identifier: the shorter
    values are that identifier with its leading zeros dropped, and are treated alike."""
    from nodes.privacy.validators import us_ssn

    checks = {"US_SSN": us_ssn}
    n = sum(1 for v in values if v)
    if not n:
        return findings
    for entity, width in FIXED_WIDTH.items():
        whole = sum(
            1
            for v, fs in zip(values, findings, strict=True)
            if len(v) == width and any(f.entity == entity for f in fs)
        )
        if whole < FIXED_WIDTH_SHARE * n:
            continue
        out = list(findings)
        for i, v in enumerate(values):
            if (not out[i] and v.isdigit() and width - 3 <= len(v) < width
                    and checks[entity](v.zfill(width))):  # fmt: skip
                out[i] = [Finding(0, len(v), entity, 0.6, "column")]
        findings = out
    return findings


def _may_hold_name(text: str) -> bool:
    # Any cell with a letter may hold a name (lower-case text is truecased before NER;
    # presidio_bridge/names choose the sentences).
    return any(c.isalpha() for c in text)


def resolve_overlaps(found: list[Finding], text: str) -> list[Finding]:
    """Keep the best non-overlapping findings: higher score, then longer span, wins.

    A finding that loses part of its span to a stronger one keeps the rest
    (:func:`uncovered_remainders`), so no part of it is left in clear.
    """
    if len(found) <= 1:
        return found
    found = _merge_same_entity(found)
    # A pattern's span holding an NER span is the longer reading of the same words
    # ("14 Kloof Street, Cape Town 8001" over NER's "Kloof Street"): the pattern wins,
    # whatever the scores, so no part of it is left unredacted.
    pats = [f for f in found if f.source != "ner"]
    if pats:
        found = [f for f in found if f.source != "ner" or not any(
            p.start <= f.start and f.end <= p.end and (p.end - p.start) > (f.end - f.start)
            for p in pats)]  # fmt: skip
    # Exact patterns beat NER on ties (spaCy sometimes tags URLs as PERSON).
    ranked = sorted(
        found,
        key=lambda f: (-f.score, f.source == "ner", -(f.end - f.start), f.start, f.entity),
    )
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
        else:
            kept += uncovered_remainders(f, kept, text)
    return sorted(kept)


REMAINDER_MIN_ALNUM = 2  # a single letter or digit left in clear identifies no one


def uncovered_remainders(f: Finding, kept: Sequence[Finding], text: str) -> list[Finding]:
    """The parts of ``f``'s span that no finding of ``kept`` (non-overlapping) covers, as
    findings of ``f``'s entity: each part trimmed of spaces and punctuation, and kept when
    it still holds at least :data:`REMAINDER_MIN_ALNUM` letters or digits.

    An address that lost its first word to a phone number keeps the rest ("<PHONE> 5678
    Via Roma 12"), a name that lost its surname to an e-mail address keeps the given name
    ("Marguerite <EMAIL>"). A wrong reading inside a right one (a date inside a phone
    number, a domain inside an e-mail address) is covered whole and leaves nothing. A
    name reading whose name words a stronger finding took (a month to a date in
    "Discharged November 07", a street to an address in "Lives at Vicolo Flora") keeps
    the rest only where the rest is still a name: frequent words alone are not.
    """
    out = []
    for start, end in _uncovered_pieces(f, kept):
        start, end = _trim_gaps(text, start, end)
        if _identifying_rest(f.entity, text, start, end):
            out.append(Finding(start, end, f.entity, f.score, f.source))
    return out


def _uncovered_pieces(f: Finding, kept: Sequence[Finding]) -> list[tuple[int, int]]:
    """``(start, end)`` of each part of ``f``'s span outside every (non-overlapping) kept
    finding."""
    pieces: list[tuple[int, int]] = []
    pos = f.start
    for k in sorted(kept):
        if k.end <= pos or k.start >= f.end:
            continue
        if k.start > pos:
            pieces.append((pos, k.start))
        pos = k.end
    if pos < f.end:
        pieces.append((pos, f.end))
    return pieces


def _identifying_rest(entity: str, text: str, start: int, end: int) -> bool:
    """Whether the rest ``text[start:end]`` of a finding still needs redacting: enough
    letters or digits, and for a name, a word that is not a frequent word."""
    if sum(c.isalnum() for c in text[start:end]) < REMAINDER_MIN_ALNUM:
        return False
    return not (entity == "PERSON" and ordinary_words_only(text, start, end))


def _trim_gaps(text: str, start: int, end: int) -> tuple[int, int]:
    """``start, end`` moved inwards past spaces and punctuation."""
    while start < end and _is_gap(text[start]):
        start += 1
    while end > start and _is_gap(text[end - 1]):
        end -= 1
    return start, end


def _is_gap(c: str) -> bool:
    return c.isspace() or unicodedata.category(c)[0] in "PZ"


def _merge_same_entity(found: list[Finding]) -> list[Finding]:
    """Overlapping findings of one entity become one span (NER "Mensah" + context
    "Mensah-Bonsu" -> "Mensah-Bonsu")."""
    by_ent: dict[str, list[Finding]] = {}
    for f in found:
        by_ent.setdefault(f.entity, []).append(f)
    out: list[Finding] = []
    for fs in by_ent.values():
        fs.sort()
        cur = fs[0]
        for f in fs[1:]:
            if f.start < cur.end:
                best = cur if cur.score >= f.score else f
                cur = Finding(cur.start, max(cur.end, f.end), cur.entity,
                              max(cur.score, f.score), best.source)  # fmt: skip
            else:
                out.append(cur)
                cur = f
        out.append(cur)
    return out


def distinct(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, list[str]]:
    """``(indices, distinct values)`` of a column cast to string."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    enc = pc.dictionary_encode(arr)
    return enc.indices, enc.dictionary.to_pylist()
