"""The result cache: repeated pages from memory, never stale after a corpus change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio
from sqlite_threads import QueryGate

from bot.core import articles, db, topics
from bot.core.models import ArticleDraft
from bot.core.search import cache as cache_module
from bot.core.search import search
from bot.core.search.cache import ResultCache

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
    """The connection that writes."""
    connection = await db.connect(path)
    yield connection
    await connection.close()


@pytest_asyncio.fixture
async def readers(path: Path) -> AsyncIterator[db.Readers]:
    pool = await db.Readers.open(path, 2, per_connection=2, cache_kib=512)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
def cache(readers: db.Readers) -> ResultCache:
    return ResultCache(readers)


async def _generation_reads(readers: db.Readers) -> list[str]:
    """Records every read of the corpus generation, on any connection of `readers`."""
    seen: list[str] = []
    for reader in {*readers.connections, readers.lookup()}:
        # The callback runs on the connection's thread; list.append is atomic.
        await reader.set_trace_callback(
            lambda sql: seen.append(sql) if "index_generation" in sql else None
        )
    return seen


def _draft(n: int) -> ArticleDraft:
    return ArticleDraft(
        title=f"ヘグセス国防長官が来日 ({n})",
        body=f"ヘグセス国防長官が来日し、防衛相と会談した。第{n}報。",
        published=date(2026, 3, n),
        date_inferred=False,
        origin=f"cache-{n}.jsonl",
        source=f"cache-{n}.jsonl:1",
    )


async def test_repeated_page_comes_from_memory(
    cache: ResultCache, conn: aiosqlite.Connection
) -> None:
    """The same page asked again is the cached one, equal to what a fresh search finds."""
    first = await cache.search("ヘグセス")
    again = await cache.search("ヘグセス")
    fresh = await search(conn, "ヘグセス")
    assert again == first == fresh
    assert again.hits[0] is first.hits[0]
    assert fresh.hits[0] is not first.hits[0]


async def test_size_zero_caches_nothing(readers: db.Readers) -> None:
    """With size 0 every search reads the database."""
    uncached = ResultCache(readers, size=0)
    first = await uncached.search("ヘグセス")
    again = await uncached.search("ヘグセス")
    assert again == first
    assert again.hits[0] is not first.hits[0]
    assert len(uncached) == 0


async def test_key_includes_page_topic_and_sort(
    cache: ResultCache, conn: aiosqlite.Connection
) -> None:
    """Another page, topic, sort or size is another search."""
    base = await cache.search("日米")
    for kwargs in ({"offset": 5}, {"topic": "china"}, {"sort": "newest"}, {"limit": 3}):
        other = await cache.search("日米", **kwargs)  # type: ignore[arg-type]
        assert other == await search(conn, "日米", **kwargs)  # type: ignore[arg-type]
        assert other != base


async def test_a_refused_query_is_answered_without_the_database(readers: db.Readers) -> None:
    """An empty query is refused at once, with no read of the generation."""
    seen = await _generation_reads(readers)
    result = await ResultCache(readers).search("   ")
    assert result.problem is not None
    assert seen == []


async def test_a_write_from_another_connection_invalidates(
    cache: ResultCache, conn: aiosqlite.Connection
) -> None:
    """An article added by the writing connection (or another process) is found at once."""
    before = await cache.search("ヘグセス")
    await articles.ingest(conn, [_draft(2)])
    after = await cache.search("ヘグセス")
    assert after.total == before.total + 1


async def test_changing_a_returned_result_leaves_the_cache_alone(cache: ResultCache) -> None:
    """A caller emptying the lists it got does not empty the next answer."""
    first = await cache.search("ヘグセス")
    count = len(first.hits)
    first.hits.clear()
    first.suggestions.append("x")
    again = await cache.search("ヘグセス")
    assert len(again.hits) == count
    assert again.suggestions == []


async def test_cache_is_bounded(readers: db.Readers) -> None:
    """Past its size, the least recently used page is dropped and searched again."""
    small = ResultCache(readers, size=2)
    first = await small.search("日米")
    await small.search("台湾")
    assert (await small.search("日米")).hits[0] is first.hits[0]  # now most recent
    await small.search("核")  # drops 台湾, the least recently used
    assert (await small.search("日米")).hits[0] is first.hits[0]
    assert len(small) == 2


async def test_writes_outside_the_corpus_keep_the_cache(
    cache: ResultCache, conn: aiosqlite.Connection
) -> None:
    """The heartbeat and other bookkeeping writes do not empty the cache."""
    first = await cache.search("ヘグセス")
    async with db.transaction(conn):
        await db.set_meta(conn, "heartbeat", "2026-11-23T00:00:00Z")
    again = await cache.search("ヘグセス")
    assert again.hits[0] is first.hits[0]


async def test_retagging_invalidates(cache: ResultCache, conn: aiosqlite.Connection) -> None:
    """Topics re-run by the rules count as a corpus change: results show the new topics."""
    first = await cache.search("ヘグセス")
    async with db.transaction(conn):
        await topics.retag_all(conn, topics.load_taxonomy())
    again = await cache.search("ヘグセス")
    assert again == first
    assert again.hits[0] is not first.hits[0]


async def test_an_uncommitted_write_is_never_served(
    cache: ResultCache, conn: aiosqlite.Connection
) -> None:
    """While a write is open (and after it is rolled back) readers get the committed corpus."""
    before = await cache.search("ヘグセス")
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="roll back"):
        await _empty_the_index_then_fail(conn, cache, seen)
    after = await cache.search("ヘグセス")
    assert seen == [before.total] == [after.total]
    assert before.total > 0


async def _empty_the_index_then_fail(
    conn: aiosqlite.Connection, cache: ResultCache, seen: list[int]
) -> None:
    async with db.transaction(conn):
        await conn.execute("DELETE FROM article_index")
        await db.bump_generation(conn)
        seen.append((await cache.search("ヘグセス")).total)
        raise RuntimeError("roll back")


async def test_a_pool_around_a_connection_in_a_transaction_is_not_cached(
    conn: aiosqlite.Connection,
) -> None:
    """Results read inside a transaction (which may be rolled back) are never kept."""
    inside = ResultCache(db.Readers([conn], per_connection=1))
    async with db.transaction(conn):
        await inside.search("ヘグセス")
    assert len(inside) == 0
    await inside.search("ヘグセス")
    assert len(inside) == 1


async def test_searches_arriving_together_share_one_generation_read(
    cache: ResultCache, readers: db.Readers
) -> None:
    """Fifty cached searches at once read the generation once or twice, not fifty times."""
    await cache.search("日米")
    seen = await _generation_reads(readers)
    results = await asyncio.gather(*(cache.search("日米") for _ in range(50)))
    assert 1 <= len(seen) <= 2
    assert all(r.hits[0] is results[0].hits[0] for r in results)


async def test_a_kept_page_is_answered_while_every_search_connection_is_busy(
    cache: ResultCache, readers: db.Readers
) -> None:
    """The generation is read beside the pool: a kept page never waits behind searches."""
    first = await cache.search("日米")
    gate = QueryGate()
    stuck = []
    for reader in readers.connections:
        await gate.install(reader)
        stuck.append(asyncio.create_task(reader.execute_fetchall("SELECT wait_at_gate()")))
    try:
        assert await gate.entered()
        again = await asyncio.wait_for(cache.search("日米"), 5)
        assert again.hits[0] is first.hits[0]
        assert not any(task.done() for task in stuck)
    finally:
        gate.open()
    await asyncio.gather(*stuck)


async def test_a_search_after_a_commit_waits_for_a_newer_read(
    cache: ResultCache, conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search asked for after a commit never shares a generation read begun before it."""
    before = await cache.search("ヘグセス")
    read_done, release = asyncio.Event(), asyncio.Event()

    async def read_then_hold(db_: aiosqlite.Connection, key: str) -> str | None:
        value = await db.get_meta(db_, key)
        read_done.set()
        await release.wait()  # keeps this read under way while the article is committed
        return value

    monkeypatch.setattr(cache_module, "get_meta", read_then_hold)
    early = asyncio.create_task(cache.search("ヘグセス"))
    await read_done.wait()
    await articles.ingest(conn, [_draft(3)])
    late = asyncio.create_task(cache.search("ヘグセス"))
    await asyncio.sleep(0.05)
    release.set()
    assert (await early).total == before.total
    assert (await late).total == before.total + 1


async def test_a_cancelled_search_does_not_cancel_the_others(cache: ResultCache) -> None:
    """One waiter cancelled while the shared read runs leaves the rest answered."""
    await cache.search("日米")
    tasks = [asyncio.create_task(cache.search("日米")) for _ in range(5)]
    await asyncio.sleep(0)
    tasks[0].cancel()
    done = await asyncio.gather(*tasks[1:])
    assert all(r.total > 0 for r in done)
    assert tasks[0].cancelled()


async def test_the_same_page_asked_for_together_is_searched_once(
    cache: ResultCache, readers: db.Readers
) -> None:
    """Ten readers asking for one uncached page at once share a single search."""
    searches: list[str] = []
    for reader in readers.connections:
        await reader.set_trace_callback(
            lambda sql: searches.append(sql) if "MATCH" in sql else None
        )
    await ResultCache(readers).search("台湾")  # another cache: how many statements one search takes
    one = len(searches)
    searches.clear()
    results = await asyncio.gather(*(cache.search("台湾") for _ in range(10)))
    assert one > 0
    assert len(searches) == one
    assert len({id(r.hits) for r in results}) == 10  # each caller gets lists of its own
    assert all(r == results[0] for r in results)


async def test_a_failed_search_fails_its_waiters_and_is_not_kept(
    cache: ResultCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the shared search fails, every waiter gets the error and the next search retries."""
    calls: list[str] = []

    async def failing(*args: object, **kwargs: object) -> None:
        calls.append("search")
        await asyncio.sleep(0)
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(cache_module, "search_parsed", failing)
        outcomes = await asyncio.gather(
            *(cache.search("台湾") for _ in range(3)), return_exceptions=True
        )
    assert calls == ["search"]
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert len(cache) == 0
    assert (await cache.search("台湾")).total > 0
