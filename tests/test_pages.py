"""Pages of results, apart from Discord: what a page shows when the count and rows disagree,
and how a search is carried in the pager buttons' custom_ids."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot import pages
from bot.core import db, saved_queries
from bot.core.search.engine import SearchResult
from bot.core.topics import load_taxonomy


class _Disagreeing:
    """Search results that count matches but return none, as a write between reads can."""

    def __init__(self) -> None:
        self.pages: list[int] = []

    async def search(self, query: str, **options: Any) -> SearchResult:
        self.pages.append(options["offset"] // pages.PAGE_SIZE)
        return SearchResult(query, total=7)


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
