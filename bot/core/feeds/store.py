"""The feeds' tables: each feed's status, feeds added at runtime, and entries to articles.

`store_entries` turns a fetched feed's entries into articles: filter (general feeds), dedup
(see `bot.core.feeds.dedup`), then the one ingest path of the corpus, `articles.plan_ingest`
and `articles.apply_ingest`, so new articles are tagged with topics and searchable as soon as it
returns. Everything but the writes runs before the write lock is taken.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import aiosqlite

from bot.core import articles
from bot.core.db import transaction
from bot.core.feeds import dedup
from bot.core.feeds.config import FeedConfig, FeedConfigError, check_kind
from bot.core.feeds.filter import keep_entry
from bot.core.feeds.parse import FeedEntry, entry_draft
from bot.core.feeds.reasons import FeedError, Param, Reason
from bot.core.models import ArticleDraft
from bot.core.search.index import Analyses
from bot.core.topics import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

# A feed failing this long is flagged in `feeds list` and logged as an error on every failure.
FLAG_AFTER = timedelta(hours=24)
# Matching more (pool articles × entries) than this runs in a worker thread, off the event loop.
_THREAD_WORK = 20_000


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the database knows about a feed's fetches."""

    id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_at: datetime | None = None
    last_error: str | None = None  # in English
    error_reason: Reason | None = None  # the same error as a code, None before migration 0006
    error_params: dict[str, Param] = field(default_factory=dict)
    failing_since: datetime | None = None
    failures: int = 0
    retry_after: datetime | None = None
    articles: int = 0  # entries of this feed stored (new or matched to an existing article)

    def flagged(self, now: datetime) -> bool:
        """True when the feed has been failing for `FLAG_AFTER` or longer."""
        return self.failing_since is not None and now - self.failing_since >= FLAG_AFTER


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _moment(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


_STATE_QUERY = """
    SELECT f.id, f.url, f.etag, f.last_modified, f.last_fetch_at, f.last_success_at,
           f.last_new_at, f.last_error, f.failing_since, f.failures, f.retry_after,
           (SELECT count(*) FROM feed_entries AS e WHERE e.feed_id = f.id),
           f.last_error_code, f.last_error_params
      FROM feeds AS f
"""


def _reason(code: object) -> Reason | None:
    try:
        return None if code is None else Reason(str(code))
    except ValueError:
        return None  # written by a newer version: the English text is shown instead


def _params(raw: object) -> dict[str, Param]:
    loaded = json.loads(str(raw)) if raw is not None else {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): v for k, v in loaded.items() if isinstance(v, str | int)}


def _state(row: Sequence[object]) -> FeedState:
    return FeedState(
        id=int(str(row[0])),
        url=str(row[1]),
        etag=_text(row[2]),
        last_modified=_text(row[3]),
        last_fetch_at=_moment(row[4]),
        last_success_at=_moment(row[5]),
        last_new_at=_moment(row[6]),
        last_error=_text(row[7]),
        failing_since=_moment(row[8]),
        failures=int(str(row[9])),
        retry_after=_moment(row[10]),
        articles=int(str(row[11])),
        error_reason=_reason(row[12]),
        error_params=_params(row[13]),
    )


async def ensure_feed(db: aiosqlite.Connection, url: str) -> int:
    """The id of the feed with this canonical URL, creating its row when new."""
    await db.execute("INSERT INTO feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING", (url,))
    rows = await db.execute_fetchall("SELECT id FROM feeds WHERE url = ?", (url,))
    return int(next(iter(rows))[0])


async def get_state(db: aiosqlite.Connection, url: str) -> FeedState | None:
    """A feed's fetch status, or None when it was never followed."""
    rows = list(await db.execute_fetchall(_STATE_QUERY + " WHERE f.url = ?", (url,)))
    return _state(rows[0]) if rows else None


async def all_states(db: aiosqlite.Connection) -> dict[str, FeedState]:
    """Every feed's fetch status, by URL."""
    rows = await db.execute_fetchall(_STATE_QUERY)
    return {str(row[1]): _state(row) for row in rows}


# --- feeds added at runtime --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeFeed:
    """A feed added at runtime, and whether it may be fetched from the local network."""

    config: FeedConfig
    allow_private: bool  # added by the operator at the terminal, not from Discord


async def runtime_feeds(db: aiosqlite.Connection) -> list[RuntimeFeed]:
    """Feeds added at runtime, oldest first."""
    query = """
        SELECT f.url, r.name, r.interval_min, r.kind, r.allow_private
          FROM runtime_feeds AS r JOIN feeds AS f ON f.id = r.feed_id
         ORDER BY r.added_at, f.id
    """
    rows = await db.execute_fetchall(query)
    return [
        RuntimeFeed(
            FeedConfig(url=str(u), name=_text(n), interval=int(i), kind=check_kind(k)), bool(p)
        )
        for u, n, i, k, p in rows
    ]


async def add_runtime_feed(
    db: aiosqlite.Connection, feed: FeedConfig, *, allow_private: bool
) -> None:
    """Store a feed added at runtime; refuses one already added.

    `allow_private` lets it be fetched from loopback and private addresses: only for feeds the
    operator adds, never for those added from Discord.
    """
    async with transaction(db):
        feed_id = await ensure_feed(db, feed.url)
        query = """
            INSERT INTO runtime_feeds (feed_id, name, interval_min, kind, allow_private)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (feed_id) DO NOTHING
        """
        params = (feed_id, feed.name, feed.interval, feed.kind, int(allow_private))
        cursor = await db.execute(query, params)
        if cursor.rowcount == 0:
            raise FeedConfigError(Reason.ALREADY_ADDED, url=feed.url)


async def remove_runtime_feed(db: aiosqlite.Connection, url: str) -> bool:
    """Stop following a feed added at runtime; False when there is none with this URL.

    The feed's row and its entries stay, so following it again later imports nothing twice.
    """
    async with transaction(db):
        query = "DELETE FROM runtime_feeds WHERE feed_id = (SELECT id FROM feeds WHERE url = ?)"
        cursor = await db.execute(query, (url,))
        return cursor.rowcount > 0


# --- status ------------------------------------------------------------------------------------


async def record_success(
    db: aiosqlite.Connection,
    feed_id: int,
    *,
    at: datetime,
    etag: str | None,
    last_modified: str | None,
    new_articles: int,
) -> None:
    """A fetch worked: keep its validators, clear the error and the backoff."""
    query = """
        UPDATE feeds
           SET etag = ?, last_modified = ?, last_fetch_at = ?, last_success_at = ?,
               last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,
               last_error = NULL, last_error_code = NULL, last_error_params = NULL,
               failing_since = NULL, failures = 0, retry_after = NULL
         WHERE id = ?
    """
    stamp = _stamp(at)
    async with transaction(db):
        await db.execute(query, (etag, last_modified, stamp, stamp, new_articles, stamp, feed_id))


async def record_failure(
    db: aiosqlite.Connection, feed_id: int, *, at: datetime, error: FeedError, retry_after: datetime
) -> None:
    """A fetch failed: keep the error, start or continue the failing run, set the backoff."""
    query = """
        UPDATE feeds
           SET last_fetch_at = ?, last_error = ?, last_error_code = ?, last_error_params = ?,
               failing_since = coalesce(failing_since, ?), failures = failures + 1,
               retry_after = ?
         WHERE id = ?
    """
    stamp = _stamp(at)
    # Parameters are clipped like the text: a server's error detail can be long.
    params = {k: v[:300] if isinstance(v, str) else v for k, v in error.params.items()}
    values = (
        stamp,
        str(error)[:500],
        error.reason.value,
        json.dumps(params, ensure_ascii=False),
        stamp,
        _stamp(retry_after),
        feed_id,
    )
    async with transaction(db):
        await db.execute(query, values)


# --- entries -----------------------------------------------------------------------------------


@dataclass(slots=True)
class StoreReport:
    """What storing one fetch's entries did."""

    new: int = 0
    edited: int = 0
    duplicates: int = 0  # the story was already stored (from this feed or another)
    unchanged: int = 0  # entries this feed delivered before, as they were
    filtered: int = 0  # entries of a general feed not about the alliance
    new_ids: list[int] = field(default_factory=list)
    dedup_seconds: float = 0.0  # matching entries to stored stories (no write lock)
    prepare_seconds: float = 0.0  # tagging, edits and search-index analysis (no write lock)
    ingest_seconds: float = 0.0  # the write transaction
    replanned: bool = False  # the articles changed meanwhile: decided again under the lock


Link = tuple[str, str | None, int]  # (entry key, entry URL, article id)


@dataclass(slots=True)
class _Plan:
    """A fetch's entries matched and prepared without the write lock; what it read, to check."""

    generation: str | None  # the corpus generation every decision below rests on
    keys: list[str]
    known: dict[str, dedup.Known]
    urls: list[str]
    by_url: dict[str, int]
    links: list[Link] = field(default_factory=list)  # entries that are stored articles
    to_ingest: list[tuple[FeedEntry, ArticleDraft]] = field(default_factory=list)
    batch_copies: list[tuple[FeedEntry, int]] = field(default_factory=list)  # index in to_ingest
    duplicates: int = 0
    unchanged: int = 0
    ingest: articles.IngestPlan | None = None
    dedup_seconds: float = 0.0


async def store_entries(
    db: aiosqlite.Connection,
    feed: FeedConfig,
    feed_id: int,
    entries: Sequence[FeedEntry],
    *,
    fetched_at: datetime,
    tz: tzinfo,
    taxonomy: Taxonomy | None = None,
    recent: dedup.RecentArticles | None = None,
) -> StoreReport:
    """Store a fetch's entries once each; new articles are tagged and indexed on return.

    Entries are matched to stored stories and new text is analyzed before the write lock; the
    one write transaction first checks that what the matching read is unchanged (the corpus
    generation, this feed's entries, the links' URLs) and matches again under the lock when
    it is not, so a story another process stored meanwhile is still stored once. New articles
    and the entries' links are committed together.

    `recent` is the near-duplicate index shared by the fetches of one run (a new one when
    None). Not safe to run twice at once on one connection (`recent` is changed): callers
    serialize it, as `FeedService` does.
    """
    taxonomy = taxonomy or load_taxonomy()
    recent = recent or dedup.RecentArticles()
    report = StoreReport()

    def draft(entry: FeedEntry) -> ArticleDraft:
        return entry_draft(
            entry, feed_url=feed.url, source=feed.display_name, tz=tz, fetched_at=fetched_at
        )

    kept: list[FeedEntry] = []
    keys: set[str] = set()
    for entry in entries:
        if not keep_entry(feed.kind, entry.title, entry.body, taxonomy):
            report.filtered += 1
        elif entry.key in keys:
            report.duplicates += 1  # the same entry twice in one document
        else:
            keys.add(entry.key)
            kept.append(entry)

    async with articles.exclusive(db):
        try:
            plan = await _plan(db, feed_id, kept, draft, recent)
            report.dedup_seconds = plan.dedup_seconds
            report.prepare_seconds = plan.ingest.prepare_seconds if plan.ingest else 0.0
            if not plan.links and not plan.to_ingest:
                report.duplicates += plan.duplicates
                report.unchanged += plan.unchanged
                return report
            started = time.perf_counter()
            async with transaction(db):
                if not await _still_current(db, feed_id, plan):
                    log.info("feed %s: the articles changed meanwhile; matching again", feed.url)
                    report.replanned = True
                    analyses = plan.ingest.analyses if plan.ingest else None
                    plan = await _plan(db, feed_id, kept, draft, recent, analyses)
                stored = await _write(db, feed_id, plan, report)
            report.ingest_seconds = time.perf_counter() - started
            await recent.refresh(db, stored)
        except BaseException:
            recent.forget()  # whatever was stored or rolled back, the index may not show it
            raise
    return report


async def _plan(
    db: aiosqlite.Connection,
    feed_id: int,
    kept: Sequence[FeedEntry],
    draft: Callable[[FeedEntry], ArticleDraft],
    recent: dedup.RecentArticles,
    analyses: Analyses | None = None,
) -> _Plan:
    """Match entries to stored stories (GUID, URL, text) and prepare the new ones' ingest
    (`analyses`: those an earlier plan made)."""
    started = time.perf_counter()
    # Read first: every read below then sees this generation's articles, or a later one's,
    # which `_still_current` finds out.
    generation = await articles.corpus_generation(db)

    # 1. GUID: entries this feed delivered before.
    keys = [e.key for e in kept]
    known = await dedup.known_entries(db, feed_id, keys)
    unknown: list[FeedEntry] = []
    to_ingest: list[tuple[FeedEntry, ArticleDraft]] = []
    edits: dict[str, int] = {}  # content hash of an edited entry's text → its article
    unchanged = 0
    for entry in kept:
        seen = known.get(entry.key)
        if seen is None:
            unknown.append(entry)
            continue
        fresh = draft(entry)
        digest = articles.content_hash(fresh.title, fresh.body)
        # The same text at a new link (a slug fixed, a link the first fetch lacked) is an edit
        # too: else the article kept the old link, and other feeds' entries at the new one were
        # not found by it. A link dropped keeps the one the article has.
        moved = fresh.url is not None and fresh.url != seen.url
        if seen.origin != fresh.origin or (digest == seen.content_hash and not moved):
            unchanged += 1
        else:
            # Edited in the feed: updates its article in place, keeping the first date (feeds
            # rewrite dates), unless the ingest finds it is another story under a reused GUID.
            to_ingest.append((entry, fresh))
            edits[digest] = seen.article_id

    # 2. URL: the link is already an article's, or another entry's.
    urls = [e.story_url for e in unknown if e.story_url]
    by_url = await dedup.articles_by_url(db, urls)
    plan = _Plan(generation, keys, known, urls, by_url, to_ingest=to_ingest, unchanged=unchanged)
    rest: list[tuple[FeedEntry, ArticleDraft]] = []
    for entry in unknown:
        match = by_url.get(entry.story_url) if entry.story_url else None
        if match is None:
            rest.append((entry, draft(entry)))
        else:
            plan.links.append((entry.key, entry.url, match))
            plan.duplicates += 1

    # 3. Text: near-identical to a recent article, or to an earlier entry of this batch.
    stories = [(d.title, d.body, d.published) for _, d in rest]
    matches: list[int | None] = []
    if stories:
        days = await recent.cover(db, [published for _, _, published in stories])
        try:
            if len(recent.index) * len(stories) > _THREAD_WORK:
                near = recent.index
                matches = await asyncio.to_thread(dedup.match_stories, near, stories, days)
            else:
                matches = dedup.match_stories(recent.index, stories, days)
        except BaseException:
            recent.forget()  # cancelled, the worker thread may still be changing that index
            raise
    slot_of: dict[int, int] = {}  # index in `rest` → index in `to_ingest`
    for j, ((entry, fresh), match) in enumerate(zip(rest, matches, strict=True)):
        if match is None:
            slot_of[j] = len(to_ingest)
            to_ingest.append((entry, fresh))
        elif match > 0:
            plan.links.append((entry.key, entry.url, match))
            plan.duplicates += 1
        else:
            plan.batch_copies.append((entry, slot_of[-1 - match]))
            plan.duplicates += 1
    plan.dedup_seconds = time.perf_counter() - started

    if to_ingest:
        drafts = [d for _, d in to_ingest]
        plan.ingest = await articles.plan_ingest(db, drafts, known=analyses, edits=edits)
    return plan


async def _still_current(db: aiosqlite.Connection, feed_id: int, plan: _Plan) -> bool:
    """Inside the write transaction: whether everything `plan` read is as it was then."""
    generation = await articles.corpus_generation(db)
    if plan.ingest is not None and plan.ingest.generation != plan.generation:
        return False  # an article was committed while the entries were matched
    if generation != plan.generation:
        return False  # an article was committed since: a story may now be stored, or edited
    # Links to stored articles don't move the generation: the feeds' entries are read again.
    if await dedup.known_entries(db, feed_id, plan.keys) != plan.known:
        return False
    return await dedup.articles_by_url(db, plan.urls) == plan.by_url


async def _write(
    db: aiosqlite.Connection, feed_id: int, plan: _Plan, report: StoreReport
) -> list[int]:
    """Store a plan's new and edited articles and its entries' links (inside the caller's
    transaction); returns the ids of the articles its entries became."""
    report.duplicates += plan.duplicates
    report.unchanged += plan.unchanged
    links = list(plan.links)
    ids: dict[str, int] = {}
    if plan.ingest is not None:
        rows = await db.execute_fetchall("SELECT coalesce(max(id), 0) FROM articles")
        highest = int(next(iter(rows))[0])
        result = await articles.apply_ingest(db, plan.ingest)
        report.replanned = report.replanned or result.replanned
        report.new += result.added
        report.edited += result.updated
        report.unchanged += result.unchanged
        report.duplicates += result.skipped  # the same text already came from elsewhere
        hashes = [articles.content_hash(d.title, d.body) for _, d in plan.to_ingest]
        stored = await articles.ids_by_hash(db, hashes)
        ids = {digest: aid for digest, (aid, _) in stored.items()}
        for (entry, _), digest in zip(plan.to_ingest, hashes, strict=True):
            if digest in ids:
                links.append((entry.key, entry.url, ids[digest]))
        for entry, index in plan.batch_copies:
            if hashes[index] in ids:
                links.append((entry.key, entry.url, ids[hashes[index]]))
        report.new_ids = sorted({aid for aid in ids.values() if aid > highest})
    if links:
        query = """
            INSERT INTO feed_entries (feed_id, entry_key, url, article_id) VALUES (?, ?, ?, ?)
            ON CONFLICT (feed_id, entry_key) DO UPDATE
               SET url = excluded.url, article_id = excluded.article_id
        """
        await db.executemany(query, [(feed_id, k, u, a) for k, u, a in links])
    return list(ids.values())
