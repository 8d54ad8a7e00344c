"""The legacy REST shim, POST /identify, and its OpenAPI description."""
