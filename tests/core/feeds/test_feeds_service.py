"""Fetch and store end to end: loopback server, real SQLite file, the search index."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import aiosqlite
import pytest
from feedkit import DATA, TOKYO, FeedServer, Item, Route, rss

from bot.core import articles
from bot.core.feeds.service import FeedService
from bot.core.search import search

pytestmark = pytest.mark.filterwarnings("error")

NOW = datetime.now(UTC).replace(microsecond=0)


async def follow(
    service: FeedService,
    server: FeedServer,
    path: str,
    body: bytes,
    *,
    kind: str = "alliance",
    name: str | None = None,
    content_type: str = "application/rss+xml",
    etag: str | None = None,
) -> str:
    server.routes[path] = Route(body=body, content_type=content_type, etag=etag)
    feed = await service.add_feed(server.url(path), kind=kind, name=name, allow_private=True)
    return feed.url


def story(n: int, *, days_ago: int = 1, guid: str | None = None, link: str | None = None) -> Item:
    return Item(
        title=f"日米防衛当局が第{n}回の実務者協議",
        body=f"日米の防衛当局は第{n}回の実務者協議を開き、共同訓練の計画や装備の共同生産、"
        f"在日米軍の態勢について意見を交わした。議題{n}は次回も継続する。",
        link=link or f"https://t.example.jp/story/{n}",
        guid=guid or f"story-{n}",
        published=NOW - timedelta(days=days_ago),
    )


async def test_rss_atom_and_rdf_become_tagged_searchable_articles(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """Entries of RSS 2.0, Atom and RDF feeds are stored, topic-tagged and found by search."""
    for name in ("rss2", "atom", "rdf"):
        await follow(service, server, f"/{name}", (DATA / f"{name}.xml").read_bytes(), name=name)
    outcomes = await service.fetch_all()
    assert [o.report.new if o.report else None for o in outcomes] == [3, 2, 2]
    assert await articles.count_articles(conn) == 7

    result = await search(conn, "普天間")
    assert [h.article.url for h in result.hits] == ["https://news.example.jp/articles/1003"]
    assert result.hits[0].article.source == "rss2"
    found = (await search(conn, "共同訓練")).hits[0].article
    assert found.title == "日米防衛相会談、共同訓練の拡大で一致"
    assert "exercises" in found.topics


async def test_japanese_encodings_over_http(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A Shift_JIS feed (declared in XML) and an EUC-JP one (HTTP charset) store clean text."""
    await follow(
        service, server, "/sjis", (DATA / "sjis.xml").read_bytes(), content_type="text/xml"
    )
    euc = (DATA / "eucjp.xml").read_bytes()
    await follow(service, server, "/euc", euc, content_type="text/xml; charset=EUC-JP")
    await service.fetch_all()
    titles = {a.title for a in await articles.latest(conn)}
    assert titles == {"①髙田防衛相、在日米軍基地を視察", "岩国基地の米海兵隊、艦載機の訓練を縮小"}


async def test_feed_rewriting_dates_stores_nothing_new(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """Refetching a feed whose entries got new dates adds nothing and keeps the first dates."""
    url = await follow(service, server, "/rewrite", rss([story(1), story(2), story(3)]))
    await service.fetch_feed(url)
    before = {a.id: a.published for a in await articles.latest(conn)}
    later = [story(n, days_ago=-0) for n in (1, 2, 3)]  # every pubDate rewritten to now
    server.routes["/rewrite"].body = rss(later)
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.unchanged) == (0, 3)
    assert {a.id: a.published for a in await articles.latest(conn)} == before


async def test_new_guid_with_known_link_is_a_duplicate(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """An entry whose GUID changed but whose link is known is not stored again."""
    url = await follow(service, server, "/guid", rss([story(1)]))
    await service.fetch_feed(url)
    server.routes["/guid"].body = rss([story(1, guid="regenerated-guid-1")])
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.duplicates) == (0, 1)
    assert await articles.count_articles(conn) == 1


async def test_same_story_in_two_feeds_is_stored_once(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A near-identical story with another GUID and link in a second feed is stored once."""
    first = story(7)
    copy = Item(
        title="【速報】" + first.title,
        body=first.body + "（共同）",
        link="https://other.example.jp/news/abc",
        guid="other-7",
        published=first.published,
    )
    url_a = await follow(service, server, "/a", rss([first]), name="A")
    url_b = await follow(service, server, "/b", rss([copy, story(8)]), name="B")
    await service.fetch_feed(url_a)
    outcome = await service.fetch_feed(url_b)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.duplicates) == (1, 1)
    assert await articles.count_articles(conn) == 2
    statuses = {s.config.url: s for s in await service.list_feeds()}
    assert statuses[url_b].state is not None
    assert statuses[url_b].state.articles == 2  # both of B's entries link to an article


async def test_edited_entry_updates_in_place(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A known entry whose text was corrected updates its article, keeping id and date."""
    url = await follow(service, server, "/edit", rss([story(4, days_ago=3)]))
    await service.fetch_feed(url)
    (original,) = await articles.latest(conn)
    fixed = story(4, days_ago=0)
    fixed = Item(fixed.title, fixed.body.replace("意見を交わした", "意見を交換した"), fixed.link,
                 fixed.guid, fixed.published)  # fmt: skip
    server.routes["/edit"].body = rss([fixed])
    outcome = await service.fetch_feed(url)
    (updated,) = await articles.latest(conn)
    assert outcome.report is not None
    assert outcome.report.edited == 1
    assert updated.id == original.id
    assert "意見を交換した" in updated.body
    assert updated.published == original.published


@pytest.mark.parametrize("corrected", [True, False])
async def test_an_edited_entry_at_a_new_link_updates_in_place(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection, corrected: bool
) -> None:
    """A known entry (its GUID) moved to another link (a new slug), corrected or word for word,
    updates its article, keeping its date: the GUID says which article it is, where another
    link alone would not."""
    first = story(7, days_ago=3)
    url = await follow(service, server, "/moved", rss([first]))
    await service.fetch_feed(url)
    (original,) = await articles.latest(conn)
    body = first.body.replace("意見を交わした", "意見を交換した") if corrected else first.body
    moved = Item(first.title, body, first.link + "-revised", first.guid, NOW)
    server.routes["/moved"].body = rss([moved])
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.edited) == (0, 1)
    (updated,) = await articles.latest(conn)
    assert (updated.id, updated.body, updated.url) == (original.id, body, moved.link)
    assert updated.published == original.published


async def test_entry_rewritten_whole_updates_in_place(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A known entry whose teaser became the full story (little alike) updates its article."""
    teaser = story(5, days_ago=2)
    url = await follow(service, server, "/teaser", rss([teaser]))
    await service.fetch_feed(url)
    (original,) = await articles.latest(conn)
    more = "".join(
        f"協議{n}では、共同訓練の日程や費用の分担、基地周辺の騒音対策を詰めた。" for n in range(12)
    )
    full = teaser.body + more  # the teaser's lead, then the rest of the story
    rewritten = Item(teaser.title, full, teaser.link, teaser.guid, teaser.published)
    server.routes["/teaser"].body = rss([rewritten])
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.edited) == (0, 1)
    (updated,) = await articles.latest(conn)
    assert (updated.id, updated.body) == (original.id, full)
    assert [h.article.id for h in (await search(conn, "騒音対策")).hits] == [original.id]


async def test_a_guid_reused_for_another_story_keeps_the_first(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A feed that gives a known GUID to another story stores it beside the first, which
    stays as it was, and dated as the feed dates it, not as the first story."""
    first = story(6, days_ago=20)
    url = await follow(service, server, "/slot", rss([first]))
    await service.fetch_feed(url)
    body = "岩国基地に所属する米海兵隊は、夜間の艦載機訓練を来月から縮小すると発表した。"
    other = Item("岩国基地の米海兵隊、艦載機の訓練を縮小", body, first.link, first.guid, NOW)
    server.routes["/slot"].body = rss([other])
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.edited) == (1, 0)
    dates = {a.body: a.published for a in await articles.latest(conn)}
    assert dates == {
        first.body: (NOW - timedelta(days=20)).astimezone(TOKYO).date(),
        other.body: NOW.astimezone(TOKYO).date(),
    }


async def test_entries_without_guid_sharing_one_link_are_stored_apart(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """Items without a GUID that all link to one index page are each stored, once."""
    index = "https://t.example.jp/news/"

    def item(n: int, days_ago: int) -> Item:
        return dataclasses.replace(story(n, days_ago=days_ago), guid=None, link=index)

    items = [item(n, n) for n in (1, 2, 3)]
    url = await follow(service, server, "/index", rss(items))
    first = await service.fetch_feed(url)
    assert first.report is not None
    assert (first.report.new, first.report.duplicates) == (3, 0)
    newer = item(9, 0)
    server.routes["/index"].body = rss([newer, *items, items[0]])
    second = await service.fetch_feed(url)
    assert second.report is not None
    assert (second.report.new, second.report.unchanged, second.report.duplicates) == (1, 3, 1)
    stored = await articles.latest(conn)
    assert sorted(a.title for a in stored) == sorted(i.title for i in [newer, *items])
    assert {a.url for a in stored} == {index}


async def test_general_feed_keeps_only_alliance_entries(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A general feed stores the alliance stories and drops sports, weather and ramen."""
    url = await follow(service, server, "/g", (DATA / "general.xml").read_bytes(), kind="general")
    outcome = await service.fetch_feed(url)
    assert outcome.report is not None
    assert (outcome.report.new, outcome.report.filtered) == (2, 3)
    titles = {a.title for a in await articles.latest(conn)}
    assert titles == {"在日米軍と自衛隊、共同訓練を公開", "トランプ大統領、半導体に追加関税を表明"}


async def test_not_modified_sends_validators_and_stores_nothing(
    service: FeedService, server: FeedServer
) -> None:
    """The second fetch sends If-None-Match, gets 304 and counts as a successful fetch."""
    url = await follow(service, server, "/etag", rss([story(1)]), etag='"v1"')
    await service.fetch_feed(url)
    outcome = await service.fetch_feed(url)
    assert outcome.not_modified
    assert outcome.ok
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    (status,) = await service.list_feeds()
    assert status.state is not None
    assert status.state.last_error is None
    assert status.state.etag == '"v1"'


async def test_server_error_is_recorded_and_backed_off(
    service: FeedService, server: FeedServer
) -> None:
    """A 500 is recorded as the feed's error; scheduled runs then wait, the feed stays listed."""
    url = await follow(service, server, "/boom", b"")
    server.routes["/boom"].status = 500
    outcome = await service.fetch_feed(url)
    assert outcome.error is not None
    assert "HTTP 500" in outcome.error
    (status,) = await service.list_feeds()
    assert status.state is not None
    assert status.state.failing_since is not None
    assert status.state.retry_after is not None
    assert status.state.retry_after > datetime.now(UTC)
    assert not status.flagged
    skipped = await service.fetch_feed(url, respect_backoff=True)
    assert skipped.skipped
    assert server.hits("/boom") == 1


@pytest.mark.parametrize("retry_after", ["99999999999999999", "9" * 400, "²", "soon"])
async def test_an_outlandish_retry_after_is_capped_or_ignored(
    service: FeedService, server: FeedServer, retry_after: str
) -> None:
    """A 503 whose Retry-After is huge, or not a number at all, is recorded as the feed's
    error, and the feed waits at most a day; the run goes on."""
    url = await follow(service, server, "/busy", b"")
    server.routes["/busy"].status = 503
    server.routes["/busy"].headers = {"Retry-After": retry_after}
    outcome = await service.fetch_feed(url)
    assert outcome.error is not None
    assert "HTTP 503" in outcome.error
    (status,) = await service.list_feeds()
    assert status.state is not None
    assert status.state.retry_after is not None
    assert status.state.retry_after <= datetime.now(UTC) + timedelta(hours=24)


async def test_feed_failing_for_a_day_is_flagged_and_logged(
    service: FeedService,
    server: FeedServer,
    conn: aiosqlite.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After 24 h of failures the feed is flagged in the list and each failure logs an error."""
    url = await follow(service, server, "/down", b"")
    server.routes["/down"].status = 503
    await service.fetch_feed(url)
    long_ago = (datetime.now(UTC) - timedelta(hours=25)).isoformat(timespec="seconds")
    await conn.execute("UPDATE feeds SET failing_since = ? WHERE url = ?", (long_ago, url))
    with caplog.at_level(logging.WARNING, logger="bot.core.feeds.service"):
        await service.fetch_feed(url)
    (status,) = await service.list_feeds()
    assert status.flagged
    assert status.to_json()["flagged"] is True
    assert any(r.levelno == logging.ERROR and "failing since" in r.message for r in caplog.records)


async def test_timeout_is_an_error(service: FeedService, server: FeedServer) -> None:
    """A server slower than the timeout fails the fetch with a timeout error."""
    url = await follow(service, server, "/slow", rss([story(1)]))
    server.routes["/slow"].delay = 0.6
    service.fetcher.timeout = 0.2
    await service.fetcher.close()  # the session carries the timeout: make a new one
    outcome = await service.fetch_feed(url)
    assert outcome.error is not None
    assert "timed out" in outcome.error


async def test_50_mb_response_stops_at_the_size_cap(
    service: FeedService, server: FeedServer
) -> None:
    """A 50 MB streamed response is abandoned at the cap, long before the server sent it all."""
    url = await follow(service, server, "/huge", b"")
    server.routes["/huge"].stream_bytes = 50 * 1024 * 1024
    outcome = await service.fetch_feed(url)
    assert outcome.error is not None
    assert "too large" in outcome.error
    assert server.streamed < 25 * 1024 * 1024


async def test_a_failure_the_database_cannot_record_loses_no_other_outcome(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """When recording one feed's failure fails too (here a trigger stands for a full disk),
    that feed's outcome is an internal error and the other feeds' outcomes are still returned."""
    good = await follow(service, server, "/good", rss([story(1)]))
    page = await follow(service, server, "/page", b"<html><body>Maintenance</body></html>")
    await conn.execute(
        """
        CREATE TEMP TRIGGER no_room BEFORE UPDATE OF last_error ON feeds
         WHEN NEW.last_error IS NOT NULL BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
        """
    )
    outcomes = {o.url: o for o in await service.fetch_all()}
    assert outcomes[good].report is not None
    assert outcomes[good].report.new == 1
    assert outcomes[page].error is not None
    assert "database or disk is full" in outcomes[page].error


async def test_malformed_feeds(
    service: FeedService, server: FeedServer, conn: aiosqlite.Connection
) -> None:
    """A truncated feed stores what it can; an HTML error page is a recorded parse error."""
    broken = await follow(service, server, "/broken", (DATA / "malformed.xml").read_bytes())
    page = await follow(service, server, "/page", b"<html><body>Maintenance</body></html>")
    outcomes = {o.url: o for o in await service.fetch_all()}
    assert outcomes[broken].report is not None
    assert outcomes[broken].report.new == 1
    assert outcomes[broken].problems
    assert outcomes[page].error is not None
    statuses = {s.config.url: s for s in await service.list_feeds()}
    assert statuses[page].state is not None
    assert statuses[page].state.last_error == outcomes[page].error
