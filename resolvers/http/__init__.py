"""The HTTP app: routes, middleware, errors, health, metrics, and the pages it serves."""
