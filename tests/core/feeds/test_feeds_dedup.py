"""The near-duplicate rule on its own, and the recent-article index a run of fetches shares."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from feedkit import TOKYO, FeedServer, Item, Route, rss

from bot.core import articles, db
from bot.core.feeds.dedup import NearIndex, RecentArticles
from bot.core.feeds.fetch import Fetcher
from bot.core.feeds.service import FeedService
from bot.core.models import ArticleDraft

BODY = "防衛相は米国防長官と会談し、日米の共同訓練を南西諸島で拡大することで一致した。"
TITLE = "日米防衛相会談、共同訓練の拡大で一致"
TODAY = datetime.now(UTC).date()


def test_near_identical_story_is_found() -> None:
    """A headline prefix and a wire credit do not make a new story."""
    index = NearIndex()
    index.add(11, TITLE, BODY)
    assert index.find("【速報】" + TITLE, BODY + "（共同）") == 11


def test_sibling_stories_stay_apart() -> None:
    """Stories differing in their numbers, or in most of their text, are not duplicates."""
    index = NearIndex()
    index.add(1, "北朝鮮が弾道ミサイル2発を発射", "防衛省によると、2発は日本海に落下した。")
    three = index.find("北朝鮮が弾道ミサイル3発を発射", "防衛省によると、3発は日本海に落下した。")
    assert three is None
    assert index.find("北朝鮮が弾道ミサイル2発を発射", "米韓は共同声明で強く非難した。" * 3) is None


def test_find_sees_only_the_given_days() -> None:
    """Limited to a range of days, the index answers as if it held nothing else."""
    index = NearIndex()
    for ident in range(1000, 1401):  # 401 copies: every bigram of the title is too common
        index.add(ident, TITLE, BODY, day=0)
    index.add(7, TITLE, BODY, day=100)
    assert index.find(TITLE, BODY) is None
    assert index.find(TITLE, BODY, days=(93, 107)) == 7
    assert index.find(TITLE, BODY, days=(101, 120)) is None


def test_removed_and_replaced_stories() -> None:
    """A story added again under its id replaces the old text; a removed one is not found."""
    index = NearIndex()
    old = ("北朝鮮が弾道ミサイル2発を発射", "防衛省によると、2発は日本海に落下した。")
    index.add(5, *old)
    index.add(5, TITLE, BODY, day=3)
    assert index.find(*old) is None
    assert index.find(TITLE, BODY) == 5
    index.remove(5)
    assert (index.find(TITLE, BODY), len(index), 5 in index) == (None, 0, False)


async def test_recent_articles_see_other_connections_commits(
    tmp_path: Path, conn: aiosqlite.Connection
) -> None:
    """An article another connection stores during a run is matched, not missed by the index."""
    recent = RecentArticles()
    days = await recent.cover(conn, [TODAY])
    assert len(recent.index) == 0
    other = await db.connect(tmp_path / "alliance.db")
    try:
        draft = ArticleDraft(TITLE, BODY, TODAY, False, "other.txt", "other.txt:1")
        await articles.ingest(other, [draft])
    finally:
        await other.close()
    assert await recent.cover(conn, [TODAY]) == days
    found = recent.index.find("【速報】" + TITLE, BODY + "（共同）", days)
    assert found is not None
    article = await articles.get_article(conn, found)
    assert article is not None
    assert article.title == TITLE


def story(n: int, published: date, *, copy: str = "") -> Item:
    """Story `n`, or a wire copy of it (named `copy`) under another GUID and link."""
    title = f"日米防衛当局が第{n}回の実務者協議"
    body = f"日米の防衛当局は第{n}回の実務者協議を開き、共同訓練の計画について意見を交わした。"
    moment = datetime(published.year, published.month, published.day, 9, tzinfo=TOKYO)
    return Item(
        title=f"【速報】{title}" if copy else title,
        body=f"{body}（共同）" if copy else body,
        link=f"https://t.example.jp/{copy or 'story'}/{n}",
        guid=f"{copy or 'story'}-{n}",
        published=moment,
    )


async def test_a_shared_index_stores_what_fresh_ones_do(
    tmp_path: Path, service: FeedService, server: FeedServer
) -> None:
    """Feeds fetched with one index for the run store the same articles as with one per feed."""
    start = TODAY - timedelta(days=40)
    feeds: list[list[Item]] = [[story(n, start + timedelta(days=n % 2)) for n in range(30)]]
    for shift in (3, 10, -5):  # copies within the 7-day window are duplicates, others are not
        shifted = [start + timedelta(days=n % 2 + shift) for n in range(30)]
        feeds.append([story(n, day, copy=f"copy{shift}") for n, day in enumerate(shifted)])
    for number, items in enumerate(feeds):
        server.routes[f"/{number}"] = Route(body=rss(items))
    other_db = await db.connect(tmp_path / "fresh" / "alliance.db")
    fresh = FeedService(other_db, feeds_file=tmp_path / "none.toml", tz=TOKYO,
                        fetcher=Fetcher(spacing=0.0))  # fmt: skip
    shared = RecentArticles()
    try:
        reports = []
        for number in range(len(feeds)):
            url = server.url(f"/{number}")
            for each in (service, fresh):
                await each.add_feed(url, allow_private=True)
            one = await service.fetch_feed(url, recent=shared)
            alone = await fresh.fetch_feed(url)
            assert one.report is not None
            assert alone.report is not None
            reports.append(((one.report.new, one.report.duplicates), (alone.report.new,
                            alone.report.duplicates)))  # fmt: skip
        query = "SELECT title, published FROM articles ORDER BY title, published"
        stored = list(await service.db.execute_fetchall(query))
        assert stored == list(await other_db.execute_fetchall(query))
    finally:
        await fresh.stop()
        await other_db.close()
    assert [one for one, _ in reports] == [alone for _, alone in reports]
    assert [one for one, _ in reports] == [(30, 0), (0, 30), (30, 0), (0, 30)]
    assert len(stored) == 60


async def test_a_batch_years_apart_indexes_the_articles_between_off_the_event_loop(
    conn: aiosqlite.Connection,
    numbered_reports: Callable[[int], list[ArticleDraft]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries dated years apart cover the 2,501 articles between them, indexed in a worker
    thread (40,000 held the event loop 1.6 s), and one of them is found repeated."""
    old = ArticleDraft(TITLE, BODY, date(2003, 3, 3), False, "old.txt", "old.txt:1")
    await articles.ingest(conn, [*numbered_reports(2_500), old])  # one a day from 2000-01-01
    on_the_loop: list[bool] = []
    add = NearIndex.add

    def watched(self: NearIndex, ident: int, title: str, body: str, day: int = 0) -> None:
        on_the_loop.append(threading.current_thread() is threading.main_thread())
        add(self, ident, title, body, day)

    monkeypatch.setattr(NearIndex, "add", watched)
    recent = RecentArticles()
    days = await recent.cover(conn, [date(2000, 1, 1), TODAY])
    assert (len(recent.index), len(on_the_loop)) == (2_501, 2_501)
    assert not any(on_the_loop)
    found = recent.index.find("【速報】" + TITLE, BODY + "（共同）", days)
    assert found is not None
    article = await articles.get_article(conn, found)
    assert article is not None
    assert article.published == date(2003, 3, 3)
