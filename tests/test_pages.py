"""Pages of results, apart from Discord: what a page shows when the count and rows disagree,
and how a search is carried in the pager buttons' custom_ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import available_timezones

import pytest
import pytest_asyncio

from bot import pages
from bot.core import articles, db, saved_queries
from bot.core.digest import Week
from bot.core.models import ArticleDraft
from bot.core.search import cache as cache_module
from bot.core.search.cache import ResultCache
from bot.core.search.engine import SearchResult
from bot.core.topics import load_taxonomy

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


class _Disagreeing:
    """Search results that count matches but return none, as a write between reads can."""

    def __init__(self) -> None:
        self.pages: list[int] = []

    async def search(self, query: str, **options: Any) -> SearchResult:
        self.pages.append(options["offset"] // pages.PAGE_SIZE)
        return SearchResult(query, total=7)

    async def generation(self) -> None:
        return None  # nothing is kept


async def test_an_empty_last_page_is_shown_once_not_looked_for_again_and_again() -> None:
    """Count 7 but no rows: page 9 falls back to page 1 once, then shows "no results"."""
    results = _Disagreeing()
    bot: Any = SimpleNamespace(results=results, taxonomy=load_taxonomy())
    page = await pages.listing_page(bot, pages.Listing("en", None, "日米"), 9)
    assert results.pages == [9, 1]
    assert page.private
    assert "No articles match" in str(page.embeds[0].description)


async def test_a_query_that_fits_only_in_code_points_is_saved_not_put_in_the_custom_id(
    tmp_path: Path,
) -> None:
    """23 flags: 60 code points with the prefix but 106 UTF-16 units; the buttons carry a key."""
    query = "🇯🇵" * 23
    conn = await db.connect(tmp_path / "a.db")
    try:
        bot: Any = SimpleNamespace(db=conn)
        ids = await pages.pager_ids(bot, pages.Listing("ja", None, query), 0, 1)
        assert [i.partition("#")[0] for i in ids] == ["al:p:ja:0::r:", "al:p:ja:1::r:"]
        saved = await saved_queries.load(conn, ids[0].partition("#")[2])
        assert saved is not None
        assert saved.query == query
        short = await pages.pager_ids(bot, pages.Listing("ja", None, "🇯🇵" * 21), 0)
        assert short == ["al:p:ja:0::r:=" + "🇯🇵" * 21]
    finally:
        await conn.close()


async def test_a_page_size_of_the_newest_rides_in_the_custom_id() -> None:
    """A listing of the newest, 3 a page, carries its size; one of 5 keeps the ids made before
    sizes were, which still read as 5 a page."""
    bot: Any = SimpleNamespace(taxonomy=load_taxonomy())
    sized = pages.Listing("en", "taiwan", size=3)
    ids = await pages.pager_ids(bot, sized, 0, 4)
    assert ids == ["al:p:en:0:taiwan:r:l3", "al:p:en:4:taiwan:r:l3"]
    match = pages._PAGER.fullmatch(ids[1])
    assert match is not None
    assert await pages.parse_pager(bot, match) == (sized, 4)
    assert await pages.pager_ids(bot, pages.Listing("en"), 1) == ["al:p:en:1::r:l"]
    old = pages._PAGER.fullmatch("al:p:en:1::r:l")
    assert old is not None
    assert await pages.parse_pager(bot, old) == (pages.Listing("en", size=pages.PAGE_SIZE), 1)


@pytest_asyncio.fixture
async def seeded_bot(tmp_path: Path) -> AsyncIterator[Any]:
    """What listing pages need of the bot, on a real database of the seeds."""
    path = tmp_path / "alliance.db"
    conn = await db.connect(path)
    await articles.ingest_paths(conn, [SEEDS])
    readers = await db.Readers.open(path, 1, per_connection=2, cache_kib=512)
    yield SimpleNamespace(
        db=conn,
        readers=readers,
        results=ResultCache(readers),
        page_cache=pages.PageCache(size=8),
        taxonomy=load_taxonomy(),
    )
    await readers.close()
    await conn.close()


def test_a_digest_page_with_a_channel_round_trips_within_discords_100_characters() -> None:
    """A digest pager id of the longest zone name, the highest page and a 20-digit channel
    fits a custom_id and names the same page again; one without a channel names none."""
    longest = max(available_timezones(), key=len)
    week = Week(date(2024, 6, 3), longest)
    for wanted in (
        pages.DigestPage(week, "ja", 9999, 2**64 - 1),
        pages.DigestPage(week, "en", 0),
    ):
        assert len(wanted.custom_id) <= 100
        match = pages._DIGEST_PAGER.fullmatch(wanted.custom_id)
        assert match is not None
        assert pages.parse_digest_pager(match) == wanted


async def test_a_page_shown_again_is_kept_with_a_view_of_its_own(seeded_bot: Any) -> None:
    """The same page again reuses its embeds, but each message gets its own View and items."""
    listing = pages.Listing("ja", None, "日米")
    first = await pages.listing_page(seeded_bot, listing, 0)
    again = await pages.listing_page(seeded_bot, listing, 0)
    assert len(seeded_bot.page_cache) == 1
    assert again.embeds[0] is first.embeds[0]
    assert first.view is not None
    assert again.view is not None
    assert again.view is not first.view
    assert not set(map(id, again.view.children)) & set(map(id, first.view.children))
    assert again.view.to_components() == first.view.to_components()
    first.private = True  # what `answer` does to a page it makes private
    assert not (await pages.listing_page(seeded_bot, listing, 0)).private


async def test_a_kept_page_is_made_again_once_the_corpus_changes(seeded_bot: Any) -> None:
    """After an import the page is searched and rendered again and shows the new article."""
    listing = pages.Listing("en", None, "ヘグセス", "newest")
    before = await pages.listing_page(seeded_bot, listing, 0)
    draft = ArticleDraft(
        title="ヘグセス国防長官が来日（速報）",
        body="ヘグセス国防長官が来日し、防衛相と会談した。",
        published=date(2027, 1, 5),
        date_inferred=False,
        origin="pages.jsonl",
        source="pages.jsonl:1",
    )
    await articles.ingest(seeded_bot.db, [draft])
    after = await pages.listing_page(seeded_bot, listing, 0)
    assert after.embeds[0] is not before.embeds[0]
    assert "（速報）" in str(after.embeds[0].to_dict())
    assert "（速報）" not in str(before.embeds[0].to_dict())


def test_page_cache_keeps_one_generation_and_its_newest_pages() -> None:
    """Pages of another generation are dropped; past `size`, the least recent goes first."""
    cache = pages.PageCache(size=2)
    shown = [pages._Shown("ja", content=f"page {n}") for n in range(3)]
    keys = [(pages.Listing("ja", None, f"q{n}"), 0) for n in range(3)]
    assert cache.get(("g1",), keys[0]) is None
    for key, page in zip(keys, shown, strict=True):
        cache.put(("g1",), key, page)
    assert cache.get(("g1",), keys[0]) is None  # evicted by the third
    assert cache.get(("g1",), keys[2]) is shown[2]
    cache.put(("g0",), keys[0], shown[0])  # made before a newer generation was seen: refused
    assert cache.get(("g1",), keys[0]) is None
    assert cache.get(("g2",), keys[2]) is None  # a new generation starts empty
    assert len(cache) == 0
    nothing = pages.PageCache(size=0)
    assert nothing.get(("g1",), keys[0]) is None
    nothing.put(("g1",), keys[0], shown[0])
    assert nothing.get(("g1",), keys[0]) is None


def test_a_kept_page_is_made_again_after_its_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `max_age` a page is not shown again (making it refreshes its saved search)."""
    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    cache = pages.PageCache(size=4, max_age=60)
    key = (pages.Listing("ja", None, "核"), 0)
    shown = pages._Shown("ja", content="核")
    assert cache.get(("g",), key) is None
    cache.put(("g",), key, shown)
    clock[0] += 60
    assert cache.get(("g",), key) is shown
    clock[0] += 61
    assert cache.get(("g",), key) is None
    assert len(cache) == 0
