"""The compose services and the image, hardened: the database password only in a git-ignored
secret file, read-only root file systems, no capabilities, no new privileges, exact image
versions, and a writable place for everything they write. (No Docker engine here to run them,
so the files are checked.)"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET = "/run/secrets/neo4j_auth"
# name:MAJOR.MINOR.PATCH, with an optional variant such as -community or -slim-bookworm.
# The containers' own /tmp, a tmpfs mount: not this machine's.
SCRATCH = "/tmp"  # noqa: S108
EXACT_TAG = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _dockerfile_lines() -> list[str]:
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()


def _dockerfile_images() -> list[str]:
    return [line.split()[1] for line in _dockerfile_lines() if line.startswith("FROM ")]


def _image_env(name: str) -> str:
    for line in _dockerfile_lines():
        if line.startswith("ENV "):
            for assignment in line.split()[1:]:
                key, _, value = assignment.partition("=")
                if key == name:
                    return value
    raise AssertionError(f"the image sets no {name}")


def _mount_targets(service: dict[str, Any]) -> set[str]:
    volumes = {volume.split(":")[1] for volume in service.get("volumes", [])}
    return volumes | set(service.get("tmpfs", []))


def test_both_services_read_the_password_from_the_secret_file_only() -> None:
    compose = _compose()
    neo4j, identity = _services()["neo4j"], _services()["identity"]

    assert neo4j["environment"]["NEO4J_AUTH_FILE"] == SECRET
    assert neo4j["secrets"] == identity["secrets"] == [PurePosixPath(SECRET).name]
    assert compose["secrets"]["neo4j_auth"]["file"] == "./.secrets/neo4j_auth"


def test_no_service_has_a_password_in_its_environment() -> None:
    for name, service in _services().items():
        for key, value in service.get("environment", {}).items():
            assert key in ("NEO4J_AUTH_FILE",) or "AUTH" not in key, (name, key)
            assert "PASSWORD" not in key, (name, key)
            assert not str(value).startswith("neo4j/"), (name, key)


def test_the_service_entry_point_exports_the_password_then_runs_the_command() -> None:
    identity = _services()["identity"]
    shell, flag, script, _name = identity["entrypoint"]

    assert (shell, flag) == ("/bin/sh", "-c")
    # $$ is compose's escape for a literal $: the shell, not compose, expands these.
    assert f'auth="$$(cat {SECRET})"' in script
    assert 'export NEO4J_PASSWORD="$${auth#neo4j/}"' in script
    assert script.endswith('exec "$$@"')
    assert identity["command"] == ["identity", "serve"]


def test_the_secret_file_is_git_ignored_kept_out_of_the_image_and_made_by_make() -> None:
    secret = PurePosixPath(_compose()["secrets"]["neo4j_auth"]["file"])
    folder = secret.parent.name

    assert f"{folder}/" in (ROOT / ".gitignore").read_text().splitlines()
    assert folder in (ROOT / ".dockerignore").read_text().splitlines()
    assert f"COMPOSE_SECRET := {secret.relative_to('.')}" in (ROOT / "Makefile").read_text()


def test_every_service_is_read_only_without_capabilities_or_new_privileges() -> None:
    for name, service in _services().items():
        assert service.get("read_only") is True, name
        assert service.get("cap_drop") == ["ALL"], name
        assert "cap_add" not in service, name
        assert "privileged" not in service, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name


def test_neo4j_runs_as_the_images_unprivileged_user_with_its_writable_folders() -> None:
    neo4j = _services()["neo4j"]

    assert neo4j["user"] == "7474:7474"
    # Its database, its logs, the neo4j.conf its entry point rewrites, the JVM's scratch files.
    assert {"/data", "/logs", "/var/lib/neo4j/conf", SCRATCH} <= _mount_targets(neo4j)


def test_the_service_can_write_its_log_hash_key_and_scratch_files() -> None:
    identity = _services()["identity"]
    key_file = PurePosixPath(_image_env("LOG_HASH_KEY_FILE"))

    assert str(key_file.parent) in _mount_targets(identity)
    assert SCRATCH in _mount_targets(identity)
    assert any(
        f"-o identity -g identity -m 0700 {key_file.parent}" in line for line in _dockerfile_lines()
    )


def test_the_service_serves_loopback_host_names_only_by_default() -> None:
    hosts = _services()["identity"]["environment"]["ALLOWED_HOSTS"].split(",")

    assert hosts == ["localhost", "127.0.0.1"]


def test_every_image_is_pinned_to_an_exact_version() -> None:
    compose_images = [service["image"] for service in _services().values() if "image" in service]
    images = compose_images + _dockerfile_images()

    assert compose_images == ["neo4j:5.26.30-community"]
    assert [image for image in images if not EXACT_TAG.match(image)] == []


def test_node_is_a_supported_long_term_release() -> None:
    # Even majors become LTS; Node 20's support ended in April 2026, 22's runs to April 2027.
    majors = [
        int(image.removeprefix("node:").split(".")[0])
        for image in _dockerfile_images()
        if image.startswith("node:")
    ]

    assert majors
    assert all(major % 2 == 0 and major >= 22 for major in majors)
