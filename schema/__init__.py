"""Strawberry GraphQL types, inputs and result unions; no database code and no resolvers (the
schema root that wires fields to resolvers is resolvers/graphql/schema.py)."""
