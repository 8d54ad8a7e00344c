"""GraphQL resolvers, the REST /identify shim, the Starlette app and its per-request context."""
