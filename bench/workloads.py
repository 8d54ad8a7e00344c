"""The benchmark's workloads: which (email, phone) sightings each one sends, decided up front.

Bodies are written to a file before a run, so wrk (over HTTP) and the driver-only ceiling replay
exactly the same requests, and generating them costs the measured run nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.seed import big_cluster_email, big_cluster_phone, customer_email, customer_phone

Sighting = tuple[str | None, str | None]

# The realistic mix: new customers, returning ones, new details, merges.
MIX = (("new", 0.55), ("returning", 0.30), ("new_info", 0.10), ("merge", 0.05))
# A merge in the mix joins two customers this run created this many "new" requests earlier, so
# both have long been answered: at concurrency 32 a request is never that far behind.
MERGE_LAG = 512

GRAPHQL_IDENTIFY = (
    "mutation Identify($input: IdentifyInput!) { identify(input: $input) {"
    " ... on Identity { primaryContactId emails phoneNumbers secondaryContactIds }"
    " ... on InvalidInput { code message } } }"
)


@dataclass
class Population:
    """What the seeded graph holds, and which seeded customers merges have used up."""

    customers: int
    big_cluster_size: int = 0
    merged_up_to: int = -1
    merge_shortfall: int = 0  # merge bodies that had to be new customers instead

    @property
    def returning_range(self) -> int:
        # The first half of the customers come back; the second half is kept for merges.
        return max(1, self.customers // 2)

    def next_merge_pair(self) -> tuple[int, int] | None:
        first = max(self.merged_up_to + 1, self.customers // 2)
        if first + 1 >= self.customers:
            return None
        self.merged_up_to = first + 1
        return first, first + 1


@dataclass
class _Fresh:
    """Identifiers nobody has used: unique per run, so runs in one bench never collide."""

    run: int
    made: int = 0
    created: list[Sighting] = field(default_factory=list)

    def sighting(self) -> Sighting:
        self.made += 1
        pair = (f"n{self.run}-{self.made}@new.example", f"3{self.run:03d}{self.made:09d}")
        self.created.append(pair)
        return pair

    def phone(self) -> str:
        self.made += 1
        return f"4{self.run:03d}{self.made:09d}"

    def email(self) -> str:
        self.made += 1
        return f"x{self.run}-{self.made}@new.example"


def _returning(rng: random.Random, population: Population) -> Sighting:
    # Every shape a returning customer may send; none brings anything new.
    k = rng.randrange(population.returning_range)
    shape = rng.randrange(4)
    if shape == 0:
        return customer_email(k, "a"), customer_phone(k)
    if shape == 1:
        return customer_email(k, "b"), customer_phone(k)
    if shape == 2:
        return customer_email(k, rng.choice("ab")), None
    return None, customer_phone(k)


def _new_info(rng: random.Random, population: Population, fresh: _Fresh) -> Sighting:
    k = rng.randrange(population.returning_range)
    if rng.random() < 0.5:
        return customer_email(k, "a"), fresh.phone()
    return fresh.email(), customer_phone(k)


def _seeded_merge(population: Population, fresh: _Fresh) -> Sighting:
    pair = population.next_merge_pair()
    if pair is None:  # no seeded customers left to merge: a new customer instead
        population.merge_shortfall += 1
        return fresh.sighting()
    return customer_email(pair[0], "a"), customer_phone(pair[1])


def _mix(rng: random.Random, population: Population, fresh: _Fresh) -> Iterator[Sighting]:
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    merged = 0
    while True:
        name = rng.choices(names, weights)[0]
        if name == "merge" and merged + 1 < len(fresh.created) - MERGE_LAG:
            yield fresh.created[merged][0], fresh.created[merged + 1][1]
            merged += 2
        elif name == "returning":
            yield _returning(rng, population)
        elif name == "new_info":
            yield _new_info(rng, population, fresh)
        else:  # "new", and a merge before enough customers are made
            yield fresh.sighting()


def _big_nothing_new(rng: random.Random, population: Population) -> Sighting:
    return big_cluster_email(rng.randrange(population.big_cluster_size)), big_cluster_phone()


def _repeat(make: Callable[[], Sighting]) -> Iterator[Sighting]:
    while True:
        yield make()


def sightings(name: str, population: Population, run: int) -> Iterator[Sighting]:
    """Run `run` of the bench (1, 2, ...): its random choices and its fresh identifiers."""
    rng = random.Random(run)  # noqa: S311 -- repeatable workloads, not secrets
    fresh = _Fresh(run)
    generators: dict[str, Callable[[], Iterator[Sighting]]] = {
        "new": lambda: _repeat(fresh.sighting),
        "returning": lambda: _repeat(lambda: _returning(rng, population)),
        "new_info": lambda: _repeat(lambda: _new_info(rng, population, fresh)),
        "merge": lambda: _repeat(lambda: _seeded_merge(population, fresh)),
        "mix": lambda: _mix(rng, population, fresh),
        "big_nothing_new": lambda: _repeat(lambda: _big_nothing_new(rng, population)),
        # By a member's email: the shared phone is a hub (MAX_CONTACTS_PER_IDENTIFIER), and
        # would start a cluster of its own instead of growing the big one.
        "big_new_info": lambda: _repeat(
            lambda: (
                big_cluster_email(rng.randrange(population.big_cluster_size)),
                fresh.phone(),
            )
        ),
    }
    return generators[name]()


WORKLOADS = ("new", "returning", "new_info", "merge", "mix", "big_nothing_new", "big_new_info")


def rest_body(sighting: Sighting) -> str:
    return json.dumps({"email": sighting[0], "phoneNumber": sighting[1]})


def graphql_body(sighting: Sighting) -> str:
    variables = {"input": {"email": sighting[0], "phoneNumber": sighting[1]}}
    return json.dumps({"query": GRAPHQL_IDENTIFY, "variables": variables})


def write_bodies(
    path: Path, workload: Iterator[Sighting], count: int, render: Callable[[Sighting], str]
) -> None:
    with path.open("w") as out:
        for _ in range(count):
            out.write(render(next(workload)) + "\n")


def read_sightings(path: Path) -> list[Sighting]:
    """The REST bodies of a file back as sightings, for the driver-only ceiling."""
    sightings_read: list[Sighting] = []
    with path.open() as lines:
        for line in lines:
            body = json.loads(line)
            sightings_read.append((body["email"], body["phoneNumber"]))
    return sightings_read
