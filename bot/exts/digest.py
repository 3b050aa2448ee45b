"""`/alliance-digest`: the weekly digest's admin commands, over `bot.digest_poster`, which posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot import pages, render
from bot.core import schedules
from bot.core.digest import Digest, Week, format_date
from bot.core.post_rules import unfinished
from bot.core.schedules import PostSettings, Schedule, ScheduleError
from bot.digest_poster import (
    RETRIED,
    DigestPoster,
    Outcome,
    failure_text,
    missing_permissions,
)
from bot.i18n import COMMAND_JA, Lang, lang_of, permission_names, t
from bot.tree import NO_MENTIONS, in_a_server

if TYPE_CHECKING:
    from bot.bot import AllianceBot

WEEKDAY_CHOICES = [
    app_commands.Choice(name=_(name), value=number)
    for number, name in enumerate(schedules.WEEKDAY_NAMES, start=1)
]
LANGUAGE_CHOICES = [
    app_commands.Choice(name=_("Japanese"), value="ja"),
    app_commands.Choice(name=_("English"), value="en"),
]
WHEN_EMPTY_CHOICES = [
    app_commands.Choice(name=_("Post a short note"), value="post"),
    app_commands.Choice(name=_("Skip the week"), value="skip"),
]


class DigestCog(commands.Cog):
    """`/alliance-digest` for admins; `DigestPoster` schedules, posts and reconciles."""

    group = app_commands.Group(
        name="alliance-digest",
        description=_("Set up the weekly digest (admins)"),
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: AllianceBot) -> None:
        self.bot = bot
        self.poster: DigestPoster

    def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Every command here is for a server's admins, checked before their permissions."""
        return in_a_server(interaction)

    async def cog_load(self) -> None:
        """Start the poster: its connection, every schedule's plan, the catch-up once connected."""
        self.poster = DigestPoster(self.bot)
        await self.poster.start()

    async def cog_unload(self) -> None:
        """Close the poster: posts under way finish (a few seconds at most), then its connection."""
        await self.poster.close()

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel's schedule is stopped: it could never post again, and no admin
        could pick the channel to stop it."""
        await self.poster.forget(channel.guild.id, channel.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """A server the bot was removed from (or that was deleted) has its digests stopped: each
        run would fail, and no admin there could stop them."""
        await self.poster.forget_guild(guild.id, [c.id for c in guild.channels])

    # --- admin commands -----------------------------------------------------------------------

    @group.command(name="set", description=_("Post the weekly digest in a channel"))
    @app_commands.describe(
        channel=_("Where to post"),
        weekday=_("Day of the week"),
        time=_("Time of day, HH:MM (24-hour)"),
        timezone=_("IANA timezone, e.g. Asia/Tokyo (default: as set before, or Asia/Tokyo)"),
        language=_("Language of the digest (default: as set before, or Japanese)"),
        when_empty=_("What to do in a week without articles (default: as set before, or post)"),
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @app_commands.choices(language=LANGUAGE_CHOICES, when_empty=WHEN_EMPTY_CHOICES)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def set_command(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        weekday: int,
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64] | None = None,
        language: str | None = None,
        when_empty: str | None = None,
    ) -> None:
        """Create or change a channel's schedule after checking the bot can post there."""
        assert interaction.guild is not None  # guild_only
        saved = self._set(
            interaction.guild,
            channel,
            weekday=weekday,
            at=time,
            timezone=timezone,
            language=language,
            when_empty=when_empty,
            lang=lang_of(interaction.locale),
            admin=interaction.user.id,
        )
        await pages.answer(
            interaction, saved, defer_after=self.bot.settings.defer_after_s, private=True
        )

    async def _set(
        self,
        guild: discord.Guild,
        channel: discord.TextChannel,
        *,
        weekday: int,
        at: str,
        timezone: str | None,
        language: str | None,
        when_empty: str | None,
        lang: Lang,
        admin: int,
    ) -> pages.Page:
        """Save a schedule; an option left out keeps its value (changing only the time must not
        turn an English digest Japanese), or takes the default on a new schedule."""
        missing = missing_permissions(channel, guild.me)
        if missing:
            perms = permission_names(missing, lang)
            return pages.note(t("digest.missing", lang, channel=channel.mention, perms=perms))
        old = await schedules.get_schedule(self.poster.db, channel.id)
        if old is not None:
            # A timezone this version refuses (localtime, kept from before) is not kept.
            timezone = timezone or (old.timezone if schedules.is_timezone(old.timezone) else None)
            language = language or old.language
            when_empty = when_empty or old.when_empty
        # One moment for the saved time, the plan and what is owed, taken before the save may
        # wait: set just before its run time, the schedule runs then, also if a restart comes
        # first. In whole seconds, as saved.
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            # Waits for the write lock while another connection (a feed ingest) holds it.
            schedule = await schedules.set_schedule(
                self.poster.db,
                guild_id=guild.id,
                channel_id=channel.id,
                weekday=weekday,
                at=at,
                timezone=timezone or self.bot.settings.timezone,
                language=language or schedules.DEFAULT_LANGUAGE,
                when_empty=when_empty or schedules.DEFAULT_WHEN_EMPTY,
                set_by=admin,
                set_by_language=lang,
                now=now,
            )
        except ScheduleError as exc:
            return pages.note(t("digest.invalid", lang, error=_schedule_error(exc, lang)))
        self.poster.plan(schedule, now)
        message = t(
            "digest.saved",
            lang,
            channel=channel.mention,
            when=_when(schedule, lang),
            language=t(f"language.{schedule.language}", lang),
            empty=t(f"empty.{schedule.when_empty}", lang),
            next=discord.utils.format_dt(schedules.next_run(schedule, now), "F"),
        )
        # Changed to times already past this week, a schedule still owes the weeks its old
        # times had yet to post: posted now, not skipped.
        lines = [message]
        for week in schedules.owed_weeks(old, schedule, now, self.poster.grace):
            post = await schedules.get_post(self.poster.db, channel.id, week.start)
            if post is not None and post.status != "failed" and not unfinished(post):
                continue  # posted, missed or skipped
            # An unfinished post is settled as on a start: looked for, and what is missing
            # posted (one in flight holds the channel's lock until it is done).
            outcome = await self.poster.attempt(channel.id, week.start, now + self.poster.grace)
            lines.append(await self._outcome_text(outcome, channel, week, lang))
        return pages.note("\n".join(lines))

    @set_command.autocomplete("timezone")
    async def _timezones(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = schedules.timezone_choices(str(current)[:64])
        return [app_commands.Choice(name=n, value=n) for n in names]

    @group.command(name="stop", description=_("Stop the weekly digest in a channel"))
    @app_commands.describe(channel=_("The channel"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def stop_command(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        """Delete a channel's schedule (what was posted stays recorded)."""
        assert interaction.guild is not None
        stopped = self._stop(interaction.guild.id, channel, lang_of(interaction.locale))
        await pages.answer(
            interaction, stopped, defer_after=self.bot.settings.defer_after_s, private=True
        )

    async def _stop(self, guild_id: int, channel: discord.TextChannel, lang: Lang) -> pages.Page:
        # Waits for the write lock while another connection (a feed ingest) holds it.
        stopped = await schedules.stop_schedule(self.poster.db, guild_id, channel.id)
        if stopped:
            self.poster.unplan(channel.id)
        key = {"schedule": "digest.stopped", "post-now": "digest.stopped_post_now"}.get(
            stopped or "", "digest.no_schedule"
        )
        return pages.note(t(key, lang, channel=channel.mention))

    @group.command(name="status", description=_("Every digest schedule of this server"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status_command(self, interaction: discord.Interaction) -> None:
        """Each schedule with its next run, last post and last error."""
        lang = lang_of(interaction.locale)
        assert interaction.guild is not None
        guild_id = interaction.guild.id

        async def status() -> list[discord.Embed]:
            # The poster's connection may be waiting for the write lock for a scheduled post.
            rows = await schedules.schedule_status(self.poster.db, guild_id)
            fields = [
                (
                    # Named by an admin: an underscore would be Markdown in a field's name.
                    "#"
                    + render.plain(self._channel_name(row.schedule.channel_id), line_start=False),
                    _status_text(row, lang),
                )
                for row in rows
            ]
            return render.field_embeds(
                t("digest.status_title", lang), fields, empty=t("digest.status_empty", lang)
            )

        await pages.answer_embeds(
            interaction, status(), defer_after=self.bot.settings.defer_after_s
        )

    def _channel_name(self, channel_id: int) -> str:
        channel = self.bot.get_channel(channel_id)
        return getattr(channel, "name", None) or str(channel_id)

    @group.command(name="post-now", description=_("Post the latest week's digest now"))
    @app_commands.describe(
        channel=_("The channel"),
        language=_("Language of the digest, where no schedule sets it (default: yours)"),
    )
    @app_commands.choices(language=LANGUAGE_CHOICES)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def post_now_command(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        language: str | None = None,
    ) -> None:
        """Post the latest complete week's digest now (once: a posted week is not repeated;
        one missed while the bot was down is posted now, and so is one its schedule skipped
        for having no articles, if it has some now).

        A channel's schedule decides the digest's language; without one, `language` does.
        """
        lang = lang_of(interaction.locale)
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored = await schedules.get_schedule(self.poster.db, channel.id)
        try:
            chosen = schedules.parse_language(language) if language else lang
        except schedules.ScheduleError:
            chosen = lang  # not one of the choices: only a forged interaction sends that
        if stored is not None and not stored.paused:
            settings = stored.settings
        else:
            # Where no schedule runs, retries (also after a restart) post with these settings.
            own = PostSettings(channel.id, chosen, self.bot.settings.timezone)
            settings = replace(stored.settings if stored else own, one_off=True)
        week = schedules.latest_complete_week(datetime.now(UTC), settings.tz)
        outcome = await self.poster.settle(settings, week, asked=True)
        if outcome in RETRIED:
            self.poster.plan_retry(channel.id, week.start, datetime.now(UTC) + self.poster.grace, 1)
        message = await self._outcome_text(outcome, channel, week, lang)
        after = await schedules.get_schedule(self.poster.db, channel.id)
        if after is not None and after.paused:
            # The pause would otherwise show only in `status`, and in a message to whoever
            # last set the schedule, who may be another admin.
            was_paused = stored is not None and stored.paused
            key = "digest.still_paused" if was_paused else "digest.paused_now"
            message += "\n" + t(key, lang, channel=channel.mention)
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _outcome_text(
        self, outcome: Outcome | None, channel: discord.TextChannel, week: Week, lang: Lang
    ) -> str:
        """What came of posting a week's digest, for the admin who asked, in their language
        (`outcome` None: it failed on the bot's side and is tried again)."""
        post = await schedules.get_post(self.poster.db, channel.id, week.start)
        error = failure_text(post.error if post else None, lang)
        key = f"digest.{outcome or 'retrying'}"
        return t(
            key, lang, channel=channel.mention, week=format_date(week.start, lang), error=error
        )

    @group.command(name="preview", description=_("Preview the next digest (only you see it)"))
    @app_commands.describe(channel=_("Whose schedule to preview (default: this server's first)"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def preview_command(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Show privately what the next scheduled post will contain."""
        assert interaction.guild is not None
        preview = self._preview(interaction.guild.id, channel, lang_of(interaction.locale))
        defer_after = self.bot.settings.defer_after_s
        await pages.answer(interaction, preview, defer_after=defer_after, private=True)

    async def _preview(
        self, guild_id: int, channel: discord.TextChannel | None, lang: Lang
    ) -> pages.Page:
        # The poster's connection may be waiting for the write lock for a scheduled post.
        schedule = None
        if channel is not None:
            schedule = await schedules.get_schedule(self.poster.db, channel.id)
        else:
            found = await schedules.list_schedules(self.poster.db, guild_id)
            schedule = found[0] if found else None
        now = datetime.now(UTC)
        digest: Digest | None = None
        if schedule is None:
            week = schedules.latest_complete_week(now, self.bot.settings.timezone)  # post-now's
            digest_lang: Lang = lang
            start = format_date(week.start, lang)
            if channel is not None:
                said = t("digest.preview_no_schedule", lang, channel=channel.mention, week=start)
            else:
                said = t("digest.preview_no_schedules", lang, week=start)
        else:
            # Paused, no run comes: what a `post-now` would post, with the schedule's settings.
            run_at = None if schedule.paused else schedules.next_run(schedule, now)
            if run_at is None:
                week = schedules.latest_complete_week(now, schedule.tz)
            else:
                week = schedules.week_for_run(run_at, schedule.tz, weekday=schedule.weekday)
            digest_lang = schedule.language
            post = await schedules.get_post(self.poster.db, schedule.channel_id, week.start)
            async with self.bot.readers.reading() as conn:
                digest = await schedules.channel_digest(conn, schedule.channel_id, week)
            state = ""
            if post and post.status == "posted":
                state = "_posted"  # e.g. a run one day after a `post-now` of that week
            elif schedule.when_empty == "skip" and digest.is_empty:
                state = "_skip"  # a `post-now` too leaves that week to the schedule's runs
            ref = f"<#{schedule.channel_id}>"
            if run_at is None:
                said = t(
                    f"digest.preview_paused{state}",
                    lang,
                    channel=ref,
                    week=format_date(week.start, lang),
                )
            else:
                when = discord.utils.format_dt(run_at, "F")
                said = t(f"digest.preview{state or '_next'}", lang, channel=ref, when=when)
        channel_id = schedule.channel_id if schedule is not None else None
        wanted = pages.DigestPage(week, digest_lang, 0, channel_id)
        return await pages.digest_page(self.bot, wanted, digest=digest, content=said)


def _when(schedule: Schedule, lang: Lang) -> str:
    """When a schedule posts, in the admin's language: "毎週月曜日 09:00（Asia/Tokyo）"."""
    day = schedules.WEEKDAY_NAMES[schedule.weekday - 1]
    if lang == "ja":
        day = COMMAND_JA[day]  # the weekday choices' own translations
    return t("schedule.when", lang, day=day, time=f"{schedule.at:%H:%M}", zone=schedule.timezone)


def _settings(schedule: Schedule, lang: Lang) -> str:
    """All of a schedule's settings, e.g. "Monday 09:00 Asia/Tokyo · Japanese · …"."""
    language = t(f"language.{schedule.language}", lang)
    return f"{_when(schedule, lang)} · {language} · {t(f'empty.{schedule.when_empty}', lang)}"


def _schedule_error(error: ScheduleError, lang: Lang) -> str:
    """What was wrong with an admin's schedule, in their language, quoting what they gave."""
    given = render.plain(render.clip(error.value, 40))
    return t(f"schedule.bad_{error.field}", lang, value=given)


def _status_text(row: schedules.ScheduleStatus, lang: Lang) -> str:
    schedule = row.schedule
    lines = [_settings(schedule, lang)]
    if schedule.paused:
        lines.append(t("digest.paused", lang))
    elif row.next_run is not None:
        lines.append(t("digest.next", lang, when=discord.utils.format_dt(row.next_run, "F")))
    if row.last_post is not None and row.last_post.posted_at is not None:
        when = discord.utils.format_dt(row.last_post.posted_at, "R")
        lines.append(
            t("digest.last_post", lang, week=format_date(row.last_post.week_start, lang), when=when)
        )
    # Shown whatever came after them (a week skipped as empty, a failed post).
    if row.last_missed is not None and row.missed > 1:
        missed = format_date(row.last_missed, lang)
        lines.append(t("digest.missed_more", lang, week=missed, count=row.missed - 1))
    elif row.last_missed is not None:
        lines.append(t("digest.missed", lang, week=format_date(row.last_missed, lang)))
    record = row.last_record
    if record is not None and record.status == "skipped":
        lines.append(t("digest.skipped_week", lang, week=format_date(record.week_start, lang)))
    posted = row.last_post.posted_at if row.last_post is not None else None
    failed = schedule.last_error_at
    # An error a post has succeeded since is no longer the schedule's problem.
    if schedule.last_error and (schedule.paused or not (posted and failed and posted >= failed)):
        error = failure_text(schedule.last_error, lang)
        if failed is None:
            lines.append(t("digest.last_error", lang, error=error))
        else:
            when = discord.utils.format_dt(failed, "R")
            lines.append(t("digest.last_error_at", lang, error=error, when=when))
    return "\n".join(lines)


async def setup(bot: AllianceBot) -> None:
    """Load the extension."""
    await bot.add_cog(DigestCog(bot))
