"""Every setting resolvers/runtime/settings.py reads is in docs/configuration.md's table and in
.env.example."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings_read() -> list[str]:
    return re.findall(
        r'config\(\s*"([A-Z0-9_]+)"', (ROOT / "resolvers" / "runtime" / "settings.py").read_text()
    )


def test_the_settings_module_reads_settings_at_all() -> None:
    assert {"HOST", "NEO4J_URI", "WORKERS", "LOG_FORMAT"} <= set(_settings_read())


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    rows = set(
        re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M)
    )

    assert sorted(set(_settings_read()) - rows) == []


def test_every_setting_is_in_the_env_example() -> None:
    lines = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert sorted(set(_settings_read()) - lines) == []
