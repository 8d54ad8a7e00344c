"""The local Neo4j process: fetched from Maven Central, configured, started and stopped by PID."""
