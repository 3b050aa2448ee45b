"""News feeds: fetched on their intervals by `FeedService`; `/alliance-feeds` for admins.

The service gets a database connection of its own: its ingest transactions then never hold the
connection that members' searches use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite
import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot import pages, render
from bot.core import db as database
from bot.core.feeds.config import FeedConfigError
from bot.core.feeds.reasons import Param, Reason
from bot.core.feeds.service import FeedService, FeedStatus
from bot.core.feeds.store import FeedState
from bot.i18n import Lang, lang_of, t
from bot.tree import in_a_server

if TYPE_CHECKING:
    from bot.bot import AllianceBot

log = logging.getLogger(__name__)

URL_MAX = 500


def _when(moment: datetime | None, lang: Lang) -> str:
    return discord.utils.format_dt(moment, "R") if moment else t("feeds.never", lang)


def reason_text(reason: Reason, params: Mapping[str, Param], lang: Lang) -> str:
    """Why a feed was refused or failed, in `lang`."""
    return t(f"feeds.reason.{reason.value}", lang, **params).strip()


def error_text(state: FeedState, lang: Lang) -> str:
    """A feed's last error in `lang`; its English text when it has no usable reason code."""
    if state.error_reason is not None:
        try:
            return reason_text(state.error_reason, state.error_params, lang)
        except (KeyError, IndexError):
            # Stored by another version whose parameters don't fit this template.
            log.warning("feed %s: cannot show error %s in %s", state.url, state.error_reason, lang)
    return state.last_error or ""


def _explained(error: FeedConfigError, lang: Lang) -> str:
    """Why a feed change or the feeds file was refused. Its parameters quote what an admin
    typed (a URL, a name) or the file (a path, the TOML parser's words): shown as typed, not as
    Markdown, and each cut short; the reason's own formatting is kept."""
    params = {
        name: render.plain_clip(value, 300) if isinstance(value, str) else value
        for name, value in error.params.items()
    }
    return reason_text(error.reason, params, lang)


def _refused(error: FeedConfigError, lang: Lang) -> str:
    return t("feeds.invalid", lang, error=_explained(error, lang))


def feed_field(status: FeedStatus, lang: Lang) -> tuple[str, str]:
    """A followed feed as an embed field: its name, and its settings and fetch status."""
    config, state = status.config, status.state
    flag = "⚠️ " if status.flagged else ""
    kind = t("feeds.kind_general" if config.kind == "general" else "feeds.kind_alliance", lang)
    lines = [
        # Written by an admin: a URL with a mention or Markdown in it (…?q=<@&1>) is shown as is.
        render.plain_clip(config.url, 300),
        t(
            "feeds.settings",
            lang,
            kind=kind,
            interval=config.interval,
            origin=t(f"feeds.origin.{status.origin}", lang),
        ),
        t(
            "feeds.activity",
            lang,
            fetched=_when(state.last_fetch_at if state else None, lang),
            new=_when(state.last_new_at if state else None, lang),
            count=state.articles if state else 0,
        ),
    ]
    if status.flagged and state is not None and state.failing_since is not None:
        lines.append(t("feeds.flagged", lang, since=_when(state.failing_since, lang)))
    if state is not None and state.last_error:
        # The feed's server wrote part of it (a reason phrase, a redirect's address): its
        # Markdown would be a link or a mention chip in the admins' list.
        lines.append(t("feeds.error", lang, error=render.quote(error_text(state, lang), 300)))
    return render.plain_clip(flag + config.display_name, 256), render.clip("\n".join(lines), 1024)


class FeedsCog(commands.Cog):
    """Runs the feed service; `/alliance-feeds add|remove|list` for admins."""

    group = app_commands.Group(
        name="alliance-feeds",
        description=_("Manage the news feeds the bot follows (admins)"),
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: AllianceBot) -> None:
        self.bot = bot
        self.db: aiosqlite.Connection
        self.service: FeedService

    def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Every command here is for a server's admins, checked before their permissions."""
        return in_a_server(interaction)

    async def cog_load(self) -> None:
        """Open the service's connection and start following the feeds."""
        settings = self.bot.settings
        self.db = await database.connect(settings.db)
        self.service = FeedService.for_database(self.db, settings.db, settings.tz)
        if not self.bot.serving:
            return
        try:
            await self.service.start()
        except FeedConfigError as exc:
            # A broken feeds.toml must not keep members from searching: say so and go on.
            log.error(
                "feeds.toml can't be read: following only the %d feeds added by command until "
                "it can: %s",
                len(self.service.followed()),
                exc,
            )

    async def cog_unload(self) -> None:
        """Stop fetching and close the connection."""
        await self.service.stop()
        await self.db.close()

    @group.command(name="add", description=_("Follow a news feed (RSS or Atom)"))
    @app_commands.describe(
        url=_("The feed's address (https://…)"),
        name=_("A name to show (default: the site)"),
        interval=_("Minutes between fetches (5–1440, default 30)"),
        general=_("A general news feed: keep only articles about the alliance"),
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def add_command(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, URL_MAX],
        name: app_commands.Range[str, 1, 100] | None = None,
        interval: app_commands.Range[int, 5, 1440] = 30,
        general: bool = False,
    ) -> None:
        """Follow a feed from now on; its first fetch happens within seconds."""
        kind = "general" if general else "alliance"
        added = self._add(url, name, interval, kind, lang_of(interaction.locale))
        await pages.answer(
            interaction, added, defer_after=self.bot.settings.defer_after_s, private=True
        )

    async def _add(
        self, url: str, name: str | None, interval: int, kind: str, lang: Lang
    ) -> pages.Page:
        if not self.bot.settings.feeds_by_command:
            return pages.note(t("feeds.operator_only", lang))
        # Waits for any ingest in progress (the service's write lock): may take many seconds.
        try:
            feed = await self.service.add_feed(
                url,
                name=name,
                interval=interval,
                kind=kind,
                allow_private=False,  # a Discord admin is not the operator: public feeds only
            )
        except FeedConfigError as exc:
            message = _refused(exc, lang)
        else:
            name = render.plain(feed.display_name)
            message = t("feeds.added", lang, name=name, interval=feed.interval)
        return pages.note(message)

    @group.command(name="remove", description=_("Stop following a news feed"))
    @app_commands.describe(url=_("The feed's address"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove_command(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 1, URL_MAX]
    ) -> None:
        """Stop following a feed added here (feeds from feeds.toml are edited there)."""
        removed = self._remove(url, lang_of(interaction.locale))
        await pages.answer(
            interaction, removed, defer_after=self.bot.settings.defer_after_s, private=True
        )

    async def _remove(self, url: str, lang: Lang) -> pages.Page:
        if not self.bot.settings.feeds_by_command:
            return pages.note(t("feeds.operator_only", lang))
        # Waits for any ingest in progress (the service's write lock): may take many seconds.
        try:
            removed = await self.service.remove_feed(url)
        except FeedConfigError as exc:
            message = _refused(exc, lang)
        else:
            key = "feeds.removed" if removed else "feeds.not_followed"
            message = t(key, lang, url=render.plain(url.strip()))  # as it was looked up
        return pages.note(message)

    @remove_command.autocomplete("url")
    async def _followed_urls(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # discord.py runs no command checks for autocomplete: the feeds are shown only to whom
        # the command itself would answer.
        if not interaction.permissions.manage_guild or not self.bot.settings.feeds_by_command:
            return []
        wanted = str(current).lower()
        return [
            app_commands.Choice(name=render.clip(f.config.url, 100), value=f.config.url)
            for f in self.service.followed()
            if f.origin == "runtime" and wanted in f.config.url.lower() and len(f.config.url) <= 100
        ][:25]

    @group.command(name="list", description=_("The followed feeds and how each is doing"))
    @app_commands.checks.has_permissions(manage_guild=True)
    async def list_command(self, interaction: discord.Interaction) -> None:
        """Each feed's last fetch, last new article and last error; failing feeds flagged."""
        lang = lang_of(interaction.locale)

        async def listed() -> list[discord.Embed]:
            # Reads feeds.toml again first: the list is as the file says now, or, when it can't
            # be read, as `load` leaves it, under a note saying why (`file_error`).
            statuses = await self.service.list_feeds()
            return feed_list_embeds(
                statuses,
                lang,
                file_error=self.service.file_error,
                file_read=self.service.file_read,
                reread_minutes=round(self.service.reload_every.total_seconds() / 60),
                by_command=self.bot.settings.feeds_by_command,
            )

        await pages.answer_embeds(
            interaction, listed(), defer_after=self.bot.settings.defer_after_s
        )


def feed_list_embeds(
    statuses: list[FeedStatus],
    lang: Lang,
    *,
    file_error: FeedConfigError | None,
    file_read: bool,
    reread_minutes: int,
    by_command: bool,
) -> list[discord.Embed]:
    """Every followed feed, packed into as many embeds as needed (one message each), under a
    note if feeds.toml can't be read now (`file_error`): not since the start (not `file_read`,
    so only the feeds added by command are followed; it is read again every `reread_minutes`),
    or since a good read; with no feed, who adds them (admins `by_command`, or the operator)."""
    flagged = sum(1 for s in statuses if s.flagged)
    footer = t("feeds.footer", lang, count=len(statuses), flagged=flagged)
    fields = [feed_field(status, lang) for status in statuses]
    note = ""
    if file_error is not None and not file_read:
        error = _explained(file_error, lang)
        note = t("feeds.file_unread", lang, minutes=reread_minutes, error=error)
    elif file_error is not None:
        note = t("feeds.file_unreadable_now", lang, error=_explained(file_error, lang))
    empty = t("feeds.none" if by_command else "feeds.none_operator", lang)
    return render.field_embeds(
        t("feeds.title", lang), fields, empty=empty, footer=footer, note=note
    )


async def setup(bot: AllianceBot) -> None:
    """Load the extension."""
    await bot.add_cog(FeedsCog(bot))
