"""A realistic CSV of historical orders for `identity import`: repeat customers using several
emails and phones, households sharing a phone (merges), ~1% bad rows, and the file unsorted.

    python -m bench.orders_csv orders.csv --rows 100000 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
BAD_ROW_SHARE = 0.01
BAD_ROWS = (
    ("", "someone@example.com", "5550100"),  # no created_at
    ("last tuesday", "someone@example.com", "5550100"),
    ("{when}", "not-an-email", ""),
    ("{when}", "", "call me maybe"),
    ("{when}", "", ""),
)


@dataclass
class Customer:
    emails: list[str]
    phones: list[str]


def _customer(number: int, chance: random.Random) -> Customer:
    emails = [f"customer{number}.{n}@example.com" for n in range(chance.choice((1, 1, 1, 2, 3)))]
    phones = [f"+1555{number:07d}{n}" for n in range(chance.choice((1, 1, 2)))]
    return Customer(emails, phones)


def _spelt(email: str, phone: str, chance: random.Random) -> tuple[str, str]:
    """As people type them: mixed case, spaces and dashes; canonical forms are equal."""
    if email and chance.random() < 0.2:
        email = email.upper() if chance.random() < 0.5 else f" {email.capitalize()} "
    if phone and chance.random() < 0.3:
        phone = f"{phone[:2]} ({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    return email, phone


def generate_orders(rows: int, seed: int) -> list[tuple[str, str, str]]:
    """(created_at, email, phone) rows in no particular order; reproducible from the seed."""
    chance = random.Random(seed)  # noqa: S311 - test data, not secrets
    customers = [_customer(n, chance) for n in range(max(1, rows * 2 // 5))]
    # A few households share a phone: their clusters merge when one uses the other's phone.
    for first, second in zip(customers[::50], customers[1::50], strict=False):
        second.phones.append(first.phones[0])
    orders: list[tuple[str, str, str]] = []
    for _ in range(rows):
        when = (START + SPAN * chance.random()).isoformat(timespec="microseconds")
        if chance.random() < BAD_ROW_SHARE:
            created_at, email, phone = chance.choice(BAD_ROWS)
            orders.append((created_at.format(when=when), email, phone))
            continue
        # Some customers come back often, most rarely (a skewed pick).
        customer = customers[int(len(customers) * chance.random() ** 2)]
        email = chance.choice(customer.emails) if chance.random() < 0.9 else ""
        phone = chance.choice(customer.phones) if not email or chance.random() < 0.85 else ""
        orders.append((when, *_spelt(email, phone, chance)))
    return orders


def write_orders(path: Path, rows: int, seed: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["created_at", "email", "phone"])
        writer.writerows(generate_orders(rows, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_orders(args.out, args.rows, args.seed)


if __name__ == "__main__":
    main()
