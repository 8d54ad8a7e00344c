"""Helpers the tests share: the app over an in-process transport, wiping the test database, the
reference model, race drivers, metrics parsing, the `identity` command, the browser harness.
Fixtures stay in conftest.py; nothing is imported from a conftest."""
