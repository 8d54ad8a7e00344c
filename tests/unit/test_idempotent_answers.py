"""Idempotent answers as stored: ids and what identifies nobody, the values read back on replay;
an answer stored before that (with its values) still replays."""

from __future__ import annotations

import json

from graphdb.idempotency import LiveKeyCounts, decode_answer, encode_answer
from graphdb.records import (
    ClusterRecord,
    ContactRecord,
    IdentifyOutcome,
    IdentifyRecord,
    IdentityWarning,
    MemberRecord,
)

PRIMARY = ContactRecord(
    1,
    "doc@hillvalley.edu",
    "5550101",
    None,
    "primary",
    "2026-12-08T00:00:00Z",
    "2026-12-08T00:00:01Z",
)
RECORD = IdentifyRecord(
    ClusterRecord(PRIMARY, (MemberRecord(2, "marty@hillvalley.edu", None),)),
    IdentifyOutcome.MERGED,
    ((IdentityWarning.HUB_IDENTIFIER, "email"),),
)


def test_an_answer_keeps_ids_and_reads_the_values_back() -> None:
    stored = encode_answer(RECORD)
    now = ((1, "doc@hillvalley.edu", "5550101", None, None), (2, None, None, None, None))

    replayed = decode_answer(stored, now)

    assert "hillvalley" not in stored
    assert "5550101" not in stored
    assert replayed.outcome is IdentifyOutcome.REPLAYED
    assert replayed.cluster.primary == PRIMARY
    # Erased since: the value is gone from the replay too.
    assert replayed.cluster.secondaries == (MemberRecord(2, None, None),)
    assert replayed.warnings == RECORD.warnings


def test_an_answer_stored_with_its_values_still_replays() -> None:
    older = json.dumps(
        {
            "primary": {**PRIMARY.__dict__},
            "secondaries": [[2, "marty@hillvalley.edu", None]],
            "warnings": [["hub_identifier", "email"]],
        }
    )

    replayed = decode_answer(older, ())

    assert replayed.cluster == RECORD.cluster
    assert replayed.warnings == RECORD.warnings


def test_a_caller_s_live_keys_are_capped_over_the_retention() -> None:
    now = [1_000_000.0]
    counts = LiveKeyCounts(cap=2, hours=24, clock=lambda: now[0])

    counts.stored("checkout")
    counts.stored("checkout")

    assert not counts.allows_new("checkout")
    assert counts.allows_new("another key")
    now[0] += 25 * 3600  # both expired
    assert counts.allows_new("checkout")
    assert LiveKeyCounts(cap=None, hours=24).allows_new("checkout")
