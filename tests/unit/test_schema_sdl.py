"""The committed schema.graphql is exactly the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from resolvers.graphql.schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    assert SDL.read_text() == schema.as_str() + "\n", "run `make schema` and commit schema.graphql"
