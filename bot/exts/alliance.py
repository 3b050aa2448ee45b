"""`/alliance`: search, latest, topics, article, digest preview and help for members."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot import pages, render
from bot.core import articles
from bot.core.digest import WeekProblem, parse_week_of
from bot.core.search import suggest
from bot.core.search.engine import Sort
from bot.core.search.query import MAX_QUERY_CHARS
from bot.core.topics import load_taxonomy, topic_counts
from bot.i18n import Lang, lang_of, t
from bot.pages import Listing, Page
from bot.tree import reply_privately

if TYPE_CHECKING:
    from bot.bot import AllianceBot

log = logging.getLogger(__name__)

MAX_CHOICES = 25
CHOICE_MAX = 100

TOPIC_CHOICES = [
    app_commands.Choice(name=_(topic.label_en), value=topic.slug)
    for topic in load_taxonomy().topics
]
SORT_CHOICES = [
    app_commands.Choice(name=_("Most relevant first"), value="relevance"),
    app_commands.Choice(name=_("Newest first"), value="newest"),
]


class Alliance(
    commands.GroupCog,
    group_name=_("alliance"),
    group_description=_("News about the US–Japan alliance"),
):
    """The member commands."""

    def __init__(self, bot: AllianceBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name=_("search"), description=_("Search articles in Japanese or English"))
    @app_commands.describe(
        query=_("Words to look for, e.g. 台湾, PAC3, Koizumi"),
        topic=_("Only articles of this topic"),
        sort=_("Order of the results (default: most relevant first)"),
    )
    @app_commands.rename(query=_("query"), topic=_("topic"), sort=_("sort"))
    @app_commands.choices(topic=TOPIC_CHOICES, sort=SORT_CHOICES)
    async def search_command(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, MAX_QUERY_CHARS],
        topic: str | None = None,
        sort: str | None = None,
    ) -> None:
        """/alliance search: a page of results with paging and a menu to open one."""
        # Choices are enforced by Discord; anything else a hand-made request carries is ignored.
        order: Sort = "newest" if sort == "newest" else "relevance"
        listing = Listing(lang_of(interaction.locale), self._topic(topic), query, order)
        await self._answer(interaction, pages.listing_page(self.bot, listing, 0))

    @search_command.autocomplete("query")
    async def _query_suggestions(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        async with self.bot.readers.reading() as conn:
            words = await suggest(conn, str(current)[:MAX_QUERY_CHARS], limit=MAX_CHOICES)
        return [
            app_commands.Choice(name=word, value=word)
            for word in words
            if 0 < len(word) <= CHOICE_MAX
        ]

    @app_commands.command(name=_("latest"), description=_("Show the newest articles"))
    @app_commands.describe(
        count=_("How many articles (1–10)"), topic=_("Only articles of this topic")
    )
    @app_commands.rename(count=_("count"), topic=_("topic"))
    @app_commands.choices(topic=TOPIC_CHOICES)
    async def latest_command(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, pages.MAX_LIST_SIZE] = pages.PAGE_SIZE,
        topic: str | None = None,
    ) -> None:
        """/alliance latest: the newest articles (of one topic), `count` a page, with paging and
        a menu to open one."""
        # Discord enforces 1–10, but a hand-made request can carry any number (SQLite reads a
        # negative LIMIT as "no limit").
        size = min(max(count, 1), pages.MAX_LIST_SIZE)
        listing = Listing(lang_of(interaction.locale), self._topic(topic), size=size)
        await self._answer(interaction, pages.listing_page(self.bot, listing, 0))

    @app_commands.command(name=_("topics"), description=_("List topics with their article counts"))
    async def topics_command(self, interaction: discord.Interaction) -> None:
        """/alliance topics: every topic with its count, and a menu to browse one."""
        await self._answer(interaction, self._topics(lang_of(interaction.locale)))

    async def _topics(self, lang: Lang) -> Page:
        async with self.bot.readers.reading() as conn:
            counted = await topic_counts(conn)
        counts = [(t.slug, t.label(lang), n) for t, n in counted]
        options = [
            discord.SelectOption(
                label=render.clip(label, 100),
                value=slug,
                description=t("topics.count", lang, count=n),
            )
            for slug, label, n in counts[:25]
        ]
        view = discord.ui.View(timeout=None)
        view.add_item(pages.TopicSelect(lang, options))
        return Page(embeds=[render.topic_overview(counts, lang)], view=view)

    @app_commands.command(name=_("article"), description=_("Show one article in full"))
    @app_commands.describe(id=_("The article (type to search)"))
    @app_commands.rename(id=_("id"))
    async def article_command(
        self, interaction: discord.Interaction, id: app_commands.Range[int, 1, 2**53]
    ) -> None:
        """/alliance article: one article in full, split across embeds when long."""
        await pages.send_article(
            self.bot, interaction, id, lang_of(interaction.locale), private=False
        )

    @article_command.autocomplete("id")
    async def _article_suggestions(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        # Discord sends what was typed, as text even for a number option; take any value as text.
        text = str(current).strip().lstrip("#").lstrip()
        by_id = text.isdecimal() and len(text) < 16  # isdigit() also accepts ², which int() refuses
        if text and not by_id:
            result = await self.bot.results.search(text[:MAX_QUERY_CHARS], limit=MAX_CHOICES)
            items = [hit.article for hit in result.hits]
        else:
            async with self.bot.readers.reading() as conn:
                if by_id:
                    found = await articles.get_article(conn, int(text))
                    items = [found] if found else []
                else:
                    items = await articles.latest(conn, limit=MAX_CHOICES)
        return [
            app_commands.Choice(name=render.clip(render.select_label(a), CHOICE_MAX), value=a.id)
            for a in items
        ]

    @app_commands.command(
        name=_("digest"), description=_("Preview this week's digest (only you see it)")
    )
    @app_commands.describe(week_of=_("Any date in the week, YYYY-MM-DD (default: this week)"))
    @app_commands.rename(week_of=_("week_of"))
    async def digest_command(
        self,
        interaction: discord.Interaction,
        week_of: app_commands.Range[str, 1, 30] | None = None,
    ) -> None:
        """/alliance digest: a private preview of this week's (or that week's) digest."""
        lang = lang_of(interaction.locale)
        week = parse_week_of(week_of, self.bot.settings.timezone)
        if week is WeekProblem.NOT_A_DATE:
            typed = render.quote(week_of or "", 30)
            await reply_privately(interaction, t("digest.bad_week", lang, value=typed))
            return
        if week is WeekProblem.PAST_THE_CALENDAR:
            await reply_privately(interaction, t("digest.week_past_calendar", lang))
            return
        await self._answer(
            interaction, pages.digest_page(self.bot, pages.DigestPage(week, lang, 0)), private=True
        )

    @app_commands.command(name=_("help"), description=_("How to use this bot"))
    async def help_command(self, interaction: discord.Interaction) -> None:
        """/alliance help: what each command does, with examples (only the member sees it)."""
        await self._answer(interaction, self._help(lang_of(interaction.locale)), private=True)

    async def _help(self, lang: Lang) -> Page:
        async with self.bot.readers.reading() as conn:
            total = await articles.count_articles(conn)
        return Page(embeds=[render.help_embed(lang, total)], private=True)

    async def _answer(
        self, interaction: discord.Interaction, page: Awaitable[Page], *, private: bool = False
    ) -> None:
        defer_after = self.bot.settings.defer_after_s
        await pages.answer(interaction, page, defer_after=defer_after, private=private)

    def _topic(self, name: str | None) -> str | None:
        # Choices are enforced by Discord, but a hand-made request can carry anything: a topic
        # it names as the CLI's --topic may (`Taiwan`, a label) is read, anything else ignored.
        topic = None if name is None else self.bot.taxonomy.find(name)
        return None if topic is None else topic.slug


async def setup(bot: AllianceBot) -> None:
    """Load the extension."""
    await bot.add_cog(Alliance(bot))
