"""The opt-in result cache: repeated pages from memory, never stale after a corpus change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.core import articles, db, topics
from bot.core.models import ArticleDraft
from bot.core.search import engine, search

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest_asyncio.fixture
async def path(tmp_path: Path) -> Path:
    path = tmp_path / "alliance.db"
    connection = await db.connect(path)
    await articles.ingest_paths(connection, [SEEDS])
    await connection.close()
    return path


@pytest_asyncio.fixture
async def conn(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(path)
    yield connection
    await connection.close()


def _draft(n: int) -> ArticleDraft:
    return ArticleDraft(
        title=f"ヘグセス国防長官が来日 ({n})",
        body=f"ヘグセス国防長官が来日し、防衛相と会談した。第{n}報。",
        published=date(2026, 3, n),
        date_inferred=False,
        origin=f"cache-{n}.jsonl",
        source=f"cache-{n}.jsonl:1",
    )


async def test_repeated_page_comes_from_memory(conn: aiosqlite.Connection) -> None:
    """The same page asked again is the cached one, equal to what a fresh search finds."""
    first = await search(conn, "ヘグセス", cache=True)
    again = await search(conn, "ヘグセス", cache=True)
    fresh = await search(conn, "ヘグセス")
    assert again == first == fresh
    assert again.hits[0] is first.hits[0]
    assert fresh.hits[0] is not first.hits[0]


async def test_without_the_flag_nothing_is_cached(conn: aiosqlite.Connection) -> None:
    """By default every search reads the database."""
    first = await search(conn, "ヘグセス")
    again = await search(conn, "ヘグセス")
    assert again == first
    assert again.hits[0] is not first.hits[0]


async def test_key_includes_page_topic_and_sort(conn: aiosqlite.Connection) -> None:
    """Another page, topic, sort or size is another search."""
    base = await search(conn, "日米", cache=True)
    for kwargs in ({"offset": 5}, {"topic": "china"}, {"sort": "newest"}, {"limit": 3}):
        other = await search(conn, "日米", cache=True, **kwargs)  # type: ignore[arg-type]
        assert other == await search(conn, "日米", **kwargs)  # type: ignore[arg-type]
        assert other != base


async def test_write_on_the_same_connection_invalidates(conn: aiosqlite.Connection) -> None:
    """An article added through the searching connection is found at once."""
    before = await search(conn, "ヘグセス", cache=True)
    await articles.ingest(conn, [_draft(1)])
    after = await search(conn, "ヘグセス", cache=True)
    assert after.total == before.total + 1


async def test_write_from_another_connection_invalidates(
    conn: aiosqlite.Connection, path: Path
) -> None:
    """An article added by another connection (or process) is found at once."""
    before = await search(conn, "ヘグセス", cache=True)
    other = await db.connect(path)
    try:
        await articles.ingest(other, [_draft(2)])
    finally:
        await other.close()
    after = await search(conn, "ヘグセス", cache=True)
    assert after.total == before.total + 1


async def test_changing_a_returned_result_leaves_the_cache_alone(
    conn: aiosqlite.Connection,
) -> None:
    """A caller emptying the lists it got does not empty the next answer."""
    first = await search(conn, "ヘグセス", cache=True)
    count = len(first.hits)
    first.hits.clear()
    first.suggestions.append("x")
    again = await search(conn, "ヘグセス", cache=True)
    assert len(again.hits) == count
    assert again.suggestions == []


async def test_cache_is_bounded(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its size, the least recently used page is dropped and searched again."""
    monkeypatch.setattr(engine, "CACHE_SIZE", 2)
    first = await search(conn, "日米", cache=True)
    await search(conn, "台湾", cache=True)
    assert (await search(conn, "日米", cache=True)).hits[0] is first.hits[0]  # now most recent
    await search(conn, "核", cache=True)  # drops 台湾, the least recently used
    assert (await search(conn, "日米", cache=True)).hits[0] is first.hits[0]
    assert len(engine._result_caches[conn].results) == 2


async def test_writes_outside_the_corpus_keep_the_cache(conn: aiosqlite.Connection) -> None:
    """The heartbeat and other bookkeeping writes do not empty the cache."""
    first = await search(conn, "ヘグセス", cache=True)
    async with db.transaction(conn):
        await db.set_meta(conn, "heartbeat", "2026-11-23T00:00:00Z")
    again = await search(conn, "ヘグセス", cache=True)
    assert again.hits[0] is first.hits[0]


async def test_retagging_invalidates(conn: aiosqlite.Connection) -> None:
    """Topics re-run by the rules count as a corpus change: results show the new topics."""
    first = await search(conn, "ヘグセス", cache=True)
    async with db.transaction(conn):
        await topics.retag_all(conn, topics.load_taxonomy())
    again = await search(conn, "ヘグセス", cache=True)
    assert again == first
    assert again.hits[0] is not first.hits[0]


async def _empty_the_index_then_fail(conn: aiosqlite.Connection, seen: list[int]) -> None:
    async with db.transaction(conn):
        await conn.execute("DELETE FROM article_index")
        await db.bump_generation(conn)
        seen.append((await search(conn, "ヘグセス", cache=True)).total)
        raise RuntimeError("roll back")


async def test_a_rolled_back_write_is_never_served(conn: aiosqlite.Connection) -> None:
    """A search inside a transaction that is rolled back leaves nothing behind in the cache."""
    before = await search(conn, "ヘグセス", cache=True)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="roll back"):
        await _empty_the_index_then_fail(conn, seen)
    after = await search(conn, "ヘグセス", cache=True)
    assert seen == [0]
    assert after.total == before.total > 0
