"""Pages of search results kept in memory while the corpus is unchanged.

One cache serves every connection of a reader pool: the corpus generation (meta
`index_generation`, bumped in the transaction of every change to articles, their index or their
topics, by any connection or process) says whether what it holds is still true. Searches that
arrive together share one read of the generation, and that read always starts after they
arrived, so a change committed before a search was asked for is never missed. A page being
searched when it is asked for again is not searched twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from bot.core.db import GENERATION_KEY, Readers, get_meta
from bot.core.search.engine import SearchResult, Sort, search_parsed
from bot.core.search.query import Query, QueryProblem, parse_query

# A page holds up to `limit` articles; the bot asks for 5 at a time.
CACHE_SIZE = 256

_Key = tuple[Query, str | None, str, int, int]


class _Uncacheable:
    """The generation as read inside a transaction, which may yet be rolled back."""


_UNCACHEABLE = _Uncacheable()
_Generation = str | None | _Uncacheable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeptForGeneration(Generic[K, V]):
    """Values by key, kept while the corpus generation they were made at is the one asked
    about: another generation empties them. Past `size` the least recently used goes first;
    with `max_age` (seconds) none is kept longer. With `size` 0 nothing is kept.
    """

    def __init__(self, *, size: int, max_age: float | None = None) -> None:
        self._size = size
        self._max_age = max_age
        self._kept: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._generation: Hashable = _UNCACHEABLE  # none yet: the first `get` sets it

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, generation: Hashable, key: K) -> V | None:
        """The value kept under `key`, if it was made at `generation` (and is not too old)."""
        if generation != self._generation:
            self._kept.clear()
            self._generation = generation
            return None
        found = self._kept.get(key)
        if found is None:
            return None
        made_at, value = found
        if self._max_age is not None and time.monotonic() - made_at > self._max_age:
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return value

    def put(self, generation: Hashable, key: K, value: V) -> None:
        """Keep a value made after `generation` was read, unless a newer one was seen since:
        it is at least that new, but is not kept under a generation it may predate."""
        if self._size <= 0 or generation != self._generation:
            return
        self._kept[key] = (time.monotonic(), value)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)


class ResultCache:
    """`search` over a reader pool, answering a page asked for again from memory.

    With `size` 0 nothing is kept and every search reads the database.
    """

    def __init__(self, readers: Readers, *, size: int = CACHE_SIZE) -> None:
        self._readers = readers
        self._size = size
        self._results: KeptForGeneration[_Key, SearchResult] = KeptForGeneration(size=size)
        # The next read of the generation, not started yet: searches arriving now wait for it.
        self._next_read: asyncio.Future[_Generation] | None = None
        self._reading = asyncio.Lock()
        self._reads: set[asyncio.Task[None]] = set()  # kept referenced until done
        self._in_flight: dict[tuple[_Generation, _Key], asyncio.Task[SearchResult]] = {}

    def __len__(self) -> int:
        return len(self._results)

    async def generation(self) -> tuple[str | None] | None:
        """The corpus generation now, for keeping what is made from search results (read as
        `search` reads it, shared by callers arriving together); None when nothing may be kept.
        """
        if self._size <= 0:
            return None
        generation = await self._current_generation()
        if isinstance(generation, _Uncacheable):
            return None
        return (generation,)

    async def search(
        self,
        query: str,
        *,
        topic: str | None = None,
        limit: int = 5,
        offset: int = 0,
        sort: Sort = "relevance",
    ) -> SearchResult:
        """Find articles for a reader's query (see `engine.search`), from memory if known."""
        parsed = parse_query(query)
        if isinstance(parsed, QueryProblem):
            return SearchResult.refused(query, parsed)
        if self._size <= 0:
            return await self._search(parsed, topic, limit, offset, sort)
        generation = await self._current_generation()
        if generation is _UNCACHEABLE:
            return await self._search(parsed, topic, limit, offset, sort)
        key: _Key = (parsed, topic, sort, limit, offset)
        found = self._results.get(generation, key)
        if found is not None:
            return _copy(found)
        # The same page asked for again while it is being searched waits for that search: it
        # began after reading this generation, so it sees every change this caller could.
        flight = self._in_flight.get((generation, key))
        if flight is None:
            flight = asyncio.create_task(self._search(parsed, topic, limit, offset, sort))
            self._in_flight[generation, key] = flight
            flight.add_done_callback(functools.partial(self._landed, generation, key))
        # Shielded: one waiter cancelled must not cancel the search the others wait for.
        return _copy(await asyncio.shield(flight))

    def _landed(
        self, generation: _Generation, key: _Key, flight: asyncio.Task[SearchResult]
    ) -> None:
        del self._in_flight[generation, key]
        if flight.cancelled() or flight.exception() is not None:
            return
        self._results.put(generation, key, _copy(flight.result()))

    async def _search(
        self, parsed: Query, topic: str | None, limit: int, offset: int, sort: Sort
    ) -> SearchResult:
        async with self._readers.reading() as conn:
            return await search_parsed(
                conn, parsed, topic=topic, limit=limit, offset=offset, sort=sort
            )

    async def _current_generation(self) -> _Generation:
        read = self._next_read
        if read is None:
            read = self._next_read = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._read_generation(read))
            self._reads.add(task)
            task.add_done_callback(self._reads.discard)
        # Shielded: one waiter cancelled must not cancel the read the others wait for.
        return await asyncio.shield(read)

    async def _read_generation(self, read: asyncio.Future[_Generation]) -> None:
        try:
            async with self._reading:  # one read at a time: later arrivals wait for the next
                self._next_read = None
                # Not a pool slot: a one-row read should not queue behind whole searches.
                conn = self._readers.lookup()
                if conn.in_transaction:
                    value: _Generation = _UNCACHEABLE
                else:
                    value = await get_meta(conn, GENERATION_KEY)
            read.set_result(value)
        except Exception as exc:
            read.set_exception(exc)
        finally:
            # Cancelled (the loop is closing): the waiters are cancelled, not left waiting.
            if self._next_read is read:
                self._next_read = None
            if not read.done():
                read.cancel()


def _copy(result: SearchResult) -> SearchResult:
    # Callers may change the lists of what they get; the cached result must not follow.
    return dataclasses.replace(result, hits=list(result.hits), suggestions=list(result.suggestions))
