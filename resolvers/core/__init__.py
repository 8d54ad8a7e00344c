"""The identify core: validation, canonical values and the identify use case. No HTTP, no
GraphQL."""
