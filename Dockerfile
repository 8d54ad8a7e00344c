# The identity service alone; docker-compose.yml pairs it with Neo4j. NEO4J_URI must be set at
# run time: without it `identity serve` would try to start a local Neo4j, which needs Java and
# Maven that this image does not have.

# Every base image is pinned to an exact version (Node 22 is an LTS line), so a rebuild takes no
# unreviewed change.

# GraphiQL's and Swagger UI's scripts from the pinned lock file, so /graphql and /docs work with
# no internet (the service serves them itself).
FROM node:22.23.3-bookworm-slim AS web-assets
WORKDIR /assets
COPY resolvers/web_assets/package.json resolvers/web_assets/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11.17-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# pyproject.toml names README.md as the package readme, so the build needs it.
COPY pyproject.toml README.md ./
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY graphdb/ graphdb/
# Runtime dependencies only: the dev extras (pytest, mypy, ruff, ...) stay out of the image.
# Installs the `identity` console script into /opt/venv/bin too.
RUN pip install .

FROM python:3.11.17-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_HASH_KEY_FILE=/var/lib/identity/log-hash-key \
    LEDGER_HASH_KEY_FILE=/var/lib/identity/ledger-hash-key
# /var/lib/identity holds the logs' and the ledger's hash keys: the one folder the service writes to, made here
# so that a volume mounted on it starts out the service's own.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin identity \
    && install -d -o identity -g identity -m 0700 /var/lib/identity
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The source sits beside the venv too, first on sys.path (PYTHONPATH), so settings look for an
# optional .env next to it. Owned by root, so the service cannot rewrite its code.
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY graphdb/ graphdb/
COPY --from=web-assets /assets/node_modules resolvers/web_assets/node_modules
USER identity
EXPOSE 8000
CMD ["identity", "serve"]
