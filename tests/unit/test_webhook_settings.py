"""Webhooks are set up safely or not at all: https to other machines, a secret of 32 bytes at
least (from WEBHOOK_SECRET or a file), and one deadline for each whole POST."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import httpx
import pytest
from starlette.datastructures import Secret

from resolvers.runtime.settings import Settings
from resolvers.runtime.webhooks import (
    NO_ANSWER,
    NoDeliveryEvents,
    WebhookConfig,
    WebhookDeliverer,
)
from resolvers.runtime.wiring import webhook_config

LONG_ENOUGH = "s" * 32


def _settings(**environment: str) -> Settings:
    # Settings read the process environment; these tests give theirs.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        return Settings.from_environment(env_file=None)


def test_plain_http_goes_only_to_this_machine() -> None:
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook"):
        assert _settings(WEBHOOK_URLS=url).webhook_urls == (url,)
    assert _settings(WEBHOOK_URLS="https://hooks.example/x").webhook_urls
    with pytest.raises(ValueError, match="WEBHOOK_URLS"):
        _settings(WEBHOOK_URLS="http://hooks.example/x")


def test_the_secret_has_32_bytes_at_least_from_the_variable_or_its_file(tmp_path: Path) -> None:
    base = _settings(WEBHOOK_URLS="https://hooks.example/x")
    short = dataclasses.replace(base, webhook_secret=Secret("too short"))
    (tmp_path / "secret").write_text(LONG_ENOUGH + "\n")
    from_file = dataclasses.replace(base, webhook_secret_file=tmp_path / "secret")

    with pytest.raises(ValueError, match="32"):
        webhook_config(short)
    with pytest.raises(ValueError, match="WEBHOOK_SECRET_FILE"):
        webhook_config(base)
    config = webhook_config(from_file)
    assert config is not None
    assert config.secret == LONG_ENOUGH.encode()


async def test_a_receiver_slower_than_the_deadline_fails_the_attempt_whatever_it_sends() -> None:
    async def trickling(_request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)  # httpx's per-step timeouts never see a mock transport
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(trickling))
    config = WebhookConfig(("https://hooks.example/x",), LONG_ENOUGH.encode(), timeout=0.2)
    deliverer = WebhookDeliverer(None, config, NoDeliveryEvents(), client)  # type: ignore[arg-type]
    started = time.monotonic()

    status = await deliverer._post(1, config.urls[0], "e1", b"{}")

    assert status == NO_ANSWER
    assert time.monotonic() - started < 5
    await client.aclose()
