"""Identify requests over a small pool of values, grouped as the batcher groups them."""

from __future__ import annotations

import hypothesis.strategies as st

from tests.support.model import ModelContact, ReferenceModel

# A deliberately small pool, so that requests collide, add secondaries and merge clusters.
EMAILS = ["doc@hillvalley.edu", "marty@hillvalley.edu", "jen@hillvalley.edu", "biff@hillvalley.edu"]
PHONES = ["5550101", "5550102", "5550103", "+15550104"]

Request = tuple[str | None, str | None]

requests: st.SearchStrategy[Request] = st.one_of(
    st.tuples(st.sampled_from(EMAILS), st.sampled_from(PHONES)),
    st.tuples(st.sampled_from(EMAILS), st.none()),
    st.tuples(st.none(), st.sampled_from(PHONES)),
)


def keys_of(request: Request) -> set[tuple[str, str]]:
    email, phone = request
    keys = {("email", email)} if email is not None else set()
    return keys | ({("phone", phone)} if phone is not None else set())


def with_distinct_keys(batch: list[Request]) -> list[Request]:
    """The batch without each request that shares an email or phone with one kept before it:
    the batcher never puts two such requests in one transaction."""
    kept: list[Request] = []
    taken: set[tuple[str, str]] = set()
    for request in batch:
        if taken.isdisjoint(keys_of(request)):
            kept.append(request)
            taken |= keys_of(request)
    return kept


def model_primary_of(model: ReferenceModel, request: Request) -> int:
    """The primary of the model's cluster holding the request's email or phone (it has been
    applied, so one of its values is known; both are in the same cluster)."""
    email, phone = request
    holder: ModelContact = next(
        contact
        for contact in model.contacts
        if (email is not None and contact.email == email)
        or (phone is not None and contact.phone == phone)
    )
    return holder.id if holder.linked_id is None else holder.linked_id
