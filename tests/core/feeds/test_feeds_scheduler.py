"""The service's APScheduler jobs: one per feed, started, changed at runtime and stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest
from feedkit import TOKYO, FeedServer, Item, Route, rss

from bot.core.feeds import store
from bot.core.feeds.config import FeedConfigError, make_feed
from bot.core.feeds.fetch import Fetcher
from bot.core.feeds.service import FeedService


async def wait_for(condition: Callable[[], bool]) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while loop.time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_jobs_fetch_on_start_and_follow_runtime_changes(
    tmp_path: Path, service: FeedService, server: FeedServer
) -> None:
    """start() fetches file feeds; feeds added later get a job; stop() ends everything."""
    body = rss([Item("日米共同訓練", "在日米軍と共同訓練を行った。", guid="x")])
    server.routes["/file"] = Route(body=body)
    server.routes["/added"] = Route(body=body)
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nurl = "{server.url("/file")}"\n')
    await service.start()
    assert service.running
    assert await wait_for(lambda: server.hits("/file") == 1)
    await service.add_feed(server.url("/added"), allow_private=True)
    assert await wait_for(lambda: server.hits("/added") == 1)
    assert await service.remove_feed(server.url("/added"))
    await service.stop()
    assert not service.running
    assert server.hits("/file") == 1  # the next run is 30 min away


async def test_host_spacing_separates_requests(
    tmp_path: Path, conn: aiosqlite.Connection, server: FeedServer
) -> None:
    """Two feeds on one host are fetched one after the other, `spacing` seconds apart."""
    fetcher = Fetcher(spacing=0.3)
    service = FeedService(conn, feeds_file=tmp_path / "feeds.toml", tz=TOKYO, fetcher=fetcher)
    try:
        for path in ("/one", "/two"):
            server.routes[path] = Route(body=rss([]))
            await service.add_feed(server.url(path), allow_private=True)
        await service.fetch_all()
    finally:
        await service.stop()
    times = sorted(t for _, _, t in server.requests)
    assert len(times) == 2
    assert times[1] - times[0] >= 0.28


async def test_a_feeds_toml_mended_after_an_unreadable_start_is_followed(
    tmp_path: Path, conn: aiosqlite.Connection, server: FeedServer
) -> None:
    """A broken feeds.toml makes start() raise, yet the service runs: it follows the feeds
    added by command meanwhile, and once the file is mended the next re-read follows and
    fetches the file's feeds too, with no restart."""
    server.routes["/mended"] = Route(body=rss([]))
    server.routes["/added"] = Route(body=rss([]))
    added = make_feed(server.url("/added"), allow_private=True)
    await store.add_runtime_feed(conn, added, allow_private=True)
    await conn.commit()
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text("[[feed]\nurl = ", encoding="utf-8")
    service = FeedService(
        conn,
        feeds_file=feeds_file,
        tz=TOKYO,
        fetcher=Fetcher(spacing=0.0, timeout=2.0),
        reload_every=timedelta(seconds=0.2),
    )
    try:
        with pytest.raises(FeedConfigError, match="not valid TOML"):
            await service.start()
        assert service.running
        assert [f.config.url for f in service.followed()] == [added.url]
        assert (service.file_error is not None, service.file_read) == (True, False)
        assert await wait_for(lambda: server.hits("/added") == 1)
        feeds_file.write_text(f'[[feed]]\nurl = "{server.url("/mended")}"\n', encoding="utf-8")
        assert await wait_for(lambda: server.hits("/mended") == 1)
        assert (service.file_error, service.file_read) == (None, True)
        assert server.hits("/added") == 1  # followed already: not fetched again on the re-read
    finally:
        await service.stop()
    assert not service.running


async def test_a_feeds_toml_broken_while_running_keeps_the_feeds_it_said(
    tmp_path: Path, service: FeedService, server: FeedServer
) -> None:
    """A feeds.toml that breaks after a good start leaves its feeds listed, and says why it
    can't be read; the list reads it again, so once mended the note goes."""
    server.routes["/kept"] = Route(body=rss([]))
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feed]]\nurl = "{server.url("/kept")}"\n', encoding="utf-8")
    await service.start()
    feeds_file.write_text("feed = 1\n", encoding="utf-8")
    with pytest.raises(FeedConfigError):
        await service.reload()
    assert service.file_error is not None
    assert [s.config.url for s in await service.list_feeds()] == [server.url("/kept")]
    assert service.file_error is not None
    feeds_file.write_text("", encoding="utf-8")
    assert await service.list_feeds() == []
    assert service.file_error is None


async def test_a_file_broken_while_running_is_logged_once_whoever_reads_it_first(
    tmp_path: Path, service: FeedService, caplog: pytest.LogCaptureFixture
) -> None:
    """An admin's refused `add` reads the broken file first: the reload job still logs it,
    once, however often it runs; the mended file is logged with what is followed."""
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text('[[feed]]\nurl = "http://127.0.0.1:9/a.xml"\n', encoding="utf-8")
    await service.start()
    feeds_file.write_text("feed = 1\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="bot.core.feeds.service")
    with pytest.raises(FeedConfigError):
        await service.add_feed("http://127.0.0.1:9/b.xml", allow_private=True)
    for _ in range(3):
        await service._reload_job()
    # Not the start's fetch of a.xml, refused whenever its job happens to run: the file's.
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    warned = [message for message in logged if message.startswith("feeds: ")]
    assert len(warned) == 1
    assert "[[feed]]" in warned[0]
    feeds_file.write_text('[[feed]]\nurl = "http://127.0.0.1:9/a.xml"\n', encoding="utf-8")
    await service._reload_job()
    assert any("can be read again; following 1 feeds" in r.getMessage() for r in caplog.records)


async def test_a_broken_file_at_a_second_start_follows_none_of_its_feeds(
    tmp_path: Path, service: FeedService
) -> None:
    """stop(), then start() with feeds.toml broken: none of the file's feeds is followed, not
    as it last said, and the service says the file was not read since this start."""
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text('[[feed]]\nurl = "http://127.0.0.1:9/a.xml"\n', encoding="utf-8")
    await service.start()
    assert service.file_read
    await service.stop()
    feeds_file.write_text("feed = 1\n", encoding="utf-8")
    with pytest.raises(FeedConfigError):
        await service.start()
    assert service.followed() == []
    assert await service.list_feeds() == []
    assert (service.file_error is not None, service.file_read) == (True, False)


async def test_before_start_a_broken_file_leaves_the_feeds_added_by_command(
    tmp_path: Path, conn: aiosqlite.Connection, service: FeedService
) -> None:
    """Not started (the CLI) and feeds.toml broken: the list has the feeds added by command
    and `file_error` says why; such a feed can be removed, while an add is refused."""
    added = make_feed("http://127.0.0.1:9/added.xml", allow_private=True)
    await store.add_runtime_feed(conn, added, allow_private=True)
    await conn.commit()
    (tmp_path / "feeds.toml").write_text("feed = 1\n", encoding="utf-8")
    assert [s.config.url for s in await service.list_feeds()] == [added.url]
    assert "[[feed]]" in str(service.file_error)
    with pytest.raises(FeedConfigError, match=r"\[\[feed\]\]"):
        await service.add_feed("http://127.0.0.1:9/other.xml", allow_private=True)
    assert await service.remove_feed(added.url)
    assert service.followed() == []
    assert await store.runtime_feeds(conn) == []


async def test_a_re_read_under_way_does_not_undo_an_add(
    tmp_path: Path, service: FeedService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed added while the reload job reads the configuration stays followed: the job's
    older view of the runtime feeds is not swapped in after the add."""
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    await service.start()
    runtime_feeds, gate, reads = store.runtime_feeds, asyncio.Event(), 0

    async def slow_runtime_feeds(db: aiosqlite.Connection) -> list[store.RuntimeFeed]:
        nonlocal reads
        reads += 1
        found = await runtime_feeds(db)
        if reads == 1:  # the reload job's read, held until the add has been asked for
            await gate.wait()
        return found

    monkeypatch.setattr(store, "runtime_feeds", slow_runtime_feeds)
    job = asyncio.create_task(service._reload_job())
    await asyncio.sleep(0.05)
    url = "http://127.0.0.1:9/added.xml"
    added = asyncio.create_task(service.add_feed(url, allow_private=True))
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(job, added)
    assert [f.config.url for f in service.followed()] == [url]
    assert [s.config.url for s in await service.list_feeds()] == [url]


async def test_stopping_during_a_fetch_ends_it_quietly(
    tmp_path: Path, service: FeedService, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """stop() while a scheduled fetch waits on a slow feed cancels it with no error logged
    (a shutdown is not a failed job)."""
    server.routes["/slow"] = Route(body=rss([]), delay=5.0)
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nurl = "{server.url("/slow")}"\n')
    caplog.set_level(logging.INFO)
    await service.start()
    assert await wait_for(lambda: server.hits("/slow") == 1)
    await service.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
