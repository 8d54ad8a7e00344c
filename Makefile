# The two commands the README promises: `make run` serves, `make test` tests. Both set up
# everything they need (virtualenv, packages, Neo4j jars) on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
GRAPHIQL := resolvers/web_assets/node_modules/.installed-stamp

.PHONY: run lock test test-unit lint typecheck setup neo4j-jars neo4j-stop schema clean check-graph soak bench bench-quick \
	test-browser browser-deps browser-screenshot compose-secrets

setup: $(STAMP) $(GRAPHIQL)

# Every package from the lock, checked against its hashes; then the project itself, no deps.
$(STAMP): pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-locks requirements/dev.txt from pyproject.toml's pins (every extra), with hashes.
lock: $(STAMP)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-emit-index-url \
		--extra test --extra lint --extra bench --extra browser \
		--output-file requirements/dev.txt pyproject.toml

# GraphiQL's scripts, pinned, from the npm registry: the page then works with no internet.
# Without npm, GraphiQL loads them from a CDN instead.
$(GRAPHIQL): resolvers/web_assets/package.json resolvers/web_assets/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix resolvers/web_assets --ignore-scripts --no-audit --no-fund --loglevel=error \
		&& touch $@; \
	else echo "npm not found: GraphiQL will load its scripts from a CDN"; fi

# The local server fetches its jars on first start (into the git-ignored .neo4j/ folder, once)
# whenever no NEO4J_URI is given; this target only does it ahead of time.
neo4j-jars: $(STAMP)
	$(VENV)/bin/identity neo4j fetch

run: $(STAMP) $(GRAPHIQL)
	$(VENV)/bin/identity serve

# $(call debian_packages,FILES,PACKAGES): when a file is missing, install the packages if root,
# else stop and say which to install (make never runs sudo).
define debian_packages
for file in $(1); do [ -x "$$file" ] && continue; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "missing $$file: install Debian's $(2) (sudo apt-get install $(2))" >&2; exit 1; fi; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2); break; \
done
endef

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test: $(STAMP) $(GRAPHIQL) lint typecheck
	$(PY) -m pytest

# Headless Chromium against the service and Neo4j Browser (tests/browser, marked `browser`).
test-browser: $(STAMP) $(GRAPHIQL) browser-deps
	$(PY) -m pytest -m browser tests/browser

# Debian's chromium and its chromedriver; selenium is pointed at them and downloads nothing.
# As root (CI, containers) they are installed; anyone else is told what to install.
browser-deps:
	@$(call debian_packages,/usr/bin/chromium /usr/bin/chromedriver,chromium chromium-driver)

# Rewrites docs/images/neo4j-browser-cluster.png: a seeded cluster in Neo4j Browser, styled.
browser-screenshot: $(STAMP) browser-deps
	$(PY) -m tests.browser.screenshot

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Rewrites schema.graphql from the code; a test fails when the two drift apart.
schema: $(STAMP)
	$(PY) -c 'from resolvers.graphql.schema import schema; open("schema.graphql", "w").write(schema.as_str() + "\n")'

# Lists every invariant violation in the graph of NEO4J_URI, or of the running `make run`.
check-graph: $(STAMP)
	$(VENV)/bin/identity check

# A bounded load run (SOAK_SECONDS, default 120) with its own Neo4j and service; SOAK_ARGS adds
# faults, e.g. SOAK_ARGS="--kill-neo4j 3 --kill-service 2".
soak: $(STAMP)
	$(PY) -m bench.soak $(SOAK_ARGS)

# Throughput and latency over loopback (docs/PERFORMANCE.md): its own Neo4j and service, seeded,
# driven by wrk (installed from Debian when missing, as root). BENCH_ARGS passes options,
# e.g. BENCH_ARGS="--large 0 --pure , --big-cluster 0 --seconds 10" for a quick look at the mix;
# results land in bench/results/ (docs/PERFORMANCE.md explains the figures).
bench: $(STAMP)
	@$(call debian_packages,/usr/bin/wrk,wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

# The regression guard (docs/PERFORMANCE.md): a few minutes of the mix and new people over REST
# and GraphQL on the shipped defaults, each figure printed against the last quick run recorded.
bench-quick: $(STAMP)
	@$(call debian_packages,/usr/bin/wrk,wrk)
	$(PY) -m bench.quick $(BENCH_ARGS)

# docker-compose.yml's Neo4j password, made once and never committed (.secrets/ is git-ignored):
# `neo4j/<32 hex digits>`, the form Neo4j's image reads. The folder is the owner's alone; the
# file must be readable by all, since compose mounts it as it is and the containers' users are
# not the owner. The password is never on a command line: Python prints it into the file.
COMPOSE_SECRET := .secrets/neo4j_auth

compose-secrets: $(COMPOSE_SECRET)

$(COMPOSE_SECRET):
	@umask 077 && mkdir -p $(@D) && chmod 700 $(@D)
	@umask 077 && $(PYTHON) -c 'import secrets; print("neo4j/" + secrets.token_hex(16))' > $@.partial
	@chmod 444 $@.partial && mv $@.partial $@
	@echo "Wrote $@: the Neo4j password for docker compose."

neo4j-stop: $(STAMP)
	$(VENV)/bin/identity neo4j stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
