"""A labeled evaluation set (Faker en_US, fixed seed) and per-entity precision/recall.

The detector uses no Faker data (no name lists), so drawing the set from Faker does not
feed the thing under test.

Used by the test suite and ``benchmarks/privacy_throughput.py`` to measure this
engine and Presidio on exactly the same cells. The table mixes structured columns
(one entity per column), a free-text column with planted entities at known offsets,
and decoys that look like personal data but are not (order numbers, product codes,
tracking numbers, version strings, amounts, times).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STRUCTURED = {  # column -> entity
    "name": "PERSON",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "ssn": "US_SSN",
    "credit_card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ip": "IP_ADDRESS",
    "website": "URL",
    "dob": "DATE_TIME",
    "zip": "US_ZIP",
    "mrn": "MEDICAL_RECORD_NUMBER",
}
DECOY_COLUMNS = ("order_number", "product_code", "amount")
TEXT_COLUMN = "notes"
PATTERN_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS",
    "URL", "DATE_TIME", "MEDICAL_RECORD_NUMBER", "NPI", "DEA_NUMBER", "HEALTH_PLAN_ID",
    "ICD10_CODE",
)  # fmt: skip
NER_ENTITIES = ("PERSON",)


@dataclass
class EvalSet:
    """Rows (dicts) plus gold spans ``(row, column, entity, start, end)``."""

    rows: list[dict[str, Any]]
    gold: list[tuple[int, str, str, int, int]]
    columns: list[str] = field(default_factory=list)

    def planted_values(self) -> set[str]:
        """Every planted identifier (for 'nothing left after redaction' checks)."""
        return {str(self.rows[r][c])[s:e] for r, c, _ent, s, e in self.gold}

    def to_arrow(self):
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows)


def _npi(rng: random.Random) -> str:
    from nodes.privacy.validators import luhn

    while True:
        body = str(rng.choice((1, 2))) + "".join(str(rng.randrange(10)) for _ in range(8))
        for check in range(10):
            if luhn("80840" + body + str(check)):
                return body + str(check)


def _dea(rng: random.Random) -> str:
    letters = rng.choice("ABFM") + rng.choice("ABCDEFGHJKLMNPRSTUWXYZ")
    d = [rng.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return letters + "".join(map(str, d)) + str(check)


def _decoys(rng: random.Random) -> list[str]:
    return [
        f"order ORD-{rng.randrange(2019, 2026)}-{rng.randrange(10000, 99999)}",
        f"product SKU-{rng.choice('ABCDEFGH')}{rng.choice('XYZQ')}-{rng.randrange(1000, 9999)}",
        f"tracking 1Z{rng.randrange(100, 999)}AA{rng.randrange(10**9, 10**10)}",
        f"firmware v{rng.randrange(1, 9)}.{rng.randrange(10, 99)}.{rng.randrange(100, 999)}",
        f"total ${rng.randrange(10, 9999)}.{rng.randrange(10, 99)}",
        f"at {rng.randrange(10, 23)}:{rng.randrange(10, 59)}",
        f"invoice {rng.randrange(10**8, 10**9 - 1)}",
        f"room {rng.randrange(100, 999)}B",
    ]


def generate(n_rows: int = 400, seed: int = 7) -> EvalSet:
    """Build the labeled evaluation table."""
    from faker import Faker

    fk = Faker("en_US")
    fk.seed_instance(seed)
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    gold: list[tuple[int, str, str, int, int]] = []
    for r in range(n_rows):
        ip = fk.ipv4_public() if rng.random() < 0.7 else fk.ipv6()
        row: dict[str, Any] = {
            "name": fk.name(),
            "email": fk.email(),
            "phone": fk.phone_number(),
            "ssn": fk.ssn(),
            "credit_card": fk.credit_card_number(),
            "iban": fk.iban(),
            "ip": ip,
            "website": fk.url(),
            "dob": fk.date_of_birth(minimum_age=1, maximum_age=99).isoformat(),
            "zip": fk.zipcode(),
            "mrn": f"{rng.randrange(10**7):08d}",
            "order_number": f"ORD-{rng.randrange(2019, 2026)}-{rng.randrange(10000, 99999)}",
            "product_code": f"SKU-{rng.choice('ABCDEFGH')}{rng.randrange(100, 999)}-"
            f"{rng.choice('XYZ')}",
            "amount": round(rng.uniform(1, 5000), 2),
        }
        for col, ent in STRUCTURED.items():
            gold.append((r, col, ent, 0, len(row[col])))
        text, spans = _free_text(fk, rng)
        row[TEXT_COLUMN] = text
        gold += [(r, TEXT_COLUMN, ent, s, e) for ent, s, e in spans]
        rows.append(row)
    return EvalSet(rows=rows, gold=gold, columns=list(rows[0]) if rows else [])


def _free_text(fk: Any, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    """A note with 3-5 planted entities and 1-2 decoys; returns text and gold spans."""
    person = fk.name()
    choices: list[tuple[str, str, str]] = [
        ("Contact {} for follow-up.", "EMAIL_ADDRESS", fk.email()),
        ("Patient can be reached by phone at {}.", "PHONE_NUMBER", fk.phone_number()),
        ("Billed to card {} last week.", "CREDIT_CARD", fk.credit_card_number()),
        ("SSN on file: {}.", "US_SSN", fk.ssn()),
        ("Refund to IBAN {} requested.", "IBAN_CODE", fk.iban()),
        ("Portal login from {} flagged.", "IP_ADDRESS", fk.ipv4_public()),
        ("See {} for the intake form.", "URL", fk.url()),
        ("Admitted on {} via ER.", "DATE_TIME", fk.date_between("-5y").strftime("%m/%d/%Y")),
        ("Discharged {}.", "DATE_TIME", fk.date_between("-5y").strftime("%B %d, %Y")),
        ("MRN: {} was updated.", "MEDICAL_RECORD_NUMBER", f"{rng.randrange(10**7):08d}"),
        ("Referred by NPI {} today.", "NPI", _npi(rng)),
        ("Prescriber DEA {} verified.", "DEA_NUMBER", _dea(rng)),
        (
            "Insurance member ID {} is active.",
            "HEALTH_PLAN_ID",
            fk.lexify("???").upper() + f"{rng.randrange(10**9):09d}",
        ),
        (
            "Diagnosis {} confirmed.",
            "ICD10_CODE",
            rng.choice("EIJKMNR") + f"{rng.randrange(10, 99)}.{rng.randrange(0, 9)}",
        ),
    ]
    picked = rng.sample(choices, rng.randrange(3, 6))
    parts: list[tuple[str, str | None, str | None]] = [
        (f"{person} visited the clinic.", "PERSON", person)
    ]
    parts += [(tpl, ent, val) for tpl, ent, val in picked]
    for d in rng.sample(_decoys(rng), rng.randrange(1, 3)):
        parts.append((f"Note: {d}.", None, None))
    rng.shuffle(parts)
    text, spans = "", []
    for tpl, ent, val in parts:
        if text:
            text += " "
        if ent is None or val is None:
            text += tpl
            continue
        if ent == "PERSON":
            start = len(text)
            text += tpl
            spans.append((ent, start, start + len(val)))
            continue
        pre, post = tpl.split("{}")
        start = len(text) + len(pre)
        text += pre + val + post
        spans.append((ent, start, start + len(val)))
    return text, spans


@dataclass
class Scores:
    """Per-entity precision, recall and F1."""

    tp_pred: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pred: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found_gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def precision(self, e: str) -> float:
        return self.tp_pred[e] / self.pred[e] if self.pred[e] else 1.0

    def recall(self, e: str) -> float:
        return self.found_gold[e] / self.gold[e] if self.gold[e] else 1.0

    def f1(self, e: str) -> float:
        p, r = self.precision(e), self.recall(e)
        return 2 * p * r / (p + r) if p + r else 0.0

    def table(self, entities: list[str] | tuple[str, ...]) -> dict[str, dict[str, float]]:
        return {
            e: {
                "precision": round(self.precision(e), 4),
                "recall": round(self.recall(e), 4),
                "f1": round(self.f1(e), 4),
                "support": self.gold[e],
            }
            for e in entities
        }


def score(
    gold: list[tuple[int, str, str, int, int]],
    predicted: list[tuple[int, str, str, int, int]],
    entities: set[str] | None = None,
) -> Scores:
    """Span-overlap scoring; predictions of entities outside ``entities`` are ignored."""
    ents = entities or {g[2] for g in gold}
    gold_by: dict[tuple[int, str, str], list[tuple[int, int]]] = defaultdict(list)
    for r, c, e, s, t in gold:
        if e in ents:
            gold_by[(r, c, e)].append((s, t))
    pred_by: dict[tuple[int, str, str], list[tuple[int, int]]] = defaultdict(list)
    for r, c, e, s, t in predicted:
        if e in ents:
            pred_by[(r, c, e)].append((s, t))
    out = Scores()
    for (r, c, e), spans in gold_by.items():
        preds = pred_by.get((r, c, e), [])
        out.gold[e] += len(spans)
        out.found_gold[e] += sum(any(ps < t and s < pt for ps, pt in preds) for s, t in spans)
    for (r, c, e), preds in pred_by.items():
        spans = gold_by.get((r, c, e), [])
        out.pred[e] += len(preds)
        out.tp_pred[e] += sum(any(ps < t and s < pt for s, t in spans) for ps, pt in preds)
    return out


def predict_engine(
    table: Any, scanner: Any, hints: list[dict[str, Any]] | None = None, *, threshold: float = 0.5
) -> list[tuple[int, str, str, int, int]]:
    """This engine's predictions: every cell of every column scanned (as the nodes do).

    ``hints`` and ``threshold`` are part of the scanner itself; the arguments remain for
    callers that pass them.
    """
    del hints, threshold
    from nodes.privacy.batch import scan_batch

    scanned, _unscanned = scan_batch(table, scanner)
    out: list[tuple[int, str, str, int, int]] = []
    for col, sc in scanned.items():
        for r, i in enumerate(sc.indices.to_pylist()):
            if i is not None:
                out += [(r, col, f.entity, f.start, f.end) for f in sc.findings[i]]
    return out


def predict_presidio(
    rows: list[dict[str, Any]], analyzer: Any, entities: list[str], *, threshold: float = 0.5
) -> list[tuple[int, str, str, int, int]]:
    """Presidio's predictions, cell by cell (its own context uses the cell only)."""
    from nodes.privacy.presidio_bridge import presidio_findings

    out = []
    for r, row in enumerate(rows):
        for col, v in row.items():
            if v is None:
                continue
            for f in presidio_findings(analyzer, str(v), entities):
                if f.score >= threshold:
                    out.append((r, col, f.entity, f.start, f.end))
    return out


# ------------------------------------------------------ Presidio's recognizer test cases
PRESIDIO_CASES = "presidio_recognizer_cases.json"
_TAG = re.compile(r"<([A-Z][A-Z0-9_]*)>")


def load_presidio_cases(path: str | Path, *, default_only: bool = True) -> list[dict[str, Any]]:
    """Presidio's predefined-recognizer test cases (the fork-only DEA cases left out)."""
    import json

    cases = json.loads(Path(path).read_text())["cases"]
    return [
        c
        for c in cases
        if c["group"] != "MEDICAL_LICENSE_fork_test" and (c["default_config"] or not default_only)
    ]


def redacted_spans(original: str, redacted: str) -> list[tuple[int, int, str]] | None:
    """Spans of ``original`` replaced by ``<ENTITY>`` tags in ``redacted``, or None when the
    output is not ``original`` with some spans replaced by tags."""
    parts = _TAG.split(redacted)
    pattern = ""
    ents = []
    for i, part in enumerate(parts):
        if i % 2:
            pattern += "(.+?)"
            ents.append(part)
        else:
            pattern += re.escape(part)
    m = re.fullmatch(pattern, original, re.DOTALL)
    if m is None:
        return None
    return [(m.start(k + 1), m.end(k + 1), ents[k]) for k in range(len(ents))]


@dataclass
class CaseScore:
    """Recall of expected spans and false positives, per Presidio entity type."""

    expected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_cases: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, case: dict[str, Any], spans: list[tuple[int, int, str]]) -> None:
        text, ent = case["text"], case["entity"]
        cover = bytearray(len(text))
        for s, e, _t in spans:
            cover[s:e] = b"\x01" * (e - s)
        for s, e in case["expected_spans"]:
            self.expected[ent] += 1
            # found = no letter or digit of the expected span left in clear
            if all(cover[i] or not text[i].isalnum() for i in range(s, e)):
                self.found[ent] += 1
        extra = [
            (s, e) for s, e, _t in spans
            if not any(s < b and a < e for a, b in case["expected_spans"])
        ]  # fmt: skip
        self.fp[ent] += len(extra)
        self.fp_cases[ent] += bool(extra)

    def totals(self) -> dict[str, float]:
        exp, found = sum(self.expected.values()), sum(self.found.values())
        return {
            "expected": exp,
            "found": found,
            "recall": round(found / exp, 4) if exp else 1.0,
            "false_positives": sum(self.fp.values()),
        }

    def table(self) -> dict[str, dict[str, float]]:
        ents = sorted(set(self.expected) | set(self.fp))
        return {
            e: {
                "expected": self.expected[e],
                "found": self.found[e],
                "recall": round(self.found[e] / self.expected[e], 4) if self.expected[e] else 1.0,
                "fp": self.fp[e],
            }
            for e in ents
        }


def presidio_case_spans(analyzer: Any, text: str) -> list[tuple[int, int, str]]:
    """Every result of Presidio's default recognizers on ``text`` (no score threshold, as
    its own tests assert), as spans."""
    return [(r.start, r.end, r.entity_type) for r in analyzer.analyze(text=text, language="en")]
