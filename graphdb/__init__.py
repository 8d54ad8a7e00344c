"""Neo4j: driver, constraints, Cypher statements, the contact repository, the local server."""
