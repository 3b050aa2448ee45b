"""Fixtures for end-to-end tests against the loopback Discord double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started Discord double on 127.0.0.1 (fast heartbeats), stopped after the test."""
    async with FakeDiscord(heartbeat_interval=1.0) as double:
        yield double
