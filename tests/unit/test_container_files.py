"""The image runs `identity serve` as a non-root user, and compose builds it (no Docker engine
here to run it, so the files are checked)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from resolvers.web_assets.server import MODULES

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


def _copied(stage: list[tuple[str, str]]) -> set[str]:
    """What a stage copies from the build context (not from another stage), folder names bare."""
    sources: set[str] = set()
    for name, value in stage:
        if name == "COPY" and not value.startswith("--from="):
            *paths, _destination = value.split()
            sources.update(path.rstrip("/") for path in paths)
    return sources


def test_the_image_installs_the_identity_script_with_every_package() -> None:
    # A package added to pyproject.toml but not copied would install, then fail at import.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    top_level = {name.split(".")[0] for name in pyproject["tool"]["setuptools"]["packages"]}
    *builders, final = _stages()
    installs = [value for name, value in builders[-1] if name == "RUN" and "pip install" in value]

    assert pyproject["project"]["scripts"]["identity"] == "resolvers.cli.main:main"
    assert installs, "the builder stage installs the project (and its console script)"
    assert top_level <= _copied(builders[-1])
    assert top_level <= _copied(final)
    assert "pyproject.toml" in _copied(builders[-1])


def test_compose_builds_the_image_and_runs_its_command() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["identity"]

    *_, final = _stages()
    image_command = [json.loads(value) for name, value in final if name == "CMD"][-1]

    assert service["build"] == "."
    # The entry point only hands the command Neo4j's password (test_container_hardening.py).
    assert service["command"] == image_command
    assert service["entrypoint"][-1] == "with-neo4j-password"
    assert service["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"


def test_the_image_has_the_web_assets_where_the_app_reads_them() -> None:
    # /graphql and /docs must work with no internet in the container too: the scripts come from
    # the lock file at build time and land where resolvers/web_assets/server.py looks.
    *builders, final = _stages()
    assets = builders[0]
    installs = [value for name, value in assets if name == "RUN"]
    landed = [
        value.split()[-1]
        for name, value in final
        if name == "COPY" and value.startswith("--from=web-assets")
    ]

    assert any(value.startswith("npm ci") for value in installs), "installed from the lock file"
    assert any("package-lock.json" in value for name, value in assets if name == "COPY")
    assert landed == [str(MODULES.relative_to(ROOT))]


def test_every_package_folder_is_installed() -> None:
    # setuptools installs only the packages listed: a subpackage missing from the list works
    # from a checkout and fails in the image.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in {name.split(".")[0] for name in listed}
        for init in (ROOT / top).rglob("__init__.py")
    }

    assert found == listed
