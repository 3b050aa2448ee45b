"""Pages of results, apart from Discord: what a page shows when the count and rows disagree."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot import pages
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
