"""Generate realistic sample data for the examples (no downloads; Faker, fixed seed).

Usage:
    python examples/generate_data.py [--rows 20000] [--out examples/data]

Writes ``customers.csv`` (people with contact details, ids, ages, ZIP codes and a free-text
note that sometimes mentions PII) and ``transactions.jsonl`` (amounts, timestamps, card
numbers) into the output folder. A handful of rows carry deliberate quality problems
(missing email, negative age, unknown country) so the validator has something to catch.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from faker import Faker

COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "CA"]


def generate(rows: int, out: Path, seed: int = 7) -> dict[str, Path]:
    """Write the sample files and return their paths."""
    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    customers = out / "customers.csv"
    with customers.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "customer_id",
                "full_name",
                "email",
                "phone",
                "ssn",
                "birth_date",
                "age",
                "zip",
                "country",
                "signup_date",
                "lifetime_value",
                "segment",
                "notes",
            ]
        )
        for i in range(rows):
            age = rnd.randint(18, 95)
            email = fake.email() if rnd.random() > 0.01 else ""
            if rnd.random() < 0.005:
                age = -age
            country = rnd.choice(COUNTRIES) if rnd.random() > 0.005 else "XX"
            note = rnd.choice(
                [
                    "Prefers email contact.",
                    f"Called from {fake.phone_number()} about order ORD-{rnd.randint(10000, 99999)}.",
                    f"Spoke with {fake.name()} regarding renewal.",
                    "No notes.",
                    f"Update address to {fake.street_address()}, {fake.city()}.",
                ]
            )
            w.writerow(
                [
                    f"C{i:07d}",
                    fake.name(),
                    email,
                    fake.phone_number(),
                    fake.ssn(),
                    fake.date_of_birth(minimum_age=18, maximum_age=95).isoformat(),
                    age,
                    fake.zipcode(),
                    country,
                    fake.date_between("-5y", "today").strftime("%m/%d/%Y"),
                    f"{rnd.lognormvariate(6, 1):.2f}",
                    rnd.choice(["retail", "smb", "enterprise"]),
                    note,
                ]
            )
    transactions = out / "transactions.jsonl"
    with transactions.open("w") as f:
        for i in range(rows * 2):
            f.write(
                json.dumps(
                    {
                        "transaction_id": f"T{i:09d}",
                        "customer_id": f"C{rnd.randrange(rows):07d}",
                        "amount": round(rnd.lognormvariate(3, 1), 2),
                        "currency": "USD",
                        "card_number": fake.credit_card_number(),
                        "ts": fake.date_time_between("-1y", "now").isoformat(),
                    }
                )
                + "\n"
            )
    return {"customers": customers, "transactions": transactions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = generate(args.rows, args.out, args.seed)
    for name, path in paths.items():
        print(f"wrote {name}: {path}")


if __name__ == "__main__":
    main()
