"""Fixtures for the feed tests: a real temp database, a loopback server and a service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from feedkit import TOKYO, FeedServer

from bot.core import db
from bot.core.feeds.fetch import Fetcher
from bot.core.feeds.service import FeedService


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path / "alliance.db")
    yield connection
    await connection.close()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server = FeedServer()
    await feed_server.start()
    yield feed_server
    await feed_server.close()


@pytest.fixture
async def service(tmp_path: Path, conn: aiosqlite.Connection) -> AsyncIterator[FeedService]:
    fetcher = Fetcher(spacing=0.0, timeout=2.0)
    feed_service = FeedService.for_database(conn, tmp_path / "alliance.db", TOKYO, fetcher=fetcher)
    yield feed_service
    await feed_service.stop()
