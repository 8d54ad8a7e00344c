"""The `identity` command: serve, check, import, and the local Neo4j's start, status and stop."""
