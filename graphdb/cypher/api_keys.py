"""API keys: a name, the SHA-256 of the secret (never the secret), scopes and a rate. Their
uniqueness constraints are with the others, in graphdb/cypher/schema.py."""

from typing import LiteralString

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
