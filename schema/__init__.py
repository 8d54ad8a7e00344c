"""Strawberry GraphQL types, inputs, result unions and the schema root; no database code."""
