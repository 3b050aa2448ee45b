"""Digest schedules, the exactly-once posts ledger and the schedule math, on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.core import db, schedules
from bot.core.schedules import (
    MAX_FAILURES,
    FailureCode,
    PostFailure,
    PostSettings,
    Schedule,
    ScheduleError,
    catch_up,
    claim_post,
    latest_due_run,
    mark_failed,
    mark_posted,
    next_run,
    parse_time,
    parse_timezone,
    parse_weekday,
    pending_intents,
    record_missed,
    set_schedule,
    week_for_run,
)

GUILD = 111
CHANNEL = 222
WEEK = date(2025, 12, 15)
NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 12, 22, 0, 30, tzinfo=UTC)
REFUSED = PostFailure(FailureCode.MISSING_ACCESS)
UNAVAILABLE = PostFailure(FailureCode.HTTP, status=503, discord_code=0, detail="503: Server Error")


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path / "alliance.db")
    yield connection
    await connection.close()


def _schedule(weekday: int, at: str, tz: str, **kw: object) -> Schedule:
    return Schedule(GUILD, CHANNEL, weekday, parse_time(at), tz, **kw)  # type: ignore[arg-type]


async def _set(conn: aiosqlite.Connection, **kw: object) -> Schedule:
    args: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "weekday": "mon",
        "at": "09:00",
        "now": NOW,
    }
    args.update(kw)
    return await set_schedule(conn, **args)  # type: ignore[arg-type]


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Monday", 1), ("sun", 7), ("金曜日", 5), ("土", 6), ("3", 3), ("７", 7), (2, 2)],
)
def test_weekday_names_and_numbers(value: str | int, expected: int) -> None:
    """Weekdays are read from English or Japanese names and ISO numbers (1 = Monday)."""
    assert parse_weekday(value) == expected


@pytest.mark.parametrize("value", ["0", "8", "someday", "", 0])
def test_bad_weekday_is_refused(value: str | int) -> None:
    """Unknown names and numbers outside 1–7 raise a ScheduleError naming the valid forms."""
    with pytest.raises(ScheduleError, match="weekday"):
        parse_weekday(value)


def test_time_and_timezone_validation() -> None:
    """HH:MM (also full-width) and IANA names are accepted; anything else is refused clearly."""
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("２１：３０") == time(21, 30)
    assert parse_timezone("america/new_york") == "America/New_York"
    assert parse_timezone("Ａｓｉａ／Ｔｏｋｙｏ") == "Asia/Tokyo"
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(ScheduleError, match="HH:MM") as refused:
            parse_time(bad)
        assert (refused.value.field, refused.value.value) == ("time", bad)
    # localtime is the host's clock, and Factory and posixrules are no places, though files.
    for bad in ("Mars/Olympus", "../etc/passwd", "", "localtime", "Factory", "posixrules"):
        with pytest.raises(ScheduleError, match="IANA") as refused:
            parse_timezone(bad)
        assert (refused.value.field, refused.value.value) == ("timezone", bad)


def test_timezone_choices_for_autocomplete() -> None:
    """Autocomplete offers matching IANA names, prefix matches first, at most the limit."""
    choices = schedules.timezone_choices("tokyo")
    assert choices[0] == "Asia/Tokyo"
    assert len(schedules.timezone_choices("a", limit=25)) == 25
    assert schedules.timezone_choices("ｔｏｋｙｏ")[0] == "Asia/Tokyo"
    assert schedules.timezone_choices("local") == []


# --- schedule math -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz", ["America/Nuuk", "America/New_York", "America/Santiago", "Australia/Lord_Howe"]
)
def test_runs_keep_their_weekday_and_post_every_week_across_dst(tz: str) -> None:
    """Through two years of DST changes, even a gap across midnight (Saturday 23:00 in Nuuk,
    late March), each run is for its own weekday and posts the week after the last one."""
    times = ["22:00", "23:00", "23:30", "00:00", "00:30", "01:00", "02:00", "02:30", "03:00"]
    for weekday in range(1, 8):
        for at in times:
            sched = _schedule(weekday, at, tz)
            run = next_run(sched, datetime(2025, 12, 1, tzinfo=UTC))
            week = schedules.week_for_run(run, tz, weekday=weekday)
            for _ in range(104):
                following = next_run(sched, run)
                assert following > run
                then = schedules.week_for_run(following, tz, weekday=weekday)
                assert then.start == week.start + timedelta(days=7), (weekday, at, following)
                assert following - run <= timedelta(days=7, hours=2), (weekday, at, following)
                run, week = following, then


def test_next_run_across_dst_in_new_york() -> None:
    """A Sunday 09:00 New York run stays at 09:00 local across both DST changes."""
    sched = _schedule(7, "09:00", "America/New_York")
    spring = next_run(sched, datetime(2025, 3, 3, tzinfo=UTC))
    assert spring == datetime(2025, 3, 9, 9, 0, tzinfo=NY)
    assert spring.utcoffset() == timedelta(hours=-4)
    assert spring.astimezone(UTC).hour == 13
    before = next_run(sched, datetime(2025, 3, 1, tzinfo=UTC))
    assert before.astimezone(UTC).hour == 14  # still EST
    elapsed = spring.astimezone(UTC) - before.astimezone(UTC)
    assert elapsed == timedelta(days=7, hours=-1)  # that week is 167 hours long
    autumn = next_run(sched, datetime(2025, 11, 1, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2025, 11, 2, 14, 0, tzinfo=UTC)


def test_skipped_and_repeated_wall_times() -> None:
    """02:30 on the spring-forward Sunday runs at 03:30 EDT; 01:30 on fall-back runs once."""
    gap = _schedule(7, "02:30", "America/New_York")
    run = next_run(gap, datetime(2025, 3, 3, tzinfo=UTC))
    assert run.astimezone(UTC) == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    fold = _schedule(7, "01:30", "America/New_York")
    first = next_run(fold, datetime(2025, 11, 1, tzinfo=UTC))
    assert first.astimezone(UTC) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT
    again = next_run(fold, first)
    assert again.date() == date(2025, 11, 9)  # not 01:30 EST an hour later


def test_next_run_agrees_with_apscheduler_cron() -> None:
    """Away from DST edges, next_run matches APScheduler's CronTrigger in the same timezone."""
    sched = _schedule(3, "18:45", "America/New_York")
    trigger = CronTrigger(day_of_week="wed", hour=18, minute=45, timezone=NY)
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(60):
        ours = next_run(sched, moment)
        theirs = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        assert ours == theirs
        moment = ours


def test_latest_due_run_is_at_or_before_now() -> None:
    """The latest due run is now itself at the exact minute, else the previous occurrence."""
    sched = _schedule(1, "09:00", "Asia/Tokyo")
    exact = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)  # Monday 09:00 JST
    assert latest_due_run(sched, exact) == exact
    just_before = exact - timedelta(seconds=1)
    assert latest_due_run(sched, just_before) == exact - timedelta(days=7)
    assert next_run(sched, just_before) == exact


def test_week_for_run() -> None:
    """A Monday run posts the week just ended; a Sunday run posts the week ending that day."""
    monday = datetime(2025, 12, 22, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert week_for_run(monday, "Asia/Tokyo").start == WEEK
    sunday = datetime(2025, 12, 21, 20, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert week_for_run(sunday, "Asia/Tokyo").start == WEEK
    # The same instant is still Sunday 23:30 in UTC's eyes, a day earlier.
    assert week_for_run(datetime(2025, 12, 21, 23, 30, tzinfo=UTC), "UTC").start == WEEK


def test_catch_up_within_and_past_grace() -> None:
    """A run missed by less than the grace period is posted; one missed by more is recorded."""
    set_at = datetime(2025, 12, 1, tzinfo=UTC)
    sched = _schedule(1, "09:00", "Asia/Tokyo", updated_at=set_at)
    due = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)
    soon = catch_up(sched, due + timedelta(hours=23), timedelta(hours=24))
    assert soon is not None
    assert (soon.action, soon.run_at, soon.week.start) == ("post", due, WEEK)
    late = catch_up(sched, due + timedelta(hours=25), timedelta(hours=24))
    assert late is not None
    assert late.action == "missed"


def test_catch_up_lists_the_earlier_runs_since_set_past_grace() -> None:
    """Down over several runs: the weeks of the earlier ones since the schedule was set, past
    the grace period, oldest first, at most MISSED_WEEKS_BACK."""
    due = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo
    now = due + timedelta(hours=25)
    set_at = due - timedelta(days=15)
    plan = catch_up(
        _schedule(1, "09:00", "Asia/Tokyo", updated_at=set_at), now, timedelta(hours=24)
    )
    assert plan is not None
    assert [w.start for w in plan.earlier] == [WEEK - timedelta(days=14), WEEK - timedelta(days=7)]
    never_set = catch_up(_schedule(1, "09:00", "Asia/Tokyo"), now, timedelta(hours=24))
    assert never_set is not None
    assert len(never_set.earlier) == schedules.MISSED_WEEKS_BACK
    assert never_set.earlier[-1].start == WEEK - timedelta(days=7)


async def test_an_earlier_week_that_failed_is_not_recorded_missed(
    conn: aiosqlite.Connection,
) -> None:
    """A week that failed while the bot was up stays failed as an earlier week; as the latest
    (its retries cut short by a downtime) it becomes missed."""
    await _set(conn)
    for week_start in (WEEK, WEEK + timedelta(days=7)):
        assert await schedules.claim_post(conn, CHANNEL, week_start, now=NOW)
        await schedules.mark_failed(conn, CHANNEL, week_start, UNAVAILABLE, now=NOW)
    assert not await schedules.record_missed(conn, CHANNEL, WEEK, over_failed=False)
    assert await schedules.record_missed(conn, CHANNEL, WEEK + timedelta(days=7))
    statuses = [
        (await schedules.get_post(conn, CHANNEL, w)) for w in (WEEK, WEEK + timedelta(days=7))
    ]
    assert [p.status if p else None for p in statuses] == ["failed", "missed"]


async def test_a_digest_is_made_when_posted_or_skipped(conn: aiosqlite.Connection) -> None:
    """`digest_made_at` is the claim of a posted week and the record of a skipped one; a week
    claimed but unfinished, missed, or never handled has no digest made."""
    await _set(conn)
    weeks = [WEEK + timedelta(days=7 * n) for n in range(5)]
    posted, skipped, claimed, missed, _never = weeks
    assert await claim_post(conn, CHANNEL, posted, now=NOW)
    assert await mark_posted(conn, CHANNEL, posted, 7, now=NOW + timedelta(hours=1))
    assert await schedules.record_skipped(conn, CHANNEL, skipped, now=NOW + timedelta(hours=2))
    assert await claim_post(conn, CHANNEL, claimed, now=NOW)
    assert await record_missed(conn, CHANNEL, missed)
    made = [await schedules.digest_made_at(conn, CHANNEL, week) for week in weeks]
    assert made == [NOW, NOW + timedelta(hours=2), None, None, None]


def test_retries_back_off_up_to_an_hour_within_the_deadline() -> None:
    """Retry delays double from the first (1, 2, 4 … min), stop at an hour, end at the deadline."""
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    first, deadline = timedelta(minutes=1), now + timedelta(hours=24)
    delays = [schedules.retry_at(now, first, n, deadline) for n in (1, 2, 3, 7, 8, 50)]
    assert [d - now if d else None for d in delays] == [
        timedelta(minutes=m) for m in (1, 2, 4, 60, 60, 60)
    ]
    assert schedules.retry_at(now, first, 3, now + timedelta(minutes=3)) is None
    assert schedules.retry_at(now, first, 3, now + timedelta(minutes=4)) == now + first * 4


def test_catch_up_ignores_runs_before_set_and_paused() -> None:
    """No catch-up for a run due before the schedule was set, nor for a paused schedule."""
    due = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)
    fresh = _schedule(1, "09:00", "Asia/Tokyo", updated_at=due + timedelta(hours=1))
    assert catch_up(fresh, due + timedelta(hours=2)) is None
    paused = _schedule(1, "09:00", "Asia/Tokyo", paused=True)
    assert catch_up(paused, due + timedelta(hours=2)) is None


def test_a_run_in_the_second_a_schedule_was_set_is_before_it() -> None:
    """Set in its run's second, a schedule's first run is next week, by its plan (`next_run`)
    and on a restart (`catch_up`); set a second earlier, it is this run, by both."""
    due = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo
    for set_at, first in ((due, due + timedelta(days=7)), (due - timedelta(seconds=1), due)):
        sched = _schedule(1, "09:00", "Asia/Tokyo", updated_at=set_at)
        assert next_run(sched, set_at) == first
        plan = catch_up(sched, due + timedelta(minutes=5))
        assert (plan is not None) is (first == due)
        changed = _schedule(1, "08:30", "Asia/Tokyo")
        owed = schedules.owed_weeks(sched, changed, due + timedelta(minutes=5))
        assert owed == ([week_for_run(due, "Asia/Tokyo")] if first == due else [])


def test_catch_up_deadline_is_the_grace_period_in_real_time_across_dst() -> None:
    """A run the day before New York's clocks go back may be posted 24 hours later, not 25."""
    saturday = datetime(2025, 11, 1, 9, tzinfo=NY)  # the clocks go back on Sunday at 02:00
    sched = _schedule(6, "09:00", "America/New_York", updated_at=datetime(2025, 10, 30, tzinfo=UTC))
    plan = catch_up(sched, saturday + timedelta(hours=1), timedelta(hours=24))
    assert plan is not None
    assert plan.run_at == saturday
    assert plan.deadline == datetime(2025, 11, 2, 13, tzinfo=UTC)  # Sunday 08:00 by the clock


def test_catch_up_posts_an_earlier_run_still_within_a_week_long_grace_period() -> None:
    """With 168 hours of grace, the run before a 167-hour week (clocks going forward) is still
    due beside the latest: posted too, with its own deadline, not dropped or recorded missed."""
    before = datetime(2026, 3, 2, 9, tzinfo=NY)  # clocks go forward on Sunday, March 8
    latest = datetime(2026, 3, 9, 9, tzinfo=NY)
    sched = _schedule(1, "09:00", "America/New_York", updated_at=datetime(2026, 2, 27, tzinfo=UTC))
    plan = catch_up(sched, latest + timedelta(minutes=30), timedelta(hours=168))
    assert plan is not None
    assert (plan.action, plan.run_at, plan.earlier) == ("post", latest, ())
    assert [(due.week.start, due.deadline) for due in plan.earlier_due] == [
        (date(2026, 2, 23), before.astimezone(UTC) + timedelta(hours=168))
    ]
    # An hour of grace less, that run is past it: missed, as before.
    shorter = catch_up(sched, latest + timedelta(minutes=30), timedelta(hours=167))
    assert shorter is not None
    assert ([w.start for w in shorter.earlier], shorter.earlier_due) == ([date(2026, 2, 23)], ())


@pytest.mark.parametrize(
    ("old", "new", "now", "owed"),
    [
        # Tuesday 05:12 not yet run, changed at 03:30 to 03:12: its week is owed.
        (
            _schedule(2, "05:12", "Asia/Tokyo"),
            _schedule(2, "03:12", "Asia/Tokyo"),
            datetime(2026, 11, 24, 3, 30, tzinfo=ZoneInfo("Asia/Tokyo")),
            [date(2026, 11, 16)],
        ),
        # Saturday 16:30 New York not yet run, changed (Sunday 05:30 in Tokyo) to Sunday 01:30
        # Tokyo: the week it owed, and the week ending that Sunday, which the old time would
        # have posted next Saturday and the new one never will.
        (
            _schedule(6, "16:30", NY.key),
            _schedule(7, "01:30", "Asia/Tokyo"),
            datetime(2026, 2, 14, 15, 30, tzinfo=NY),
            [date(2026, 2, 2), date(2026, 2, 9)],
        ),
        # Monday 09:00 set on a Tuesday, changed on Wednesday to Wednesday 08:00: its next run
        # posts the week the old one would have; the week before it predates the schedule.
        (
            _schedule(1, "09:00", "Asia/Tokyo"),
            _schedule(3, "08:00", "Asia/Tokyo"),
            datetime(2026, 11, 18, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
            [],
        ),
        # Only the language changed: the next run is the same.
        (
            _schedule(1, "09:00", "Asia/Tokyo"),
            _schedule(1, "09:00", "Asia/Tokyo", language="en"),
            datetime(2026, 11, 18, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
            [],
        ),
        # Paused (after failures), set again: the week of its latest run is posted now.
        (
            _schedule(1, "09:00", "Asia/Tokyo", paused=True),
            _schedule(1, "09:00", "Asia/Tokyo"),
            datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
            [date(2026, 11, 16)],
        ),
        # Changed 30 s after its run came due, before that run settled: its week is owed.
        (
            _schedule(1, "09:00", "Asia/Tokyo", updated_at=datetime(2026, 10, 1, tzinfo=UTC)),
            _schedule(7, "18:00", "Asia/Tokyo"),
            datetime(2026, 11, 23, 9, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo")),
            [date(2026, 11, 16)],
        ),
        # Paused a while, then set to a time further on: only the two latest weeks are owed.
        (
            _schedule(6, "18:00", "Etc/GMT+12", paused=True),
            _schedule(7, "00:30", "Asia/Tokyo"),
            datetime(2026, 9, 5, 21, 33, tzinfo=UTC),
            [date(2026, 8, 24), date(2026, 8, 31)],
        ),
        (None, _schedule(1, "09:00", "Asia/Tokyo"), datetime(2026, 11, 25, tzinfo=UTC), []),
    ],
)
def test_owed_weeks_of_a_changed_schedule(
    old: Schedule | None, new: Schedule, now: datetime, owed: list[date]
) -> None:
    """A change owes the weeks its old times had yet to post and its new ones never will."""
    assert [w.start for w in schedules.owed_weeks(old, new, now)] == owed


@pytest.mark.parametrize(
    ("local", "monday"),
    [
        (datetime(2025, 12, 21, 23, 59), date(2025, 12, 8)),  # Sunday: that week is not over
        (datetime(2025, 12, 22, 0, 0), date(2025, 12, 15)),  # Monday: it is
        (datetime(2025, 12, 27, 12, 0), date(2025, 12, 15)),  # Saturday
    ],
)
def test_latest_complete_week_is_never_the_week_going_on(local: datetime, monday: date) -> None:
    """`post-now`'s week is the latest whose Sunday is over, also on a Sunday."""
    now = local.replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert schedules.latest_complete_week(now, "Asia/Tokyo").start == monday


# --- the database ------------------------------------------------------------------------------


async def test_set_list_and_stop(conn: aiosqlite.Connection) -> None:
    """A schedule is stored validated, replaced by `set`, and removed only within its guild."""
    first = await _set(conn, weekday="金", at="18:30", timezone="america/new_york", language="en")
    assert (first.weekday, first.at, first.timezone, first.language) == (
        5,
        time(18, 30),
        "America/New_York",
        "en",
    )
    await _set(conn, channel_id=333, when_empty="skip")
    assert [s.channel_id for s in await schedules.list_schedules(conn, GUILD)] == [CHANNEL, 333]
    assert await schedules.list_schedules(conn, 999) == []
    assert await schedules.stop_schedule(conn, 999, CHANNEL) is None
    assert await schedules.stop_schedule(conn, GUILD, CHANNEL) == "schedule"
    assert await schedules.get_schedule(conn, CHANNEL) is None
    with pytest.raises(ScheduleError, match="language"):
        await _set(conn, language="fr")


async def test_claim_twice_second_refused(conn: aiosqlite.Connection) -> None:
    """The second claim of a (channel, week) is refused, before and after posting."""
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert [p.week_start for p in await pending_intents(conn)] == [WEEK]
    assert await mark_posted(conn, CHANNEL, WEEK, 999_000, now=NOW)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert await pending_intents(conn) == []
    record = await schedules.get_post(conn, CHANNEL, WEEK)
    assert record is not None
    assert (record.status, record.message_id) == ("posted", 999_000)
    assert await claim_post(conn, 333, WEEK, now=NOW)  # another channel is independent


async def test_claiming_a_failed_week_again_starts_its_claim_anew(
    conn: aiosqlite.Connection,
) -> None:
    """A failed week claimed again carries the new claim's time: the channel is searched for
    its pages from then, not from the first attempt days before."""
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    await mark_failed(conn, CHANNEL, WEEK, REFUSED, now=NOW)
    later = NOW + timedelta(days=2)
    assert await claim_post(conn, CHANNEL, WEEK, now=later)
    record = await schedules.get_post(conn, CHANNEL, WEEK)
    assert record is not None
    assert (record.status, record.created_at) == ("intent", later)


async def test_a_claim_keeps_how_it_posts_and_a_new_claim_replaces_it(
    conn: aiosqlite.Connection,
) -> None:
    """A claim records its language, timezone and whether it is a one-off; a failed week
    claimed again records the new claim's; a claim made without them has no settings."""
    one_off = PostSettings(CHANNEL, "en", "America/New_York", one_off=True)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW, settings=one_off)
    record = await schedules.get_post(conn, CHANNEL, WEEK)
    assert record is not None
    assert record.settings == one_off
    await mark_failed(conn, CHANNEL, WEEK, UNAVAILABLE, now=NOW)
    scheduled = _schedule(1, "09:00", "Asia/Tokyo").settings
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW, settings=scheduled)
    record = await schedules.get_post(conn, CHANNEL, WEEK)
    assert record is not None
    assert record.settings == PostSettings(CHANNEL, "ja", "Asia/Tokyo")
    assert await claim_post(conn, 333, WEEK, now=NOW)
    older = await schedules.get_post(conn, 333, WEEK)
    assert older is not None
    assert older.settings is None
    with pytest.raises(ValueError, match="another channel"):
        await claim_post(conn, 444, WEEK, now=NOW, settings=one_off)


async def test_an_interrupted_post_becomes_missed_only_when_asked_to(
    conn: aiosqlite.Connection,
) -> None:
    """A claim with no message is missed only `over_claim`, keeping its last error; a posted
    week never is."""
    await _set(conn)
    later = WEEK + timedelta(days=7)
    for week in (WEEK, later):
        assert await claim_post(conn, CHANNEL, week, now=NOW)
    await schedules.mark_unverified(conn, CHANNEL, WEEK, UNAVAILABLE, now=NOW)
    assert not await record_missed(conn, CHANNEL, WEEK, now=NOW)
    assert await record_missed(conn, CHANNEL, WEEK, now=NOW, over_claim=True)
    missed = await schedules.get_post(conn, CHANNEL, WEEK)
    assert missed is not None
    assert (missed.status, missed.failure) == ("missed", UNAVAILABLE)
    await mark_posted(conn, CHANNEL, later, 999, now=NOW)
    assert not await record_missed(conn, CHANNEL, later, now=NOW, over_claim=True)
    posted = await schedules.get_post(conn, CHANNEL, later)
    assert posted is not None
    assert (posted.status, posted.message_id) == ("posted", 999)


async def test_a_claim_records_its_pages_as_sent_and_a_new_claim_forgets_them(
    conn: aiosqlite.Connection,
) -> None:
    """Each attempt records when it began sending and the pages already out; each page is added
    as it is sent; a claim with pages is neither missed nor skipped in their place; a week
    claimed anew (after a failure) starts with none."""
    await _set(conn)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert await schedules.begin_sending(conn, CHANNEL, WEEK, now=NOW)
    await schedules.record_page(conn, CHANNEL, WEEK, 11)
    later = NOW + timedelta(hours=1)
    assert await schedules.begin_sending(conn, CHANNEL, WEEK, [11], now=later)
    await schedules.record_page(conn, CHANNEL, WEEK, 12)
    post = await schedules.get_post(conn, CHANNEL, WEEK)
    assert post is not None
    assert (post.pages, post.sending_at) == ((11, 12), later)
    assert not await record_missed(conn, CHANNEL, WEEK, now=later, over_claim=True)
    assert not await schedules.record_skipped(conn, CHANNEL, WEEK, now=later, over_claim=True)
    other = WEEK + timedelta(days=7)
    assert await claim_post(conn, CHANNEL, other, now=NOW)
    assert await schedules.begin_sending(conn, CHANNEL, other, now=NOW)
    await mark_failed(conn, CHANNEL, other, UNAVAILABLE, now=NOW)
    assert not await schedules.begin_sending(conn, CHANNEL, other, now=NOW)
    assert await claim_post(conn, CHANNEL, other, now=later)
    anew = await schedules.get_post(conn, CHANNEL, other)
    assert anew is not None
    assert (anew.pages, anew.sending_at) == ((), None)


async def test_reopen_claim_makes_only_a_failed_or_missed_week_unfinished_again(
    conn: aiosqlite.Connection,
) -> None:
    """A failed week, or one recorded as missed since, becomes an intent with no message again,
    its claim time and language kept, a one-off or not as asked; a posted week or one never
    claimed is left as it is."""
    settings = PostSettings(CHANNEL, "en", "Asia/Tokyo")
    later = WEEK + timedelta(days=7)
    for week in (WEEK, later):
        assert await claim_post(conn, CHANNEL, week, now=NOW, settings=settings)
        await mark_failed(conn, CHANNEL, week, UNAVAILABLE, now=NOW)
    assert await record_missed(conn, CHANNEL, later, now=NOW)
    assert await schedules.reopen_claim(conn, CHANNEL, WEEK, True, now=NOW + timedelta(hours=1))
    assert await schedules.reopen_claim(conn, CHANNEL, later, False)
    for week, one_off in ((WEEK, True), (later, False)):
        reopened = await schedules.get_post(conn, CHANNEL, week)
        assert reopened is not None
        assert (reopened.status, reopened.message_id) == ("intent", None)
        assert (reopened.created_at, reopened.settings) == (
            NOW,
            replace(settings, one_off=one_off),
        )
    assert [p.week_start for p in await pending_intents(conn)] == [WEEK, later]
    await mark_posted(conn, CHANNEL, WEEK, 999, now=NOW)
    assert not await schedules.reopen_claim(conn, CHANNEL, WEEK, False)
    assert not await schedules.reopen_claim(conn, CHANNEL, WEEK + timedelta(days=14), False)
    posted = await schedules.get_post(conn, CHANNEL, WEEK)
    assert posted is not None
    assert posted.status == "posted"


async def test_pending_retries_are_recent_failures_worth_trying_again(
    conn: aiosqlite.Connection,
) -> None:
    """A claim that failed for a transient reason since the given time is listed, a one-off or
    a running schedule's since it was set: not one before, not a paused or stopped schedule's,
    not one an admin must fix, not an older one, not a pending intent."""
    weeks = [WEEK + timedelta(days=7 * n) for n in range(6)]
    one_off = PostSettings(CHANNEL, "ja", "Asia/Tokyo", one_off=True)
    scheduled = replace(one_off, one_off=False)
    await _set(conn)
    claims = [
        (weeks[0], one_off, UNAVAILABLE, NOW),  # listed
        (weeks[1], scheduled, UNAVAILABLE, NOW),  # listed: its schedule runs
        (weeks[2], one_off, REFUSED, NOW),  # for an admin to fix
        (weeks[3], one_off, UNAVAILABLE, NOW - timedelta(days=2)),  # too old
        (weeks[5], scheduled, UNAVAILABLE, NOW - timedelta(hours=1)),  # before it was set
    ]
    for week, settings, failure, at in claims:
        assert await claim_post(conn, CHANNEL, week, now=at, settings=settings)
        await mark_failed(conn, CHANNEL, week, failure, now=at)
    assert await claim_post(conn, CHANNEL, weeks[4], now=NOW, settings=one_off)  # in flight
    since = NOW - timedelta(days=1)
    listed = [(p.week_start, p.settings) for p in await schedules.pending_retries(conn, since)]
    assert listed == [(weeks[0], one_off), (weeks[1], scheduled)]

    for _ in range(MAX_FAILURES):
        paused = await schedules.record_failure(conn, CHANNEL, REFUSED, now=NOW)
    assert paused is not None
    assert paused.paused
    listed = [(p.week_start, p.settings) for p in await schedules.pending_retries(conn, since)]
    assert listed == [(weeks[0], one_off)]


async def test_stop_withdraws_the_channels_one_offs_not_yet_through(
    conn: aiosqlite.Connection,
) -> None:
    """`stop` makes a failed or unfinished `post-now` of the channel no longer a one-off (not
    retried), with or without a schedule; another channel's stays; nothing else to stop: False."""
    one_off = PostSettings(CHANNEL, "ja", "Asia/Tokyo", one_off=True)
    other = replace(one_off, channel_id=333)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW, settings=one_off)
    await mark_failed(conn, CHANNEL, WEEK, UNAVAILABLE, now=NOW)
    later = WEEK + timedelta(days=7)
    assert await claim_post(conn, CHANNEL, later, now=NOW, settings=one_off)  # cut off mid-post
    assert await claim_post(conn, 333, WEEK, now=NOW, settings=other)
    await mark_failed(conn, 333, WEEK, UNAVAILABLE, now=NOW)

    assert await schedules.stop_schedule(conn, GUILD, CHANNEL) == "post-now"
    since = NOW - timedelta(days=1)
    assert [p.channel_id for p in await schedules.pending_retries(conn, since=since)] == [333]
    unfinished = await schedules.get_post(conn, CHANNEL, later)
    assert unfinished is not None
    assert (unfinished.status, unfinished.one_off) == ("intent", False)
    assert await schedules.stop_schedule(conn, GUILD, CHANNEL) is None


async def test_a_missed_week_is_claimed_only_when_asked_for(conn: aiosqlite.Connection) -> None:
    """A week recorded as missed refuses a scheduled claim but not one an admin asked for."""
    assert await schedules.record_missed(conn, CHANNEL, WEEK, now=NOW)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW, asked=True)
    post = await schedules.get_post(conn, CHANNEL, WEEK)
    assert post is not None
    assert post.status == "intent"
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW, asked=True)


async def test_a_skipped_week_is_claimed_only_when_asked_for(conn: aiosqlite.Connection) -> None:
    """A week skipped for having no articles refuses a scheduled claim (articles that arrive
    later don't post it) but not one an admin asked for; it is not skipped twice."""
    assert await schedules.record_skipped(conn, CHANNEL, WEEK, now=NOW)
    assert not await schedules.record_skipped(conn, CHANNEL, WEEK, now=NOW)
    skipped = await schedules.get_post(conn, CHANNEL, WEEK)
    assert skipped is not None
    assert (skipped.status, skipped.message_id, skipped.created_at) == ("skipped", None, NOW)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert not await schedules.record_missed(conn, CHANNEL, WEEK, now=NOW)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW, asked=True)
    assert [p.week_start for p in await pending_intents(conn)] == [WEEK]


async def test_skipping_takes_a_claim_only_when_told(conn: aiosqlite.Connection) -> None:
    """An unfinished claim becomes skipped only `over_claim` (its poster found nothing in the
    channel); a failed attempt does at once; a posted or missed week never does."""
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert not await schedules.record_skipped(conn, CHANNEL, WEEK, now=NOW)
    assert await schedules.record_skipped(conn, CHANNEL, WEEK, now=NOW, over_claim=True)
    assert await pending_intents(conn) == []

    failed = WEEK + timedelta(days=7)
    assert await claim_post(conn, CHANNEL, failed, now=NOW)
    await schedules.mark_failed(conn, CHANNEL, failed, PostFailure(FailureCode.TIMEOUT), now=NOW)
    assert await schedules.record_skipped(conn, CHANNEL, failed, now=NOW)
    record = await schedules.get_post(conn, CHANNEL, failed)
    assert record is not None
    assert (record.status, record.error) == ("skipped", None)

    posted, missed = WEEK + timedelta(days=14), WEEK + timedelta(days=21)
    assert await claim_post(conn, CHANNEL, posted, now=NOW)
    assert await mark_posted(conn, CHANNEL, posted, 42, now=NOW)
    assert await schedules.record_missed(conn, CHANNEL, missed, now=NOW)
    for week in (posted, missed):
        assert not await schedules.record_skipped(conn, CHANNEL, week, now=NOW, over_claim=True)
    statuses = [(await schedules.get_post(conn, CHANNEL, w)) for w in (posted, missed)]
    assert [(r.status, r.message_id) for r in statuses if r] == [("posted", 42), ("missed", None)]


async def test_claim_survives_reconnect(tmp_path: Path) -> None:
    """A claim is on disk: after closing and reopening the database it is still refused."""
    path = tmp_path / "a.db"
    conn = await db.connect(path)
    assert await claim_post(conn, CHANNEL, WEEK)
    await conn.close()
    conn = await db.connect(path)
    try:
        assert not await claim_post(conn, CHANNEL, WEEK)
        assert len(await pending_intents(conn)) == 1
    finally:
        await conn.close()


async def _fail_weeks(
    conn: aiosqlite.Connection, failure: PostFailure, count: int
) -> list[Schedule]:
    """Claim and fail `count` weeks in a row after WEEK; the schedule after each."""
    afters = []
    for n in range(1, count + 1):
        week = WEEK + timedelta(days=7 * n)
        assert await claim_post(conn, CHANNEL, week, now=NOW)
        after = await mark_failed(conn, CHANNEL, week, failure, now=NOW)
        assert after is not None
        afters.append(after)
    return afters


async def test_pause_after_three_failures_and_set_clears(conn: aiosqlite.Connection) -> None:
    """Three failures in a row pause a schedule; `set` again un-pauses it and clears the error."""
    await _set(conn)
    afters = await _fail_weeks(conn, REFUSED, MAX_FAILURES)
    assert [a.consecutive_failures for a in afters] == list(range(1, MAX_FAILURES + 1))
    assert [a.paused for a in afters] == [False] * (MAX_FAILURES - 1) + [True]
    status = await schedules.schedule_status(conn, GUILD, now=NOW)
    assert status[0].next_run is None
    assert status[0].schedule.last_error == "missing_access"
    assert status[0].schedule.last_failure == REFUSED
    assert status[0].last_record is not None
    assert status[0].last_record.status == "failed"
    again = await _set(conn)
    assert (again.paused, again.consecutive_failures, again.last_error) == (False, 0, None)
    status = await schedules.schedule_status(conn, GUILD, now=NOW)
    assert status[0].next_run == datetime(2025, 12, 29, 0, 0, tzinfo=UTC)


async def test_the_failure_that_pauses_is_known_once(conn: aiosqlite.Connection) -> None:
    """Only the failure that paused the schedule did, not those before it, nor those after a
    success while it stays paused; who set it, and their language, are kept for telling them."""
    before = await _set(conn, set_by=42, set_by_language="en")
    afters = await _fail_weeks(conn, REFUSED, MAX_FAILURES + 1)
    paused = [schedules.paused_by(b, a) for b, a in zip([before, *afters], afters, strict=False)]
    assert paused == [False, False, True, False]
    assert (afters[-1].set_by, afters[-1].set_by_language) == (42, "en")
    week = WEEK + timedelta(days=7 * (MAX_FAILURES + 2))
    assert await claim_post(conn, CHANNEL, week, now=NOW)
    assert await schedules.mark_posted(conn, CHANNEL, week, 1, now=NOW)  # post-now succeeds
    still = await schedules.get_schedule(conn, CHANNEL)
    assert still is not None
    assert (still.paused, still.consecutive_failures) == (True, 0)
    again = await _fail_weeks(conn, REFUSED, MAX_FAILURES)
    assert not any(schedules.paused_by(b, a) for b, a in zip([still, *again], again, strict=False))


async def test_a_stopped_schedules_week_keeps_the_schedules_own_error(
    conn: aiosqlite.Connection,
) -> None:
    """Failing a week because its schedule was paused neither counts nor hides the real error."""
    await _set(conn)
    for n in range(1, MAX_FAILURES + 1):
        week = WEEK + timedelta(days=7 * n)
        assert await claim_post(conn, CHANNEL, week, now=NOW)
        await mark_failed(conn, CHANNEL, week, REFUSED, now=NOW)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    stopped = PostFailure(FailureCode.SCHEDULE_STOPPED)
    after = await mark_failed(conn, CHANNEL, WEEK, stopped, now=NOW)
    assert after is not None
    assert (after.paused, after.consecutive_failures, after.last_failure) == (
        True,
        MAX_FAILURES,
        REFUSED,
    )
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)  # the week itself is failed, claimable


async def test_failed_week_can_be_claimed_again(conn: aiosqlite.Connection) -> None:
    """A failed attempt posted nothing, so the week can be claimed again; a success resets."""
    await _set(conn)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    await mark_failed(conn, CHANNEL, WEEK, UNAVAILABLE, now=NOW)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    assert await mark_posted(conn, CHANNEL, WEEK, 42, now=NOW)
    sched = await schedules.get_schedule(conn, CHANNEL)
    assert sched is not None
    assert sched.consecutive_failures == 0
    status = await schedules.schedule_status(conn, GUILD, now=NOW)
    assert status[0].last_post is not None
    assert status[0].last_post.message_id == 42


async def test_status_counts_the_weeks_missed_since_the_last_post(
    conn: aiosqlite.Connection,
) -> None:
    """Missed weeks since the last post are counted, with the latest, whatever came after them
    (a skipped week); a week posted after them ends the count."""
    await _set(conn)
    weeks = [WEEK + timedelta(days=7 * n) for n in range(4)]
    for week in weeks[:2]:
        assert await schedules.record_missed(conn, CHANNEL, week, now=NOW)
    assert await schedules.record_skipped(conn, CHANNEL, weeks[2], now=NOW)
    [status] = await schedules.schedule_status(conn, GUILD, now=NOW)
    assert (status.missed, status.last_missed) == (2, weeks[1])
    assert status.last_record is not None
    assert status.last_record.status == "skipped"
    assert await claim_post(conn, CHANNEL, weeks[3], now=NOW)
    assert await mark_posted(conn, CHANNEL, weeks[3], 42, now=NOW)
    [status] = await schedules.schedule_status(conn, GUILD, now=NOW)
    assert (status.missed, status.last_missed) == (0, None)


@pytest.mark.parametrize(
    ("failure", "transient"),
    [
        (PostFailure(FailureCode.HTTP, status=503), True),
        (PostFailure(FailureCode.HTTP, status=429), True),  # a rate limit discord.py gave up on
        (PostFailure(FailureCode.TIMEOUT), True),
        (PostFailure(FailureCode.UNREACHABLE), True),
        (PostFailure(FailureCode.HTTP, status=400, discord_code=50035), False),
        (PostFailure(FailureCode.CHANNEL_MISSING), False),
    ],
)
async def test_only_failures_an_admin_can_fix_count_toward_pausing(
    conn: aiosqlite.Connection, failure: PostFailure, transient: bool
) -> None:
    """Four 503s or timeouts in a row leave a schedule running (retried); a 400 pauses it."""
    await _set(conn)
    *_, after = await _fail_weeks(conn, failure, MAX_FAILURES + 1)
    assert failure.transient is transient
    assert after.paused is not transient
    assert after.last_failure == failure


async def test_unverified_week_stays_an_intent(conn: aiosqlite.Connection) -> None:
    """A post that may have happened keeps its intent (not claimable) with the error; it is the
    last error but, transient, does not count toward pausing."""
    await _set(conn)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    unconfirmed = PostFailure(FailureCode.UNCONFIRMED, detail="503; history 503")
    sched = await schedules.mark_unverified(conn, CHANNEL, WEEK, unconfirmed, now=NOW)
    assert sched is not None
    assert (sched.consecutive_failures, sched.last_failure) == (0, unconfirmed)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    [pending] = await pending_intents(conn)
    assert (pending.status, pending.failure) == ("intent", unconfirmed)
    assert await mark_posted(conn, CHANNEL, WEEK, 42, now=NOW)
    post = await schedules.get_post(conn, CHANNEL, WEEK)
    assert post is not None
    assert (post.status, post.error, post.message_id) == ("posted", None, 42)


async def test_an_unverified_week_not_of_its_schedule_leaves_the_schedule_as_it_was(
    conn: aiosqlite.Connection,
) -> None:
    """Without `of_schedule` (a paused schedule's claim) the error is the claim's alone: the
    schedule's last error and count of failures stay."""
    await _set(conn)
    *_, paused = await _fail_weeks(conn, PostFailure(FailureCode.MISSING_ACCESS), MAX_FAILURES)
    assert paused.paused
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    refused = PostFailure(FailureCode.MISSING_PERMISSIONS)
    assert await schedules.mark_unverified(conn, CHANNEL, WEEK, refused, of_schedule=False) is None
    [pending] = await pending_intents(conn)
    assert (pending.status, pending.failure) == ("intent", refused)
    assert await schedules.get_schedule(conn, CHANNEL) == paused


# --- failure reasons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "stored"),
    [
        (PostFailure(FailureCode.CHANNEL_MISSING), "channel_missing"),
        (
            PostFailure(
                FailureCode.MISSING_PERMISSIONS, permissions=("send_messages", "embed_links")
            ),
            "missing_permissions:send_messages,embed_links",
        ),
        (PostFailure(FailureCode.MISSING_PERMISSIONS), "missing_permissions"),
        (PostFailure(FailureCode.MISSING_ACCESS), "missing_access"),
        (
            PostFailure(
                FailureCode.HTTP,
                status=400,
                discord_code=50035,
                detail="Invalid Form Body\nIn embeds.0: too long",
            ),
            "http:400:50035 Invalid Form Body\nIn embeds.0: too long",
        ),
        (UNAVAILABLE, "http:503:0 503: Server Error"),
        (PostFailure(FailureCode.TIMEOUT), "timeout"),
        (
            PostFailure(FailureCode.UNCONFIRMED, detail="503 (history: 503)"),
            "unconfirmed 503 (history: 503)",
        ),
        (PostFailure(FailureCode.SCHEDULE_STOPPED), "schedule_stopped"),
        (
            PostFailure(FailureCode.UNREACHABLE, detail="Server disconnected"),
            "unreachable Server disconnected",
        ),
    ],
)
def test_failure_is_stored_as_a_code_and_read_back(failure: PostFailure, stored: str) -> None:
    """Each failure is stored as its code, parameters and detail, and decodes to itself."""
    assert failure.encode() == stored
    assert PostFailure.decode(stored) == failure


@pytest.mark.parametrize(
    "text",
    [
        "channel not found (deleted, or the bot can't see it)",
        "missing permissions: Send Messages",
        "403 Forbidden (error code: 50013): Missing Permissions",
        "503 Service Unavailable (error code: 0): 503: Server Error "
        "(could not check the channel: 503 Service Unavailable (error code: 0): 503: Server Error)",
        "schedule stopped",
        "",
        "http:503",
        "http:5o3:0 bad status",
        "missing_permissions:Send Messages",
        "timeout:5",
    ],
)
def test_older_free_text_is_not_taken_for_a_code(text: str) -> None:
    """English text older versions stored, and malformed codes, decode to None (shown as is)."""
    assert PostFailure.decode(text) is None


async def test_failure_is_stored_on_schedule_and_week(conn: aiosqlite.Connection) -> None:
    """A failure is stored as a code on the schedule and the week; a long detail is cut."""
    await _set(conn)
    assert await claim_post(conn, CHANNEL, WEEK, now=NOW)
    long = PostFailure(FailureCode.HTTP, status=400, discord_code=50035, detail="x" * 2000)
    after = await mark_failed(conn, CHANNEL, WEEK, long, now=NOW)
    assert after is not None
    assert after.last_error is not None
    assert after.last_error.startswith("http:400:50035 xxx")
    assert len(after.last_error) == 500
    assert after.last_failure == PostFailure(
        FailureCode.HTTP, status=400, discord_code=50035, detail="x" * 485
    )
    assert after.last_error_at == NOW
    post = await schedules.get_post(conn, CHANNEL, WEEK)
    assert post is not None
    assert (post.status, post.error) == ("failed", after.last_error)
    assert post.failure == after.last_failure


async def test_older_rows_keep_their_text(conn: aiosqlite.Connection) -> None:
    """A row an older version wrote keeps its English text, with no failure code read into it."""
    await _set(conn)
    legacy = "403 Forbidden (error code: 50013): Missing Permissions"
    query = "UPDATE digest_schedules SET last_error = ? WHERE channel_id = ?"
    await conn.execute(query, (legacy, CHANNEL))
    sched = await schedules.get_schedule(conn, CHANNEL)
    assert sched is not None
    assert (sched.last_error, sched.last_failure) == (legacy, None)


async def test_missed_week_is_final(conn: aiosqlite.Connection) -> None:
    """A week recorded as missed is never claimed later, and posted weeks are never 'missed'."""
    assert await record_missed(conn, CHANNEL, WEEK, now=NOW)
    assert not await claim_post(conn, CHANNEL, WEEK, now=NOW)
    other = WEEK + timedelta(days=7)
    assert await claim_post(conn, CHANNEL, other, now=NOW)
    assert await mark_posted(conn, CHANNEL, other, 7, now=NOW)
    assert not await record_missed(conn, CHANNEL, other, now=NOW)
    record = await schedules.get_post(conn, CHANNEL, other)
    assert record is not None
    assert record.status == "posted"


@asynccontextmanager
async def _database_at(path: Path, version: int) -> AsyncIterator[aiosqlite.Connection]:
    """A database migrated up to `version` only, as an older release left it."""
    conn = await db.connect(path, migrate_schema=False)
    try:
        await db.migrate(conn, db.load_migrations()[:version])
        yield conn
    finally:
        await conn.close()


async def test_migration_2_to_3_keeps_data(tmp_path: Path) -> None:
    """A database at schema 2 with an article upgrades through 0003 and keeps the article."""
    path = tmp_path / "old.db"
    migrations = db.load_migrations()
    conn = await db.connect(path, migrate_schema=False)
    await db.migrate(conn, migrations[:2])
    await conn.execute(
        "INSERT INTO articles (origin, source, content_hash, title, body, published)"
        " VALUES ('x.txt', 'x.txt:1', 'h', 't', 'b', '2025-12-16')"
    )
    await conn.close()

    conn = await db.connect(path, migrate_schema=False)
    try:
        assert await db.migrate(conn, migrations[:3]) == 3
        rows = await conn.execute_fetchall("SELECT title FROM articles")
        assert [r[0] for r in rows] == ["t"]
        await db.migrate(conn, migrations)  # today's code reads today's schema
        assert await claim_post(conn, CHANNEL, WEEK)
        await _set(conn)
        assert len(await schedules.list_schedules(conn)) == 1
    finally:
        await conn.close()


async def _claim_as_older_versions_did(conn: aiosqlite.Connection) -> None:
    """An unfinished claim of WEEK made at NOW, with only the columns every version had."""
    await conn.execute(
        "INSERT INTO digest_posts (channel_id, week_start, status, created_at, updated_at)"
        " VALUES (?, ?, 'intent', '2025-12-22T00:30:00Z', '2025-12-22T00:30:00Z')",
        (CHANNEL, WEEK.isoformat()),
    )


async def test_migration_8_keeps_claims_made_before_it(tmp_path: Path) -> None:
    """An unfinished claim from schema 7 survives 0008 with no settings of its own (its
    channel's schedule decides, as before) and is still reconciled on start."""
    async with _database_at(tmp_path / "old.db", 7) as conn:
        await _claim_as_older_versions_did(conn)
        await db.migrate(conn, db.load_migrations())
        [pending] = await pending_intents(conn)
        assert (pending.week_start, pending.created_at) == (WEEK, NOW)
        assert (pending.settings, pending.one_off) == (None, False)


async def test_migration_13_keeps_every_ledger_row_and_allows_skipped(tmp_path: Path) -> None:
    """0013 copies the ledger into a table that accepts 'skipped': every row, id and column
    as it was, the intents index rebuilt, and a status outside the list still refused."""
    async with _database_at(tmp_path / "old.db", 12) as conn:
        await conn.execute(
            "INSERT INTO digest_posts (id, channel_id, week_start, status, message_id, error,"
            " created_at, updated_at, posted_at, language, timezone, one_off) VALUES"
            " (7, 1, '2025-12-08', 'posted', 99, NULL, 'a', 'b', 'c', 'en', 'UTC', 1),"
            " (9, 1, '2025-12-15', 'failed', NULL, 'timeout', 'd', 'e', NULL, NULL, NULL, 0),"
            " (12, 2, '2025-12-15', 'intent', NULL, NULL, 'f', 'g', NULL, 'ja', 'Asia/Tokyo', 0)"
        )
        select = "SELECT * FROM digest_posts ORDER BY id"
        before = [tuple(r) for r in await conn.execute_fetchall(select)]
        await db.migrate(conn, db.load_migrations()[:13])
        assert [tuple(r) for r in await conn.execute_fetchall(select)] == before
        plan = await conn.execute_fetchall(
            "EXPLAIN QUERY PLAN SELECT id FROM digest_posts WHERE status = 'intent'"
        )
        assert any("digest_posts_intents" in str(row[-1]) for row in plan)
        await db.migrate(conn, db.load_migrations())
        assert await schedules.record_skipped(conn, 3, WEEK)
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute(
                "INSERT INTO digest_posts (channel_id, week_start, status) VALUES (4, 'x', 'y')"
            )


async def test_migration_14_reads_older_claims_as_having_recorded_no_page(
    tmp_path: Path,
) -> None:
    """A claim made before 0014 has no pages and no attempt recorded, so it is looked for from
    its claim as before, and can still be missed."""
    async with _database_at(tmp_path / "old.db", 13) as conn:
        await _claim_as_older_versions_did(conn)
        await db.migrate(conn, db.load_migrations())
        post = await schedules.get_post(conn, CHANNEL, WEEK)
        assert post is not None
        assert (post.status, post.pages, post.sending_at, post.created_at) == (
            "intent",
            (),
            None,
            NOW,
        )
        assert await record_missed(conn, CHANNEL, WEEK, now=NOW, over_claim=True)


async def test_concurrent_claims_from_two_connections(tmp_path: Path) -> None:
    """Claims racing on one connection and from a second one: exactly one wins."""
    path = tmp_path / "race.db"
    first = await db.connect(path)
    second = await db.connect(path)
    try:
        results = await asyncio.gather(
            *(claim_post(c, CHANNEL, WEEK) for c in (first, second, first, second))
        )
        assert sorted(results) == [False, False, False, True]
        assert not await mark_posted(first, CHANNEL, WEEK + timedelta(days=7), 1)
    finally:
        await first.close()
        await second.close()
