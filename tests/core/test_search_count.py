"""Counting matches stops past the last page that can be shown: on a real corpus of 10,010."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date

import aiosqlite
import pytest
import pytest_asyncio

from bot.core import articles, db
from bot.core.models import ArticleDraft
from bot.core.search import search
from bot.core.search.engine import COUNT_LIMIT, MAX_OFFSET, RANK_WINDOW

pytestmark = pytest.mark.asyncio(loop_scope="module")

MATCHING = COUNT_LIMIT + 10
# Words matching one fewer, as many, and one more article than relevance ranks: below the window
# the count is taken from it, from the window on the matches are counted.
AROUND_THE_WINDOW = {"嘉手納": RANK_WINDOW - 1, "横田": RANK_WINDOW, "岩国": RANK_WINDOW + 1}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def conn(
    tmp_path_factory: pytest.TempPathFactory,
    numbered_reports: Callable[[int], list[ArticleDraft]],
) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path_factory.mktemp("count") / "alliance.db")
    rare = [
        ArticleDraft(
            title=f"普天間 第{n}報",
            body="普天間飛行場の移設。",
            published=date(2001, 1, n + 1),
            date_inferred=False,
            origin="rare.jsonl",
            source=f"rare.jsonl:{n}",
        )
        for n in range(3)
    ]
    around = [
        ArticleDraft(
            title=f"{word}基地 第{n}報",
            body=f"{word}基地の運用。",
            published=date(2002, 1, 1),
            date_inferred=False,
            origin="around.jsonl",
            source=f"around.jsonl:{word}:{n}",
        )
        for word, count in AROUND_THE_WINDOW.items()
        for n in range(count)
    ]
    await articles.ingest(connection, [*numbered_reports(MATCHING), *rare, *around])
    yield connection
    await connection.close()


@pytest.mark.parametrize("sort", ["relevance", "newest"])
async def test_a_common_word_counts_one_past_the_limit(
    conn: aiosqlite.Connection, sort: str
) -> None:
    """10,010 matches are reported as more than 10,000, not counted to the end."""
    result = await search(conn, "防衛", sort=sort)  # type: ignore[arg-type]
    assert (result.total, result.total_exact) == (COUNT_LIMIT + 1, False)
    assert len(result.hits) == 5


@pytest.mark.parametrize("sort", ["relevance", "newest"])
async def test_the_last_page_is_still_there(conn: aiosqlite.Connection, sort: str) -> None:
    """The page at the largest offset still shows its matches, oldest last."""
    result = await search(conn, "防衛", offset=MAX_OFFSET, limit=5, sort=sort)  # type: ignore[arg-type]
    assert [hit.article.title for hit in result.hits] == [
        f"防衛協力 第{n}報" for n in range(MATCHING - MAX_OFFSET - 1, MATCHING - MAX_OFFSET - 6, -1)
    ]


async def test_a_rare_word_is_counted_exactly(conn: aiosqlite.Connection) -> None:
    """Under the limit the total is exact."""
    result = await search(conn, "普天間")
    assert (result.total, result.total_exact) == (3, True)


@pytest.mark.parametrize(("word", "matching"), AROUND_THE_WINDOW.items())
async def test_totals_around_the_ranked_window_are_exact(
    conn: aiosqlite.Connection, word: str, matching: int
) -> None:
    """Just below, at and past the ranked window the total is exact, and the last page is there."""
    first = await search(conn, word)
    last = await search(conn, word, offset=RANK_WINDOW - 5, limit=10)
    assert (first.total, first.total_exact, last.total) == (matching, True, matching)
    assert len(last.hits) == matching - (RANK_WINDOW - 5)
