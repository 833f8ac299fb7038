# ruff: noqa: RUF001
"""A free-text-heavy evaluation set whose identifiers do not come from Faker's English data.

Names come from a hand-written list of names of many origins and from Faker's *non*-
English locales (German, French, Spanish, Italian, Polish, Dutch, Brazilian Portuguese,
Swedish, Turkish, Norwegian, Danish, Czech); addresses, phone numbers and IBANs from the
same locales, so phone formats are national (``030 1234567``, ``06 12 34 56 78``,
``+48 512 345 678``) as well as North American. The detector uses no Faker data and no
name list, so the generator does not feed the thing under test.

Each row: a clinical/support note (``notes``, 3-6 sentences in varied styles, some all
lower-case, some with honorifics or relation words), a short ``comment`` free-text cell,
typed columns written without separators (``phone_digits``, ``card_number`` int64,
``ssn_digits`` int64, ``zip`` int64, ``mrn`` int64) and decoys that must survive: order
numbers, product codes, ICD-10 codes, UUIDs, versions, amounts, log timestamps.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL", "pt_BR", "sv_SE", "tr_TR",
           "no_NO", "da_DK", "cs_CZ")  # fmt: skip

# Hand-written: names of many origins, several with accents, particles or hyphens.
HAND_NAMES = (
    "Çağla Yıldırım", "Øystein Ødegård", "Siobhán Ní Bhriain", "Nguyễn Thị Hoa", "Zofia Wąsowska",
    "Björn Åkesson", "Kwame Mensah-Bonsu", "Aroha Ngata", "Thandiwe Dlamini", "Keanu Kahale",
    "Ines van der Berg", "Luca De Santis", "Mehmet Öztürk", "Anaïs Lefèvre", "Jürgen Weiß",
    "Priyanka Raghunathan", "Oluwaseun Adeyemi", "Hiroshi Tanabe", "Mei-Ling Chao",
    "Dragan Petrović", "Radka Nováková", "Eero Mäkinen", "Sigrún Hallgrímsdóttir",
    "Tomás Ó Conaill", "Yusuf Al-Hashimi", "Ngozi Okonkwo", "Rafael Ibáñez", "Léa Dubois",
    "Magdalena Krawczyk", "Arjun Venkataraman", "Fatou Diallo", "Giedrė Kazlauskaitė",
    "Ainhoa Etxeberria", "Dmitri Vasnetsov", "Ilse Vermeulen", "Kalani Akana", "Ayşe Demirci",
    "Bongani Khumalo", "Saoirse Mac Giolla", "Tahmina Rahman", "Wiremu Tane", "Zsófia Horváth",
)  # fmt: skip

DECOY_KINDS = ("order", "product", "icd10", "uuid", "version", "amount", "timestamp")


@dataclass
class FreeTextSet:
    """Rows plus planted identifiers ``(row, column, entity, value)`` and decoys."""

    rows: list[dict[str, Any]]
    planted: list[tuple[int, str, str, str]]
    decoys: list[tuple[int, str, str, str]]  # (row, column, kind, value)
    columns: list[str] = field(default_factory=list)

    def to_arrow(self):  # type: ignore[no-untyped-def]
        import pyarrow as pa

        schema = pa.schema([
            ("row_id", pa.int64()), ("notes", pa.string()), ("comment", pa.string()),
            ("phone_digits", pa.string()), ("card_number", pa.int64()),
            ("ssn_digits", pa.int64()), ("zip", pa.int64()), ("mrn", pa.int64()),
            ("order_number", pa.string()), ("amount", pa.float64()),
        ])  # fmt: skip
        return pa.Table.from_pylist(self.rows, schema=schema)


def _luhn_complete(body: str) -> str:
    from nodes.privacy.validators import luhn

    for d in "0123456789":
        if luhn(body + d):
            return body + d
    raise AssertionError("unreachable")


def _card(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "52", "53", "54", "55", "37", "6011"])
    n = 15 if prefix == "37" else 16
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(n - len(prefix) - 1))
    return _luhn_complete(body)


def _ssn(rng: random.Random) -> str:
    while True:
        a = rng.randrange(1, 899)
        if a != 666:
            return f"{a:03d}-{rng.randrange(1, 99):02d}-{rng.randrange(1, 9999):04d}"


def _nanp(rng: random.Random) -> str:
    area = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    exch = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    line = f"{rng.randrange(10000):04d}"
    style = rng.randrange(4)
    if style == 0:
        return f"({area}) {exch}-{line}"
    if style == 1:
        return f"{area}-{exch}-{line}"
    if style == 2:
        return f"+1 {area} {exch} {line}"
    return f"{area}.{exch}.{line}"


def _decoy(kind: str, rng: random.Random) -> str:
    if kind == "order":
        return rng.choice([f"ORD-{rng.randrange(2019, 2027)}-{rng.randrange(10000, 99999)}",
                           f"order #{rng.randrange(10**8, 10**9)}",
                           f"PO-{rng.randrange(100000, 999999)}"])  # fmt: skip
    if kind == "product":
        a, b = rng.choice("ABCDEFGH"), rng.choice("XYZQ")
        sku = f"SKU-{a}{b}-{rng.randrange(1000, 9999)}"
        part = f"part {rng.choice('ABCD')}{rng.randrange(100, 999)}-{rng.randrange(10, 99)}"
        return rng.choice([sku, part])
    if kind == "icd10":
        return f"{rng.choice('EIJKMNR')}{rng.randrange(10, 99)}.{rng.randrange(0, 9)}"
    if kind == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind == "version":
        return f"v{rng.randrange(1, 9)}.{rng.randrange(0, 30)}.{rng.randrange(0, 200)}"
    if kind == "amount":
        return rng.choice([f"${rng.randrange(10, 9999)}.{rng.randrange(10, 99)}",
                           f"€{rng.randrange(10, 999)},{rng.randrange(10, 99)}",
                           f"USD {rng.randrange(1, 99)},{rng.randrange(100, 999)}.00"])  # fmt: skip
    hms = f"{rng.randrange(0, 24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    return rng.choice([hms, f"{hms}.{rng.randrange(1000):03d}"])


def generate(n_rows: int = 2000, seed: int = 13) -> FreeTextSet:
    """Build the set (deterministic for a seed)."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    rows: list[dict[str, Any]] = []
    planted: list[tuple[int, str, str, str]] = []
    decoys: list[tuple[int, str, str, str]] = []
    for r in range(n_rows):
        fk = fakers[LOCALES[r % len(LOCALES)]]
        person = (
            rng.choice(HAND_NAMES) if rng.random() < 0.35 else f"{fk.first_name()} {fk.last_name()}"
        )
        relative = (
            rng.choice(HAND_NAMES) if rng.random() < 0.5 else f"{fk.first_name()} {fk.last_name()}"
        )
        doctor = fk.last_name()
        phone = fk.phone_number() if rng.random() < 0.7 else _nanp(rng)
        email = fk.email()
        street = fk.street_address()
        city = fk.city()
        postcode = fk.postcode()
        iban = fk.iban()
        date = fk.date_between("-3y").strftime(
            rng.choice(["%d.%m.%Y", "%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %b %Y"])
        )
        mrn_text = str(rng.randrange(10**6, 10**8))
        card = _card(rng)
        ssn = _ssn(rng)
        ip = fk.ipv4_public()
        lower = rng.random() < 0.2
        sentences: list[tuple[str, list[tuple[str, str]]]] = [
            (
                rng.choice(
                    [
                        "{p} was seen today for follow-up.",
                        "Pt {p} reports mild chest pain since {d}.",
                        "Patient: {p}. Admitted {d}.",
                        "Visit with {p}, accompanied by spouse {q}.",
                        "{p} called about the results; spouse {q} will pick them up.",
                    ]
                ),
                [("p", "PERSON"), ("q", "PERSON"), ("d", "DATE_TIME")],
            ),
            (
                rng.choice(
                    [
                        "Contact number {ph}, email {em}.",
                        "Reach the patient at {ph} or {em}.",
                        "Callback requested on {ph}.",
                    ]
                ),
                [("ph", "PHONE_NUMBER"), ("em", "EMAIL_ADDRESS")],
            ),
            (
                rng.choice(
                    [
                        "Lives at {st}, {pc} {ci}.",
                        "Home address: {st}, {ci} {pc}.",
                        "Mail the letter to {st}, {pc} {ci}.",
                    ]
                ),
                [("st", "STREET_ADDRESS"), ("pc", "POSTAL_CODE"), ("ci", "LOCATION")],
            ),
            (
                rng.choice(
                    [
                        "Seen by Dr. {dr} in the clinic.",
                        "Referred by Dr {dr}.",
                    ]
                ),
                [("dr", "PERSON")],
            ),
            (
                rng.choice(
                    [
                        "MRN {mrn}; refund to IBAN {ib}.",
                        "Medical record no. {mrn} updated, card {cc} on file.",
                        "SSN {ss} verified, patient ID {mrn}.",
                        "Login from {ip} flagged; card {cc} declined.",
                    ]
                ),
                [
                    ("mrn", "MEDICAL_RECORD_NUMBER"),
                    ("ib", "IBAN_CODE"),
                    ("cc", "CREDIT_CARD"),
                    ("ss", "US_SSN"),
                    ("ip", "IP_ADDRESS"),
                ],
            ),
        ]
        values = {"p": person, "q": relative, "d": date, "ph": phone, "em": email, "st": street,
                  "pc": postcode, "ci": city, "dr": doctor, "mrn": mrn_text, "ib": iban,
                  "cc": " ".join(card[i:i + 4] for i in range(0, len(card), 4)), "ss": ssn,
                  "ip": ip}  # fmt: skip
        picked = [sentences[0], *rng.sample(sentences[1:], rng.randrange(2, 5))]
        kinds = rng.sample(DECOY_KINDS, 2)
        decoy_vals = [(k, _decoy(k, rng)) for k in kinds]
        decoy_sentences = {
            "order": "Shipment for {} sent.", "product": "Device {} replaced.",
            "icd10": "Dx code {} confirmed.", "uuid": "Ticket {} opened.",
            "version": "Portal app {} installed.", "amount": "Copay of {} collected.",
            "timestamp": "Logged at {} by the front desk.",
        }  # fmt: skip
        parts = [p for p in picked] + [
            (decoy_sentences[k].replace("{}", v.replace("{", "{{").replace("}", "}}")), [])
            for k, v in decoy_vals
        ]
        rng.shuffle(parts)
        text_parts = []
        row_planted = []
        for tpl, slots in parts:
            used = {k: values[k] for k, _e in slots if "{" + k + "}" in tpl}
            sentence = tpl.format(**{k: values.get(k, "") for k in re.findall(r"{(\w+)}", tpl)})
            text_parts.append(sentence)
            for k, ent in slots:
                if k in used:
                    row_planted.append((ent, used[k]))
        notes = " ".join(text_parts)
        if lower:
            notes = notes.lower()
            row_planted = [(e, v.lower()) for e, v in row_planted]
            decoy_vals = [(k, v.lower()) for k, v in decoy_vals]
        comment_name = rng.choice(HAND_NAMES)
        comment = rng.choice(
            [
                f"next of kin: {comment_name}",
                f"emergency contact {comment_name} ({_nanp(rng)})",
                f"follow-up with Mrs. {comment_name.split()[-1]}",
            ]
        )
        row = {
            "row_id": r,
            "notes": notes,
            "comment": comment,
            "phone_digits": re.sub(r"\D", "", _nanp(rng)),
            "card_number": int(_card_16(rng)),
            "ssn_digits": int(re.sub(r"\D", "", _ssn(rng))),
            "zip": rng.randrange(10000, 99999),
            "mrn": rng.randrange(10**6, 10**8),
            "order_number": _decoy("order", rng),
            "amount": round(rng.uniform(1, 5000), 2),
        }
        for ent, v in row_planted:
            planted.append((r, "notes", ent, v))
        if "kin" in comment or "contact" in comment:
            planted.append((r, "comment", "PERSON", comment_name))
        else:
            planted.append((r, "comment", "PERSON", comment_name.split()[-1]))
        for col, ent in (("phone_digits", "PHONE_NUMBER"), ("card_number", "CREDIT_CARD"),
                         ("ssn_digits", "US_SSN"), ("zip", "US_ZIP"),
                         ("mrn", "MEDICAL_RECORD_NUMBER")):  # fmt: skip
            planted.append((r, col, ent, str(row[col])))
        for k, v in decoy_vals:
            decoys.append((r, "notes", k, v))
        decoys.append((r, "order_number", "order", str(row["order_number"])))
        rows.append(row)
    return FreeTextSet(rows, planted, decoys, list(rows[0]) if rows else [])


def _card_16(rng: random.Random) -> str:
    body = rng.choice(["4", "51", "55"])
    body += "".join(str(rng.randrange(10)) for _ in range(15 - len(body)))
    return _luhn_complete(body)


_PIECE = re.compile(r"[^\W_]{4,}")


_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


def rest_of(original: str, value: str) -> str:
    start = original.find(value)
    return original[:start] + " " + original[start + len(value) :] if start >= 0 else original


def leaked(original: str, written: str | None, value: str, entity: str = "") -> bool:
    """Whether ``value`` (planted in ``original``) is still readable in ``written``: the
    value itself, or a piece of it of 4+ letters/digits that the rest of the original
    text does not also contain."""
    if written is None:
        return False
    if value in written:
        return True
    if entity == "DATE_TIME":  # a year left by generalization is not the date
        return any(p in written and p not in rest_of(original, value) and not _YEAR.fullmatch(p)
                   for p in _PIECE.findall(value))  # fmt: skip
    start = original.find(value)
    rest = original[:start] + " " + original[start + len(value) :] if start >= 0 else original
    return any(p in written and p not in rest for p in _PIECE.findall(value))


def evaluate(data: FreeTextSet, out_rows: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Leak rate of planted identifiers, decoy survival, rows in/out."""
    from collections import Counter

    leaks: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for r, col, ent, value in data.planted:
        totals[ent] += 1
        out = out_rows.get(r)
        w = None if out is None else out.get(col)
        if leaked(str(data.rows[r][col]), None if w is None else str(w), value, ent):
            leaks[ent] += 1
    survived = sum(
        1
        for r, col, _k, v in data.decoys
        if r in out_rows and out_rows[r].get(col) is not None and v in str(out_rows[r][col])
    )
    n_planted = sum(totals.values())
    return {
        "rows_in": len(data.rows),
        "rows_out": len(out_rows),
        "planted": n_planted,
        "leaked": sum(leaks.values()),
        "leak_rate": round(sum(leaks.values()) / n_planted, 4) if n_planted else 0.0,
        "leaks_by_entity": {e: f"{leaks[e]}/{totals[e]}" for e in sorted(totals)},
        "decoys": len(data.decoys),
        "decoy_survival": round(survived / len(data.decoys), 4) if data.decoys else 1.0,
    }
