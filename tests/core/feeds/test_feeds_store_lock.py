"""Storing entries: matched and prepared before the write lock, checked again under it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from feedkit import TOKYO

from bot.core import articles, db
from bot.core.feeds import store
from bot.core.feeds.config import FeedConfig
from bot.core.feeds.parse import FeedEntry
from bot.core.models import ArticleDraft

NOW = datetime.now(UTC).replace(microsecond=0)
FEED = FeedConfig("https://t.example.jp/rss", name="テスト")
OTHER_FEED = FeedConfig("https://u.example.jp/rss", name="別紙")
TITLE = "日米防衛当局が第7回の実務者協議"
BODY = "日米の防衛当局は第7回の実務者協議を開き、共同訓練の計画や装備の共同生産について話した。"


def entry(key: str, *, title: str = TITLE, body: str = BODY, url: str | None = None) -> FeedEntry:
    return FeedEntry(
        key=key,
        guid=key,
        url=url,
        title=title,
        title_derived=False,
        body=body,
        published=NOW - timedelta(days=1),
    )


@pytest.fixture
async def other(tmp_path: Path, conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """A second connection to the test database, as another process has."""
    connection = await db.connect(tmp_path / "alliance.db")
    yield connection
    await connection.close()


async def store_meanwhile(
    conn: aiosqlite.Connection,
    entries: Sequence[FeedEntry],
    meanwhile: Callable[[], Awaitable[object]],
    monkeypatch: pytest.MonkeyPatch,
) -> store.StoreReport:
    """`store_entries` for FEED, running `meanwhile` once between its preparation (after the
    new articles' ingest is planned) and its write transaction."""
    plan_ingest = articles.plan_ingest
    pending = [meanwhile]

    async def plan_then_interfere(*args: object, **kwargs: object) -> articles.IngestPlan:
        plan = await plan_ingest(*args, **kwargs)  # type: ignore[arg-type]
        while pending:
            await pending.pop()()
        return plan

    monkeypatch.setattr(articles, "plan_ingest", plan_then_interfere)
    feed_id = await store.ensure_feed(conn, FEED.url)
    report = await store.store_entries(conn, FEED, feed_id, entries, fetched_at=NOW, tz=TOKYO)
    assert not pending  # it did interfere
    return report


async def linked(conn: aiosqlite.Connection, key: str) -> list[int]:
    query = "SELECT article_id FROM feed_entries WHERE entry_key = ?"
    return [int(r[0]) for r in await conn.execute_fetchall(query, (key,))]


async def test_a_wire_copy_stored_meanwhile_makes_the_entry_a_duplicate(
    conn: aiosqlite.Connection, other: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stores a near-identical story after the entry was matched: the entry is
    matched again under the lock and linked to that article, not stored a second time."""
    copy = ArticleDraft(
        f"【速報】{TITLE}", f"{BODY}（共同）", NOW.date(), False, "wire.jsonl", "wire.jsonl:1"
    )

    async def wire() -> object:
        return await articles.ingest(other, [copy])

    report = await store_meanwhile(conn, [entry("story-7")], wire, monkeypatch)
    assert (report.replanned, report.new, report.duplicates) == (True, 0, 1)
    assert await articles.count_articles(conn) == 1
    (stored,) = await articles.latest(conn)
    assert stored.title == copy.title
    assert await linked(conn, "story-7") == [stored.id]


async def test_a_link_recorded_meanwhile_makes_the_entry_a_duplicate(
    conn: aiosqlite.Connection, other: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process links the entry's URL to a stored article after the entry was matched
    (no article changes): the link is seen under the lock and the entry joins that article."""
    url = "https://t.example.jp/story/7"
    stored = ArticleDraft(TITLE, BODY, NOW.date(), False, "old.jsonl", "old.jsonl:1")
    await articles.ingest(conn, [stored])
    (article,) = await articles.latest(conn)
    generation = await articles.corpus_generation(conn)

    async def other_feed() -> object:
        # The same text under the same link in another feed: linked, no article written.
        feed_id = await store.ensure_feed(other, OTHER_FEED.url)
        report = await store.store_entries(
            other, OTHER_FEED, feed_id, [entry("g-7", url=url)], fetched_at=NOW, tz=TOKYO
        )
        assert (report.new, report.duplicates) == (0, 1)
        assert await articles.corpus_generation(other) == generation
        return report

    rewritten = entry(
        "story-7", title="第7回協議、訓練計画を確認", body="記事の全文は有料です。", url=url
    )
    report = await store_meanwhile(conn, [rewritten], other_feed, monkeypatch)
    assert (report.replanned, report.new, report.duplicates) == (True, 0, 1)
    assert await articles.count_articles(conn) == 1
    assert await linked(conn, "story-7") == [article.id]


async def test_entries_nobody_overtook_are_stored_as_planned(conn: aiosqlite.Connection) -> None:
    """Without other writers the prepared plan is written as it is: new, then unchanged."""
    feed_id = await store.ensure_feed(conn, FEED.url)
    entries = [entry("story-7", url="https://t.example.jp/story/7")]
    first = await store.store_entries(conn, FEED, feed_id, entries, fetched_at=NOW, tz=TOKYO)
    again = await store.store_entries(conn, FEED, feed_id, entries, fetched_at=NOW, tz=TOKYO)
    assert (first.replanned, first.new, len(first.new_ids)) == (False, 1, 1)
    assert (again.replanned, again.new, again.unchanged) == (False, 0, 1)
    assert await linked(conn, "story-7") == first.new_ids


async def test_a_failed_write_stores_neither_articles_nor_links(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New articles and their entries' links commit together: a failure after the articles are
    written, before the links, stores neither, and the next fetch stores both."""
    apply_ingest = articles.apply_ingest

    async def power_cut(*args: object) -> object:
        await apply_ingest(*args)  # type: ignore[arg-type]
        raise RuntimeError("power cut")

    feed_id = await store.ensure_feed(conn, FEED.url)
    entries = [entry("story-7"), entry("story-8", title="在日米軍の再編で協議", body="再編。")]
    monkeypatch.setattr(articles, "apply_ingest", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        await store.store_entries(conn, FEED, feed_id, entries, fetched_at=NOW, tz=TOKYO)
    assert await articles.count_articles(conn) == 0
    assert await linked(conn, "story-7") == []

    monkeypatch.undo()
    report = await store.store_entries(conn, FEED, feed_id, entries, fetched_at=NOW, tz=TOKYO)
    assert report.new == 2
    assert sorted(await linked(conn, "story-7") + await linked(conn, "story-8")) == report.new_ids
