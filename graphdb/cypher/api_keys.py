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

# A lookup is also the key's last use: services look a key up again at most every few seconds,
# so this write is rare, and `keys list` is exact to those seconds.
USE_KEY: LiteralString = """
MATCH (key:ApiKey {hash: $hash})
SET key.lastUsedAt = datetime()
RETURN key
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
