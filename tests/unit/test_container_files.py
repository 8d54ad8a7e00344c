"""The image runs `identity serve` as a non-root user, and compose builds it (no Docker engine
here to run it, so the files are checked)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions(stage: str) -> list[tuple[str, str]]:
    lines = [line.strip() for line in stage.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#") and " " in line and line.split()[0].isupper()
    ]


def _stages() -> list[list[tuple[str, str]]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [_instructions(stage) for stage in text.split("\nFROM ")[1:]]


def test_the_final_stage_runs_identity_serve_as_a_non_root_user() -> None:
    *builders, final = _stages()
    users = [value for name, value in final if name == "USER"]
    commands = [value for name, value in final if name in ("CMD", "ENTRYPOINT")]

    assert builders, "a multi-stage build: the final stage has no build tools"
    assert users
    assert users[-1] not in ("root", "0")
    names = [name for name, _ in final]
    assert names.index("USER") < names.index("CMD")
    assert [json.loads(command) for command in commands] == [["identity", "serve"]]


def test_the_image_installs_the_identity_script() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    *builders, final = _stages()

    assert pyproject["project"]["scripts"]["identity"] == "resolvers.cli:main"
    assert ("RUN", "pip install .") in builders[-1]
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final


def test_compose_builds_the_image_and_runs_its_command() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["identity"]

    assert service["build"] == "."
    assert "command" not in service
    assert "entrypoint" not in service
    assert service["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"


def test_the_image_serves_graphiql_and_swagger_ui_scripts_from_the_lock_file() -> None:
    # /graphql and /docs must work with no internet in the container too.
    *builders, final = _stages()
    assets = builders[0]

    assert ("RUN", "npm ci --ignore-scripts --no-audit --no-fund --loglevel=error") in assets
    assert any("package-lock.json" in value for name, value in assets if name == "COPY")
    assert (
        "COPY",
        "--from=web-assets /assets/node_modules resolvers/graphiql/node_modules",
    ) in final
