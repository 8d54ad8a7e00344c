"""The scripts of the GraphiQL and Swagger UI pages, installed by npm from the pinned lock file
beside this module, and the one server for them."""
