# The two commands the README promises: `make run` serves, `make test` tests. Both set up
# everything they need (virtualenv, packages, Neo4j jars) on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck setup neo4j-jars neo4j-stop schema clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Only needed without NEO4J_URI; the jars go to the git-ignored .neo4j/ folder, once.
neo4j-jars: $(STAMP)
	@if [ -z "$$NEO4J_URI" ]; then $(PY) -m graphdb.local_server fetch; fi

run: $(STAMP) neo4j-jars
	$(PY) -m resolvers.serve

test: $(STAMP) neo4j-jars lint typecheck
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Rewrites schema.graphql from the code; a test fails when the two drift apart.
schema: $(STAMP)
	$(PY) -c 'from schema.root import schema; open("schema.graphql", "w").write(schema.as_str() + "\n")'

neo4j-stop: $(STAMP)
	$(PY) -m graphdb.local_server stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
