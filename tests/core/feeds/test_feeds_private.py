"""Feeds added from Discord reach public addresses only; the operator's feeds may use the LAN.

The feed server is on 127.0.0.1 and `news.example.test` resolves to it through `LoopbackDNS`:
a name that passes every check at add time and turns out to be loopback only when fetched. A
refused fetch is proven by the server never seeing the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from feedkit import DATA, TOKYO, FeedServer, LoopbackDNS, Route

from bot.core import db
from bot.core.feeds.fetch import Fetcher
from bot.core.feeds.reasons import Reason
from bot.core.feeds.service import FeedService

pytestmark = pytest.mark.filterwarnings("error")

NAME = "news.example.test"


@pytest.fixture
async def lan_service(tmp_path: Path, conn: aiosqlite.Connection) -> AsyncIterator[FeedService]:
    """A service whose DNS resolves `news.example.test` to 127.0.0.1."""
    fetcher = Fetcher(spacing=0.0, timeout=2.0, resolver=LoopbackDNS({NAME: "127.0.0.1"}))
    feed_service = FeedService.for_database(conn, tmp_path / "alliance.db", TOKYO, fetcher=fetcher)
    yield feed_service
    await feed_service.stop()


async def test_discord_feed_resolving_to_loopback_is_refused_and_recorded(
    lan_service: FeedService, server: FeedServer
) -> None:
    """A Discord-added feed whose name resolves to loopback is not fetched; the status says why."""
    server.routes["/feed"] = Route(body=(DATA / "rss2.xml").read_bytes())
    url = server.url("/feed", host=NAME)
    feed = await lan_service.add_feed(url)  # as /alliance-feeds add does: allow_private=False
    outcome = await lan_service.fetch_feed(feed.url)
    assert outcome.error == f"{NAME} resolves only to local or private addresses"
    assert server.hits("/feed") == 0
    (status,) = await lan_service.list_feeds()
    assert status.allow_private is False
    assert status.to_json()["local_network"] is False
    assert status.state is not None
    assert status.state.last_error == outcome.error
    assert (status.state.error_reason, status.state.error_params) == (
        Reason.PRIVATE_NAME,
        {"host": NAME},
    )
    assert status.state.failures == 1


async def test_the_same_url_from_the_operator_is_fetched(
    tmp_path: Path, lan_service: FeedService, server: FeedServer
) -> None:
    """The URL refused for Discord is fetched from feeds.toml or when added at the terminal."""
    server.routes["/feed"] = Route(body=(DATA / "rss2.xml").read_bytes())
    url = server.url("/feed", host=NAME)
    await lan_service.add_feed(url)
    assert (await lan_service.fetch_feed(url)).error is not None
    assert await lan_service.remove_feed(url)

    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nurl = "{url}"\n', encoding="utf-8")
    await lan_service.reload()
    from_file = await lan_service.fetch_feed(url)
    assert from_file.report is not None
    assert from_file.report.new == 3
    (status,) = await lan_service.list_feeds()
    assert (status.origin, status.allow_private) == ("file", True)
    assert status.state is not None
    assert (status.state.last_error, status.state.error_reason) == (None, None)
    assert server.hits("/feed") == 1

    (tmp_path / "feeds.toml").unlink()
    await lan_service.add_feed(url, allow_private=True)  # `alliance-bot feeds add`
    again = FeedService(lan_service.db, feeds_file=tmp_path / "feeds.toml", tz=TOKYO)
    (followed,) = await again.reload()
    assert (followed.origin, followed.allow_private) == ("runtime", True)
    assert (await lan_service.fetch_feed(url)).ok
    assert server.hits("/feed") == 2


async def test_runtime_feeds_older_than_migration_6_keep_the_strict_rule(
    tmp_path: Path, server: FeedServer
) -> None:
    """A runtime feed on localhost stored before 0006 (origin unknown) is refused when fetched."""
    path = tmp_path / "old.db"
    conn = await db.connect(path, migrate_schema=False)
    try:
        await db.migrate(conn, db.load_migrations()[:5])
        url = server.url("/feed", host="localhost")
        await conn.execute("INSERT INTO feeds (url) VALUES (?)", (url,))
        query = """
            INSERT INTO runtime_feeds (feed_id, interval_min, kind)
            SELECT id, 30, 'alliance' FROM feeds WHERE url = ?
        """
        await conn.execute(query, (url,))
        assert await db.migrate(conn) >= 6
        server.routes["/feed"] = Route(body=(DATA / "rss2.xml").read_bytes())
        service = FeedService(
            conn, feeds_file=tmp_path / "feeds.toml", tz=TOKYO, fetcher=Fetcher(spacing=0.0)
        )
        try:
            (followed,) = await service.reload()
            assert followed.allow_private is False
            outcome = await service.fetch_feed(url)
        finally:
            await service.stop()
    finally:
        await conn.close()
    assert outcome.error == "localhost resolves only to local or private addresses"
    assert server.hits("/feed") == 0
