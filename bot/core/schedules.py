"""Weekly digest schedules per channel, and the posts ledger that makes each post exactly-once.

The ledger holds one row per (channel, week). Posting goes:

    if await claim_post(db, channel_id, week_start):   # records the intent, or refuses
        message = await channel.send(...)
        await mark_posted(db, channel_id, week_start, message.id)
    # on an error: await mark_failed(db, channel_id, week_start, PostFailure(...))

A crash between `send` and `mark_posted` leaves an intent without a message id; on start,
`pending_intents` lists them so the bot can look for its own message before posting again.

Every write here is a single SQL statement (atomic on its own) or a sequence that is safe to
interrupt, never an explicit transaction: the bot shares one connection between coroutines,
and a BEGIN held across an `await` would collide with another coroutine's BEGIN.

Why a post failed is stored as a `PostFailure`: a code with its few parameters, so the Discord
layer can word it in the admin's language. Older versions stored English text in the same
columns; `PostFailure.decode` returns None for that, and the caller shows the text as it is.

Schedule math is pure: `next_run`, `latest_due_run`, `week_for_run` and `catch_up` take the
instant they reason about, so they are testable without a clock. Wall times are resolved with
zoneinfo: a time skipped by a DST change runs at the same instant one hour later on the clock
(02:30 → 03:30), a repeated one runs once, at its first occurrence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from http import HTTPStatus
from typing import Literal, get_args
from zoneinfo import ZoneInfo, available_timezones

import aiosqlite

# Private names here: `stamp` is a local variable in several functions below.
from bot.core.db import parse_stamp as _parse_stamp
from bot.core.db import stamp as _stamp
from bot.core.digest import (
    DEFAULT_TIMEZONE,
    LANGUAGES,
    Digest,
    Language,
    Week,
    build_digest,
    week_of,
    zone,
)

WhenEmpty = Literal["post", "skip"]
DEFAULT_LANGUAGE: Language = "ja"  # of a new schedule's digest, unless `set` says otherwise
DEFAULT_WHEN_EMPTY: WhenEmpty = "post"
PostStatus = Literal["intent", "posted", "missed", "failed", "skipped"]
WHEN_EMPTY: tuple[WhenEmpty, ...] = get_args(WhenEmpty)
MAX_FAILURES = 3  # consecutive failures before a schedule pauses until an admin sets it again
DEFAULT_GRACE = timedelta(hours=24)  # the same default as `Settings.digest_grace_hours`
_MAX_ERROR_CHARS = 500

_WEEKDAYS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("monday", "mon", "月", "月曜", "月曜日"),
        ("tuesday", "tue", "tues", "火", "火曜", "火曜日"),
        ("wednesday", "wed", "水", "水曜", "水曜日"),
        ("thursday", "thu", "thur", "thurs", "木", "木曜", "木曜日"),
        ("friday", "fri", "金", "金曜", "金曜日"),
        ("saturday", "sat", "土", "土曜", "土曜日"),
        ("sunday", "sun", "日", "日曜", "日曜日"),
    ),
    start=1,
):
    for _name in _names:
        _WEEKDAYS[_name] = _n
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


ScheduleField = Literal["weekday", "time", "timezone", "language", "when_empty"]


class ScheduleError(ValueError):
    """Invalid schedule input; the message is one sentence fit to show an admin.

    `field` and `value` say what was wrong, for a message in the admin's language.
    """

    def __init__(self, message: str, *, field: ScheduleField, value: object) -> None:
        super().__init__(message)
        self.field: ScheduleField = field
        self.value = str(value)


# --- validation --------------------------------------------------------------------------------


def parse_weekday(value: str | int) -> int:
    """An ISO weekday (1 = Monday … 7 = Sunday) from a number or an English/Japanese name."""
    if isinstance(value, int):
        number = value
    else:
        text = unicodedata.normalize("NFKC", value).strip().lower()
        if text in _WEEKDAYS:
            return _WEEKDAYS[text]
        if not text.isdigit():
            raise ScheduleError(
                f"unknown weekday {value!r}: use a name (Monday, 月曜) or 1–7",
                field="weekday",
                value=value,
            )
        number = int(text)
    if not 1 <= number <= 7:
        raise ScheduleError(
            f"weekday {value!r} out of range: use 1 (Monday) to 7 (Sunday)",
            field="weekday",
            value=value,
        )
    return number


def parse_time(value: str | time) -> time:
    """A wall-clock time from HH:MM (24-hour; full-width digits accepted)."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = unicodedata.normalize("NFKC", value).strip()
    match = _TIME.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(
            f"invalid time {value!r}: use 24-hour HH:MM, e.g. 09:00 or 18:30",
            field="time",
            value=value,
        )
    return time(int(match[1]), int(match[2]))


# Files in the system's tz database that name no place: `localtime` is the host's own clock
# (which a schedule must never follow), `Factory` a placeholder zone, `posixrules` a template.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() - _NOT_ZONES}


def _zone_key(value: str) -> str:
    # NFKC, as for times: "Ａｓｉａ／Ｔｏｋｙｏ" typed with a Japanese keyboard is Asia/Tokyo.
    return unicodedata.normalize("NFKC", value).strip().lower()


def is_timezone(value: str) -> bool:
    """Whether `value` is a timezone a schedule accepts (see `parse_timezone`)."""
    return _zone_key(value) in _zone_names()


def parse_timezone(value: str) -> str:
    """The canonical IANA name for `value` (case-insensitive), e.g. asia/tokyo → Asia/Tokyo."""
    name = _zone_names().get(_zone_key(value))
    if name is None:
        raise ScheduleError(
            f"unknown timezone {value!r}: use an IANA name such as Asia/Tokyo",
            field="timezone",
            value=value,
        )
    return name


def timezone_choices(prefix: str = "", limit: int = 25) -> list[str]:
    """IANA names containing `prefix` (case-insensitive), best first: for autocomplete."""
    needle = _zone_key(prefix)
    names = _zone_names()
    hits = sorted(
        (n for k, n in names.items() if needle in k),
        key=lambda n: (not n.lower().startswith(needle), "/" not in n, n),
    )
    return hits[:limit]


def parse_language(value: str) -> Language:
    """`ja` or `en`."""
    text = value.strip().lower()
    for lang in LANGUAGES:
        if text == lang:
            return lang
    raise ScheduleError(f"unknown language {value!r}: use ja or en", field="language", value=value)


def parse_when_empty(value: str) -> WhenEmpty:
    """`post` (a short note) or `skip` for a week without articles."""
    text = value.strip().lower()
    for option in WHEN_EMPTY:
        if text == option:
            return option
    raise ScheduleError(
        f"unknown option {value!r} for an empty week: use post or skip",
        field="when_empty",
        value=value,
    )


# --- timestamps --------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return moment.astimezone(UTC)


# --- failure reasons ---------------------------------------------------------------------------


class FailureCode(StrEnum):
    """Why a digest was not posted, in a word. Stored in the database: never rename a value."""

    CHANNEL_MISSING = "channel_missing"  # deleted, or the bot can't see it
    MISSING_PERMISSIONS = "missing_permissions"  # `permissions` names them when they are known
    MISSING_ACCESS = "missing_access"  # Discord's 50001: no access to the channel
    HTTP = "http"  # any other error answer: `status`, Discord's `discord_code`, its message
    TIMEOUT = "timeout"  # Discord did not answer in time
    UNCONFIRMED = "unconfirmed"  # an error, then the channel's history could not be checked
    SCHEDULE_STOPPED = "schedule_stopped"  # an unfinished post whose schedule was stopped
    INCOMPLETE = "incomplete"  # its first pages posted, then an error: the rest follows
    UNREACHABLE = "unreachable"  # the connection to Discord failed, maybe mid-request


_FAILURE_CODES = {code.value: code for code in FailureCode}
_TRANSIENT = frozenset(
    {FailureCode.TIMEOUT, FailureCode.UNCONFIRMED, FailureCode.INCOMPLETE, FailureCode.UNREACHABLE}
)
_PERMISSION_NAME = re.compile(r"[a-z_]+")
_HTTP_ARGS = re.compile(r"(\d{3}):(\d{1,10})")


@dataclass(frozen=True, slots=True)
class PostFailure:
    """Why a post failed, without words of any language: `bot.i18n` words it for admins.

    Stored as `encode()` gives it, e.g. "channel_missing",
    "missing_permissions:send_messages,embed_links" or "http:400:50035 Invalid Form Body":
    the code and its parameters, then after a space the detail (English, for operators).
    """

    code: FailureCode
    permissions: tuple[str, ...] = ()  # MISSING_PERMISSIONS: e.g. ("send_messages",)
    status: int = 0  # HTTP: the HTTP status
    discord_code: int = 0  # HTTP: Discord's JSON error code, 0 when it gave none
    detail: str = ""  # e.g. Discord's own message; not translated

    @property
    def transient(self) -> bool:
        """Discord unavailable (a 5xx, a rate limit, no answer) or the outcome unclear: worth
        trying again soon, and nothing an admin can fix, so it does not count toward pausing a
        schedule."""
        if self.code is FailureCode.HTTP:
            # discord.py waits out ordinary 429s itself; one that reaches us (Cloudflare's, or
            # after its own retries) passes all the same.
            return self.status >= 500 or self.status == HTTPStatus.TOO_MANY_REQUESTS
        return self.code in _TRANSIENT

    def encode(self) -> str:
        """The stored form (see the class)."""
        head = self.code.value
        if self.code is FailureCode.MISSING_PERMISSIONS and self.permissions:
            head += ":" + ",".join(self.permissions)
        elif self.code is FailureCode.HTTP:
            head += f":{self.status}:{self.discord_code}"
        return f"{head} {self.detail}" if self.detail else head

    @classmethod
    def decode(cls, text: str | None) -> PostFailure | None:
        """The failure stored as `text`; None for none, and for an older version's English text.

        Strict on purpose: text that is not exactly a known code with well-formed parameters is
        the free text older versions stored ("channel not found (…)", "403 Forbidden …").
        """
        if not text:
            return None
        head, _, detail = text.partition(" ")
        name, _, args = head.partition(":")
        code = _FAILURE_CODES.get(name)
        if code is None:
            return None
        if code is FailureCode.MISSING_PERMISSIONS and args:
            names = tuple(args.split(","))
            if not all(_PERMISSION_NAME.fullmatch(n) for n in names):
                return None
            return cls(code, permissions=names, detail=detail)
        if code is FailureCode.HTTP:
            match = _HTTP_ARGS.fullmatch(args)
            if match is None:
                return None
            return cls(code, status=int(match[1]), discord_code=int(match[2]), detail=detail)
        if ":" in head:
            return None
        return cls(code, detail=detail)


def _stored(failure: PostFailure) -> str:
    return failure.encode()[:_MAX_ERROR_CHARS]


# --- schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostSettings:
    """How a week's digest is posted in a channel: its schedule's settings, or a `post-now`'s
    own where no schedule runs (`one_off`)."""

    channel_id: int
    language: Language
    timezone: str
    when_empty: WhenEmpty = DEFAULT_WHEN_EMPTY
    one_off: bool = False

    @property
    def tz(self) -> ZoneInfo:
        """The timezone the week is counted in."""
        return zone(self.timezone)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A channel's weekly digest schedule."""

    guild_id: int
    channel_id: int
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    at: time  # wall-clock time in `timezone`
    timezone: str
    language: Language = DEFAULT_LANGUAGE
    when_empty: WhenEmpty = DEFAULT_WHEN_EMPTY
    paused: bool = False
    consecutive_failures: int = 0
    last_error: str | None = None  # as stored: `PostFailure.encode()`, or older English text
    last_error_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None  # when an admin last ran `set`
    set_by: int | None = None  # that admin's user id (None: set before schema 11)
    set_by_language: Language = "ja"  # the language of that admin's Discord

    @property
    def tz(self) -> ZoneInfo:
        """The schedule's timezone."""
        return zone(self.timezone)

    def describe(self) -> str:
        """E.g. "Monday 09:00 Asia/Tokyo"."""
        return f"{WEEKDAY_NAMES[self.weekday - 1]} {self.at:%H:%M} {self.timezone}"

    @property
    def last_failure(self) -> PostFailure | None:
        """`last_error` decoded; None when there is none or it is an older version's text."""
        return PostFailure.decode(self.last_error)

    @property
    def settings(self) -> PostSettings:
        """How the schedule's digests are posted."""
        return PostSettings(self.channel_id, self.language, self.timezone, self.when_empty)


_SCHEDULE_COLUMNS = """
    guild_id, channel_id, weekday, time, timezone, language, when_empty, paused,
    consecutive_failures, last_error, last_error_at, created_at, updated_at, set_by,
    set_by_language
"""


def _schedule(row: aiosqlite.Row | tuple[object, ...]) -> Schedule:
    r = tuple(row)
    return Schedule(
        guild_id=int(str(r[0])),
        channel_id=int(str(r[1])),
        weekday=int(str(r[2])),
        at=parse_time(str(r[3])),
        timezone=str(r[4]),
        language=parse_language(str(r[5])),
        when_empty=parse_when_empty(str(r[6])),
        paused=bool(r[7]),
        consecutive_failures=int(str(r[8])),
        last_error=None if r[9] is None else str(r[9]),
        last_error_at=_parse_stamp(r[10]),
        created_at=_parse_stamp(r[11]),
        updated_at=_parse_stamp(r[12]),
        set_by=None if r[13] is None else int(str(r[13])),
        set_by_language=parse_language(str(r[14] or "ja")),
    )


async def set_schedule(
    db: aiosqlite.Connection,
    *,
    guild_id: int,
    channel_id: int,
    weekday: str | int,
    at: str | time,
    timezone: str = DEFAULT_TIMEZONE,
    language: str = DEFAULT_LANGUAGE,
    when_empty: str = DEFAULT_WHEN_EMPTY,
    set_by: int | None = None,
    set_by_language: str = "ja",
    now: datetime | None = None,
) -> Schedule:
    """Create or replace a channel's schedule (validated; ScheduleError says what is wrong).

    Setting a schedule again also un-pauses it and clears its failure count and last error.
    `set_by`: the admin who set it, told if it pauses, in `set_by_language`.
    """
    values = (
        guild_id,
        channel_id,
        parse_weekday(weekday),
        parse_time(at).strftime("%H:%M"),
        parse_timezone(timezone),
        parse_language(language),
        parse_when_empty(when_empty),
        set_by,
        parse_language(set_by_language),
    )
    stamp = _stamp(_now(now))
    query = f"""
        INSERT INTO digest_schedules (guild_id, channel_id, weekday, time, timezone, language,
                                      when_empty, set_by, set_by_language, created_at,
                                      updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (channel_id) DO UPDATE
           SET guild_id = excluded.guild_id, weekday = excluded.weekday, time = excluded.time,
               timezone = excluded.timezone, language = excluded.language,
               when_empty = excluded.when_empty, paused = 0, consecutive_failures = 0,
               last_error = NULL, last_error_at = NULL, set_by = excluded.set_by,
               set_by_language = excluded.set_by_language, updated_at = excluded.updated_at
        RETURNING {_SCHEDULE_COLUMNS}
    """  # noqa: S608
    rows = list(await db.execute_fetchall(query, (*values, stamp, stamp)))
    return _schedule(rows[0])


async def stop_schedule(
    db: aiosqlite.Connection, guild_id: int, channel_id: int
) -> Literal["schedule", "post-now"] | None:
    """Stop the digests of a channel (only within its guild): "schedule" when it had one,
    "post-now" when only a `post-now` was still to be retried, None when nothing was to stop.

    Deletes its schedule, keeping the posts ledger, so setting the schedule again never reposts
    a week. Stops its `post-now` not yet through, too (refused by an unavailable Discord, or cut
    off mid-post): no longer a one-off, it is not tried again, also after a restart, and what it
    left unfinished is only looked for in the channel, as a stopped schedule's post would be.
    `channel_id` must be one of the guild's channels (Discord resolves a command's channel
    option within the guild): the ledger does not know guilds.
    """
    # One-offs first: interrupted between the two, the schedule is still there to stop again.
    query = """
        UPDATE digest_posts SET one_off = 0
         WHERE channel_id = ? AND one_off = 1 AND status IN ('intent', 'failed')
        RETURNING 1
    """
    withdrawn = list(await db.execute_fetchall(query, (channel_id,)))
    query = "DELETE FROM digest_schedules WHERE guild_id = ? AND channel_id = ? RETURNING 1"
    deleted = list(await db.execute_fetchall(query, (guild_id, channel_id)))
    if deleted:
        return "schedule"
    return "post-now" if withdrawn else None


async def get_schedule(db: aiosqlite.Connection, channel_id: int) -> Schedule | None:
    """A channel's schedule, or None."""
    query = f"SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules WHERE channel_id = ?"  # noqa: S608
    rows = list(await db.execute_fetchall(query, (channel_id,)))
    return _schedule(rows[0]) if rows else None


async def list_schedules(db: aiosqlite.Connection, guild_id: int | None = None) -> list[Schedule]:
    """Every schedule (to rebuild jobs at start), or those of one guild; by channel id."""
    if guild_id is None:
        query = f"SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules ORDER BY channel_id"  # noqa: S608
        rows = await db.execute_fetchall(query)
    else:
        query = f"""
            SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules WHERE guild_id = ?
             ORDER BY channel_id
        """  # noqa: S608
        rows = await db.execute_fetchall(query, (guild_id,))
    return [_schedule(r) for r in rows]


async def record_failure(
    db: aiosqlite.Connection,
    channel_id: int,
    failure: PostFailure,
    *,
    now: datetime | None = None,
) -> Schedule | None:
    """Record a schedule's failed run; the third in a row that is not `transient` pauses it.

    None: no schedule.
    """
    counted = 0 if failure.transient else 1
    query = f"""
        UPDATE digest_schedules
           SET consecutive_failures = consecutive_failures + ?,
               paused = CASE WHEN consecutive_failures + ? >= ? THEN 1 ELSE paused END,
               last_error = ?, last_error_at = ?
         WHERE channel_id = ?
        RETURNING {_SCHEDULE_COLUMNS}
    """  # noqa: S608
    params = (counted, counted, MAX_FAILURES, _stored(failure), _stamp(_now(now)), channel_id)
    rows = list(await db.execute_fetchall(query, params))
    return _schedule(rows[0]) if rows else None


def paused_by(before: Schedule | None, after: Schedule | None) -> bool:
    """Whether recording a failure paused the schedule: `before` and `after` are the schedule
    before it and as `mark_failed` or `mark_unverified` returned it. True once: a schedule still
    paused (a `post-now` failing meanwhile) was paused before."""
    return after is not None and after.paused and (before is None or not before.paused)


# --- the posts ledger --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostRecord:
    """One (channel, week) row of the posts ledger."""

    channel_id: int
    week_start: date
    status: PostStatus
    message_id: int | None
    error: str | None  # as stored: `PostFailure.encode()`, or older English text
    created_at: datetime | None  # when the week was claimed
    updated_at: datetime | None
    posted_at: datetime | None
    language: Language | None = None  # the claim's; None on claims older than schema 8
    timezone: str | None = None
    one_off: bool = False  # claimed by a `post-now` where no schedule runs
    pages: tuple[int, ...] = ()  # the message ids of the pages recorded as sent, in order
    sending_at: datetime | None = None  # when the latest attempt began sending; None: none did

    @property
    def failure(self) -> PostFailure | None:
        """`error` decoded; None when there is none or it is an older version's text."""
        return PostFailure.decode(self.error)

    @property
    def settings(self) -> PostSettings | None:
        """How the claim posts its week; None when it did not record it (an older claim)."""
        if self.language is None or self.timezone is None:
            return None
        return PostSettings(self.channel_id, self.language, self.timezone, one_off=self.one_off)


_STATUSES: dict[str, PostStatus] = {s: s for s in get_args(PostStatus)}
_POST_COLUMNS = """
    channel_id, week_start, status, message_id, error, created_at, updated_at, posted_at,
    language, timezone, one_off, pages, sending_at
"""


def _post(row: aiosqlite.Row | tuple[object, ...]) -> PostRecord:
    r = tuple(row)
    status = _STATUSES.get(str(r[2]))
    if status is None:
        raise ValueError(f"unknown post status {r[2]!r}")
    return PostRecord(
        channel_id=int(str(r[0])),
        week_start=date.fromisoformat(str(r[1])),
        status=status,
        message_id=None if r[3] is None else int(str(r[3])),
        error=None if r[4] is None else str(r[4]),
        created_at=_parse_stamp(r[5]),
        updated_at=_parse_stamp(r[6]),
        posted_at=_parse_stamp(r[7]),
        language=None if r[8] is None else parse_language(str(r[8])),
        timezone=None if r[9] is None else str(r[9]),
        one_off=bool(r[10]),
        pages=tuple(int(page) for page in str(r[11] or "").split()),
        sending_at=_parse_stamp(r[12]),
    )


async def claim_post(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    *,
    now: datetime | None = None,
    settings: PostSettings | None = None,
    asked: bool = False,
) -> bool:
    """Record the intent to post a week in a channel; False when it is already claimed.

    True for a week never claimed, or one whose earlier attempt failed (nothing was posted);
    the claim then starts anew, at `now`, with `settings` (the language and timezone it posts
    in, and whether it is a one-off), so that what is left of it is posted the same way.
    False when an intent is pending, the week was posted, or it was recorded as missed or skipped
    (unless `asked`: an admin asked for the week, so a week missed while the bot was down, or
    skipped for having no articles then, is posted).
    """
    if settings is not None and settings.channel_id != channel_id:
        raise ValueError("the settings are another channel's")
    stamp = _stamp(_now(now))
    query = """
        INSERT INTO digest_posts
               (channel_id, week_start, status, created_at, updated_at, language, timezone,
                one_off)
        VALUES (?, ?, 'intent', ?, ?, ?, ?, ?)
        ON CONFLICT (channel_id, week_start) DO UPDATE
           SET status = 'intent', error = NULL, created_at = excluded.created_at,
               updated_at = excluded.updated_at, language = excluded.language,
               timezone = excluded.timezone, one_off = excluded.one_off, pages = NULL,
               sending_at = NULL
         WHERE status = 'failed' OR (status IN ('missed', 'skipped') AND ?)
        RETURNING 1
    """
    params = (
        channel_id,
        week_start.isoformat(),
        stamp,
        stamp,
        settings.language if settings else None,
        settings.timezone if settings else None,
        int(settings.one_off) if settings else 0,
        int(asked),
    )
    return bool(list(await db.execute_fetchall(query, params)))


async def begin_sending(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    pages: Sequence[int] = (),
    *,
    now: datetime | None = None,
) -> bool:
    """Record, before a claimed week's pages are sent, that an attempt begins now, and the
    `pages` already in the channel (recorded, or found there): a crash from here on leaves at
    most the page being sent unrecorded, which follows this moment in the channel. False when
    the week is not claimed."""
    stamp = _stamp(_now(now))
    query = """
        UPDATE digest_posts SET pages = ?, sending_at = ?, updated_at = ?
         WHERE channel_id = ? AND week_start = ? AND status = 'intent'
        RETURNING 1
    """
    listed = " ".join(str(page) for page in pages) or None
    params = (listed, stamp, stamp, channel_id, week_start.isoformat())
    return bool(list(await db.execute_fetchall(query, params)))


async def record_page(
    db: aiosqlite.Connection, channel_id: int, week_start: date, message_id: int
) -> None:
    """Record a page of a claimed week's digest as sent, right after Discord made it."""
    query = """
        UPDATE digest_posts SET pages = trim(coalesce(pages, '') || ' ' || ?)
         WHERE channel_id = ? AND week_start = ? AND status = 'intent'
    """
    await db.execute(query, (str(message_id), channel_id, week_start.isoformat()))


async def record_skipped(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    *,
    now: datetime | None = None,
    over_claim: bool = False,
) -> bool:
    """Record a week its schedule does not post for having no articles, so that the week is
    handled once; a failed attempt at it becomes this record. With `over_claim` (the caller
    holds the channel's posting lock and found nothing of the week in the channel) an
    unfinished claim with no page recorded does too. False when the week was posted, missed or
    skipped, or is claimed.
    """
    stamp = _stamp(_now(now))
    query = """
        INSERT INTO digest_posts (channel_id, week_start, status, created_at, updated_at)
        VALUES (?, ?, 'skipped', ?, ?)
        ON CONFLICT (channel_id, week_start) DO UPDATE
           SET status = 'skipped', error = NULL, updated_at = excluded.updated_at
         WHERE status = 'failed'
            OR (? AND status = 'intent' AND message_id IS NULL AND pages IS NULL)
        RETURNING 1
    """
    params = (channel_id, week_start.isoformat(), stamp, stamp, int(over_claim))
    return bool(list(await db.execute_fetchall(query, params)))


async def mark_posted(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    message_id: int,
    *,
    now: datetime | None = None,
) -> bool:
    """Record the message that delivered a claimed week, and reset the failure count.

    False when there is no such claim or the week is already recorded as posted.
    """
    stamp = _stamp(_now(now))
    query = """
        UPDATE digest_posts
           SET status = 'posted', message_id = ?, error = NULL, posted_at = ?, updated_at = ?
         WHERE channel_id = ? AND week_start = ? AND status IN ('intent', 'failed')
        RETURNING 1
    """
    params = (message_id, stamp, stamp, channel_id, week_start.isoformat())
    done = bool(list(await db.execute_fetchall(query, params)))
    if done:
        query = "UPDATE digest_schedules SET consecutive_failures = 0 WHERE channel_id = ?"
        await db.execute(query, (channel_id,))
    return done


async def mark_failed(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    failure: PostFailure,
    *,
    now: datetime | None = None,
) -> Schedule | None:
    """Record that posting a claimed week failed; returns the schedule (paused after 3 in a row).

    The week can be claimed again later (a retry, or `post-now`). A week left because its
    schedule was stopped is not counted: it would hide why the schedule was paused.
    """
    stamp = _stamp(_now(now))
    query = """
        UPDATE digest_posts SET status = 'failed', error = ?, updated_at = ?
         WHERE channel_id = ? AND week_start = ? AND status = 'intent'
    """
    await db.execute(query, (_stored(failure), stamp, channel_id, week_start.isoformat()))
    if failure.code is FailureCode.SCHEDULE_STOPPED:
        return await get_schedule(db, channel_id)
    # A crash between these two statements only loses one failure count: harmless.
    return await record_failure(db, channel_id, failure, now=now)


async def reopen_claim(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    one_off: bool,
    *,
    now: datetime | None = None,
) -> bool:
    """Make a failed (or since missed) claim unfinished again, an intent with no message, its
    time, language and timezone kept: its post may have been made after all, so it is finished
    as an interrupted post is, never posted anew. `one_off`: whether it is now a `post-now`'s
    where no schedule runs, retried with its own settings. False when the week is not recorded
    as failed or missed."""
    query = """
        UPDATE digest_posts SET status = 'intent', one_off = ?, updated_at = ?
         WHERE channel_id = ? AND week_start = ? AND status IN ('failed', 'missed')
        RETURNING 1
    """
    params = (int(one_off), _stamp(_now(now)), channel_id, week_start.isoformat())
    return bool(list(await db.execute_fetchall(query, params)))


async def mark_unverified(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    failure: PostFailure,
    *,
    now: datetime | None = None,
    of_schedule: bool = True,
) -> Schedule | None:
    """Record an error on a claimed week that may or may not have been posted, as the last error.

    The week stays an intent, so it can't be claimed again: the next start reconciles it from
    the channel's history (`pending_intents`) instead of risking a second post. Without
    `of_schedule` (a paused schedule's claim) the error is the claim's alone: the schedule keeps
    the reason it paused as its last error, and nothing counts toward pausing; None is returned.
    """
    stamp = _stamp(_now(now))
    query = """
        UPDATE digest_posts SET error = ?, updated_at = ?
         WHERE channel_id = ? AND week_start = ? AND status = 'intent'
    """
    await db.execute(query, (_stored(failure), stamp, channel_id, week_start.isoformat()))
    if not of_schedule:
        return None
    return await record_failure(db, channel_id, failure, now=now)


async def record_missed(
    db: aiosqlite.Connection,
    channel_id: int,
    week_start: date,
    *,
    now: datetime | None = None,
    over_failed: bool = True,
    over_claim: bool = False,
) -> bool:
    """Record a week that was due while the bot was down, past the grace period.

    False (and nothing changes) when the week was already posted or missed, claimed (unless
    `over_claim`: an interrupted post, with no page recorded, is missed too), or (without
    `over_failed`: an earlier week, which failed while the bot was up) failed. A claim keeps its
    last error, so that a `post-now` of a week that may be in the channel looks for it first.
    """
    stamp = _stamp(_now(now))
    query = """
        INSERT INTO digest_posts (channel_id, week_start, status, created_at, updated_at)
        VALUES (?, ?, 'missed', ?, ?)
        ON CONFLICT (channel_id, week_start) DO UPDATE
           SET status = 'missed', updated_at = excluded.updated_at
         WHERE (status = 'failed' AND ?)
            OR (status = 'intent' AND message_id IS NULL AND pages IS NULL AND ?)
        RETURNING 1
    """
    params = (channel_id, week_start.isoformat(), stamp, stamp, over_failed, over_claim)
    return bool(list(await db.execute_fetchall(query, params)))


async def get_post(
    db: aiosqlite.Connection, channel_id: int, week_start: date
) -> PostRecord | None:
    """The ledger row of a channel's week, or None."""
    query = f"SELECT {_POST_COLUMNS} FROM digest_posts WHERE channel_id = ? AND week_start = ?"  # noqa: S608
    rows = list(await db.execute_fetchall(query, (channel_id, week_start.isoformat())))
    return _post(rows[0]) if rows else None


async def digest_made_at(
    db: aiosqlite.Connection, channel_id: int, week_start: date
) -> datetime | None:
    """When a channel's digest of a week was made (its articles read), posted or skipped as
    empty; None when it was not (yet), or was missed."""
    post = await get_post(db, channel_id, week_start)
    if post is None or post.status not in ("posted", "skipped"):
        return None
    return post.created_at


async def channel_digest(
    db: aiosqlite.Connection, channel_id: int, week: Week, *, added_by: datetime | None = None
) -> Digest:
    """`week`'s digest as the channel's post carries it: of the articles stored by `added_by`
    (None: all), with those of the week before that came in after that week's digest was made
    there (posted, or skipped as empty), which are in no digest yet."""
    late_since = await digest_made_at(db, channel_id, week.previous().start)
    return await build_digest(db, week, added_by=added_by, late_since=late_since)


async def pending_intents(db: aiosqlite.Connection) -> list[PostRecord]:
    """Claims with no message recorded (a crash or restart mid-post): reconcile these on start."""
    query = f"""
        SELECT {_POST_COLUMNS} FROM digest_posts
         WHERE status = 'intent' AND message_id IS NULL
         ORDER BY created_at, channel_id
    """  # noqa: S608
    return [_post(r) for r in await db.execute_fetchall(query)]


async def pending_retries(db: aiosqlite.Connection, since: datetime) -> list[PostRecord]:
    """Claims made since `since` that failed for a reason worth trying again (Discord
    unavailable): a restart lost their retries. A `post-now`'s where no schedule runs, and a
    running schedule's made since it was last set (a week a change owed, or its own runs'):
    not a stopped or paused schedule's, which posts nothing until an admin sets it again, nor
    one made before it was set again (a withdrawn one-off, the old schedule's)."""
    query = f"""
        SELECT {_POST_COLUMNS} FROM digest_posts AS p
         WHERE status = 'failed' AND created_at >= ?
           AND (one_off = 1 OR EXISTS (SELECT 1 FROM digest_schedules AS s
                                        WHERE s.channel_id = p.channel_id AND s.paused = 0
                                          AND p.created_at >= s.updated_at))
         ORDER BY created_at, channel_id
    """  # noqa: S608
    posts = [_post(r) for r in await db.execute_fetchall(query, (_stamp(_now(since)),))]
    return [p for p in posts if p.failure is not None and p.failure.transient]


# --- schedule math -----------------------------------------------------------------------------


def _run_on(day: date, schedule: Schedule) -> datetime:
    # fold=0: a repeated wall time means its first occurrence; a skipped one maps to the instant
    # an hour later on the clock. Round-tripping through UTC normalizes the offset.
    local = datetime.combine(day, schedule.at, tzinfo=schedule.tz)
    return local.astimezone(UTC).astimezone(schedule.tz)


def latest_due_run(schedule: Schedule, now: datetime) -> datetime:
    """The most recent run at or before `now`, in the schedule's timezone."""
    moment = _now(now)
    today = moment.astimezone(schedule.tz).date()
    day = today - timedelta(days=(today.isoweekday() - schedule.weekday) % 7)
    run = _run_on(day, schedule)
    if run > moment:
        run = _run_on(day - timedelta(days=7), schedule)
    return run


def _run_day(run_at: datetime, timezone: str | ZoneInfo, weekday: int | None) -> date:
    """The day a run is for: its local date, unless a DST change pushed it past midnight."""
    day = _now(run_at).astimezone(zone(timezone)).date()
    if weekday is not None and day.isoweekday() != weekday:
        # A wall time the change skipped runs an hour later on the clock, on the next day when
        # the gap crosses midnight (Saturday 23:30 in America/Nuuk, late March).
        day -= timedelta(days=1)
    return day


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first run strictly after `after`, in the schedule's timezone."""
    moment = _now(after)
    day = _run_day(latest_due_run(schedule, moment), schedule.tz, schedule.weekday)
    # Step by calendar days, not by 168 hours: across a DST change a week is 167 or 169 hours.
    return _run_on(day + timedelta(days=7), schedule)


def week_for_run(run_at: datetime, timezone: str | ZoneInfo, *, weekday: int | None = None) -> Week:
    """The week a scheduled run posts: the latest one that has reached its Sunday.

    A Sunday run posts the week ending that day; a run on any other day posts the previous,
    complete week. So whatever the weekday chosen, every day is in one digest (on a Sunday
    schedule, an article dated that Sunday but stored after the run is in the next one's late
    articles, see `digest.build_digest`). `weekday`, the
    schedule's: a run a DST change pushed past midnight still posts its own day's week.
    """
    local_day = _run_day(run_at, timezone, weekday)
    return week_of(local_day - timedelta(days=6), timezone=timezone)


def latest_complete_week(now: datetime, timezone: str | ZoneInfo) -> Week:
    """The latest week whose Sunday is over: what `post-now` posts.

    Unlike a Sunday run, never the week still going on: posted on a Sunday, it would take the
    week from a schedule running on Monday, whose digest would then miss Sunday's articles.
    """
    local_day = _now(now).astimezone(zone(timezone)).date()
    last_sunday = local_day - timedelta(days=local_day.isoweekday())
    return week_of(last_sunday, timezone=timezone)


MAX_RETRY_DELAY = timedelta(hours=1)


def retry_at(
    now: datetime | None, first_delay: timedelta, attempt: int, deadline: datetime
) -> datetime | None:
    """When to try an unsettled run again: `first_delay` after the first try, doubling each
    time up to an hour; None when that would be past `deadline` (the end of the grace period)."""
    delay = min(first_delay * 2 ** min(max(attempt - 1, 0), 16), MAX_RETRY_DELAY)
    moment = _now(now) + delay
    return None if moment > deadline else moment


# Earlier runs a long downtime went past are recorded as missed up to this many weeks back.
MISSED_WEEKS_BACK = 8


@dataclass(frozen=True, slots=True)
class DueWeek:
    """A run's week still within the grace period, and the end of it (in UTC)."""

    week: Week
    deadline: datetime


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What to do on start about the latest run that came due while the bot was down."""

    run_at: datetime
    week: Week
    action: Literal["post", "missed"]
    # The end of the grace period, in UTC: the latest the run's week may still be posted.
    deadline: datetime
    # The weeks of the runs before it since the schedule was set, past the grace period, oldest
    # first: missed too, unless the ledger says they were handled (the bot was up for them).
    earlier: tuple[Week, ...] = ()
    # The weeks of the runs before it still within the grace period, oldest first: posted
    # before it. Only a grace period of a week has any: across a change to daylight saving
    # time, a week is 167 hours.
    earlier_due: tuple[DueWeek, ...] = ()


def catch_up(schedule: Schedule, now: datetime, grace: timedelta = DEFAULT_GRACE) -> CatchUp | None:
    """Post the latest due run if it is within `grace`, else record it as missed.

    None for a paused schedule and for a run due before the schedule was last set, or in the
    second it was set (an admin who sets Monday 09:00 on a Tuesday did not miss anything; what
    a change owes, `owed_weeks` says). The same second counts as before, as `next_run` from the
    time a schedule was saved never returns it: a restart and the running bot agree. The ledger
    still has the last word: `claim_post` and `record_missed` refuse a week already handled.
    """
    if schedule.paused:
        return None
    moment = _now(now)
    run = latest_due_run(schedule, moment)
    since = schedule.updated_at
    if since is not None and run <= since:
        return None
    action: Literal["post", "missed"] = "post" if moment - run <= grace else "missed"
    earlier: list[Week] = []
    earlier_due: list[DueWeek] = []
    day = _run_day(run, schedule.tz, schedule.weekday)
    for weeks_back in range(1, MISSED_WEEKS_BACK + 1):
        before = _run_on(day - timedelta(days=7 * weeks_back), schedule)
        if since is not None and before <= since:
            break
        its_week = week_for_run(before, schedule.tz, weekday=schedule.weekday)
        if moment - before > grace:
            earlier.append(its_week)
        else:
            earlier_due.append(DueWeek(its_week, _deadline(before, grace)))
    week = week_for_run(run, schedule.tz, weekday=schedule.weekday)
    return CatchUp(
        run,
        week,
        action,
        _deadline(run, grace),
        tuple(reversed(earlier)),
        tuple(reversed(earlier_due)),
    )


def _deadline(run: datetime, grace: timedelta) -> datetime:
    """The end of a run's grace period. In UTC: in the schedule's zone, adding hours is
    wall-clock arithmetic, an hour off across a daylight-saving change."""
    return run.astimezone(UTC) + grace


def owed_weeks(
    old: Schedule | None, new: Schedule, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> list[Week]:
    """Weeks that `old`, replaced by `new` at `now`, had yet to post and `new` never will,
    oldest first, at most the two latest: from the week of its latest run due within `grace`
    since it was set (perhaps not settled yet, or failed: the ledger has the last word), else
    of its next run, up to the week of `new`'s next run. A paused `old` starts from its latest
    run's week: an admin setting it again wants that posted.

    A schedule changed to a time this week has already passed would otherwise skip a week.
    """
    if old is None:
        return []
    moment = _now(now)
    due = latest_due_run(old, moment)
    since = old.updated_at
    recent = moment - due <= grace and (since is None or due > since)
    run = due if old.paused or recent else next_run(old, moment)
    owed = week_for_run(run, old.tz, weekday=old.weekday)
    upcoming = week_for_run(next_run(new, moment), new.tz, weekday=new.weekday)
    starts = []
    start = owed.start
    while start < upcoming.start:
        starts.append(start)
        start += timedelta(days=7)
    return [week_of(start, timezone=new.timezone) for start in starts[-2:]]


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """One line of `/alliance-digest status`."""

    schedule: Schedule
    next_run: datetime | None  # None while paused
    last_post: PostRecord | None  # the latest week posted
    last_record: PostRecord | None  # the latest ledger row of any status (missed, failed …)
    missed: int = 0  # weeks missed while the bot was down since the last post
    last_missed: date | None = None  # the latest of them


async def schedule_status(
    db: aiosqlite.Connection, guild_id: int, *, now: datetime | None = None
) -> list[ScheduleStatus]:
    """Every schedule of a guild with its next run, last post and latest ledger row."""
    moment = _now(now)
    result: list[ScheduleStatus] = []
    for schedule in await list_schedules(db, guild_id):
        query = f"""
            SELECT {_POST_COLUMNS} FROM digest_posts WHERE channel_id = ?
             ORDER BY week_start DESC LIMIT 1
        """  # noqa: S608
        rows = list(await db.execute_fetchall(query, (schedule.channel_id,)))
        last_record = _post(rows[0]) if rows else None
        query = f"""
            SELECT {_POST_COLUMNS} FROM digest_posts WHERE channel_id = ? AND status = 'posted'
             ORDER BY week_start DESC LIMIT 1
        """  # noqa: S608
        rows = list(await db.execute_fetchall(query, (schedule.channel_id,)))
        last_post = _post(rows[0]) if rows else None
        since = last_post.week_start.isoformat() if last_post is not None else ""
        query = """
            SELECT count(*), max(week_start) FROM digest_posts
             WHERE channel_id = ? AND status = 'missed' AND week_start > ?
        """
        [(missed, last_missed)] = list(
            await db.execute_fetchall(query, (schedule.channel_id, since))
        )
        upcoming = None if schedule.paused else next_run(schedule, moment)
        result.append(
            ScheduleStatus(
                schedule,
                upcoming,
                last_post,
                last_record,
                missed=int(missed),
                last_missed=None if last_missed is None else date.fromisoformat(last_missed),
            )
        )
    return result
