"""The weekly digest's posting: on each channel's schedule, exactly once a week.

Exactly once per (channel, week) rests on the ledger in `bot.core.schedules`: the intent is
recorded before posting, each page's message id as it is sent, and the first page's once all
are. An intent left unfinished (a crash, an unclear error) is finished from the pages it
recorded, after looking in the channel, from its latest attempt on, for the one page a crash
may have left unrecorded. What a post does next, from the ledger's record and what the channel
holds, `bot.core.post_rules` decides; this module reads the channel and carries it out.
A run that ends unsettled (an error, or a post whose fate is unclear) is tried again, backing off,
as long as the week may still be posted (the grace period); after that, the next start settles it.

The poster owns a database connection of its own, so a ledger write never lands inside another
task's transaction on the bot's shared connection.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import aiosqlite
import discord
from aiolimiter import AsyncLimiter
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot import render
from bot.core import db as database
from bot.core import post_rules, schedules
from bot.core.digest import Week, week_of
from bot.core.schedules import FailureCode, PostFailure, PostSettings, Schedule
from bot.i18n import Lang, permission_names, t
from bot.render import digest_embeds, marker
from bot.tree import NO_MENTIONS

if TYPE_CHECKING:
    from bot.bot import AllianceBot

log = logging.getLogger(__name__)

# Discord allows 50 requests per second for the whole bot; leave room for members' commands.
POSTS_PER_SECOND = 40
# Channels posted to at the same time; the rest wait their turn.
CONCURRENT_POSTS = 20
# Reconciling an unfinished post, how many other messages to read past its latest attempt's
# start, or past the last page found, before deciding the rest of the digest is not there.
HISTORY_LOOKBACK = 50
# Looking for a claimed post from this long before the claim: our clock may be off Discord's.
CLOCK_SLACK = timedelta(minutes=5)
# How long a shutdown waits for posts under way (after the bot's wait for answers): Docker
# stops a container after 10 s by default, and compose.yaml allows 30.
SHUTDOWN_WAIT_S = 5.0
REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")
# Discord's JSON error codes that say what an admin can fix.
UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
# How much of a stored reason admins see: an older version's text, or Discord's message.
LEGACY_ERROR_CHARS = 300
DETAIL_CHARS = 200

Outcome = Literal[
    "posted", "already", "skipped", "failed", "unavailable", "unconfirmed", "incomplete", "missed"
]
"""How an attempt at a week ended. "unavailable": not posted, Discord unavailable (a 5xx, no
answer); "unconfirmed": an error, and the channel could not be checked; "incomplete": its first
pages posted, then an error (a retry posts the rest); "missed": an interrupted post claimed
longer ago than the grace period, not found in the channel, so not posted that late."""
RETRIED: frozenset[Outcome] = frozenset({"unavailable", "unconfirmed", "incomplete"})
"""Outcomes tried again after a while (within the grace period)."""


DISCORD_ERRORS = (discord.HTTPException, aiohttp.ClientError, OSError)
"""What a call to Discord raises when it fails: an error answer, no answer in time (a
TimeoutError is an OSError), or a connection refused or lost, which discord.py passes on."""
DiscordError = discord.HTTPException | aiohttp.ClientError | OSError


def failure_of(error: DiscordError) -> PostFailure:
    """What a failed Discord call means, as a code an admin's reply can word in any language."""
    if isinstance(error, TimeoutError):
        return PostFailure(FailureCode.TIMEOUT)
    if not isinstance(error, discord.HTTPException):
        # Lost mid-request, the post may have been made: as unclear as no answer.
        return PostFailure(FailureCode.UNREACHABLE, detail=_english(error))
    if error.code == UNKNOWN_CHANNEL:
        return PostFailure(FailureCode.CHANNEL_MISSING)
    if error.code == MISSING_ACCESS:
        return PostFailure(FailureCode.MISSING_ACCESS)
    if error.code == MISSING_PERMISSIONS:
        # Discord does not say which one; the bot's cache said it had them all.
        return PostFailure(FailureCode.MISSING_PERMISSIONS)
    return PostFailure(
        FailureCode.HTTP, status=error.status, discord_code=error.code, detail=error.text
    )


def _english(error: BaseException) -> str:
    # str(TimeoutError()) is empty.
    return str(error) or type(error).__name__


def failure_text(stored: str | None, lang: Lang) -> str:
    """A stored failure reason in `lang`; an older version's English text as it was, clipped.

    Markdown in text that is not ours (Discord's message, old text) is escaped. Mentions are
    inert anyway: the reason goes into embeds, or a message sent with no allowed mentions.
    """
    failure = PostFailure.decode(stored)
    if failure is None:
        if not stored:
            return t("digest.reason_unknown", lang)
        return render.quote(stored, LEGACY_ERROR_CHARS)
    key = f"digest.reason.{failure.code.value}"
    fields: dict[str, object] = {}
    detail = ""
    if failure.code is FailureCode.MISSING_PERMISSIONS:
        if failure.permissions:
            fields["perms"] = permission_names(failure.permissions, lang)
        else:
            key += ".any"
            fields["perms"] = permission_names(REQUIRED_PERMISSIONS, lang)
    elif failure.code is FailureCode.MISSING_ACCESS:
        fields["perm"] = permission_names(["view_channel"], lang)
    elif failure.code is FailureCode.HTTP:
        fields.update(status=failure.status, code=failure.discord_code)
        if failure.status >= 500:
            # Discord's body is then a generic phrase or a proxy's HTML page: nothing to add.
            key += ".unavailable"
        else:
            key += ".code" if failure.discord_code else ""
            # The templates end the reason with their own full stop (one: U.S. keeps its dots).
            detail = failure.detail.strip().removesuffix(".").removesuffix("。")
    text = t(key, lang, **fields)
    if detail.strip():
        text = t(
            "digest.reason_detail", lang, reason=text, detail=render.quote(detail, DETAIL_CHARS)
        )
    return text


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions the bot lacks in `channel` to post digests there, causes only.

    discord.py clears the permissions that depend on another one: without View Channel nothing is
    left, and without Send Messages neither is Embed Links. Naming those too would send an admin
    to grant permissions that are not the problem.
    """
    perms = channel.permissions_for(me)
    if not perms.view_channel:
        return ["view_channel"]
    missing = [name for name in REQUIRED_PERMISSIONS if not getattr(perms, name)]
    if not perms.send_messages:
        missing.remove("embed_links")
    return missing


# APScheduler drops (not delays) a run whose job id still has `max_instances` runs under way,
# and a run planned again by `set` keeps its id while the previous one may still be posting:
# that week would wait for a restart. The channel's lock already makes the runs take turns.
RUNS_AT_ONCE = 8


class DigestPoster:
    """Schedules, posts and reconciles weekly digests, on a connection of its own (`db`), on
    which the admin commands read and change the schedules too."""

    def __init__(self, bot: AllianceBot) -> None:
        self.bot = bot
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.limiter = AsyncLimiter(POSTS_PER_SECOND, 1)
        self.slots = asyncio.Semaphore(CONCURRENT_POSTS)
        self.grace = timedelta(hours=bot.settings.digest_grace_hours)
        self.retry_after = timedelta(seconds=bot.settings.digest_retry_s)
        # One attempt at a channel at a time, so an intent seen while holding the channel's lock
        # is never a post still in flight (the ledger guards across restarts, this within one).
        self._posting: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._start_task: asyncio.Task[None] | None = None
        self._jobs: set[asyncio.Task[Any]] = set()  # scheduled runs and retries under way
        self._closing = False
        self.db: aiosqlite.Connection

    async def start(self) -> None:
        """Open the poster's connection, plan every schedule, and catch up once connected."""
        self.db = await database.connect(self.bot.settings.db)
        if not self.bot.serving:
            return
        self.scheduler.start()
        now = datetime.now(UTC)
        for schedule in await schedules.list_schedules(self.db):
            self.plan(schedule, now)
        self._start_task = asyncio.create_task(self._catch_up(), name="digest-catch-up")

    async def close(self) -> None:
        """Stop the catch-up and the scheduler, let scheduled posts under way finish (a few
        seconds at most: the ledger has the next start finish the others), and close the
        connection."""
        self._closing = True
        if self._start_task is not None:
            # The catch-up may still wait for the gateway; what it began, the next start's does.
            self._start_task.cancel()
            await asyncio.gather(self._start_task, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutting it down would cancel those under way
        running = [task for task in self._jobs if not task.done()]
        if running:
            log.info("waiting for %d digest job(s) to finish", len(running))
            _, late = await asyncio.wait(running, timeout=SHUTDOWN_WAIT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.db.close()

    def _tracked(self, job: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[None]]:
        """A scheduler job whose task `close` waits for, and which a shutdown that can't
        wait stops quietly (APScheduler would log the cancellation as the job's error)."""

        @functools.wraps(job)
        async def tracked(*args: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._jobs.add(task)
            try:
                await job(*args)
            except asyncio.CancelledError:
                if not self._closing:
                    raise
                log.info("digest job stopped by the shutdown; the next start finishes it")
            finally:
                self._jobs.discard(task)

        return tracked

    # --- scheduling ---------------------------------------------------------------------------

    def plan(self, schedule: Schedule, after: datetime) -> None:
        """Put the schedule's next run on the scheduler (or take it off while paused)."""
        job_id = f"digest:{schedule.channel_id}"
        if schedule.paused:
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)
            return
        # A one-off date per run, planned from the schedule's own calendar math: a cron trigger
        # would fire twice at a wall time that repeats when daylight saving ends.
        run_at = schedules.next_run(schedule, after)
        self.scheduler.add_job(
            self._tracked(self._run_due),
            DateTrigger(run_date=run_at),
            args=(schedule.channel_id, run_at),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=RUNS_AT_ONCE,
        )

    def unplan(self, channel_id: int) -> None:
        """Take a channel's runs, and its retries, off the scheduler."""
        for job in self.scheduler.get_jobs():
            if job.id == f"digest:{channel_id}" or job.id.startswith(f"digest-retry:{channel_id}:"):
                job.remove()

    async def _run_due(self, channel_id: int, run_at: datetime) -> None:
        """A scheduled run: settle the week it covers, then plan the next run.

        Fired late (a suspended host), it is a catch-up: the latest run due by now is posted,
        or recorded as missed past the grace period, as on a start.
        """
        await self.bot.wait_until_ready()
        try:
            schedule = await schedules.get_schedule(self.db, channel_id)
            if schedule is not None:
                # Never before `run_at`, whose run would otherwise look a week away.
                await self._catch_up_schedule(schedule, max(run_at, datetime.now(UTC)))
        finally:
            try:
                current = await schedules.get_schedule(self.db, channel_id)
            except Exception:
                log.exception("could not plan the next digest of channel %s", channel_id)
            else:
                if current is not None:
                    self.plan(current, max(run_at, datetime.now(UTC)))

    async def attempt(
        self, channel_id: int, week_start: date, deadline: datetime, attempt: int = 0
    ) -> Outcome | None:
        """Settle a schedule's week; if that fails or is left for later, plan another try.
        What came of it; None when it failed on the bot's side (logged)."""
        try:
            outcome: Outcome | None = await self._settle_scheduled(channel_id, week_start)
        except Exception:
            log.exception("digest of %s for channel %s failed", week_start, channel_id)
            outcome = None
        if outcome is None or outcome in RETRIED:
            self.plan_retry(channel_id, week_start, deadline, attempt + 1)
        return outcome

    def plan_retry(
        self, channel_id: int, week_start: date, deadline: datetime, attempt: int
    ) -> None:
        """Try a week again later, backing off, unless that would be past its deadline."""
        run_at = schedules.retry_at(datetime.now(UTC), self.retry_after, attempt, deadline)
        if run_at is None:
            log.warning(
                "digest of %s for channel %s: giving up after %d attempts (an unfinished post "
                "is checked again at the next start)",
                week_start,
                channel_id,
                attempt,
            )
            return
        log.info(
            "digest of %s for channel %s: trying again at %s",
            week_start,
            channel_id,
            run_at.isoformat(timespec="seconds"),
        )
        self.scheduler.add_job(
            self._tracked(self.attempt),
            DateTrigger(run_date=run_at),
            args=(channel_id, week_start, deadline, attempt),
            id=f"digest-retry:{channel_id}:{week_start}",
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=RUNS_AT_ONCE,
        )

    async def _catch_up(self) -> None:
        """On start: finish interrupted posts, then post (or record as missed) what came due."""
        await self.bot.wait_until_ready()
        try:
            await self._catch_up_now(datetime.now(UTC))
        except Exception:
            log.exception("digest catch-up failed; due digests wait for their next run")

    async def _catch_up_now(self, now: datetime) -> None:
        for schedule in await schedules.list_schedules(self.db):
            # Deleted while the bot was down, a paused schedule's channel would never be found
            # out: it has no runs, and no admin can pick the channel to stop it.
            if self.bot.get_channel(schedule.channel_id) is None:
                try:
                    _, deleted = await self._lookup(schedule.channel_id)
                except DISCORD_ERRORS as exc:
                    # Found out at the next start, or when its next post fails.
                    log.info("could not look up channel %s: %s", schedule.channel_id, exc)
                    continue
                if deleted:
                    await self.forget(schedule.guild_id, schedule.channel_id)
        intents = await schedules.pending_intents(self.db)
        for intent in intents:
            await self.attempt(intent.channel_id, intent.week_start, now + self.grace)
        # The weeks the schedules' catch-up below posts or records as missed: a retry of one
        # past its grace period must not post it late.
        settled_by_runs: set[tuple[int, date]] = set()
        for schedule in await schedules.list_schedules(self.db):
            plan = schedules.catch_up(schedule, now, self.grace)
            if plan is not None:
                weeks = [plan.week, *plan.earlier, *(due.week for due in plan.earlier_due)]
                settled_by_runs.update((schedule.channel_id, w.start) for w in weeks)
        # Refused by an unavailable Discord, and their retries lost with the process: a
        # `post-now` where no schedule runs, or a week a changed schedule owed, which no run
        # of a schedule will post.
        for post in await schedules.pending_retries(self.db, since=now - self.grace):
            if (post.channel_id, post.week_start) in settled_by_runs:
                continue
            assert post.created_at is not None  # a claim's time is always stored
            await self.attempt(post.channel_id, post.week_start, post.created_at + self.grace)
        # Read again: a retry may have paused a schedule.
        found = [
            self._catch_up_schedule(schedule, now)
            for schedule in await schedules.list_schedules(self.db)
        ]
        outcomes = await asyncio.gather(*found)
        log.info(
            "digest catch-up done: %d unfinished posts checked, %d due runs checked, %d missed",
            len(intents),
            outcomes.count("due"),
            outcomes.count("missed"),
        )

    async def _catch_up_schedule(
        self, schedule: Schedule, now: datetime
    ) -> Literal["due", "missed"] | None:
        """Post a schedule's latest run due by `now`, or record it as missed past the grace
        period (see `schedules.catch_up`); what was done, None when nothing was due."""
        plan = schedules.catch_up(schedule, now, self.grace)
        if plan is None:
            return None
        # A downtime across several runs: the earlier weeks no run handled were missed too.
        for week in plan.earlier:
            await self._record_missed(schedule, week, over_failed=False)
        for due in plan.earlier_due:
            await self.attempt(schedule.channel_id, due.week.start, due.deadline)
        if plan.action == "missed":
            return "missed" if await self._record_missed(schedule, plan.week) else None
        await self.attempt(schedule.channel_id, plan.week.start, plan.deadline)
        return "due"

    async def _record_missed(
        self, schedule: Schedule, week: Week, *, over_failed: bool = True
    ) -> bool:
        """Record a week as missed while the bot was down; False if nothing was missed (a week
        without articles, of a schedule that skips those, is recorded as skipped instead)."""
        handled = await schedules.get_post(self.db, schedule.channel_id, week.start)
        if handled is not None and handled.status != "failed":
            # Every start looks back: a week already handled costs one read, no digest. Whether
            # a failed one may become missed, `record_missed` decides.
            return False
        skips = schedule.when_empty == "skip"
        if skips and (await schedules.channel_digest(self.db, schedule.channel_id, week)).is_empty:
            # That week would not have been posted anyway. Recorded as skipped, so that
            # articles dated in it that arrive later don't make it missed at the next start.
            await schedules.record_skipped(self.db, schedule.channel_id, week.start)
            return False
        recorded = await schedules.record_missed(
            self.db, schedule.channel_id, week.start, over_failed=over_failed
        )
        if recorded:
            log.warning(
                "digest of %s for channel %s missed (not posted within the grace period)",
                week.start,
                schedule.channel_id,
            )
        return recorded

    async def _settle_scheduled(self, channel_id: int, week_start: date) -> Outcome:
        """A scheduled run, retry or catch-up: settle the week if the schedule still runs, or
        if a `post-now` where no schedule runs claimed it (with that post's settings, also
        after a restart); if the schedule was stopped or paused, only reconcile an unfinished
        post, never post anew."""
        async with self._posting[channel_id]:  # the schedule as it is once no post is in flight
            schedule = await schedules.get_schedule(self.db, channel_id)
            post = await schedules.get_post(self.db, channel_id, week_start)
            running = post_rules.scheduled_settings(schedule, post)
            claimed = post.settings if post is not None else None
            known = claimed or running or (schedule.settings if schedule is not None else None)
            week = week_of(week_start, timezone=known.timezone if known else "UTC")
            paused = schedule is not None and schedule.paused
            return await self._settle(channel_id, running, week, paused=paused)

    async def _find_posted(
        self, channel_id: int, week: Week, *, since: datetime | None = None
    ) -> list[int]:
        """The pages of our own digest of `week` in the channel, oldest first: among the
        messages after `since` (when the post's latest attempt began), up to `HISTORY_LOOKBACK`
        past the last page found, however many pages; without `since`, among the latest
        messages."""
        channel = await self._channel(channel_id)
        if channel is None or self.bot.user is None:
            return []
        me, wanted = self.bot.user.id, marker(week)
        found: list[int] = []
        if since is None:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if _is_page(message, me, wanted):
                    found.append(message.id)
            return found[::-1]
        # From the attempt on, oldest first: its pages follow its start within seconds, however
        # busy the channel has been since (a clock a few minutes off still finds them).
        unlike = 0  # messages since the claim or the last page: a digest's pages follow it
        async for message in channel.history(limit=None, after=since - CLOCK_SLACK):
            if _is_page(message, me, wanted):
                found.append(message.id)
                unlike = 0
            elif message.created_at >= since:  # the slack's messages: however many there are
                unlike += 1
                if unlike >= HISTORY_LOOKBACK:
                    break
        return found

    async def _channel(self, channel_id: int) -> discord.TextChannel | None:
        channel, _ = await self._lookup(channel_id)
        return channel

    async def _lookup(self, channel_id: int) -> tuple[discord.TextChannel | None, bool]:
        """The channel if the bot can post there, and whether Discord says it doesn't exist."""
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.NotFound:
                return None, True
            except discord.Forbidden:  # no access, or no longer in its server
                return None, False
        return (channel if isinstance(channel, discord.TextChannel) else None), False

    async def forget(self, guild_id: int, channel_id: int) -> None:
        """Stop a deleted channel's schedule and take its runs off the scheduler."""
        if await self._stop(guild_id, channel_id):
            log.warning("channel %s was deleted: its digests are stopped", channel_id)

    async def forget_guild(self, guild_id: int, channel_ids: Iterable[int]) -> None:
        """Stop the digests of a server the bot is no longer in (removed, or the server
        deleted): the schedules, and the retries of a `post-now` in its `channel_ids`."""
        scheduled = {s.channel_id for s in await schedules.list_schedules(self.db, guild_id)}
        stopped = [c for c in sorted(scheduled | set(channel_ids)) if await self._stop(guild_id, c)]
        if stopped:
            log.warning(
                "the bot is no longer in server %s: the digests of its channels %s are stopped",
                guild_id,
                ", ".join(map(str, stopped)),
            )

    async def _stop(self, guild_id: int, channel_id: int) -> bool:
        stopped = await schedules.stop_schedule(self.db, guild_id, channel_id) is not None
        if stopped:
            self.unplan(channel_id)
        return stopped

    # --- delivery -----------------------------------------------------------------------------

    async def settle(self, settings: PostSettings, week: Week, *, asked: bool = False) -> Outcome:
        """Post `week`'s digest in the settings' channel unless it already was (or, unless an
        admin `asked` for it, was recorded as missed while the bot was down or as skipped).

        An unfinished earlier attempt (an intent with no message) is reconciled first: found in
        the channel's history, it is recorded; not found, it is posted.
        """
        async with self._posting[settings.channel_id]:
            return await self._settle(settings.channel_id, settings, week, asked=asked)

    async def _settle(
        self,
        channel_id: int,
        settings: PostSettings | None,
        week: Week,
        *,
        asked: bool = False,
        paused: bool = False,
    ) -> Outcome:
        """`settle`, with the channel's lock held; `settings` None: stopped or `paused`, so an
        unfinished post is only looked for, and recorded as stopped when it is not found (or,
        paused partway through its pages, left claimed for the rest)."""
        post = await schedules.get_post(self.db, channel_id, week.start)
        looked: list[int] | None = None  # the pages found by the look below
        if settings is not None and post_rules.maybe_posted(post):
            assert post is not None
            # Discord may have made the message after the error, and after the look in the
            # channel right after it (a timeout): a retry looks again before claiming the week.
            # Found, or if the look fails (also for a permission lost since), the week is an
            # interrupted post again: never posted anew, only finished once its pages are known
            # (a `post-now`'s, by its retries).
            try:
                looked = await self._find_posted(channel_id, week, since=post_rules.look_from(post))
            except DISCORD_ERRORS as exc:
                return await self._unchecked(settings, week, exc)
            if looked:
                one_off = settings.one_off
                if not await schedules.reopen_claim(self.db, channel_id, week.start, one_off):
                    return "already"  # settled meanwhile; what is in the channel stays
                post = await schedules.get_post(self.db, channel_id, week.start)
        unfinished_claim = post_rules.unfinished(post)
        posted: list[int] = []
        if unfinished_claim:
            assert post is not None
            claimed = post.settings
            if settings is not None and claimed is not None:
                # The rest of a post goes out as its start did, whatever was set since.
                settings = replace(settings, language=claimed.language, timezone=claimed.timezone)
                week = week_of(week.start, timezone=claimed.timezone)
            if looked is None:
                try:
                    looked = await self._find_posted(
                        channel_id, week, since=post_rules.look_from(post)
                    )
                except DISCORD_ERRORS as exc:
                    # Stopped or paused, the schedule keeps the reason it paused: a claim it
                    # will not post is no failure of its.
                    idle = settings is None
                    return await self._look_failed(channel_id, week.start, exc, idle=idle)
            # Pages sent before this attempt's look are recorded; the look finds the one a
            # crash may have left unrecorded.
            posted = sorted({*post.pages, *looked})
            if posted and settings is None:
                # Stopped or paused: what reached the channel stays, nothing more is posted.
                if paused and claimed is not None and post.created_at is not None:
                    pages = await self._digest_pages(
                        channel_id, week, claimed.language, post.created_at
                    )
                    if len(posted) < len(pages):
                        # Recorded as posted, the rest would never follow: the claim stays, so
                        # that setting the schedule again posts the missing pages, not the week.
                        log.info(
                            "digest of %s in channel %s: %d of its %d pages posted before its "
                            "schedule paused; the rest waits until it is set again",
                            week.start,
                            channel_id,
                            len(posted),
                            len(pages),
                        )
                        return "failed"
                await schedules.mark_posted(self.db, channel_id, week.start, posted[0])
                log.info("digest of %s in channel %s was already posted", week.start, channel_id)
                return "already"
        if settings is not None:
            claim = post.created_at if unfinished_claim and post is not None else None
            return await self._deliver(settings, week, claim=claim, posted=posted, asked=asked)
        if not unfinished_claim:
            log.info("digest for channel %s is stopped or paused; not posting", channel_id)
            return "skipped"
        stopped = PostFailure(FailureCode.SCHEDULE_STOPPED)
        await self._record_failure(channel_id, week.start, stopped)
        log.warning(
            "digest of %s in channel %s not posted: schedule stopped", week.start, channel_id
        )
        return "failed"

    async def _deliver(
        self,
        settings: PostSettings,
        week: Week,
        *,
        claim: datetime | None = None,
        posted: Sequence[int] = (),
        asked: bool = False,
    ) -> Outcome:
        """Post `week`'s digest. `claim`: when an unfinished attempt claimed the week; `posted`:
        the pages it already posted, so only the rest is sent; `asked`: an admin asked for it,
        so a week recorded as missed or skipped is posted too.

        A digest is made of the articles stored before its week was claimed, so that the pages
        an interrupted attempt left to post are the ones it would have posted, whatever was
        imported since.
        """
        claimed = claim is not None
        moment = claim or datetime.now(UTC).replace(microsecond=0)
        channel_id = settings.channel_id
        async with self.slots:
            digest = await schedules.channel_digest(self.db, channel_id, week, added_by=moment)
            pages = digest_embeds(digest, settings.language)
            step = post_rules.delivery_step(
                pages=len(pages),
                posted=len(posted),
                empty=digest.is_empty,
                when_empty=settings.when_empty,
                claimed_at=claim,
                asked=asked,
                now=datetime.now(UTC),
                grace=self.grace,
            )
            if step == "sealed":
                await schedules.mark_posted(self.db, channel_id, week.start, posted[0])
                log.info("digest of %s in channel %s was already posted", week.start, channel_id)
                return "already"
            if step in ("skip", "leave"):
                if step == "skip":
                    await schedules.record_skipped(
                        self.db, channel_id, week.start, over_claim=claimed
                    )
                return "skipped"
            if step == "missed":
                return await self._missed_claim(channel_id, week.start)
            if step == "claim" and not await schedules.claim_post(
                self.db, channel_id, week.start, now=moment, settings=settings, asked=asked
            ):
                return "already"
            try:
                found = await self._postable(channel_id)
            except DISCORD_ERRORS as exc:  # the channel could not be read: nothing was sent
                if posted:
                    return await self._look_failed(channel_id, week.start, exc)
                return await self._failed(settings, week, exc)
            if isinstance(found, PostFailure):
                # With its first pages in the channel, the week stays claimed, so that once
                # the problem is fixed the rest is posted, never the whole week again.
                await self._record_failure(channel_id, week.start, found, claimed=bool(posted))
                reason = failure_text(found.encode(), "en")
                log.warning("digest for channel %s not posted: %s", channel_id, reason)
                return "failed"
            return await self._send(found, settings, week, pages, posted)

    async def _digest_pages(
        self, channel_id: int, week: Week, language: Lang, added_by: datetime
    ) -> list[discord.Embed]:
        """The pages of `week`'s digest as a post claimed at `added_by` posts them."""
        async with self.slots:
            digest = await schedules.channel_digest(self.db, channel_id, week, added_by=added_by)
            return digest_embeds(digest, language)

    async def _missed_claim(self, channel_id: int, week_start: date) -> Outcome:
        """Record an interrupted post, not in the channel, as missed: too late to post now."""
        if not await schedules.record_missed(self.db, channel_id, week_start, over_claim=True):
            return "already"  # settled meanwhile
        log.warning(
            "digest of %s for channel %s missed: its post was interrupted more than the grace "
            "period ago, and it is not in the channel",
            week_start,
            channel_id,
        )
        return "missed"

    async def _unchecked(self, settings: PostSettings, week: Week, error: DiscordError) -> Outcome:
        """A week that failed, maybe posted after all, whose channel could not be looked in:
        claimed again as an interrupted post, for its retries or the next start to look for."""
        channel_id = settings.channel_id
        if not await schedules.reopen_claim(self.db, channel_id, week.start, settings.one_off):
            return "already"
        return await self._look_failed(channel_id, week.start, error)

    async def _look_failed(
        self, channel_id: int, week_start: date, error: DiscordError, *, idle: bool = False
    ) -> Outcome:
        """Record a claimed week whose channel could not be looked in: it stays claimed, for
        its retries or the next start to look for; an error an admin can fix counts toward
        pausing the schedule, unless it is `idle` (stopped or paused), whose claim it is alone.
        """
        failure = failure_of(error)
        if failure.transient:
            detail = f"could not check the channel: {_english(error)}"
            return await self._unconfirmed(channel_id, week_start, detail, idle=idle)
        await self._record_failure(channel_id, week_start, failure, claimed=True, idle=idle)
        log.warning("digest for channel %s not confirmed: %s", channel_id, _english(error))
        return "failed"

    async def _unconfirmed(
        self, channel_id: int, week_start: date, detail: str, *, idle: bool = False
    ) -> Outcome:
        """Record a claimed week whose post may or may not be in the channel, which could not be
        checked: it stays claimed, for a retry or the next start to look for, rather than risk
        posting it twice."""
        failure = PostFailure(FailureCode.UNCONFIRMED, detail=detail)
        await self._record_failure(channel_id, week_start, failure, claimed=True, idle=idle)
        log.warning("digest for channel %s not confirmed: %s", channel_id, detail)
        return "unconfirmed"

    async def _record_failure(
        self,
        channel_id: int,
        week_start: date,
        failure: PostFailure,
        *,
        claimed: bool = False,
        idle: bool = False,
    ) -> None:
        """Record a week's failed post (`claimed`: the week stays claimed, as pages of it may
        be in the channel); the admin who set the schedule is told if that paused it. A claim
        of an `idle` schedule (stopped or paused) gets the error alone, not its schedule."""
        if idle:
            assert claimed  # an idle schedule posts nothing: only its claims can fail
            await schedules.mark_unverified(
                self.db, channel_id, week_start, failure, of_schedule=False
            )
            return
        mark = schedules.mark_unverified if claimed else schedules.mark_failed
        # Read and changed under the channel's lock (held by every caller): nothing else
        # pauses or resumes the schedule in between.
        before = await schedules.get_schedule(self.db, channel_id)
        schedule = await mark(self.db, channel_id, week_start, failure)
        if schedule is not None and schedules.paused_by(before, schedule):
            log.warning(
                "digest for channel %s paused after %d failures in a row",
                channel_id,
                schedules.MAX_FAILURES,
            )
            await self._tell_paused(schedule, failure)

    async def _tell_paused(self, schedule: Schedule, failure: PostFailure) -> None:
        """A direct message to the admin who set `schedule`: it paused, why, and how to resume.
        Nobody is told of schedules set before the bot recorded who set them."""
        if schedule.set_by is None:
            return
        lang = schedule.set_by_language
        guild = self.bot.get_guild(schedule.guild_id)
        text = t(
            "digest.paused_dm",
            lang,
            channel=f"<#{schedule.channel_id}>",
            guild=render.quote(guild.name, 100) if guild is not None else schedule.guild_id,
            error=failure_text(failure.encode(), lang),
        )
        try:
            dm = await self.bot.create_dm(discord.Object(schedule.set_by))
            await dm.send(render.clip(text, render.CONTENT_MAX), allowed_mentions=NO_MENTIONS)
        except DISCORD_ERRORS as exc:
            # Closed DMs (403 50007), or an admin who left: `status` still shows the pause.
            log.info("could not tell user %s of the pause: %s", schedule.set_by, _english(exc))

    async def _postable(self, channel_id: int) -> discord.TextChannel | PostFailure:
        """The channel, if the bot can post there now, or why not; a deleted channel's schedule
        is stopped (deleted while the bot was down, it was never told)."""
        channel, deleted = await self._lookup(channel_id)
        if channel is None:
            schedule = await schedules.get_schedule(self.db, channel_id) if deleted else None
            if schedule is not None:
                await self.forget(schedule.guild_id, channel_id)
            return PostFailure(FailureCode.CHANNEL_MISSING)
        missing = missing_permissions(channel, channel.guild.me)
        if missing:
            return PostFailure(FailureCode.MISSING_PERMISSIONS, permissions=tuple(missing))
        return channel

    async def _failed(self, settings: PostSettings, week: Week, error: DiscordError) -> Outcome:
        """Record a post Discord refused or that got no answer (nothing was posted)."""
        failure = failure_of(error)
        await self._record_failure(settings.channel_id, week.start, failure)
        log.warning("digest for channel %s not posted: %s", settings.channel_id, _english(error))
        return "unavailable" if failure.transient else "failed"

    async def _incomplete(self, settings: PostSettings, week: Week, error: DiscordError) -> Outcome:
        """Record a post stopped after its first pages: the week stays claimed, and a retry (or
        the next start, or a `post-now` once an admin fixed what Discord refused) finds the pages
        in the channel and posts the rest."""
        if isinstance(error, discord.Forbidden | discord.NotFound):
            failure = failure_of(error)  # for an admin to fix: not retried, counts to pausing
        else:
            failure = PostFailure(FailureCode.INCOMPLETE, detail=_english(error))
        await self._record_failure(settings.channel_id, week.start, failure, claimed=True)
        log.warning(
            "digest of %s in channel %s stopped after its first pages: %s",
            week.start,
            settings.channel_id,
            _english(error),
        )
        return "incomplete" if failure.transient else "failed"

    async def _send(
        self,
        channel: discord.TextChannel,
        settings: PostSettings,
        week: Week,
        pages: Sequence[discord.Embed],
        posted: Sequence[int] = (),
    ) -> Outcome:
        """Post a digest's `pages` after the `posted` ones, one message each, each recorded as
        it is sent."""
        channel_id, week_start = settings.channel_id, week.start
        await schedules.begin_sending(self.db, channel_id, week_start, posted)
        first: int | None = posted[0] if posted else None
        try:
            for embed in pages[len(posted) :]:
                async with self.limiter:
                    message = await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
                await schedules.record_page(self.db, channel_id, week_start, message.id)
                first = first or message.id
        except (discord.Forbidden, discord.NotFound) as exc:
            if first is None:
                return await self._failed(settings, week, exc)
            return await self._incomplete(settings, week, exc)
        except DISCORD_ERRORS as exc:
            if first is not None:
                return await self._incomplete(settings, week, exc)
            # Discord may have posted the first page despite the error: look before deciding.
            try:
                found = await self._find_posted(channel_id, week)
            except DISCORD_ERRORS as lookup:
                error = f"{_english(exc)} (could not check the channel: {_english(lookup)})"
                return await self._unconfirmed(channel_id, week_start, error)
            if not found:
                return await self._failed(settings, week, exc)
            if len(pages) > len(found):
                return await self._incomplete(settings, week, exc)
            first = found[0]
        assert first is not None
        await schedules.mark_posted(self.db, channel_id, week_start, first)
        log.info("posted the digest of %s in channel %s", week_start, channel_id)
        return "posted"


def _is_page(message: discord.Message, me: int, wanted: str) -> bool:
    """Whether a message is a page of ours (posted by user `me`) marked `wanted`."""
    return message.author.id == me and any(wanted in (e.footer.text or "") for e in message.embeds)
