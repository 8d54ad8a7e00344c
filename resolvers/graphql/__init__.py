"""The GraphQL API: the schema root wiring Query and Mutation to their resolvers, the resolvers,
and the Starlette app that serves them. The types themselves are in schema/."""
