"""Running the service: settings, logging, the uvicorn launcher and workers, and the wiring of
the repository to its Neo4j."""
