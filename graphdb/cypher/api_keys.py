"""API keys: a name, the SHA-256 of the secret (never the secret), scopes and a rate."""

from typing import LiteralString

API_KEY_CONSTRAINTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT api_key_name IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.name IS UNIQUE",
    "CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE",
)

CREATE_KEY: LiteralString = """
CREATE (key:ApiKey {name: $name, hash: $hash, scopes: $scopes, rate: $rate,
                    createdAt: datetime()})
RETURN key
"""

# Services hold every key's hash in memory, refreshed every few seconds while they serve: an
# unknown key is refused without asking Neo4j. A refresh first records the last use of the keys
# used since the one before, so `keys list` is exact to those seconds.
RECORD_USE: LiteralString = """
UNWIND $names AS name
MATCH (key:ApiKey {name: name})
SET key.lastUsedAt = datetime()
"""

LIST_KEYS: LiteralString = """
MATCH (key:ApiKey)
RETURN key
ORDER BY key.name
"""

REVOKE_KEY: LiteralString = """
MATCH (key:ApiKey {name: $name})
DELETE key
RETURN count(*) AS revoked
"""
