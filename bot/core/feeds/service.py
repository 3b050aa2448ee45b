"""`FeedService`: fetch every followed feed on its interval and record how each one is doing.

One APScheduler job per feed (`IntervalTrigger`, the feed's interval, a little jitter) plus one
job that re-reads `feeds.toml` and the runtime feeds every `RELOAD_EVERY`, so hand edits,
`alliance-bot feeds add` and a file mended after an unreadable start reach a running bot. A
Discord cog calls `start()` in `cog_load` and `stop()` in `cog_unload`, and `add_feed` /
`remove_feed` / `list_feeds` from its commands.

Fetches of different hosts run concurrently; everything that writes to the database runs under
one lock, because the connection is shared and the feeds of a run share one near-duplicate
index. Storing a fetch prepares its articles (matching, tagging, analysis for the search index)
before it takes SQLite's write lock, so other writers wait only for the writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from bot.core.db import transaction
from bot.core.feeds import dedup, store
from bot.core.feeds.config import (
    DEFAULT_INTERVAL,
    FeedConfig,
    FeedConfigError,
    canonical_url,
    feeds_path,
    load_feeds,
    make_feed,
)
from bot.core.feeds.fetch import Fetcher, FetchError
from bot.core.feeds.parse import parse_feed
from bot.core.feeds.reasons import FeedError, Reason
from bot.core.feeds.store import FeedState, StoreReport
from bot.core.models import counted

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Origin = Literal["file", "runtime"]
_Job = Callable[..., Coroutine[Any, Any, None]]

# After the n-th failure in a row a feed waits interval × 2^(n-1), at most this long.
MAX_BACKOFF = timedelta(hours=6)
# A server's Retry-After is honoured up to this long.
MAX_RETRY_AFTER = timedelta(hours=24)
JITTER_SECONDS = 30
RELOAD_EVERY = timedelta(minutes=5)
# A scheduled run this close to the end of a backoff goes ahead (the trigger has jitter).
_BACKOFF_SLACK = timedelta(seconds=JITTER_SECONDS + 5)


@dataclass(frozen=True, slots=True)
class Followed:
    """A feed being followed, where its settings come from, and whether it may use the LAN.

    Feeds the operator wrote (feeds.toml, `alliance-bot feeds add`) may be on loopback and
    private addresses; feeds added from Discord are fetched from public addresses only.
    """

    config: FeedConfig
    origin: Origin
    allow_private: bool


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A followed feed with its fetch status, for `feeds list` and `/alliance-feeds list`."""

    config: FeedConfig
    origin: Origin
    state: FeedState | None  # None until the feed's first fetch
    flagged: bool  # failing for 24 h or more
    allow_private: bool = False  # may be fetched from loopback and private addresses

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view."""
        s = self.state

        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "url": self.config.url,
            "name": self.config.display_name,
            "kind": self.config.kind,
            "interval": self.config.interval,
            "origin": self.origin,
            "local_network": self.allow_private,
            "last_fetch": stamp(s.last_fetch_at) if s else None,
            "last_success": stamp(s.last_success_at) if s else None,
            "last_new_article": stamp(s.last_new_at) if s else None,
            "last_error": s.last_error if s else None,
            "failing_since": stamp(s.failing_since) if s else None,
            "articles": s.articles if s else 0,
            "flagged": self.flagged,
        }


@dataclass(slots=True)
class FetchOutcome:
    """What one fetch of one feed did."""

    url: str
    name: str
    not_modified: bool = False
    skipped: bool = False  # still backing off after failures (scheduled runs only)
    error: str | None = None
    report: StoreReport | None = None
    problems: list[str] = field(default_factory=list)  # a malformed feed read in part, …
    parse_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the fetch worked (or was skipped on purpose)."""
        return self.error is None


def backoff(interval: int, failures: int, retry_after: float | None = None) -> timedelta:
    """How long a feed waits after its `failures`-th failure in a row."""
    doublings = max(0, min(failures - 1, 16))
    wait = min(timedelta(minutes=interval * (1 << doublings)), MAX_BACKOFF)
    if retry_after is not None:
        # Capped before it becomes a timedelta: a server may send any number of seconds.
        seconds = min(retry_after, MAX_RETRY_AFTER.total_seconds())
        wait = max(wait, timedelta(seconds=seconds))
    return wait


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _job_id(url: str) -> str:
    return f"feed:{url}"


class FeedService:
    """Follows the configured feeds: scheduling, fetching, storing and status."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        feeds_file: Path,
        tz: tzinfo,
        fetcher: Fetcher | None = None,
        concurrency: int = 8,
        reload_every: timedelta = RELOAD_EVERY,
    ) -> None:
        self.db = db
        self.feeds_file = feeds_file
        self.tz = tz
        self.fetcher = fetcher or Fetcher()
        self.problems: list[str] = []  # from the last read of feeds.toml
        self.file_error: FeedConfigError | None = None  # why the last read of it failed
        # Whether feeds.toml was read since the start; until it is, only the runtime feeds are
        # followed.
        self.file_read = False
        self.reload_every = reload_every
        self._reported: str | None = None  # the file error last logged (by us or `start`'s caller)
        self._config = asyncio.Lock()  # one re-read, add or remove at a time
        self._concurrency = concurrency
        self._feeds: dict[str, Followed] = {}
        self._loaded = False
        self._write = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    @classmethod
    def for_database(
        cls,
        db: aiosqlite.Connection,
        db_path: Path,
        tz: tzinfo,
        *,
        fetcher: Fetcher | None = None,
    ) -> FeedService:
        """A service reading `feeds.toml` beside the database file."""
        return cls(db, feeds_file=feeds_path(db_path), tz=tz, fetcher=fetcher)

    # --- configuration -------------------------------------------------------------------------

    async def reload(self) -> list[Followed]:
        """Re-read `feeds.toml` and the runtime feeds (file settings win); resync the jobs.

        Raises `FeedConfigError` if the file can't be read, and keeps the feeds as they were.
        """
        async with self._config:
            return await self._reload()

    async def _reload(self) -> list[Followed]:
        # With `_config` held: a re-read that swapped in its view of the runtime feeds after an
        # add or remove finished would undo it.
        try:
            loaded = await asyncio.to_thread(load_feeds, self.feeds_file)
        except FeedConfigError as exc:
            self.file_error = exc
            raise
        mended, self.file_error, self._reported = self.file_error is not None, None, None
        # Logged once, not again on each re-read (the reload job, `feeds add` reading before it
        # adds): the file still says the same thing.
        if loaded.problems != self.problems:
            for problem in loaded.problems:
                log.warning("%s", problem)
        self.problems = loaded.problems
        followed = await self._follow(
            {f.url: Followed(f, "file", allow_private=True) for f in loaded.feeds}
        )
        self.file_read = True
        if mended:
            log.info(
                "feeds: %s can be read again; following %d feeds", self.feeds_file, len(followed)
            )
        return followed

    async def load(self) -> FeedConfigError | None:
        """Re-read the feeds as `reload` does, but return why `feeds.toml` can't be read instead
        of raising: the feeds then stay as it last said, or, before any read, are the ones added
        by command alone (the file's can't be known)."""
        async with self._config:
            return await self._load()

    async def _load(self) -> FeedConfigError | None:
        try:
            await self._reload()
        except FeedConfigError as exc:
            if not self._loaded:
                await self._follow({})
            return exc
        return None

    async def _follow(self, from_file: dict[str, Followed]) -> list[Followed]:
        """Follow the file's feeds and the runtime ones (the file's settings win): stored, and
        the jobs resynced. With `_config` held."""
        merged = dict(from_file)
        for added in await store.runtime_feeds(self.db):
            merged.setdefault(
                added.config.url, Followed(added.config, "runtime", added.allow_private)
            )
        async with self._write, transaction(self.db):
            for url in merged:
                await store.ensure_feed(self.db, url)
        previous, self._feeds = self._feeds, merged
        self._loaded = True
        if self._scheduler is not None:
            for url in previous.keys() - merged.keys():
                self._unschedule(url)
            for index, (url, followed) in enumerate(merged.items()):
                old = previous.get(url)
                if old is None or old.config.interval != followed.config.interval:
                    self._schedule(followed.config, delay=2.0 * index if old is None else None)
        return list(merged.values())

    async def _ensure_loaded(self) -> None:
        if not self._loaded:
            await self.reload()

    def followed(self) -> list[Followed]:
        """The feeds followed as of the last `reload` (or add/remove)."""
        return list(self._feeds.values())

    async def add_feed(
        self,
        url: str,
        *,
        name: str | None = None,
        interval: int = DEFAULT_INTERVAL,
        kind: str = "alliance",
        allow_private: bool = False,
    ) -> FeedConfig:
        """Follow a feed from now on (stored in the database); raises `FeedConfigError`.

        `allow_private=False`, for URLs typed by Discord admins rather than the operator,
        refuses local and private addresses now and on every fetch (names are checked as they
        resolve, and redirects too).
        """
        feed = make_feed(url, name=name, interval=interval, kind=kind, allow_private=allow_private)
        async with self._config:
            return await self._add(feed, allow_private=allow_private)

    async def _add(self, feed: FeedConfig, *, allow_private: bool) -> FeedConfig:
        await self._reload()
        if feed.url in self._feeds:
            in_file = self._feeds[feed.url].origin == "file"
            raise FeedConfigError(
                Reason.ALREADY_IN_FILE if in_file else Reason.ALREADY_ADDED, url=feed.url
            )
        async with self._write:
            await store.add_runtime_feed(self.db, feed, allow_private=allow_private)
        self._feeds[feed.url] = Followed(feed, "runtime", allow_private)
        if self._scheduler is not None:
            self._schedule(feed, delay=1.0)
        log.info("following feed %s (%s, every %d min)", feed.url, feed.kind, feed.interval)
        return feed

    async def remove_feed(self, url: str) -> bool:
        """Stop following a runtime feed; False if not followed. File feeds: edit the file.

        Works while `feeds.toml` can't be read (`file_error` says why): a feed added by command
        needs nothing from the file to be removed.
        """
        wanted = canonical_url(url)
        async with self._config:
            return await self._remove(wanted)

    async def _remove(self, wanted: str) -> bool:
        # Unlike an add, which must know the file's feeds not to follow one twice.
        await self._load()
        followed = self._feeds.get(wanted)
        if followed is not None and followed.origin == "file":
            raise FeedConfigError(Reason.REMOVE_FILE_FEED, url=wanted, file=str(self.feeds_file))
        async with self._write:
            removed = await store.remove_runtime_feed(self.db, wanted)
        if removed:
            self._feeds.pop(wanted, None)
            self._unschedule(wanted)
            log.info("no longer following feed %s", wanted)
        return removed

    async def list_feeds(self) -> list[FeedStatus]:
        """Every followed feed with its last fetch, last new article and last error.

        The file is read again first, so that the list (and `file_error`) is as it says now;
        when it can't be, the feeds are as `load` leaves them.
        """
        await self.load()
        states = await store.all_states(self.db)
        now = _now()
        result = []
        for followed in self._feeds.values():
            state = states.get(followed.config.url)
            flagged = state is not None and state.flagged(now)
            result.append(
                FeedStatus(followed.config, followed.origin, state, flagged, followed.allow_private)
            )
        return result

    # --- fetching ------------------------------------------------------------------------------

    async def fetch_all(self, *, respect_backoff: bool = False) -> list[FetchOutcome]:
        """Fetch every followed feed now, a few at a time; one outcome per feed."""
        await self._ensure_loaded()
        limit = asyncio.Semaphore(self._concurrency)
        recent = dedup.RecentArticles()  # the feeds' entries are mostly of the same days

        async def one(feed: FeedConfig) -> FetchOutcome:
            async with limit:
                try:
                    return await self.fetch_feed(
                        feed.url, respect_backoff=respect_backoff, recent=recent
                    )
                except Exception as exc:
                    # The database failed even to record a failure: this feed's outcome says
                    # so, and the other feeds' outcomes are not lost with it.
                    log.exception("feed %s: fetch failed and could not be recorded", feed.url)
                    error = FeedError(Reason.INTERNAL, detail=f"{type(exc).__name__}: {exc}")
                    return FetchOutcome(feed.url, feed.display_name, error=str(error))

        return list(await asyncio.gather(*(one(f.config) for f in self._feeds.values())))

    async def fetch_feed(
        self,
        url: str,
        *,
        respect_backoff: bool = False,
        recent: dedup.RecentArticles | None = None,
    ) -> FetchOutcome:
        """Fetch one followed feed and store its new entries; failures are recorded, not raised.

        `recent`: the near-duplicate index of a run of fetches (see `fetch_all`).
        """
        await self._ensure_loaded()
        followed = self._feeds.get(canonical_url(url))
        if followed is None:
            raise FeedConfigError(Reason.NOT_FOLLOWED, url=url)
        feed = followed.config
        outcome = FetchOutcome(feed.url, feed.display_name)
        async with self._write:
            feed_id = await store.ensure_feed(self.db, feed.url)
        state = await store.get_state(self.db, feed.url)
        now = _now()
        if (
            respect_backoff
            and state is not None
            and state.retry_after is not None
            and now + _BACKOFF_SLACK < state.retry_after
        ):
            outcome.skipped = True
            return outcome
        try:
            result = await self.fetcher.fetch(
                feed.url,
                etag=state.etag if state else None,
                last_modified=state.last_modified if state else None,
                block_private=not followed.allow_private,
            )
            if result.not_modified:
                outcome.not_modified = True
                async with self._write:
                    await store.record_success(
                        self.db,
                        feed_id,
                        at=now,
                        etag=result.etag or (state.etag if state else None),
                        last_modified=result.last_modified
                        or (state.last_modified if state else None),
                        new_articles=0,
                    )
                return outcome
            started = time.perf_counter()
            parsed = await asyncio.to_thread(
                parse_feed, result.body, url=result.url, content_type=result.content_type
            )
            outcome.parse_seconds = time.perf_counter() - started
            outcome.problems = parsed.problems
            for problem in parsed.problems:
                log.warning("feed %s: %s", feed.url, problem)
            async with self._write:
                outcome.report = await store.store_entries(
                    self.db,
                    feed,
                    feed_id,
                    parsed.entries,
                    fetched_at=now,
                    tz=self.tz,
                    recent=recent,
                )
                await store.record_success(
                    self.db,
                    feed_id,
                    at=now,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    new_articles=outcome.report.new,
                )
        except FeedError as exc:
            retry = exc.retry_after if isinstance(exc, FetchError) else None
            await self._failed(feed, feed_id, exc, now, retry, state)
            outcome.error = str(exc)
        except Exception as exc:
            # A bug or a database problem: logged with its traceback and shown in the status.
            log.exception("feed %s: fetch failed unexpectedly", feed.url)
            internal = FeedError(Reason.INTERNAL, detail=f"{type(exc).__name__}: {exc}")
            await self._failed(feed, feed_id, internal, now, None, state)
            outcome.error = str(internal)
        else:
            report = outcome.report
            if report is not None:
                log.info(
                    "feed %s: %d new, %d edited, %d duplicates, %d unchanged, %d filtered",
                    feed.url,
                    report.new,
                    report.edited,
                    report.duplicates,
                    report.unchanged,
                    report.filtered,
                )
        return outcome

    async def _failed(
        self,
        feed: FeedConfig,
        feed_id: int,
        error: FeedError,
        now: datetime,
        retry_after: float | None,
        state: FeedState | None,
    ) -> None:
        failures = (state.failures if state else 0) + 1
        wait = backoff(feed.interval, failures, retry_after)
        async with self._write:
            await store.record_failure(
                self.db, feed_id, at=now, error=error, retry_after=now + wait
            )
        since = state.failing_since if state and state.failing_since else now
        if now - since >= store.FLAG_AFTER:
            log.error(
                "feed %s has been failing since %s (%d times): %s",
                feed.url,
                since.isoformat(),
                failures,
                error,
            )
        else:
            log.warning("feed %s: %s (next try in %s)", feed.url, error, wait)

    # --- scheduling ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._scheduler is not None

    async def start(self) -> None:
        """Load the feeds, start one scheduled job per feed (first fetches staggered) and the
        job that re-reads them every `reload_every`.

        Raises `FeedConfigError` if `feeds.toml` can't be read. The service runs all the same:
        it follows the runtime feeds alone until a re-read succeeds, so a mended file needs no
        restart.
        """
        if self._scheduler is not None:
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._feeds, self._loaded, self.file_read = {}, False, False
        scheduler = self._scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._track(self._reload_job),
            IntervalTrigger(seconds=self.reload_every.total_seconds()),
            id="feeds:reload",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        try:
            # Schedules every feed, as all are new; without the file, the feeds added by command
            # (which don't need it) are followed meanwhile.
            error = await self.load()
        except BaseException:
            self._scheduler = None
            scheduler.shutdown(wait=False)
            raise
        if error is not None:
            self._reported = str(error)  # by the caller, which knows what not reading it means
            raise error  # the reload job reads the file again
        log.info("feeds: following %d feeds", len(self._feeds))

    async def stop(self) -> None:
        """Stop the jobs, cancel fetches in progress and close the HTTP session."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.fetcher.close()

    def _schedule(self, feed: FeedConfig, *, delay: float | None) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        assert self._scheduler is not None
        kwargs: dict[str, object] = {}
        if delay is not None:
            kwargs["next_run_time"] = datetime.now(UTC) + timedelta(seconds=delay)
        self._scheduler.add_job(
            self._track(self._scheduled_fetch),
            IntervalTrigger(minutes=feed.interval, jitter=JITTER_SECONDS),
            args=[feed.url],
            id=_job_id(feed.url),
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=feed.interval * 60,
            **kwargs,
        )

    def _unschedule(self, url: str) -> None:
        if self._scheduler is not None and self._scheduler.get_job(_job_id(url)) is not None:
            self._scheduler.remove_job(_job_id(url))

    def _track(self, job: _Job) -> _Job:
        """The job, with its task registered so `stop()` can cancel it."""

        async def tracked(*args: str) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job(*args)
            except asyncio.CancelledError:
                if self._scheduler is not None:
                    raise
                # Cancelled by `stop()`: a shutdown, which APScheduler would log as the job's
                # error, with a traceback.
            finally:
                if task is not None:
                    self._running.discard(task)

        return tracked

    async def _scheduled_fetch(self, *args: str) -> None:
        (url,) = args
        if url in self._feeds:
            await self.fetch_feed(url, respect_backoff=True)

    async def _reload_job(self, *args: str) -> None:
        try:
            await self.reload()
        except FeedConfigError as exc:
            # Said when the file breaks or breaks differently, not again every few minutes; an
            # admin's refused `add` or the list may have seen it first, without logging it.
            if self._reported != str(exc):
                self._reported = str(exc)
                log.warning("feeds: %s; the feeds stay as they were", exc)
        except Exception:
            log.exception("feeds: reloading the configuration failed; keeping the old one")


def summary(outcomes: Sequence[FetchOutcome]) -> str:
    """One line for a batch of fetches: feeds, new articles, failures."""
    new = sum(o.report.new for o in outcomes if o.report)
    failed = sum(1 for o in outcomes if o.error)
    fetched, added = counted(len(outcomes), "feed"), counted(new, "new article")
    return f"{fetched} fetched: {added}, {failed} failed"
