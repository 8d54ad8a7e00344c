"""The ASGI middleware around every request."""
