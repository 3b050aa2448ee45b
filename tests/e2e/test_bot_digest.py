"""End-to-end: the weekly digest through the real bot process and the Discord double.

Each test starts `python -m bot run` on a fresh database against a fresh double. State that an
earlier run of the bot would have left (a schedule set days ago whose run came due while the bot
was down, an intent without a message id) is written to the database with the core functions
before the start. `bot.start(until_logged=CAUGHT_UP)` returns once the startup catch-up has
finished, so what it posted, or did not, is visible; that waits for discord.py's ready event
(2 s after the last GUILD_CREATE), which commands don't need.
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiosqlite
import discord.utils
import pytest
from bot_process import BotProcess, BotRuns, hold_write_lock
from fake_discord import DROP, Channel, FakeDiscord, InteractionRecord, Overwrite
from fake_discord.payloads import (
    EMBED_LINKS,
    JSON,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from replies import ask, custom_ids, embed_text, embeds, forge_custom_id, message_text, text

from bot.core import articles, schedules
from bot.core import db as database
from bot.core.digest import Week, build_digest, format_date
from bot.core.models import ArticleDraft
from bot.core.schedules import FailureCode, PostFailure, PostRecord, Schedule
from bot.i18n import Lang
from bot.render import DIGEST_MARKER, digest_embeds

ADMIN = MEMBER_PERMISSIONS | MANAGE_GUILD
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
TOKYO = ZoneInfo("Asia/Tokyo")
HOUR = timedelta(hours=1)
NEWS = "alliance-news"
CAUGHT_UP = "digest catch-up done"
"""What the digest cog logs once its startup catch-up has finished."""
STILL_PAUSED = "The weekly digest in <#{}> stays paused until you run `/alliance-digest set`."
"""The note after a post-now in a paused schedule's channel (`.format(channel_id)`)."""
T = TypeVar("T")
ACK_WITHIN = 3.0
"""Discord drops an interaction not acknowledged within this many seconds."""
HOLD = 3.5
"""Seconds a test holds SQLite's write lock, as a long feed ingest does: past `ACK_WITHIN`."""
DEFERRED = 5
"""The callback type of a defer ("thinking…")."""
RETRY_S = 1.5
"""Seconds before a digest run that could not settle its week is tried again (in these tests)."""


@pytest.fixture
async def bot(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[BotRuns]:
    """The bot on a fresh database (not started yet); each run must exit 0 with no traceback."""
    async with BotRuns(fake_discord, tmp_path / "alliance.db") as runs:
        yield runs
    assert fake_discord.mention_violations == []


# --- helpers ------------------------------------------------------------------------------------


async def with_db(path: Path, action: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    """Run `action` on a connection of its own to the bot's database file."""
    conn = await database.connect(path)
    try:
        return await action(conn)
    finally:
        await conn.close()


async def pause_schedules(conn: aiosqlite.Connection) -> None:
    """Pause every schedule, as three failures in a row pause one."""
    await conn.execute("UPDATE digest_schedules SET paused = 1")
    await conn.commit()


async def set_due(
    bot: BotRuns,
    channel: Channel,
    *,
    ago: timedelta,
    language: str = "ja",
    when_empty: str = "post",
    set_ago: timedelta = timedelta(days=3),
    zone: ZoneInfo = TOKYO,
) -> tuple[Schedule, Week]:
    """A schedule (in `zone`) set `set_ago` (three days) ago whose latest run came due `ago`
    ago; and that run's week."""
    now = datetime.now(UTC)
    run = (now - ago).astimezone(zone)

    async def act(conn: aiosqlite.Connection) -> Schedule:
        return await schedules.set_schedule(
            conn,
            guild_id=bot.double.guild.id,
            channel_id=channel.id,
            weekday=run.isoweekday(),
            at=f"{run:%H:%M}",
            timezone=zone.key,
            language=language,
            when_empty=when_empty,
            now=now - set_ago,
        )

    schedule = await with_db(bot.db, act)
    week = schedules.week_for_run(schedules.latest_due_run(schedule, now), zone)
    return schedule, week


def zone_for_a_change() -> ZoneInfo:
    """Tokyo, or UTC when an hour before now and an hour after fall on a Saturday and a Sunday
    in Tokyo: the tests of a change to a time already past set the old time and the new one so,
    and a Saturday run posts the week before a Sunday run's, so the change would owe nothing."""
    now = datetime.now(UTC)
    before, after = ((now + hours).astimezone(TOKYO).isoweekday() for hours in (-HOUR, HOUR))
    return ZoneInfo("UTC") if (before, after) == (6, 7) else TOKYO


async def ledger(bot: BotRuns, channel: Channel, week: Week) -> PostRecord | None:
    """The posts ledger's row for a channel's week."""
    return await with_db(bot.db, lambda conn: schedules.get_post(conn, channel.id, week.start))


async def claim_in_japanese(bot: BotRuns, channel: Channel, week: Week) -> None:
    """Claim a channel's week as a Japanese schedule's run would, as a stopped bot left it."""
    settings = schedules.PostSettings(channel.id, "ja", "Asia/Tokyo")

    async def claim(conn: aiosqlite.Connection) -> bool:
        return await schedules.claim_post(conn, channel.id, week.start, settings=settings)

    assert await with_db(bot.db, claim)


async def assert_posted_as(bot: BotRuns, channel: Channel, week: Week, message: JSON) -> None:
    """The ledger records a channel's week as posted, as `message`."""
    post = await ledger(bot, channel, week)
    assert post is not None
    assert (post.status, post.message_id) == ("posted", int(message["id"]))


async def stored_schedule(bot: BotRuns, channel: Channel) -> Schedule | None:
    """A channel's schedule as stored in the database."""
    return await with_db(bot.db, lambda conn: schedules.get_schedule(conn, channel.id))


def marker(week: Week) -> str:
    """The footer marker of a week's digest."""
    return f"{DIGEST_MARKER} {week.start.isoformat()}"


def footers(message: JSON) -> list[str]:
    """The footer texts of a message's embeds."""
    return [(e.get("footer") or {}).get("text", "") for e in message.get("embeds") or []]


def digests(double: FakeDiscord, channel: str = NEWS) -> list[JSON]:
    """Digest messages in a channel, oldest first."""
    return [
        m for m in double.channel_messages(channel) if any(DIGEST_MARKER in f for f in footers(m))
    ]


async def refused_with_503(bot: BotRuns, channel: Channel, week: Week, *, at: datetime) -> None:
    """Record `week` as claimed `at` by the channel's schedule (Japanese, Tokyo) and refused by
    Discord with a 503, as a run or its retry leaves it."""
    scheduled = schedules.PostSettings(channel.id, "ja", "Asia/Tokyo")
    unavailable = schedules.PostFailure(schedules.FailureCode.HTTP, status=503)

    async def act(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, channel.id, week.start, now=at, settings=scheduled)
        await schedules.mark_failed(conn, channel.id, week.start, unavailable, now=at)

    await with_db(bot.db, act)


def plant_digest(double: FakeDiscord, week: Week) -> JSON:
    """A digest of `week` in #alliance-news, as Discord made it though the bot saw an error."""
    embed = {"title": "今週の日米同盟", "footer": {"text": marker(week)}}
    return double.add_message(NEWS, {"embeds": [embed]})


def channel_posts(double: FakeDiscord, channel: Channel) -> list[int]:
    """Statuses of the bot's POSTs to a channel's messages, in order."""
    return [r.status for r in double.find_requests("POST", f"/channels/{channel.id}/messages")]


async def command(
    double: FakeDiscord,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    permissions: int = ADMIN,
    locale: str = "en-US",
) -> InteractionRecord:
    """Run a slash command (as an admin by default) and wait for its settled answer."""
    return await ask(double, name, options, permissions=permissions, locale=locale)


def reply(record: InteractionRecord) -> str:
    """The private text the bot answered with."""
    assert record.ephemeral, record.original
    assert record.original is not None
    return str(record.original["content"])


async def status(double: FakeDiscord, *, locale: str = "en-US") -> str:
    """`/alliance-digest status` as text."""
    record = await command(double, "alliance-digest status", locale=locale)
    assert record.ephemeral
    assert record.original is not None
    return message_text(record.original)


async def post_now_refused_with_503(double: FakeDiscord, *methods: str) -> tuple[Channel, str]:
    """#alliance-news scheduled (Mondays 09:00), Discord answering 503 to `methods` (POST, GET)
    on its messages once each, then `post-now`. Returns the channel and the reply."""
    news = double.guild.channel(NEWS)
    await command(double, "alliance-digest set", {"channel": NEWS, "weekday": 1, "time": "09:00"})
    for method in methods:
        double.fail(method, f"/channels/{news.id}/messages", status=503)
    failed = await command(double, "alliance-digest post-now", {"channel": NEWS})
    return news, reply(failed)


REFUSED_EN = (
    "Discord refused the post: the bot lacks a permission it needs in the channel "
    "(needs: View Channels, Send Messages, Embed Links, Read Message History)"
)
REFUSED_JA = (
    "Discord が投稿を拒否しました。このチャンネルでボットの権限が足りません"
    "（必要: チャンネルを見る、メッセージを送信、埋め込みリンク、メッセージ履歴を読む）"
)


def _en(day: date) -> str:
    """A day as the admin commands name a week by it in English (Nov 16, 2026)."""
    return format_date(day, "en")


def ts(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp as the bot writes it."""
    return discord.utils.format_dt(moment, style)


# --- admin commands -----------------------------------------------------------------------------


async def test_set_by_an_admin_is_saved_and_acknowledged(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`set` by a member with Manage Server saves the schedule and says when it runs next."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    options = {"channel": NEWS, "weekday": 1, "time": "09:00", "language": "en"}
    record = await command(fake_discord, "alliance-digest set", options)
    saved = await stored_schedule(bot, news)
    assert saved is not None
    assert (saved.weekday, f"{saved.at:%H:%M}", saved.timezone, saved.language) == (
        1,
        "09:00",
        "Asia/Tokyo",
        "en",
    )
    next_at = schedules.next_run(saved, datetime.now(UTC))
    assert reply(record) == (
        f"The weekly digest will be posted in <#{news.id}> every Monday 09:00 Asia/Tokyo, "
        f"in English (a short note in weeks without articles). Next: {ts(next_at)}"
    )
    assert (
        "Monday 09:00 Asia/Tokyo · English · a short note in weeks without articles"
        in await status(fake_discord)
    )
    typed = await fake_discord.send_autocomplete(
        "alliance-digest set", {**options, "timezone": "new_y"}, focused="timezone"
    )
    choices = (await fake_discord.wait_response(typed)).choices
    assert choices[0] == {"name": "America/New_York", "value": "America/New_York"}
    bad = await command(fake_discord, "alliance-digest set", {**options, "time": "25:00"})
    assert reply(bad) == "Not saved: invalid time “25:00”: use 24-hour HH:MM, e.g. 09:00 or 18:30"
    bad = await command(
        fake_discord, "alliance-digest set", {**options, "time": "25:00"}, locale="ja"
    )
    assert reply(bad) == (
        "設定できませんでした: 時刻「25:00」は使えません。"
        "09:00 や 18:30 のように24時間制の HH:MM で指定してください。"
    )
    assert await stored_schedule(bot, news) == saved
    assert "毎週月曜日 09:00（Asia/Tokyo） · 英語" in await status(fake_discord, locale="ja")


async def test_set_is_refused_to_a_member_without_manage_server(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A member without Manage Server is refused, privately, and nothing is saved."""
    await bot.start()
    [schema] = [c for c in fake_discord.commands[None] if c["name"] == "alliance-digest"]
    assert int(schema["default_member_permissions"]) == MANAGE_GUILD
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    record = await command(
        fake_discord, "alliance-digest set", options, permissions=MEMBER_PERMISSIONS
    )
    assert reply(record) == "You don't have permission to use this command (needs: Manage Server)."
    assert await stored_schedule(bot, fake_discord.guild.channel(NEWS)) is None


@pytest.mark.parametrize("name", ["alliance-digest status", "alliance-feeds list"])
async def test_an_admin_command_sent_from_a_dm_is_refused_as_server_only(
    fake_discord: FakeDiscord, bot: BotRuns, name: str
) -> None:
    """An admin command arriving from a DM (Discord doesn't offer it there; a hand-made
    request can) is refused as server-only, not as a missing permission."""
    await bot.start()
    record = await ask(fake_discord, name, guild=None, permissions=ADMIN, locale="ja")
    assert reply(record) == "このコマンドはサーバー内でのみ使えます。"
    assert record.ephemeral


async def test_set_names_the_permission_the_bot_lacks(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`set` in a channel where the bot may not embed links names exactly that permission."""
    news = fake_discord.guild.channel(NEWS)
    news.permission_overwrites.append(Overwrite(fake_discord.bot_user.id, type=1, deny=EMBED_LINKS))
    await bot.start()
    options = {"channel": NEWS, "weekday": 3, "time": "18:00"}
    record = await command(fake_discord, "alliance-digest set", options)
    assert reply(record) == f"The bot can't post in <#{news.id}>: it is missing Embed Links."
    ja = await command(fake_discord, "alliance-digest set", options, locale="ja")
    assert (
        reply(ja) == f"<#{news.id}> に投稿できません。ボットに次の権限がありません: 埋め込みリンク"
    )
    assert await stored_schedule(bot, news) is None


async def test_lost_permission_fails_the_post_and_shows_in_status(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Send Messages taken away after `set`: the post fails without a request, status says why
    and when, and the log says it in the admins' English; once a post succeeds, status no
    longer shows the error."""
    run = await bot.start()
    news = fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 1, "time": "9:00"}
    )
    news.permission_overwrites.append(
        Overwrite(fake_discord.bot_user.id, type=1, deny=SEND_MESSAGES)
    )
    await fake_discord.update_channel(news)
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record) == f"Could not post in <#{news.id}>: the bot is missing Send Messages."
    ja = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}, locale="ja")
    assert reply(ja) == (
        f"<#{news.id}> に投稿できませんでした: ボットに権限がありません（メッセージを送信）。"
    )
    assert channel_posts(fake_discord, news) == []
    await run.wait_logged(
        f"digest for channel {news.id} not posted: the bot is missing Send Messages"
    )
    assert "Last error: the bot is missing Send Messages (<t:" in await status(fake_discord)
    assert "直近のエラー: ボットに権限がありません（メッセージを送信）（<t:" in await status(
        fake_discord, locale="ja"
    )
    news.permission_overwrites.clear()
    await fake_discord.update_channel(news)
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record).startswith("Posted the digest")
    assert "Last error" not in await status(fake_discord)


async def test_post_now_posts_the_latest_week_once(fake_discord: FakeDiscord, bot: BotRuns) -> None:
    """`post-now` posts the latest complete week's digest; a second `post-now` posts nothing."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    first = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(first) == f"Posted the digest of the week of {_en(week.start)} in <#{news.id}>."
    second = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(second) == (
        f"The digest of the week of {_en(week.start)} was already posted in <#{news.id}>."
    )
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]
    assert message["embeds"][0]["title"].startswith("This week in the US–Japan alliance")
    assert channel_posts(fake_discord, news) == [200]
    await assert_posted_as(bot, news, week, message)


async def test_post_now_language_sets_a_digest_without_schedule(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """An English-speaking admin's `post-now language:ja` posts the Japanese digest where no
    schedule sets the language."""
    await bot.start()
    options = {"channel": NEWS, "language": "ja"}
    record = await command(fake_discord, "alliance-digest post-now", options)
    assert reply(record).startswith("Posted the digest")
    [message] = digests(fake_discord)
    assert message["embeds"][0]["title"].startswith("今週の日米同盟")


async def test_stop_deletes_the_schedule(fake_discord: FakeDiscord, bot: BotRuns) -> None:
    """`stop` deletes the channel's schedule; stopping again says there is none."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 2, "time": "07:30"}
    )
    assert "Tuesday 07:30" in await status(fake_discord)
    stopped = await command(fake_discord, "alliance-digest stop", {"channel": NEWS})
    assert reply(stopped) == f"Stopped the weekly digest in <#{news.id}>."
    assert await stored_schedule(bot, news) is None
    assert "No schedules yet" in await status(fake_discord)
    again = await command(fake_discord, "alliance-digest stop", {"channel": NEWS})
    assert reply(again) == f"There is no digest schedule for <#{news.id}>."


def deferred_in_time(record: InteractionRecord) -> None:
    """Assert the answer was a private defer within Discord's 3 s, filled afterwards."""
    assert record.callback_type == DEFERRED
    assert record.events[0].at - record.sent_at < ACK_WITHIN
    assert not record.expired
    assert len(record.events) > 1


async def test_set_and_stop_are_acknowledged_in_time_while_the_database_is_locked(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`set` and `stop` waiting longer than 3 s for the write lock (a feed ingest's) defer at
    once, then save or delete and say so in the admin's language (en, ja)."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    held = await hold_write_lock(bot.db, HOLD)
    record = await command(fake_discord, "alliance-digest set", options)
    await held
    deferred_in_time(record)
    assert record.events[-1].at - record.sent_at >= HOLD - 0.5  # it waited for the lock
    saved = await stored_schedule(bot, news)
    assert saved is not None
    next_at = schedules.next_run(saved, datetime.now(UTC))
    assert reply(record) == (
        f"The weekly digest will be posted in <#{news.id}> every Monday 09:00 Asia/Tokyo, "
        f"in Japanese (a short note in weeks without articles). Next: {ts(next_at)}"
    )
    held = await hold_write_lock(bot.db, HOLD)
    stopped = await command(fake_discord, "alliance-digest stop", {"channel": NEWS}, locale="ja")
    await held
    deferred_in_time(stopped)
    assert reply(stopped) == f"<#{news.id}> のダイジェストを停止しました。"
    assert await stored_schedule(bot, news) is None


async def test_every_admin_answer_arrives_after_a_defer(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """With every answer deferred first (ALLIANCE_DEFER_AFTER_S=0), `set` (saved or refused),
    `status` and `stop` still answer privately in the admin's language."""
    env = {"ALLIANCE_DEFER_AFTER_S": "0"}
    async with BotRuns(fake_discord, tmp_path / "deferred.db", env=env) as runs:
        await runs.start()
        news = fake_discord.guild.channel(NEWS)
        bad = {"channel": NEWS, "weekday": 1, "time": "25:00"}
        refused = await command(fake_discord, "alliance-digest set", bad)
        deferred_in_time(refused)
        assert reply(refused) == (
            "Not saved: invalid time “25:00”: use 24-hour HH:MM, e.g. 09:00 or 18:30"
        )
        refused_ja = await command(fake_discord, "alliance-digest set", bad, locale="ja")
        deferred_in_time(refused_ja)
        assert reply(refused_ja).startswith("設定できませんでした: 時刻「25:00」は使えません。")
        good = {"channel": NEWS, "weekday": 1, "time": "09:00"}
        saved = await command(fake_discord, "alliance-digest set", good, locale="ja")
        deferred_in_time(saved)
        assert reply(saved).startswith(
            f"<#{news.id}> に毎週月曜日 09:00（Asia/Tokyo）に日本語のダイジェストを投稿します"
            "（記事がない週は短いお知らせを投稿）。次回: <t:"
        )
        listed = await command(fake_discord, "alliance-digest status")
        deferred_in_time(listed)
        assert listed.ephemeral
        assert listed.original is not None
        assert "Monday 09:00 Asia/Tokyo · Japanese" in message_text(listed.original)
        stopped = await command(fake_discord, "alliance-digest stop", {"channel": NEWS})
        deferred_in_time(stopped)
        assert reply(stopped) == f"Stopped the weekly digest in <#{news.id}>."
        again = await command(fake_discord, "alliance-digest stop", {"channel": NEWS}, locale="ja")
        deferred_in_time(again)
        assert reply(again) == f"<#{news.id}> にはダイジェストの設定がありません。"
    assert fake_discord.mention_violations == []


async def test_alliance_digest_week_of_in_both_languages(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`/alliance digest week_of:2025-12-15` lists the seeds of 16, 17 and 19 December only."""
    await bot.start()
    expected = {
        "ja": ("今週の日米同盟", ["2025年12月16日", "2025年12月17日", "2025年12月19日"]),
        "en-US": ("This week in", ["Dec 16, 2025", "Dec 17, 2025", "Dec 19, 2025"]),
    }
    for locale, (title, dates) in expected.items():
        record = await ask(
            fake_discord, "alliance digest", {"week_of": "2025-12-15"}, locale=locale
        )
        assert record.ephemeral
        assert record.original is not None
        text = message_text(record.original)
        assert text.startswith(title)
        assert all(day in text for day in dates), text
        assert [n for n in range(1, 22) if f"#{n}）" in text or f"#{n})" in text] == [11, 12, 13]
        assert marker(Week(datetime(2025, 12, 15).date())) in text


BUSY = 200
"""Articles in a week whose digest takes three messages."""


def _ids_in(text: str) -> list[int]:
    """The article numbers a digest's text lists ((#12) or （#12）)."""
    return [int(n) for n in re.findall(r"[（(]#(\d+)[）)]", text)]


def _pager(record: InteractionRecord) -> tuple[JSON, JSON]:
    """The Previous and Next buttons of an answer."""
    previous, after = [c for c in custom_ids(record).values() if c["type"] == 2]
    return previous, after


async def test_a_busy_weeks_preview_is_one_message_whose_buttons_turn_its_pages(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`/alliance digest` of a week that takes several messages sends one, numbered, whose
    Previous / Next show each page in its place; together they list every article once."""
    await bot.start()
    week = Week(date(2024, 6, 3))
    await add_articles_in(bot, week, BUSY)
    expected = digest_embeds(await with_db(bot.db, lambda conn: build_digest(conn, week)), "en")
    assert len(expected) >= 3

    record = await ask(fake_discord, "alliance digest", {"week_of": "2024-06-05"}, locale="en-US")
    assert record.ephemeral
    assert record.followups == []
    assert record.original is not None
    message_id = int(record.original["id"])
    seen: list[int] = []
    for page in range(1, len(expected) + 1):
        (embed,) = embeds(record)
        assert f"Page {page} of {len(expected)}" in embed["footer"]["text"]
        assert marker(week) in embed["footer"]["text"]
        seen += _ids_in(embed_text(embed))
        previous, after = _pager(record)
        assert (previous["label"], after["label"]) == ("Previous", "Next")
        assert (previous["disabled"], after["disabled"]) == (page == 1, page == len(expected))
        if page < len(expected):
            pressed = await fake_discord.send_component(after["custom_id"], message_id=message_id)
            record = await fake_discord.wait_response(pressed)
            assert record.callback_type == 7  # the private message is updated in place
    assert len(seen) == len(set(seen)) == BUSY

    back = await fake_discord.send_component(previous["custom_id"], message_id=message_id)
    shown = await fake_discord.wait_response(back)
    assert f"Page {len(expected) - 1} of {len(expected)}" in embeds(shown)[0]["footer"]["text"]


async def test_an_admins_preview_of_a_busy_week_pages_in_the_schedules_language(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`/alliance-digest preview` of a Japanese schedule's busy week is one private message,
    numbered in Japanese, with 前へ / 次へ that work after a restart and keep its note."""
    news = fake_discord.guild.channel(NEWS)
    schedule, _ = await set_due(bot, news, ago=timedelta(hours=30))
    run_at = schedules.next_run(schedule, datetime.now(UTC))
    upcoming = schedules.week_for_run(run_at, schedule.tz, weekday=schedule.weekday)
    await add_articles_in(bot, upcoming, BUSY)
    await bot.start()
    preview = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert preview.ephemeral
    assert preview.followups == []
    (embed,) = embeds(preview)
    assert re.search(r"1 / \d+ ページ", embed["footer"]["text"])
    previous, after = _pager(preview)
    assert (previous["label"], previous["disabled"], after["label"]) == ("前へ", True, "次へ")

    await bot.stop()
    await bot.start()
    assert preview.original is not None
    pressed = await fake_discord.send_component(
        after["custom_id"], message_id=int(preview.original["id"])
    )
    turned = await fake_discord.wait_response(pressed)
    assert re.search(r"2 / \d+ ページ", embeds(turned)[0]["footer"]["text"])
    assert preview.original["content"].startswith(f"Preview of the next post in <#{news.id}>")
    assert turned.data["content"] == preview.original["content"]


async def test_a_preview_says_what_it_shows_without_a_schedule_and_of_a_posted_week(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Without a schedule, preview says it shows what post-now would post (ja, en); with one
    whose next run's week is already posted (by a post-now), it says that run posts nothing."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    unscheduled = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert unscheduled.original is not None
    assert unscheduled.original["content"] == (
        f"<#{news.id}> has no schedule: this is what `/alliance-digest post-now` would post "
        f"there (the week of {_en(week.start)})."
    )
    server = await command(fake_discord, "alliance-digest preview", locale="ja")
    assert server.original is not None
    assert server.original["content"].startswith("このサーバーには定期投稿の設定がありません。")
    when = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    await command(fake_discord, "alliance-digest set", when)
    schedule = await stored_schedule(bot, news)
    assert schedule is not None
    run_at = schedules.next_run(schedule, datetime.now(UTC))
    upcoming = schedules.week_for_run(run_at, TOKYO, weekday=1)

    async def posted(conn: aiosqlite.Connection) -> None:  # as a post-now of that week leaves it
        assert await schedules.claim_post(conn, news.id, upcoming.start)
        await schedules.mark_posted(conn, news.id, upcoming.start, 1)

    await with_db(bot.db, posted)
    again = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert again.original is not None
    assert again.original["content"].endswith("was already posted: that run posts nothing.")


async def test_a_preview_of_a_paused_schedule_shows_what_post_now_would_post(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A paused schedule has no next post: preview says it is paused and shows the week a
    `post-now` would post, in the schedule's language, in the admin's language for the note;
    once that week is posted, it says `post-now` posts nothing."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    when = {"channel": NEWS, "weekday": 1, "time": "09:00", "language": "en"}
    await command(fake_discord, "alliance-digest set", when)
    await with_db(bot.db, pause_schedules)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    preview = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert preview.original is not None
    assert preview.original["content"] == (
        f"The weekly digest in <#{news.id}> is paused: nothing is posted until an admin runs "
        "`/alliance-digest set`. This is what `/alliance-digest post-now` would post there "
        f"(the week of {_en(week.start)})."
    )
    assert marker(week) in embeds(preview)[0]["footer"]["text"]
    assert embeds(preview)[0]["title"].startswith("This week in the US–Japan alliance")
    ja = await command(fake_discord, "alliance-digest preview", {"channel": NEWS}, locale="ja")
    assert ja.original is not None
    assert ja.original["content"].startswith(f"<#{news.id}> の週刊ダイジェストは停止中のため")
    day = week.start
    assert ja.original["content"].endswith(f"（{day.year}年{day.month}月{day.day}日の週）です。")

    async def posted(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, news.id, week.start)
        await schedules.mark_posted(conn, news.id, week.start, 1)

    await with_db(bot.db, posted)
    again = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert again.original is not None
    assert again.original["content"].endswith(
        f"the week of {_en(week.start)}, which `/alliance-digest post-now` would post, was already "
        "posted: it posts nothing."
    )


async def test_a_preview_of_an_empty_week_says_whether_the_run_will_skip_it(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The next run's week has no articles (the seeds are older): on a schedule that skips
    such weeks, preview says that run posts nothing unless some arrive; on one that posts a
    note, it shows the next post as usual."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    when = {"channel": NEWS, "weekday": 1, "time": "09:00", "when_empty": "skip"}
    await command(fake_discord, "alliance-digest set", when)
    skipped = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert skipped.original is not None
    assert skipped.original["content"].startswith(f"The week of the next post in <#{news.id}>")
    assert skipped.original["content"].endswith(
        "has no articles yet: with this schedule, that run posts nothing unless some arrive "
        "before it."
    )
    await command(fake_discord, "alliance-digest set", {**when, "when_empty": "post"})
    noted = await command(fake_discord, "alliance-digest preview", {"channel": NEWS}, locale="ja")
    assert noted.original is not None
    assert noted.original["content"].startswith(f"<#{news.id}> の次回の投稿（")


async def test_a_schedules_preview_pages_through_last_weeks_late_articles(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The next run's week is empty, but last week's digest was posted before many of its
    articles came in: preview of a schedule that skips empty weeks shows the post the run will
    make, whose buttons page through every late article, also after a restart."""
    news = fake_discord.guild.channel(NEWS)
    schedule, _ = await set_due(bot, news, ago=timedelta(hours=30), when_empty="skip")
    run_at = schedules.next_run(schedule, datetime.now(UTC))
    before = schedules.week_for_run(run_at, schedule.tz, weekday=schedule.weekday).previous()
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

    async def posted_before_they_came(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, news.id, before.start, now=made)
        assert await schedules.mark_posted(conn, news.id, before.start, 42, now=made)

    await with_db(bot.db, posted_before_they_came)
    await add_articles_in(bot, before, BUSY)
    await bot.start()
    preview = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert preview.original is not None
    assert preview.original["content"].startswith(f"Preview of the next post in <#{news.id}>")
    assert f"先週分の追加（{BUSY}件）" in text(preview)
    message_id = int(preview.original["id"])
    await bot.stop()  # the pages after the first from the channel's digest, in a new process
    await bot.start()
    record, seen = preview, []
    for _ in range(BUSY):  # a page shows at least one article
        (embed,) = embeds(record)
        seen += _ids_in(embed_text(embed))
        _, after = _pager(record)
        if after["disabled"]:
            break
        pressed = await fake_discord.send_component(after["custom_id"], message_id=message_id)
        record = await fake_discord.wait_response(pressed)
    else:
        pytest.fail("Next was never disabled")
    assert len(seen) == len(set(seen)) == BUSY


@pytest.mark.parametrize(
    ("forged", "expected"),
    [
        ("al:dg:en:2024-06-03:9999:Asia/Tokyo", "Page 3 of 3"),  # past the end: the last page
        ("al:dg:en:2024-06-04:1:Asia/Tokyo", "out of date"),  # not a Monday
        ("al:dg:en:2024-06-03:1:No/Such_Zone", "out of date"),
        ("al:dg:en:2024-02-30:1:UTC", "out of date"),
        ("al:dg:en:9999-12-27:0:UTC", "out of date"),  # the week runs past the calendar
        ("al:dg:en:2024-06-03:1:/etc/passwd", "out of date"),
        ("al:dg:de:2024-06-03:1:UTC", "out of date"),
        ("al:dg:en:2024-06-03:1:UTC:123", "out of date"),  # a channel of no server of theirs
    ],
)
async def test_forged_digest_pager_ids_get_a_clear_reply(
    fake_discord: FakeDiscord, bot: BotRuns, forged: str, expected: str
) -> None:
    """Hand-made digest paging ids (a page past the end, a day that starts no week, an unknown
    timezone) show the last page or say the button is out of date, never an error."""
    await bot.start()
    week = Week(date(2024, 6, 3))
    await add_articles_in(bot, week, BUSY)
    record = await ask(fake_discord, "alliance digest", {"week_of": "2024-06-03"}, locale="en-US")
    assert record.original is not None
    _, after = _pager(record)
    payload = fake_discord.component_payload(
        after["custom_id"], message_id=int(record.original["id"])
    )
    forge_custom_id(payload, after["custom_id"], forged)
    pressed = await fake_discord.wait_response(await fake_discord.send_interaction(payload))
    assert expected in text(pressed)


# --- scheduled delivery -------------------------------------------------------------------------


async def test_digest_is_posted_at_its_due_time_by_the_scheduler(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """At its due minute the previewed digest is posted once; a paused schedule stays silent.

    The suite's one wait for a minute boundary (up to a minute).
    """
    now = datetime.now(UTC)
    due = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if due - now < timedelta(seconds=3):  # time to start the bot and run the commands below
        due += timedelta(minutes=1)
    await bot.start()
    news, general = fake_discord.guild.channel(NEWS), fake_discord.guild.channel("general")
    local = due.astimezone(TOKYO)
    options = {"weekday": local.isoweekday(), "time": f"{local:%H:%M}"}
    record = await command(fake_discord, "alliance-digest set", {"channel": NEWS, **options})
    assert reply(record).endswith(f"Next: {ts(due)}")
    week = schedules.week_for_run(due, TOKYO)
    preview = await command(fake_discord, "alliance-digest preview", {"channel": NEWS})
    assert preview.original is not None
    assert footers(preview.original) == [marker(week)]
    assert preview.original["content"] == f"Preview of the next post in <#{news.id}> ({ts(due)})."
    assert fake_discord.channel_messages(NEWS) == []  # the preview is private
    # #general is due at the same minute but paused by three refused posts; then allowed again.
    await command(fake_discord, "alliance-digest set", {"channel": "general", **options})
    general.permission_overwrites.append(
        Overwrite(fake_discord.bot_user.id, type=1, deny=SEND_MESSAGES)
    )
    for _ in range(3):
        await command(fake_discord, "alliance-digest post-now", {"channel": "general"})
    general.permission_overwrites.clear()
    assert datetime.now(UTC) < due, "took too long to prepare: the run is already due"

    message = await fake_discord.wait_message(NEWS, lambda m: bool(digests(fake_discord)), 75)
    assert datetime.fromisoformat(message["timestamp"]) >= due
    assert message["embeds"] == preview.original["embeds"]
    assert message["embeds"][0]["title"].startswith("今週の日米同盟")
    text = await status(fake_discord)
    assert f"Last post: week of {_en(week.start)}" in text
    assert f"Next: {ts(due + timedelta(days=7))}" in text  # the following run is planned
    assert channel_posts(fake_discord, news) == [200]
    assert channel_posts(fake_discord, general) == [403, 403, 403]
    assert digests(fake_discord, "general") == []
    await assert_posted_as(bot, news, week, message)


async def test_a_run_fired_past_the_grace_period_is_recorded_missed_not_posted(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The host suspended across a run's minute for longer than the grace period: the run,
    fired late, records the week as missed (as a start would), posts nothing, plans the next.

    Waits for a minute boundary (up to a minute), as the test above.
    """
    grace_s = 4.0
    bot.env = {"ALLIANCE_DIGEST_GRACE_HOURS": str(grace_s / 3600)}
    running = await bot.start()
    assert running.proc is not None
    now = datetime.now(UTC)
    due = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if due - now < timedelta(seconds=10):  # time to set the schedule before its minute
        due += timedelta(minutes=1)
    news = fake_discord.guild.channel(NEWS)
    local = due.astimezone(TOKYO)
    options = {"channel": NEWS, "weekday": local.isoweekday(), "time": f"{local:%H:%M}"}
    await command(fake_discord, "alliance-digest set", options)
    week = schedules.week_for_run(due, TOKYO)
    await asyncio.sleep((due - datetime.now(UTC)).total_seconds() - 3.0)
    assert datetime.now(UTC) < due, "took too long to prepare: the run is already due"
    running.proc.send_signal(signal.SIGSTOP)
    try:
        await asyncio.sleep((due - datetime.now(UTC)).total_seconds() + grace_s + 3.0)
    finally:
        running.proc.send_signal(signal.SIGCONT)
    await running.wait_logged(f"digest of {week.start} for channel {news.id} missed", 30)
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "missed"
    assert channel_posts(fake_discord, news) == []
    text = await status(fake_discord)
    assert (
        f"The week of {_en(week.start)} was missed: the bot or Discord was down"
        " past its posting time." in text
    )
    assert f"Next: {ts(due + timedelta(days=7))}" in text


async def test_restart_posts_a_run_due_within_grace_once_and_records_older_as_missed(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """On start, a run due 1 h ago is posted once; one due 30 h ago (grace 24 h) is missed.

    A third schedule, of a channel deleted while the bot was down, is stopped without trying
    its week: no admin could pick the channel to stop it.
    """
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    _, general_week = await set_due(bot, general, ago=timedelta(hours=1))
    _, news_week = await set_due(bot, news, ago=timedelta(hours=30))
    deleted = Channel("deleted")
    _, deleted_week = await set_due(bot, deleted, ago=timedelta(hours=1))
    run = await bot.start(until_logged=CAUGHT_UP)
    [posted] = digests(fake_discord, "general")
    assert footers(posted) == [marker(general_week)]
    assert (channel_posts(fake_discord, general), channel_posts(fake_discord, news)) == ([200], [])
    general_post = await ledger(bot, general, general_week)
    assert general_post is not None
    assert (general_post.status, general_post.message_id) == ("posted", int(posted["id"]))
    news_post = await ledger(bot, news, news_week)
    assert news_post is not None
    assert news_post.status == "missed"
    assert await ledger(bot, deleted, deleted_week) is None  # stopped before its run
    text = await status(fake_discord)
    assert (
        f"The week of {_en(news_week.start)} was missed: the bot or Discord was down"
        " past its posting time." in text
    )
    assert text.count("was missed") == 1
    assert f"#{deleted.id}" not in text
    assert await stored_schedule(bot, deleted) is None
    assert f"channel {deleted.id} was deleted: its digests are stopped" in run.stderr


async def test_a_digest_carries_last_weeks_articles_stored_after_its_digest(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Last week's digest was posted a week ago; an article of last week stored since (late,
    or after a Sunday run) is in this week's digest under its own heading, and one stored
    before that digest is not repeated."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=1), set_ago=timedelta(days=10))
    before = week.previous()
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)

    async def seed(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, news.id, before.start, now=made)
        assert await schedules.mark_posted(conn, news.id, before.start, 42, now=made)
        drafts = [
            ArticleDraft(title, body, before.end, False, "late.jsonl", title)
            for title, body in (
                ("間に合った記事", "日米の防衛相が共同訓練の拡充を確認した。"),
                ("遅れて届いた記事", "米国務長官が沖縄の基地負担の軽減策を発表した。"),
            )
        ]
        await articles.ingest(conn, drafts)
        stamp = (made - HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = "UPDATE articles SET created_at = ? WHERE title = ?"
        await conn.execute(query, (stamp, "間に合った記事"))
        await conn.commit()

    await with_db(bot.db, seed)
    await bot.start(until_logged=CAUGHT_UP)
    [message] = digests(fake_discord)
    posted = message_text(message)
    assert "先週分の追加（1件）" in posted
    assert "遅れて届いた" in posted
    assert "間に合った" not in posted


async def test_a_run_missed_while_down_counts_last_weeks_late_articles_as_its_own(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """On a schedule that skips empty weeks, a run the bot was down for whose week is empty but
    would have carried last week's late articles is recorded as missed, not skipped."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(
        bot, news, ago=timedelta(hours=30), when_empty="skip", set_ago=timedelta(days=10)
    )
    before = week.previous()
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(days=8)

    async def posted_before_it_came(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, news.id, before.start, now=made)
        assert await schedules.mark_posted(conn, news.id, before.start, 42, now=made)

    await with_db(bot.db, posted_before_it_came)
    await add_articles_in(bot, before, 1)
    await bot.start(until_logged=CAUGHT_UP)
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "missed"
    assert channel_posts(fake_discord, news) == []


async def test_a_run_retried_until_its_grace_ended_is_recorded_missed_after_a_restart(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A run due 30 h ago (grace 24 h) whose last retry, refused by Discord, was 2 h ago: on
    start the week is recorded as missed, not retried and posted late."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=30))
    await refused_with_503(bot, news, week, at=datetime.now(UTC) - timedelta(hours=2))
    await bot.start(until_logged=CAUGHT_UP)
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "missed"
    assert channel_posts(fake_discord, news) == []


async def test_a_downtime_across_several_runs_records_each_week_missed(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Down over three runs since the schedule was set, the bot records all three weeks as
    missed (not only the latest), and status counts them."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=30), set_ago=timedelta(days=22))
    await bot.start(until_logged=CAUGHT_UP)
    weeks = [week, week.previous(), week.previous().previous()]
    for each in weeks:
        record = await ledger(bot, news, each)
        assert record is not None, each
        assert record.status == "missed"
    assert await ledger(bot, news, weeks[-1].previous()) is None  # due before it was set
    assert channel_posts(fake_discord, news) == []
    text = await status(fake_discord)
    assert f"The week of {_en(week.start)} and 2 earlier weeks were missed" in text


async def test_an_empty_week_that_would_be_skipped_is_not_missed(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Down past the grace period over a week without articles: a schedule that posts a note
    in such weeks missed it; one that skips them recorded it as skipped, and stays so when
    articles dated in the week arrive before the next start."""
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, general, ago=timedelta(hours=30), when_empty="skip")
    await set_due(bot, news, ago=timedelta(hours=30))
    digest = await with_db(bot.db, lambda conn: build_digest(conn, week))
    assert digest.is_empty
    await bot.start(until_logged=CAUGHT_UP)
    missed = await ledger(bot, news, week)
    assert missed is not None
    assert missed.status == "missed"
    skipped = await ledger(bot, general, week)
    assert skipped is not None
    assert skipped.status == "skipped"
    text = await status(fake_discord)
    assert text.count("was missed") == 1
    assert f"The week of {_en(week.start)} had no articles, so it was not posted." in text

    await add_articles_in(bot, week, 3)
    await bot.restart(until_logged=CAUGHT_UP)
    skipped = await ledger(bot, general, week)
    assert skipped is not None
    assert skipped.status == "skipped"
    assert (await status(fake_discord)).count("was missed") == 1
    assert channel_posts(fake_discord, general) == []


async def set_weekly_at_monday_midnight(bot: BotRuns, channel: Channel) -> Week:
    """A Monday 00:00 schedule that skips empty weeks, set just before its latest run, with a
    grace period of a week: that run is due within it on any day, and its week is the latest
    complete one (a run on another day would post another week on Sundays)."""
    bot.env = {**(bot.env or {}), "ALLIANCE_DIGEST_GRACE_HOURS": "168"}
    now = datetime.now(TOKYO)
    since = now - datetime.combine(now.date() - timedelta(days=now.weekday()), time(), TOKYO)
    schedule, week = await set_due(
        bot, channel, ago=since, when_empty="skip", set_ago=since + timedelta(minutes=1)
    )
    assert (schedule.weekday, schedule.at) == (1, time())
    assert week == schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    return week


async def test_a_week_skipped_at_its_run_is_not_posted_late(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A run that skipped an empty week handled it: articles dated in the week that arrive
    later are not posted by a restart within the grace period, nor by a changed schedule."""
    news = fake_discord.guild.channel(NEWS)
    week = await set_weekly_at_monday_midnight(bot, news)
    await bot.start(until_logged=CAUGHT_UP)
    skipped = await ledger(bot, news, week)
    assert skipped is not None
    assert skipped.status == "skipped"

    await add_articles_in(bot, week, 3)
    await bot.restart(until_logged=CAUGHT_UP)
    # A Sunday 23:59 schedule's next run posts a later week than the skipped one, so the old
    # schedule owes the skipped week, unless the ledger says it was handled.
    options = {"channel": NEWS, "weekday": 7, "time": "23:59", "when_empty": "post"}
    record = await command(fake_discord, "alliance-digest set", options)
    assert str(week.start) not in reply(record)
    assert all(footers(m) != [marker(week)] for m in digests(fake_discord))
    skipped = await ledger(bot, news, week)
    assert skipped is not None
    assert skipped.status == "skipped"


async def test_post_now_of_an_empty_week_leaves_the_skip_to_the_schedule_s_run(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """An admin's `post-now` of a still empty week, on a schedule that skips those, records
    nothing: the schedule's own run posts the week once articles dated in it have arrived."""
    news = fake_discord.guild.channel(NEWS)
    await bot.start()
    # Set behind the running bot's back, so that its run comes due after the `post-now`.
    week = await set_weekly_at_monday_midnight(bot, news)
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record) == (
        f"The week of {_en(week.start)} has no articles, and this schedule skips empty weeks."
    )
    assert await ledger(bot, news, week) is None

    await add_articles_in(bot, week, 3)
    await bot.restart(until_logged=CAUGHT_UP)
    [message] = digests(fake_discord)
    await assert_posted_as(bot, news, week, message)


async def test_status_tells_missed_weeks_before_a_skipped_one(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Down over three runs, the last week empty: `status` says two weeks were missed and the
    latest was skipped, not only the latest."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(
        bot, news, ago=timedelta(hours=30), set_ago=timedelta(days=16), when_empty="skip"
    )
    for first, earlier in enumerate((week.previous(), week.previous().previous())):
        await add_articles_in(bot, earlier, 2, first=1 + 10 * first)
    await bot.start(until_logged=CAUGHT_UP)
    text = await status(fake_discord)
    assert (
        f"The week of {_en(week.previous().start)} and one earlier week were missed: the bot or"
        " Discord was down past their posting time." in text
    )
    assert f"The week of {_en(week.start)} had no articles, so it was not posted." in text


async def test_post_now_posts_a_skipped_week_that_has_articles_since(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """An admin's `post-now` posts a week its schedule skipped as empty, once articles dated
    in it have arrived."""
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    await with_db(bot.db, lambda conn: schedules.record_skipped(conn, news.id, week.start))
    await add_articles_in(bot, week, 3)
    await bot.start()
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record) == f"Posted the digest of the week of {_en(week.start)} in <#{news.id}>."
    [message] = digests(fake_discord)
    await assert_posted_as(bot, news, week, message)


async def test_a_paused_schedule_of_a_channel_deleted_meanwhile_is_stopped_at_start(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A paused schedule has no runs to find its deleted channel: the start looks it up."""
    deleted = Channel("deleted")
    await set_due(bot, deleted, ago=timedelta(days=2))

    await with_db(bot.db, pause_schedules)
    run = await bot.start(until_logged=CAUGHT_UP)
    assert f"channel {deleted.id} was deleted: its digests are stopped" in run.stderr
    assert await stored_schedule(bot, deleted) is None


async def test_a_deleted_channel_s_schedule_is_stopped(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A channel deleted while the bot runs takes its schedule with it; the week's record of
    what was posted stays."""
    old = Channel("old-news")
    fake_discord.guild.channels.append(old)
    run = await bot.start()
    options = {"channel": "old-news", "weekday": 1, "time": "09:00"}
    await command(fake_discord, "alliance-digest set", options)
    assert "#old-news" in await status(fake_discord)
    await fake_discord.delete_channel(old)
    await run.wait_logged(f"channel {old.id} was deleted: its digests are stopped")
    assert await stored_schedule(bot, old) is None
    assert "old-news" not in await status(fake_discord)


async def test_a_server_the_bot_leaves_has_its_schedules_stopped(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Removed from a server, the bot stops its channels' schedules: no run fails there weekly
    until the schedule pauses and messages an admin of a server the bot is not in."""
    news = fake_discord.guild.channel(NEWS)
    run = await bot.start()
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    await command(fake_discord, "alliance-digest set", options)
    assert await stored_schedule(bot, news) is not None
    await fake_discord.remove_guild(fake_discord.guild)
    await run.wait_logged(f"the digests of its channels {news.id} are stopped")
    assert await stored_schedule(bot, news) is None


async def test_a_server_unavailable_in_an_outage_keeps_its_schedules(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A server unavailable in a Discord outage is one the bot is still in: the retry of a
    refused post is kept and posts, and back after the outage, the schedule is still listed."""
    run, news, week = await _owed_post_refused(fake_discord, bot)
    await fake_discord.make_guild_unavailable(fake_discord.guild)
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    await fake_discord.make_guild_available(fake_discord.guild)
    saved = await stored_schedule(bot, news)
    assert saved is not None
    text = await status(fake_discord)
    assert f"Next: {ts(schedules.next_run(saved, datetime.now(UTC)))}" in text
    assert f"Last post: week of {_en(week.start)}" in text
    assert channel_posts(fake_discord, news) == [503, 200]
    assert "no longer in server" not in run.stderr


async def test_post_now_posts_a_week_missed_while_the_bot_was_down(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A week recorded as missed is posted once by an admin's `post-now`, which asked for it."""
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    await with_db(bot.db, lambda conn: schedules.record_missed(conn, news.id, week.start))
    await bot.start()
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record) == f"Posted the digest of the week of {_en(week.start)} in <#{news.id}>."
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]
    again = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(again).startswith("The digest of the week of")
    assert channel_posts(fake_discord, news) == [200]


async def test_a_schedule_changed_to_a_time_already_past_posts_the_week_it_owed(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A schedule set days ago whose run is an hour away, changed to an hour ago: the week its
    old time had yet to post is posted at once, and said so; a restart posts nothing more."""
    news = fake_discord.guild.channel(NEWS)
    zone = zone_for_a_change()
    await set_due(bot, news, ago=-HOUR, zone=zone)
    earlier = (datetime.now(UTC) - HOUR).astimezone(zone)
    await bot.start(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == []  # not due yet under the old time
    options = {"channel": NEWS, "weekday": earlier.isoweekday(), "time": f"{earlier:%H:%M}"}
    record = await command(fake_discord, "alliance-digest set", options)
    week = schedules.week_for_run(earlier, zone)
    assert reply(record).endswith(
        f"\nPosted the digest of the week of {_en(week.start)} in <#{news.id}>."
    )
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]
    await bot.restart(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == [200]


async def test_a_changed_schedule_whose_owed_post_discord_refuses_retries_it(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The week a change owes, refused with a 503: the admin is told it is tried again, and the
    retry posts it once."""
    run, news, week = await _owed_post_refused(fake_discord, bot)
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    assert channel_posts(fake_discord, news) == [503, 200]
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]


async def _retry_held_by_discord(
    fake_discord: FakeDiscord, bot: BotRuns, *, wait_s: float
) -> tuple[Channel, Week]:
    """A week refused with a 503, then its scheduled retry told by Discord (a 429) to wait
    `wait_s` seconds before posting; returned once the retry waits."""
    run, news, week = await _owed_post_refused(fake_discord, bot)
    await run.wait_logged("trying again at")
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=429, retry_after=wait_s)
    await fake_discord.wait_for(
        lambda: channel_posts(fake_discord, news) == [503, 429], 10, what="the retry's post"
    )
    return news, week


async def _owed_post_refused(
    fake_discord: FakeDiscord, bot: BotRuns
) -> tuple[BotProcess, Channel, Week]:
    """A schedule changed to a time an hour past, so that its week is owed at once, and Discord
    refusing that post with a 503: the admin is told it is tried again. Returns the running
    bot, the channel and the owed week."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    news = fake_discord.guild.channel(NEWS)
    zone = zone_for_a_change()
    await set_due(bot, news, ago=-HOUR, zone=zone)
    earlier = (datetime.now(UTC) - HOUR).astimezone(zone)
    run = await bot.start(until_logged=CAUGHT_UP)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    options = {"channel": NEWS, "weekday": earlier.isoweekday(), "time": f"{earlier:%H:%M}"}
    assert reply(await command(fake_discord, "alliance-digest set", options)).endswith(
        "The bot tries again shortly."
    )
    return run, news, schedules.week_for_run(earlier, zone)


async def test_a_shutdown_lets_a_scheduled_post_under_way_finish(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """SIGTERM while a scheduled retry waits 2 s on Discord's rate limit: the bot waits, the
    post is made and recorded, and it exits cleanly (no traceback)."""
    news, week = await _retry_held_by_discord(fake_discord, bot, wait_s=2.0)
    await bot.stop()
    assert channel_posts(fake_discord, news) == [503, 429, 200]
    [message] = digests(fake_discord)
    await assert_posted_as(bot, news, week, message)


async def test_a_shutdown_that_cannot_wait_leaves_the_post_to_the_next_start(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """SIGTERM while a scheduled retry waits longer than the shutdown does: the bot stops it
    quietly (no traceback), the week stays claimed, and the next start posts it once."""
    news, week = await _retry_held_by_discord(fake_discord, bot, wait_s=30.0)
    await bot.stop()
    assert channel_posts(fake_discord, news) == [503, 429]
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("intent", None)
    await bot.start(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == [503, 429, 200]
    [message] = digests(fake_discord)
    await assert_posted_as(bot, news, week, message)


async def test_a_changed_schedule_s_refused_owed_post_is_retried_after_a_restart(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The week a change owes, refused with a 503, then a restart before its retry (within the
    grace period): the new process posts it once. No run of the schedule would: its time was
    set after that run."""
    news = fake_discord.guild.channel(NEWS)
    zone = zone_for_a_change()
    await set_due(bot, news, ago=-HOUR, zone=zone)
    earlier = (datetime.now(UTC) - HOUR).astimezone(zone)
    await bot.start(until_logged=CAUGHT_UP)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    options = {"channel": NEWS, "weekday": earlier.isoweekday(), "time": f"{earlier:%H:%M}"}
    answer = reply(await command(fake_discord, "alliance-digest set", options))
    assert answer.endswith("The bot tries again shortly.")
    week = schedules.week_for_run(earlier, zone)
    await bot.restart(until_logged=CAUGHT_UP)  # long before the retry, a minute away
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "posted"
    assert channel_posts(fake_discord, news) == [503, 200]
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]


async def test_an_unfinished_post_is_found_after_a_burst_of_messages_before_its_claim(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """60 members' messages just before a claim (within the clock slack the history is read
    from), then the page the bot posted before it stopped: found, not posted again."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=2))
    for n in range(60):
        fake_discord.add_message(NEWS, {"content": f"chat {n}"}, author=fake_discord.invoker)
    await asyncio.sleep(1.1)  # the claim's time is stored to the second
    await claim_in_japanese(bot, news, week)
    planted = plant_digest(fake_discord, week)
    await bot.start(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == []
    await assert_posted_as(bot, news, week, planted)


async def test_stop_also_stops_a_post_now_that_discord_refused(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`post-now` refused with a 503 where the schedule is paused, then `stop`: no retry posts
    the week, also after a restart."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 1, "time": "09:00"}
    )

    await with_db(bot.db, pause_schedules)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert answer.endswith("The bot tries again shortly.\n" + STILL_PAUSED.format(news.id))
    stopped = await command(fake_discord, "alliance-digest stop", {"channel": NEWS})
    assert reply(stopped) == f"Stopped the weekly digest in <#{news.id}>."
    await bot.restart(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == [503]
    assert digests(fake_discord) == []


async def test_an_unfinished_digest_found_past_the_lookback_is_not_reposted(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A claimed week of several pages, its first 5 in the channel when the bot stopped, each
    followed by 12 members' messages (65 messages in all, more than `HISTORY_LOOKBACK`): the
    restarted bot posts only the pages missing, each once."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=2))
    await add_articles_in(bot, week, 600)
    await claim_in_japanese(bot, news, week)
    post = await ledger(bot, news, week)
    assert post is not None
    claimed = post.created_at
    assert claimed is not None
    digest = await with_db(bot.db, lambda conn: build_digest(conn, week, added_by=claimed))
    expected = [e.to_dict() for e in digest_embeds(digest, "ja")]
    assert len(expected) > 5 + 1
    for page in expected[:5]:
        fake_discord.add_message(NEWS, {"embeds": [page]})
        for n in range(12):
            fake_discord.add_message(NEWS, {"content": f"chat {n}"}, author=fake_discord.invoker)
    await bot.start(until_logged=CAUGHT_UP)
    pages = digests(fake_discord)
    assert blocks([p["embeds"][0] for p in pages]) == blocks(expected)
    assert channel_posts(fake_discord, news) == [200] * (len(expected) - 5)


async def test_unfinished_posts_are_reconciled_and_a_restart_posts_nothing(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Intents without a message id: found in the channel, recorded; not found, posted once.

    Restarting after that posts nothing more.
    """
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=2))
    await set_due(bot, general, ago=timedelta(hours=2))

    async def claim_both(conn: aiosqlite.Connection) -> list[bool]:
        return [await schedules.claim_post(conn, c.id, week.start) for c in (news, general)]

    assert await with_db(bot.db, claim_both) == [True, True]
    # In #alliance-news the crash came after Discord created the message, before it was recorded.
    planted = plant_digest(fake_discord, week)
    await bot.start(until_logged=CAUGHT_UP)
    for channel in (news, general):
        [history] = fake_discord.find_requests("GET", f"/channels/{channel.id}/messages")
        assert history.query.get("limit")
    assert digests(fake_discord, NEWS) == [planted]
    assert channel_posts(fake_discord, news) == []
    [posted] = digests(fake_discord, "general")
    assert footers(posted) == [marker(week)]
    assert channel_posts(fake_discord, general) == [200]
    for channel, message in ((news, planted), (general, posted)):
        post = await ledger(bot, channel, week)
        assert post is not None
        assert (post.status, post.message_id) == ("posted", int(message["id"]))

    await bot.restart(until_logged=CAUGHT_UP)
    assert (digests(fake_discord, NEWS), digests(fake_discord, "general")) == ([planted], [posted])
    assert (channel_posts(fake_discord, news), channel_posts(fake_discord, general)) == ([], [200])
    assert bot.output.count(CAUGHT_UP) == 2


async def test_an_interrupted_post_older_than_the_grace_period_is_missed_not_posted(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A run claimed 30 h ago (grace 24 h), then the bot went down before its digest reached
    the channel: the start looks for it, posts nothing, and records the week as missed."""
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=30))
    claimed_at = datetime.now(UTC) - timedelta(hours=30)

    async def claim(conn: aiosqlite.Connection) -> bool:
        return await schedules.claim_post(conn, news.id, week.start, now=claimed_at)

    assert await with_db(bot.db, claim)
    await bot.start(until_logged=CAUGHT_UP)
    assert len(fake_discord.find_requests("GET", f"/channels/{news.id}/messages")) == 1
    assert channel_posts(fake_discord, news) == []
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("missed", None)
    text = await status(fake_discord)
    assert (
        f"The week of {_en(week.start)} was missed: the bot or Discord was down"
        " past its posting time." in text
    )


async def test_unfinished_posts_of_stopped_schedules_are_looked_for_never_posted(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Schedules stopped after a claim: a digest found in the channel is recorded as posted,
    even with 60 messages after it; one not found is recorded as stopped; nothing is posted."""
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=2))
    await set_due(bot, general, ago=timedelta(hours=2))

    async def claim_and_stop(conn: aiosqlite.Connection) -> None:
        for channel in (news, general):
            assert await schedules.claim_post(conn, channel.id, week.start)
            assert await schedules.stop_schedule(conn, fake_discord.guild.id, channel.id)

    await with_db(bot.db, claim_and_stop)
    planted = plant_digest(fake_discord, week)
    for n in range(60):  # a busy channel: more than one page of history since the digest
        fake_discord.add_message(NEWS, {"content": f"chat {n}"}, author=fake_discord.invoker)
    await bot.start(until_logged=CAUGHT_UP)
    for channel in (news, general):
        [history] = fake_discord.find_requests("GET", f"/channels/{channel.id}/messages")
        assert "after" in history.query  # read from the claim on, oldest first
    news_post, general_post = await ledger(bot, news, week), await ledger(bot, general, week)
    assert news_post is not None
    assert (news_post.status, news_post.message_id) == ("posted", int(planted["id"]))
    assert general_post is not None
    assert general_post.status == "failed"
    assert general_post.failure == schedules.PostFailure(schedules.FailureCode.SCHEDULE_STOPPED)
    assert (channel_posts(fake_discord, news), channel_posts(fake_discord, general)) == ([], [])


async def test_unfinished_post_of_an_empty_week_now_skipped_is_recorded_skipped(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A claim whose schedule was then set to skip empty weeks: not found in the channel and
    the week empty, nothing is posted and the week is recorded as skipped, so a restart looks
    no more."""
    news = fake_discord.guild.channel(NEWS)
    schedule, week = await set_due(bot, news, ago=timedelta(hours=2))

    async def claim_then_skip(conn: aiosqlite.Connection) -> None:
        assert await schedules.claim_post(conn, news.id, week.start)
        await schedules.set_schedule(
            conn,
            guild_id=schedule.guild_id,
            channel_id=news.id,
            weekday=schedule.weekday,
            at=schedule.at,
            when_empty="skip",
        )

    await with_db(bot.db, claim_then_skip)
    await bot.start(until_logged=CAUGHT_UP)  # the seeds are older: this week has no articles
    assert len(fake_discord.find_requests("GET", f"/channels/{news.id}/messages")) == 1
    assert channel_posts(fake_discord, news) == []
    skipped = await ledger(bot, news, week)
    assert skipped is not None
    assert (skipped.status, skipped.message_id) == ("skipped", None)

    await bot.restart(until_logged=CAUGHT_UP)
    assert len(fake_discord.find_requests("GET", f"/channels/{news.id}/messages")) == 1
    assert channel_posts(fake_discord, news) == []
    assert await ledger(bot, news, week) == skipped


async def test_a_channel_option_that_is_no_text_channel_is_refused_plainly(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A category sent as `set`'s channel (no picker offers it) gets a private reply saying to
    choose a text channel, in the admin's language, and no traceback in the log."""
    category = Channel("Category", type=4)
    fake_discord.guild.channels.append(category)
    run = await bot.start()
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    payload = fake_discord.command_payload(
        "alliance-digest set", options, permissions=ADMIN, locale="ja"
    )
    (channel,) = [o for o in payload["data"]["options"][0]["options"] if o["name"] == "channel"]
    channel["value"] = str(category.id)
    resolved = {**category.to_payload(fake_discord.guild.id), "permissions": "0"}
    payload["data"]["resolved"]["channels"] = {str(category.id): resolved}
    record = await fake_discord.wait_response(await fake_discord.send_interaction(payload))
    assert record.ephemeral
    assert reply(record) == (
        "このチャンネルは使えません。このサーバーのテキストチャンネルを選んでください。"
    )
    assert "Traceback" not in run.stderr
    assert await stored_schedule(bot, category) is None


async def test_set_again_keeps_the_options_left_out(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Changing only the time keeps the timezone, language and empty-week choice set before;
    a new schedule takes the defaults."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    first = {"channel": NEWS, "weekday": 1, "time": "09:00", "timezone": "America/New_York"}
    await command(
        fake_discord, "alliance-digest set", {**first, "language": "en", "when_empty": "skip"}
    )
    record = await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 2, "time": "10:00"}
    )
    assert "every Tuesday 10:00 America/New_York, in English (weeks without articles are" in (
        reply(record)
    )
    saved = await stored_schedule(bot, news)
    assert saved is not None
    assert (saved.weekday, saved.timezone, saved.language, saved.when_empty) == (
        2,
        "America/New_York",
        "en",
        "skip",
    )
    general = fake_discord.guild.channel("general")
    await command(
        fake_discord, "alliance-digest set", {"channel": "general", "weekday": 1, "time": "09:00"}
    )
    fresh = await stored_schedule(bot, general)
    assert fresh is not None
    assert (fresh.timezone, fresh.language, fresh.when_empty) == ("Asia/Tokyo", "ja", "post")


async def test_two_channels_keep_their_own_schedules(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Two channels keep their own day, time, timezone and language, in status and in posts."""
    await bot.start()
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": "general", "weekday": 1, "time": "09:00"}
    )
    options = {
        "channel": NEWS,
        "weekday": 5,
        "time": "18:30",
        "timezone": "America/New_York",
        "language": "en",
    }
    await command(fake_discord, "alliance-digest set", options)
    text = await status(fake_discord)
    note = "a short note in weeks without articles"
    assert f"#general\nMonday 09:00 Asia/Tokyo · Japanese · {note}\nNext:" in text
    assert f"#alliance-news\nFriday 18:30 America/New_York · English · {note}\nNext:" in text
    for channel in ("general", NEWS):
        await command(fake_discord, "alliance-digest post-now", {"channel": channel})
    [in_general], [in_news] = digests(fake_discord, "general"), digests(fake_discord, NEWS)
    assert in_general["embeds"][0]["title"].startswith("今週の日米同盟")
    assert in_news["embeds"][0]["title"].startswith("This week in the US–Japan alliance")
    assert (channel_posts(fake_discord, general), channel_posts(fake_discord, news)) == (
        [200],
        [200],
    )


async def test_status_shows_a_channel_name_with_markdown_as_written(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A channel named __alliance__ is listed as #__alliance__ (escaped), not underlined."""
    fake_discord.guild.channels.append(Channel("__alliance__"))
    await bot.start()
    await command(
        fake_discord,
        "alliance-digest set",
        {"channel": "__alliance__", "weekday": 1, "time": "09:00"},
    )
    assert "#\\_\\_alliance\\_\\_\nMonday 09:00" in await status(fake_discord)


# --- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status_code", [502, 429])
async def test_server_error_or_rate_limit_on_the_post_is_retried(
    fake_discord: FakeDiscord, bot: BotRuns, status_code: int
) -> None:
    """A 502 or a 429 on the channel post is retried by discord.py; the digest is posted once."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=status_code)
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(record).startswith("Posted the digest")
    assert channel_posts(fake_discord, news) == [status_code, 200]
    assert len(digests(fake_discord)) == 1


async def test_server_error_that_discord_py_does_not_retry_is_recorded_then_retried(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A 503 is recorded as the week's failure (after checking history), shown to admins, and
    the bot's own retry posts the week once; it does not count toward pausing."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    news, answer = await post_now_refused_with_503(fake_discord, "POST")
    assert answer == (
        f"Could not post in <#{news.id}>: Discord was temporarily unavailable (HTTP 503). "
        "The bot tries again shortly."
    )
    assert fake_discord.find_requests("GET", f"/channels/{news.id}/messages")
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "failed"
    assert "Last error: Discord was temporarily unavailable (HTTP 503)" in await status(
        fake_discord
    )
    assert "直近のエラー: Discord が一時的に応答できませんでした（HTTP 503）" in await status(
        fake_discord, locale="ja"
    )
    schedule = await stored_schedule(bot, news)
    assert schedule is not None
    assert schedule.consecutive_failures == 0
    message = await fake_discord.wait_message(NEWS, lambda m: bool(digests(fake_discord)))
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    assert channel_posts(fake_discord, news) == [503, 200]
    await assert_posted_as(bot, news, week, message)
    again = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert reply(again).startswith("The digest of the week of")
    assert len(digests(fake_discord)) == 1


async def post_now_stopped_after_page_one(
    double: FakeDiscord, bot: BotRuns, *, scheduled: bool = True, **options: str
) -> tuple[Channel, Week, str]:
    """#alliance-news scheduled (unless not `scheduled`), 120 articles in the latest week (a
    digest of several pages), then `post-now` (with `options`) with Discord answering 503 to
    its second page. Returns the channel, the week and the reply."""
    news = double.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    await add_articles_in(bot, week, 120)
    if scheduled:
        when = {"channel": NEWS, "weekday": 1, "time": "09:00"}
        await command(double, "alliance-digest set", when)
    double.fail("POST", f"/channels/{news.id}/messages", status=503, after=1)
    post_now = {"channel": NEWS, **options}
    return news, week, reply(await command(double, "alliance-digest post-now", post_now))


def blocks(embeds: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Embeds as their titles and fields: what two renderings of a digest must agree on."""
    fields = [[(f["name"], f["value"]) for f in e.get("fields", [])] for e in embeds]
    return [(e.get("title", ""), f) for e, f in zip(embeds, fields, strict=True)]


async def assert_finished_as_claimed(
    double: FakeDiscord, bot: BotRuns, news: Channel, week: Week, lang: Lang
) -> None:
    """The week's pages are in the channel once each, in order, as the claim rendered them in
    `lang` (a 503 after the first), and the ledger records the first."""
    post = await ledger(bot, news, week)
    assert post is not None
    claimed = post.created_at
    assert claimed is not None
    digest = await with_db(bot.db, lambda conn: build_digest(conn, week, added_by=claimed))
    expected = [e.to_dict() for e in digest_embeds(digest, lang)]
    pages = digests(double)
    assert len(expected) > 1
    assert blocks([p["embeds"][0] for p in pages]) == blocks(expected)
    assert channel_posts(double, news) == [200, 503] + [200] * (len(pages) - 1)
    assert (post.status, post.message_id) == ("posted", int(pages[0]["id"]))


async def test_a_partly_posted_week_meeting_a_lost_permission_is_finished_not_reposted(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Page 1 posted, page 2 refused with a 503, then Send Messages taken away: `post-now`
    fails but the week stays claimed; once the permission is back, `post-now` posts only the
    pages that are missing, and articles imported meanwhile do not shift them."""
    await bot.start()
    news, week, first = await post_now_stopped_after_page_one(fake_discord, bot)
    assert first.startswith("An error stopped the digest")
    deny = Overwrite(fake_discord.bot_user.id, type=1, deny=SEND_MESSAGES)
    news.permission_overwrites.append(deny)
    await fake_discord.update_channel(news)
    refused = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert refused == f"Could not post in <#{news.id}>: the bot is missing Send Messages."
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("intent", None)
    await asyncio.sleep(1.1)  # storage times have whole seconds: past the claim's second
    await add_articles_in(bot, week, 30, first=500)  # imported after the claim
    news.permission_overwrites.remove(deny)
    await fake_discord.update_channel(news)
    done = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert done.startswith("Posted the digest")
    await assert_finished_as_claimed(fake_discord, bot, news, week, "ja")
    now = await with_db(bot.db, lambda conn: build_digest(conn, week))
    pages = [p["embeds"][0] for p in digests(fake_discord)]
    assert blocks([e.to_dict() for e in digest_embeds(now, "ja")]) != blocks(pages)


async def test_a_page_a_crashed_retry_posted_is_found_however_busy_the_channel(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Page 1 posted, page 2 refused (503), 60 members' messages, then the retry posts page 2
    and the bot dies before hearing so: the next start finds page 2 and posts only the rest."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    news, week, answer = await post_now_stopped_after_page_one(fake_discord, bot)
    assert answer.startswith("An error stopped the digest")
    for n in range(60):
        fake_discord.add_message(NEWS, {"content": f"chat {n}"}, author=fake_discord.invoker)

    async def crash(message: JSON) -> None:
        fake_discord.on_message_created = None
        await run.kill()

    fake_discord.on_message_created = crash
    await run.wait(timeout=30)
    await bot.stop()
    assert len(digests(fake_discord)) == 2
    await bot.start(until_logged=CAUGHT_UP)
    await assert_finished_as_claimed(fake_discord, bot, news, week, "ja")


async def maybe_posted_then_denied(
    double: FakeDiscord, bot: BotRuns, denied: int
) -> tuple[Channel, Week, JSON, Overwrite]:
    """The latest week in #alliance-news refused with a 503 though Discord made the digest (it
    shows up after the look that followed), then the bot denied `denied` there. Returns the
    channel, the week, the digest and the overwrite that denies."""
    news = double.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    await refused_with_503(bot, news, week, at=datetime.now(UTC) - timedelta(minutes=5))
    planted = plant_digest(double, week)
    deny = Overwrite(double.bot_user.id, type=1, deny=denied)
    news.permission_overwrites.append(deny)
    return news, week, planted, deny


async def test_a_maybe_posted_week_is_looked_for_though_the_bot_cannot_post(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A week Discord made despite a 503, then Send Messages taken away: `post-now` still
    looks in the channel, finds the digest and records it, so nothing is posted twice once
    the permission is back."""
    news, week, planted, deny = await maybe_posted_then_denied(fake_discord, bot, SEND_MESSAGES)
    await bot.start(until_logged=CAUGHT_UP)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert (
        answer == f"The digest of the week of {_en(week.start)} was already posted in <#{news.id}>."
    )
    await assert_posted_as(bot, news, week, planted)
    news.permission_overwrites.remove(deny)
    await fake_discord.update_channel(news)
    await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    assert digests(fake_discord) == [planted]
    assert channel_posts(fake_discord, news) == []


async def test_a_maybe_posted_week_whose_channel_cannot_be_read_stays_claimed(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """As above, but Read Message History taken away too: `post-now` can't look, so the week
    stays claimed, not claimed anew; once the permissions are back it is found and recorded,
    never posted again."""
    denied = SEND_MESSAGES | READ_MESSAGE_HISTORY
    news, week, planted, deny = await maybe_posted_then_denied(fake_discord, bot, denied)
    await bot.start(until_logged=CAUGHT_UP)
    refused = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert refused.startswith(f"Could not post in <#{news.id}>")
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("intent", None)
    news.permission_overwrites.remove(deny)
    await fake_discord.update_channel(news)
    done = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert (
        done == f"The digest of the week of {_en(week.start)} was already posted in <#{news.id}>."
    )
    await assert_posted_as(bot, news, week, planted)
    assert digests(fake_discord) == [planted]
    assert channel_posts(fake_discord, news) == []


async def test_a_connection_lost_on_the_post_is_told_and_retried(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """The connection drops on `post-now`'s post, with no answer: the admin is told Discord
    could not be reached and that the bot tries again, the status shows it, and the retry
    posts the week once."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    news = fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 1, "time": "09:00"}
    )
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=DROP)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert answer == (
        f"Could not post in <#{news.id}>: the bot could not reach Discord. "
        "The bot tries again shortly."
    )
    assert "Last error: the bot could not reach Discord" in await status(fake_discord)
    message = await fake_discord.wait_message(NEWS, lambda m: bool(digests(fake_discord)))
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    await assert_posted_as(bot, news, week, message)
    assert channel_posts(fake_discord, news) == [DROP, 200]


async def test_the_rest_of_a_post_keeps_its_language_when_the_schedule_changes(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Page 1 of a Japanese schedule's digest posted, page 2 refused with a 503, then the
    schedule set to English: the pages still missing are posted in Japanese, as it began."""
    await bot.start()
    news, week, first = await post_now_stopped_after_page_one(fake_discord, bot)
    assert first.startswith("An error stopped the digest")
    english = {"channel": NEWS, "weekday": 1, "time": "09:00", "language": "en"}
    await command(fake_discord, "alliance-digest set", english)
    stored = await stored_schedule(bot, news)
    assert stored is not None
    assert stored.language == "en"
    done = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert done.startswith("Posted the digest")
    await assert_finished_as_claimed(fake_discord, bot, news, week, "ja")


async def test_a_post_now_without_schedule_stopped_partway_is_finished_after_a_restart(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`post-now language:ja` where no schedule runs, stopped by a 503 after its first page,
    then a restart before its retry: the restarted bot posts the missing pages once each, in
    Japanese, instead of recording the week as posted with only its first page."""
    await bot.start()
    news, week, first = await post_now_stopped_after_page_one(
        fake_discord, bot, scheduled=False, language="ja"
    )
    assert first.startswith("An error stopped the digest")
    run = await bot.restart(until_logged=CAUGHT_UP)
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    await assert_finished_as_claimed(fake_discord, bot, news, week, "ja")
    assert await stored_schedule(bot, news) is None


async def test_a_post_paused_partway_keeps_its_claim_and_setting_again_posts_the_rest(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Page 1 posted, page 2 refused with a 503, then the schedule paused and the bot restarted:
    the week stays claimed (not recorded as posted with one page) and nothing is posted; setting
    the schedule again posts the missing pages once each."""
    await bot.start()
    news, week, first = await post_now_stopped_after_page_one(fake_discord, bot)
    assert first.startswith("An error stopped the digest")

    await bot.stop()
    await with_db(bot.db, pause_schedules)
    run = await bot.start(until_logged=CAUGHT_UP)
    await run.wait_logged("the rest waits until it is set again")
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("intent", None)
    assert channel_posts(fake_discord, news) == [200, 503]
    when = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    answer = reply(await command(fake_discord, "alliance-digest set", when))
    assert f"Posted the digest of the week of {_en(week.start)}" in answer
    await assert_finished_as_claimed(fake_discord, bot, news, week, "ja")


async def test_a_paused_schedules_claim_it_cannot_look_for_leaves_why_it_paused(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Page 1 posted, page 2 refused with a 503, the schedule paused by refused posts, then a
    restart without Read Message History: the week stays claimed with that error, and the
    schedule keeps the reason it paused, shown by `status`, and its count of failures."""
    await bot.start()
    news, week, _ = await post_now_stopped_after_page_one(fake_discord, bot)
    await bot.stop()
    why = PostFailure(FailureCode.MISSING_ACCESS).encode()

    async def paused_by_refusals(conn: aiosqlite.Connection) -> None:
        query = "UPDATE digest_schedules SET paused = 1, consecutive_failures = 3, last_error = ?"
        await conn.execute(query, (why,))
        await conn.commit()

    await with_db(bot.db, paused_by_refusals)
    deny = Overwrite(fake_discord.bot_user.id, type=1, deny=READ_MESSAGE_HISTORY)
    news.permission_overwrites.append(deny)
    await bot.start(until_logged=CAUGHT_UP)
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.failure is not None
    assert (post.status, post.failure.code) == ("intent", FailureCode.MISSING_PERMISSIONS)
    schedule = await stored_schedule(bot, news)
    assert schedule is not None
    assert (schedule.paused, schedule.consecutive_failures, schedule.last_error) == (True, 3, why)
    shown = await status(fake_discord)
    assert "Last error: the bot has no access to the channel; check its View Channels" in shown
    assert channel_posts(fake_discord, news) == [200, 503]


async def test_stop_where_only_a_post_now_waits_says_it_cancelled_that(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`post-now` refused with a 503 in a channel with no schedule, then `stop`: the reply says
    the waiting post-now was cancelled, not that a schedule was stopped; then nothing is left."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert answer.endswith("The bot tries again shortly.")
    stop = {"channel": NEWS}
    stopped = reply(await command(fake_discord, "alliance-digest stop", stop, locale="ja"))
    assert stopped == (
        f"<#{news.id}> には定期投稿の設定はありません。"
        "再試行を待っていた `/同盟ダイジェスト設定 今すぐ投稿` を取り消しました。"
    )
    again = reply(await command(fake_discord, "alliance-digest stop", stop))
    assert again == f"There is no digest schedule for <#{news.id}>."


async def test_a_post_now_without_schedule_refused_is_retried_after_a_restart(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """`post-now language:ja` where no schedule runs, refused with a 503, then a restart before
    its retry: the restarted bot posts the week once, in Japanese; another restart posts
    nothing."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    options = {"channel": NEWS, "language": "ja"}
    answer = reply(await command(fake_discord, "alliance-digest post-now", options))
    assert answer.endswith("The bot tries again shortly.")
    run = await bot.restart(until_logged=CAUGHT_UP)
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    [message] = digests(fake_discord)
    assert message["embeds"][0]["title"].startswith("今週の日米同盟")
    assert channel_posts(fake_discord, news) == [503, 200]
    await bot.restart(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == [503, 200]


async def test_post_now_in_a_channel_without_schedule_is_retried_with_its_settings(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A 503 on a `post-now` where no schedule runs: the retry posts the week once, in the
    language of that post-now."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    news = fake_discord.guild.channel(NEWS)
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert answer.endswith("The bot tries again shortly.")
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    [message] = digests(fake_discord)
    assert message["embeds"][0]["title"].startswith("This week in the US–Japan alliance")
    assert channel_posts(fake_discord, news) == [503, 200]
    assert await stored_schedule(bot, news) is None


async def test_unverifiable_post_is_settled_by_a_retry(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A 503 on the post and on the history check: the intent stays, and a retry shortly after
    checks the channel again, finds nothing and posts the week once."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    news, answer = await post_now_refused_with_503(fake_discord, "POST", "GET")
    assert answer == (
        f"Whether the digest of the week of {_en(week.start)} reached <#{news.id}> is not "
        "confirmed yet; the bot checks the channel again shortly."
    )
    post = await ledger(bot, news, week)
    assert post is not None
    assert post.status == "intent"
    assert (
        "Last error: an error left it unclear whether the digest was posted; "
        "the bot checks the channel again"
    ) in await status(fake_discord)
    assert "直近のエラー: エラーのため投稿できたか確認できませんでした。" in await status(
        fake_discord, locale="ja"
    )
    message = await fake_discord.wait_message(NEWS, lambda m: bool(digests(fake_discord)))
    assert footers(message) == [marker(week)]
    assert channel_posts(fake_discord, news) == [503, 200]
    history = fake_discord.find_requests("GET", f"/channels/{news.id}/messages")
    assert [r.status for r in history] == [503, 200]
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    await assert_posted_as(bot, news, week, message)
    assert "Last post: week of" in await status(fake_discord)


async def test_retry_records_a_post_discord_made_despite_the_error(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A run due on start gets a 503 on the post and on the history check; the retry finds the
    digest Discord created after all and records it, posting nothing; a restart posts nothing."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=1))
    for method in ("POST", "GET"):
        fake_discord.fail(method, f"/channels/{news.id}/messages", status=503)
    run = await bot.start(until_logged=CAUGHT_UP)
    await run.wait_logged(f"digest of {week.start} for channel {news.id}: trying again at")
    planted = plant_digest(fake_discord, week)
    await run.wait_logged(f"digest of {week.start} in channel {news.id} was already posted")
    await assert_posted_as(bot, news, week, planted)
    assert channel_posts(fake_discord, news) == [503]
    await bot.restart(until_logged=CAUGHT_UP)
    assert channel_posts(fake_discord, news) == [503]
    assert digests(fake_discord) == [planted]


async def test_a_retry_looks_in_the_channel_for_a_post_discord_made_late(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A run due on start gets a 503 on its post, and the look right after finds nothing, so
    the week is recorded as failed; Discord made the digest after all, later: the retry finds
    it and records it, posting nothing; a restart posts nothing."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": "3"}  # time to read the ledger before the retry
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=1))
    fake_discord.fail("POST", f"/channels/{news.id}/messages", status=503)
    run = await bot.start(until_logged=CAUGHT_UP)
    await run.wait_logged(f"digest of {week.start} for channel {news.id}: trying again at")
    failed = await ledger(bot, news, week)
    assert failed is not None
    assert failed.status == "failed"
    planted = plant_digest(fake_discord, week)
    await run.wait_logged(f"digest of {week.start} in channel {news.id} was already posted")
    await assert_posted_as(bot, news, week, planted)
    assert channel_posts(fake_discord, news) == [503]
    await bot.restart(until_logged=CAUGHT_UP)
    assert digests(fake_discord) == [planted]


async def test_a_retry_that_cannot_look_in_the_channel_never_posts_anew(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """As above, but Discord made the digest late and then refused the retry's look (503): the
    week is claimed again as unconfirmed, not posted; the next retry looks, finds the digest
    and records it."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    news = fake_discord.guild.channel(NEWS)
    _, week = await set_due(bot, news, ago=timedelta(hours=1))
    messages = f"/channels/{news.id}/messages"
    fake_discord.fail("POST", messages, status=503)
    fake_discord.fail("GET", messages, status=503, after=1)  # the retry's look, not the first
    run = await bot.start(until_logged=CAUGHT_UP)
    await run.wait_logged(f"digest of {week.start} for channel {news.id}: trying again at")
    planted = plant_digest(fake_discord, week)
    await run.wait_logged(f"digest for channel {news.id} not confirmed", 30)
    await run.wait_logged(f"digest of {week.start} in channel {news.id} was already posted", 30)
    await assert_posted_as(bot, news, week, planted)
    assert channel_posts(fake_discord, news) == [503]


async def test_post_now_on_a_paused_schedule_whose_look_fails_is_retried_as_asked(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A paused schedule's week that failed with a 503; an admin's `post-now`, whose look in
    the channel Discord refuses: the week is claimed as the admin's, unconfirmed, and its retry
    looks, finds nothing and posts it once (a paused schedule's own retry would post nothing)."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    news = fake_discord.guild.channel(NEWS)
    await set_due(bot, news, ago=timedelta(hours=1))
    week = schedules.latest_complete_week(datetime.now(UTC), TOKYO)
    at = datetime.now(UTC) - timedelta(minutes=5)
    await refused_with_503(bot, news, week, at=at)
    refused = schedules.PostFailure(schedules.FailureCode.MISSING_ACCESS)

    async def paused(conn: aiosqlite.Connection) -> None:
        for _ in range(schedules.MAX_FAILURES):
            await schedules.record_failure(conn, news.id, refused, now=at)

    await with_db(bot.db, paused)
    run = await bot.start(until_logged=CAUGHT_UP)
    fake_discord.fail("GET", f"/channels/{news.id}/messages", status=503)
    answer = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert answer.endswith(
        "is not confirmed yet; the bot checks the channel again shortly.\n"
        + STILL_PAUSED.format(news.id)
    )
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}", 30)
    [message] = digests(fake_discord)
    assert footers(message) == [marker(week)]
    await assert_posted_as(bot, news, week, message)
    assert channel_posts(fake_discord, news) == [200]


async def add_articles_in(bot: BotRuns, week: Week, count: int, *, first: int = 1) -> None:
    """`count` distinct articles published in `week` (sentences of the seed corpus, shuffled),
    so that its digest takes several messages."""
    listing = (SEEDS / "000_ec138bacc4a23740.txt").read_text("utf-8")
    sentences = sorted({s.strip() + "。" for s in listing.split("。") if len(s.strip()) > 20})
    rng = random.Random(first)
    drafts = [
        ArticleDraft(
            f"週の記事 {i}: {rng.choice(sentences)[:40]}",
            "".join(rng.sample(sentences, 4)),
            week.start + timedelta(days=i % 7),
            False,
            "digest-pages.jsonl",
            f"digest-pages.jsonl:{i}",
        )
        for i in range(first, first + count)
    ]
    await with_db(bot.db, lambda conn: articles.ingest(conn, drafts))


async def test_a_digest_stopped_after_its_first_page_is_finished_by_a_retry(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """A 503 on the second of several pages: the admin is told the rest follows, the week stays
    claimed, and the retry posts the remaining pages once each, then records the first."""
    bot.env = {"ALLIANCE_DIGEST_RETRY_S": str(RETRY_S)}
    run = await bot.start()
    news, week, answer = await post_now_stopped_after_page_one(fake_discord, bot)
    assert answer == (
        f"An error stopped the digest of the week of {_en(week.start)} after its first pages in "
        f"<#{news.id}>; the bot posts the rest shortly."
    )
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("intent", None)
    assert "the bot posts the rest shortly" in await status(fake_discord)
    await run.wait_logged(f"posted the digest of {week.start} in channel {news.id}")
    pages = digests(fake_discord)
    digest = await with_db(bot.db, lambda conn: build_digest(conn, week))
    assert len(pages) == len(digest_embeds(digest, "ja")) > 1
    assert [footers(p)[0].endswith(marker(week)) for p in pages] == [True] * len(pages)
    bodies = [p["embeds"][0]["fields"] for p in pages]
    assert all(bodies[i] != bodies[j] for i in range(len(pages)) for j in range(i))
    assert channel_posts(fake_discord, news) == [200, 503] + [200] * (len(pages) - 1)
    post = await ledger(bot, news, week)
    assert post is not None
    assert (post.status, post.message_id) == ("posted", int(pages[0]["id"]))


async def test_three_failures_in_a_row_pause_the_schedule(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """Three refused posts (403 50013) pause the schedule, shown in status and told once to the
    admin who set it, in their language, until `set` again."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    await command(fake_discord, "alliance-digest set", options, locale="ja")
    # Discord refuses; the bot's cache (no CHANNEL_UPDATE sent) still says it may post.
    news.permission_overwrites.append(
        Overwrite(fake_discord.bot_user.id, type=1, deny=SEND_MESSAGES)
    )
    answers = [
        reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
        for _ in range(3)
    ]
    assert all(a.startswith(f"Could not post in <#{news.id}>: Discord refused") for a in answers)
    assert ["paused" in a for a in answers] == [False, False, True]
    assert answers[2].endswith(
        f"\nAfter 3 failures in a row, the weekly digest in <#{news.id}> is paused: fix the cause, "
        "then run `/alliance-digest set` to resume it."
    )
    assert channel_posts(fake_discord, news) == [403, 403, 403]
    (told,) = fake_discord.direct_messages(fake_discord.invoker)
    assert told["content"] == (
        f"{fake_discord.guild.name} の <#{news.id}> の週刊ダイジェストは、3回続けて投稿できなかった"
        f"ため停止しました。直近のエラー: {REFUSED_JA}\n"
        "原因を直してから `/同盟ダイジェスト設定 設定` を実行すると再開します。"
    )
    news.permission_overwrites.clear()  # fixed: an admin's post-now posts, the pause stays
    done = reply(await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}))
    assert done.startswith("Posted the digest")
    assert done.endswith("\n" + STILL_PAUSED.format(news.id))
    assert len(fake_discord.direct_messages(fake_discord.invoker)) == 1  # told once
    text = await status(fake_discord)
    assert "Paused after 3 failures in a row" in text
    assert f"Last error: {REFUSED_EN}" in text
    assert "Next:" not in text
    schedule = await stored_schedule(bot, news)
    assert schedule is not None
    assert schedule.paused
    await command(fake_discord, "alliance-digest set", options)
    resumed = await status(fake_discord)
    assert "Paused" not in resumed
    assert "Next:" in resumed


async def test_a_pause_told_to_an_admin_with_closed_dms_is_only_logged(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """An admin who accepts no direct messages: the schedule still pauses, the bot says why in
    its log, and nothing is sent."""
    run = await bot.start()
    news = fake_discord.guild.channel(NEWS)
    await command(
        fake_discord, "alliance-digest set", {"channel": NEWS, "weekday": 1, "time": "09:00"}
    )
    fake_discord.closed_dms.add(fake_discord.invoker.id)
    news.permission_overwrites.append(
        Overwrite(fake_discord.bot_user.id, type=1, deny=SEND_MESSAGES)
    )
    for _ in range(3):
        await command(fake_discord, "alliance-digest post-now", {"channel": NEWS})
    await run.wait_logged(f"could not tell user {fake_discord.invoker.id} of the pause")
    assert "Cannot send messages to this user" in run.stderr
    assert fake_discord.direct_messages(fake_discord.invoker) == []
    assert "Paused after 3 failures in a row" in await status(fake_discord)


@pytest.mark.parametrize(
    ("refusal", "japanese", "english"),
    [
        ("send", REFUSED_JA, REFUSED_EN),
        (
            "view",
            "ボットがチャンネルにアクセスできません。「チャンネルを見る」の権限を確認してください",
            "the bot has no access to the channel; check its View Channels permission",
        ),
        (
            "400",
            "Discord がエラーを返しました（HTTP 400）。Discord のメッセージ: 400: Server Error",
            "Discord answered with an error (HTTP 400): 400: Server Error",
        ),
        (
            "400 Bad request.",  # Discord's own full stop is not doubled by the reply's
            "Discord がエラーを返しました（HTTP 400）。Discord のメッセージ: Bad request",
            "Discord answered with an error (HTTP 400): Bad request",
        ),
    ],
)
async def test_failure_reason_is_shown_in_each_admins_language(
    fake_discord: FakeDiscord, bot: BotRuns, refusal: str, japanese: str, english: str
) -> None:
    """A refused post (403 50013, 403 50001, 400) is explained in each admin's own language."""
    await bot.start()
    news = fake_discord.guild.channel(NEWS)
    options = {"channel": NEWS, "weekday": 1, "time": "09:00"}
    await command(fake_discord, "alliance-digest set", options)
    # Discord refuses; the bot's cache (no CHANNEL_UPDATE sent) still says it may post.
    if refusal.startswith("400"):
        message = refusal.removeprefix("400").strip()
        fake_discord.fail("POST", f"/channels/{news.id}/messages", status=400, message=message)
    else:
        denied = SEND_MESSAGES if refusal == "send" else VIEW_CHANNEL
        news.permission_overwrites.append(Overwrite(fake_discord.bot_user.id, type=1, deny=denied))
    record = await command(fake_discord, "alliance-digest post-now", {"channel": NEWS}, locale="ja")
    assert reply(record) == f"<#{news.id}> に投稿できませんでした: {japanese}。"
    assert channel_posts(fake_discord, news)[0] in (400, 403)
    in_japanese = await status(fake_discord, locale="ja")
    assert f"\n直近のエラー: {japanese}" in in_japanese
    assert "Last error" not in in_japanese
    in_english = await status(fake_discord, locale="en-US")
    assert f"\nLast error: {english}" in in_english
    assert "直近のエラー" not in in_english
    schedule = await stored_schedule(bot, news)
    assert schedule is not None
    assert schedule.last_failure is not None  # stored as a code, not as either language


async def test_error_stored_by_an_older_version_is_shown_as_it_was(
    fake_discord: FakeDiscord, bot: BotRuns
) -> None:
    """An older version's English last error is shown as it was: on one line, clipped."""
    general, news = fake_discord.guild.channel("general"), fake_discord.guild.channel(NEWS)
    await set_due(bot, general, ago=timedelta(days=2))
    await set_due(bot, news, ago=timedelta(days=2))
    short = "403 Forbidden (error code: 50013): Missing Permissions"
    long = "400 Bad Request (error code: 50035): Invalid Form Body\nIn embeds.0.description: " + (
        "Must be 4096 or fewer in length. " * 20
    )

    async def write_old_rows(conn: aiosqlite.Connection) -> None:
        query = "UPDATE digest_schedules SET last_error = ? WHERE channel_id = ?"
        await conn.execute(query, (short, general.id))
        await conn.execute(query, (long, news.id))

    await with_db(bot.db, write_old_rows)
    await bot.start()
    for locale, label in (("ja", "直近のエラー"), ("en-US", "Last error")):
        text = await status(fake_discord, locale=locale)
        assert f"\n{label}: {short}" in text
        [line] = [x for x in text.split("\n") if x.startswith(f"{label}: 400 Bad Request")]
        assert line.startswith(
            f"{label}: 400 Bad Request (error code: 50035): Invalid Form Body In"
        )
        assert line.endswith("…")
        assert len(line) == len(f"{label}: ") + 300
