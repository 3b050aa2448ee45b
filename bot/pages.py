"""Pages of results and the stateless buttons and menus that move between them.

Every button and menu keeps its state in its custom_id (`DynamicItem`), so a message keeps
working after the bot restarts. A search too long for a custom_id (at most 100 characters) is
saved in the database and the button carries its key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

import discord

from bot import render
from bot.core import articles, saved_queries, schedules
from bot.core.dates import iso_day
from bot.core.digest import Digest, Week, build_digest
from bot.core.models import Article
from bot.core.saved_queries import SavedQuery
from bot.core.search.cache import KeptForGeneration
from bot.core.search.engine import MAX_OFFSET, Sort
from bot.i18n import Lang, lang_of, t
from bot.tree import NO_MENTIONS, reply_privately, report_failure

if TYPE_CHECKING:
    from bot.bot import AllianceBot

log = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_LIST_SIZE = 10  # the most articles a page of the newest may list (/alliance latest count)
PAGE_MAX_AGE_S = 3600.0  # how long a rendered page is shown again (see PageCache)
CUSTOM_ID_MAX = 100


@dataclass(slots=True)
class Page:
    """What one reply shows: embeds or a short text, the controls, and who may see it."""

    embeds: list[discord.Embed] = field(default_factory=list)
    content: str | None = None
    view: discord.ui.View | None = None
    private: bool = False

    async def send(self, interaction: discord.Interaction) -> None:
        """Answer the interaction with this page (or follow up if it was deferred)."""
        kwargs: dict[str, Any] = {"embeds": self.embeds, "allowed_mentions": NO_MENTIONS}
        if self.content is not None:
            kwargs["content"] = self.content
        if self.view is not None:
            kwargs["view"] = self.view
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=self.private, **kwargs)
        else:
            await interaction.response.send_message(ephemeral=self.private, **kwargs)

    async def replace(self, interaction: discord.Interaction) -> None:
        """Show this page in place of the message whose button was pressed; a private page is
        sent to the member alone instead, leaving the message as everyone sees it."""
        if self.private:
            await self.send(interaction)
            return
        kwargs: dict[str, Any] = {
            "content": self.content,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": NO_MENTIONS,
        }
        if interaction.response.is_done():
            await interaction.edit_original_response(**kwargs)
        else:
            await interaction.response.edit_message(**kwargs)


async def _made_private(page: Awaitable[Page]) -> Page:
    shown = await page
    shown.private = True
    return shown


async def answer(
    interaction: discord.Interaction,
    page: Awaitable[Page],
    *,
    defer_after: float,
    replace: bool = False,
    private: bool = False,
) -> None:
    """Send a page (with `replace`, show it in place of the pressed button's message),
    deferring first if it takes `defer_after` seconds or more to prepare.

    Discord drops an interaction not acknowledged within 3 s; a defer acknowledges it and the
    page follows when it is ready. At 0 every answer is deferred. With `private` the page is
    shown only to the member, and so is the defer's placeholder. A private page (a refusal, no
    results) never replaces a message: it would take a shared message from everyone.
    """
    task = asyncio.ensure_future(_made_private(page) if private else page)
    if defer_after > 0:
        await asyncio.wait({task}, timeout=defer_after)
    if task.done():
        result = task.result()
        await (result.replace(interaction) if replace else result.send(interaction))
        return
    try:
        # A message edited in place needs no "thinking…" placeholder.
        await interaction.response.defer(ephemeral=private, thinking=not replace)
    except BaseException:
        task.cancel()
        raise
    if replace:
        await (await task).replace(interaction)
        return
    # The first followup fills the "thinking…" placeholder, which shows as it was deferred: a
    # private page, or the private error note if this fails, must remove a public one first.
    public_placeholder = not private
    try:
        result = await task
        if result.private and public_placeholder:
            await interaction.delete_original_response()
            public_placeholder = False
        await result.send(interaction)
    except Exception:
        if public_placeholder:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        raise


def note(message: str) -> Page:
    """A short private answer (an admin's confirmation or refusal), within Discord's limit."""
    return Page(content=render.clip(message, render.CONTENT_MAX), private=True)


async def answer_pages(
    interaction: discord.Interaction,
    pages: Awaitable[Sequence[Page]],
    *,
    defer_after: float,
    private: bool = False,
) -> None:
    """Send pages one per message, deferring first (as `answer` does) if they take
    `defer_after` seconds or more to prepare. `pages` must yield at least one. `private`
    makes the defer and the first page private; the others are as they say."""
    rest: list[Page] = []

    async def first_page() -> Page:
        first, *others = await pages
        rest.extend(others)
        return first

    await answer(interaction, first_page(), defer_after=defer_after, private=private)
    for page in rest:
        await page.send(interaction)


async def answer_embeds(
    interaction: discord.Interaction,
    embeds: Awaitable[Sequence[discord.Embed]],
    *,
    defer_after: float,
) -> None:
    """Send embeds privately, one per message, deferring first (as `answer` does) if they
    take `defer_after` seconds or more to prepare. `embeds` must yield at least one."""

    async def made() -> list[Page]:
        return [Page(embeds=[embed], private=True) for embed in await embeds]

    await answer_pages(interaction, made(), defer_after=defer_after, private=True)


# --- custom ids -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listing:
    """A list of articles a reader pages through, `size` a page: a search, or the newest (of a
    topic)."""

    lang: Lang
    topic: str | None = None
    query: str | None = None  # None: the newest articles
    sort: Sort = "relevance"
    size: int = PAGE_SIZE  # 1 to MAX_LIST_SIZE; a search's is always PAGE_SIZE


def max_page(size: int) -> int:
    """The last page (from 0) a listing of `size` a page may show."""
    # A search skips at most MAX_OFFSET matches, and a custom_id holds four digits of page.
    return min(MAX_OFFSET // size, 9999)


_SORT_CODE: dict[Sort, str] = {"relevance": "r", "newest": "n"}
_PAGER = re.compile(
    r"al:p:(?P<lang>ja|en):(?P<page>\d{1,4}):(?P<topic>[a-z0-9-]{0,40}):(?P<sort>[rn]):"
    r"(?P<payload>.*)",
    re.DOTALL,
)
# The newest articles: `l`, then the page size when it is not PAGE_SIZE (so that the ids made
# before sizes were carried still read as they meant).
_NEWEST = re.compile(rf"l(?P<size>[1-9]|{MAX_LIST_SIZE})?")


async def pager_ids(bot: AllianceBot, listing: Listing, *pages: int) -> list[str]:
    """The custom_ids of buttons that open each of `pages` of `listing`.

    A query too long for the ids is saved once for all of them.
    """
    sort = _SORT_CODE[listing.sort]
    heads = [f"al:p:{listing.lang}:{page}:{listing.topic or ''}:{sort}:" for page in pages]
    if listing.query is None:
        size = "" if listing.size == PAGE_SIZE else str(listing.size)
        return [f"{head}l{size}" for head in heads]
    literals = [f"{head}={listing.query}" for head in heads]
    if all(_fits_custom_id(literal) for literal in literals):
        return literals
    key = await saved_queries.save(bot.db, SavedQuery(listing.query, listing.topic, listing.sort))
    return [f"{head}#{key}" for head in heads]


def _fits_custom_id(text: str) -> bool:
    # Count UTF-16 units, as JavaScript does: an emoji is then two, never too few for Discord.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2 <= CUSTOM_ID_MAX


async def parse_pager(bot: AllianceBot, match: re.Match[str]) -> tuple[Listing, int] | None:
    """The listing and page a pager custom_id names; None if it no longer resolves."""
    lang: Lang = "ja" if match["lang"] == "ja" else "en"
    topic = match["topic"] or None
    if topic is not None and bot.taxonomy.get(topic) is None:
        return None
    sort: Sort = "newest" if match["sort"] == "n" else "relevance"
    payload = match["payload"]
    newest = _NEWEST.fullmatch(payload)
    if newest is not None:
        size = int(newest["size"] or PAGE_SIZE)
        return Listing(lang, topic, size=size), min(int(match["page"]), max_page(size))
    page = min(int(match["page"]), max_page(PAGE_SIZE))
    if payload.startswith("="):
        return Listing(lang, topic, payload[1:], sort), page
    if payload.startswith("#"):
        async with bot.readers.reading() as conn:
            saved = await saved_queries.load(conn, payload[1:])
        if saved is None:
            return None
        return Listing(lang, saved.topic, saved.query, saved.sort), page
    return None


class _TurnButton:
    """What both Previous / Next buttons share: a secondary button rebuilt from its custom_id,
    whose press shows the page it names (`_turn_page`) or tells the member what failed."""

    failure: ClassVar[str]  # what the log calls a failed press

    def __init__(self, custom_id: str, *, label: str, disabled: bool = False) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label,
            custom_id=custom_id,
            style=discord.ButtonStyle.secondary,
            disabled=disabled,
        )
        # The next class in the MRO is DynamicItem, which takes the button it wraps.
        super().__init__(button)  # type: ignore[call-arg]

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom_id."""
        label = getattr(item, "label", None) or ""
        return cls(item.custom_id or "", label=label)  # type: ignore[attr-defined]

    async def callback(self, interaction: discord.Interaction) -> None:
        """Replace the message with the page this button names."""
        try:
            await self._turn_page(interaction)
        except Exception:
            await report_failure(interaction, self.failure)

    async def _turn_page(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class PagerButton(_TurnButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=_PAGER):
    """Previous / Next: opens another page of a search or topic listing."""

    failure = "paging"

    async def _turn_page(self, interaction: discord.Interaction) -> None:
        bot: AllianceBot = interaction.client  # type: ignore[assignment]
        match = _PAGER.fullmatch(self.item.custom_id or "")
        parsed = await parse_pager(bot, match) if match else None
        if parsed is None:
            await reply_privately(interaction, t("page.expired", lang_of(interaction.locale)))
            return
        listing, page = parsed
        shown = listing_page(bot, listing, page, reader=lang_of(interaction.locale))
        await answer(interaction, shown, defer_after=bot.settings.defer_after_s, replace=True)


_DIGEST_PAGER = re.compile(
    r"al:dg:(?P<lang>ja|en):(?P<week>\d{4}-\d{2}-\d{2}):(?P<page>\d{1,4}):"
    r"(?P<tz>[A-Za-z0-9_+/-]{1,64})(?::(?P<channel>\d{1,20}))?"
)


@dataclass(frozen=True, slots=True)
class DigestPage:
    """What a digest pager custom_id names: a page of a week's digest in a language, as the
    channel's post carries it, or (`channel_id` None) the week's alone."""

    week: Week
    lang: Lang
    page: int
    channel_id: int | None = None

    @property
    def custom_id(self) -> str:
        """The custom_id of a button that opens this page (at most 100 characters: IANA zone
        names are at most 32)."""
        found = f"al:dg:{self.lang}:{self.week.start.isoformat()}:{self.page}:{self.week.timezone}"
        return found if self.channel_id is None else f"{found}:{self.channel_id}"


def parse_digest_pager(match: re.Match[str]) -> DigestPage | None:
    """The page a digest pager custom_id names; None if it names no week."""
    start = iso_day(match["week"])
    if start is None:
        return None
    try:
        week = Week(start, match["tz"])
    except ValueError:  # not a Monday, past the calendar, or no such timezone
        return None
    lang: Lang = "ja" if match["lang"] == "ja" else "en"
    channel = int(match["channel"]) if match["channel"] else None
    return DigestPage(week, lang, int(match["page"]), channel)


class DigestPagerButton(
    _TurnButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=_DIGEST_PAGER
):
    """Previous / Next: opens another page of a previewed digest."""

    failure = "paging a digest"

    async def _turn_page(self, interaction: discord.Interaction) -> None:
        bot: AllianceBot = interaction.client  # type: ignore[assignment]
        match = _DIGEST_PAGER.fullmatch(self.item.custom_id or "")
        wanted = parse_digest_pager(match) if match else None
        if wanted is not None and wanted.channel_id is not None:
            # A hand-made id may name any channel: only one of the member's server is read.
            guild = getattr(bot.get_channel(wanted.channel_id), "guild", None)
            if guild is None or guild.id != interaction.guild_id:
                wanted = None
        if wanted is None:
            await reply_privately(interaction, t("page.expired", lang_of(interaction.locale)))
            return
        # A preview's note (what it shows, that the run posts nothing…) is on every page.
        note = interaction.message.content if interaction.message is not None else ""
        shown = digest_page(bot, wanted, content=note or None)
        await answer(interaction, shown, defer_after=bot.settings.defer_after_s, replace=True)


class _LanguageMenu:
    """What both menus share: a custom_id of `al:<name>:<lang>` and a localized placeholder.

    The custom_id's language is the message's, for the placeholder; what a menu shows the
    member who uses it is in that member's language.
    """

    name: ClassVar[str]
    placeholder_key: ClassVar[str]

    def __init__(self, lang: Lang, options: Sequence[discord.SelectOption] = ()) -> None:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"al:{self.name}:{lang}",
            placeholder=t(self.placeholder_key, lang),
            options=list(options),
        )
        # The next class in the MRO is DynamicItem, which takes the select it wraps.
        super().__init__(select)  # type: ignore[call-arg]

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the menu from a used custom_id."""
        return cls("ja" if match["lang"] == "ja" else "en")


class OpenArticleSelect(
    _LanguageMenu,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=re.compile(r"al:open:(?P<lang>ja|en)"),
):
    """A menu of the articles on a page; choosing one shows it in full, privately."""

    name = "open"
    placeholder_key = "open.placeholder"

    async def callback(self, interaction: discord.Interaction) -> None:
        """Show the chosen article."""
        bot: AllianceBot = interaction.client  # type: ignore[assignment]
        values = self.item.values
        chosen = values[0] if values else None  # read as an id there, as the command's option
        try:
            await send_article(bot, interaction, chosen, lang_of(interaction.locale))
        except Exception:
            await report_failure(interaction, "opening an article")


class TopicSelect(
    _LanguageMenu,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=re.compile(r"al:topic:(?P<lang>ja|en)"),
):
    """A menu of topics; choosing one shows that topic's newest articles, privately."""

    name = "topic"
    placeholder_key = "topics.placeholder"

    async def callback(self, interaction: discord.Interaction) -> None:
        """Show the chosen topic's newest articles."""
        bot: AllianceBot = interaction.client  # type: ignore[assignment]
        values = self.item.values
        slug = values[0] if values else ""
        lang = lang_of(interaction.locale)
        if bot.taxonomy.get(slug) is None:
            await reply_privately(interaction, t("page.expired", lang))
            return
        try:
            listed = listing_page(bot, Listing(lang, slug), 0)
            await answer(interaction, listed, defer_after=bot.settings.defer_after_s, private=True)
        except Exception:
            await report_failure(interaction, "browsing a topic")


_CLAIMED = (PagerButton, DigestPagerButton, OpenArticleSelect, TopicSelect)


def _unclaimed_template() -> re.Pattern[str]:
    """Ours (`al:…`) but none of the other items' ids: the templates, their group names
    dropped, in a negative lookahead (discord.py runs every item whose template matches)."""
    claimed = "|".join(
        re.sub(r"\(\?P<\w+>", "(?:", item.__discord_ui_compiled_template__.pattern)
        for item in _CLAIMED
    )
    return re.compile(rf"(?!(?:{claimed})\Z)al:.*", re.DOTALL)


class UnclaimedComponent(
    discord.ui.DynamicItem[discord.ui.Item[Any]], template=_unclaimed_template()
):
    """A button or menu id of ours that no other item answers: forged, or made by an older
    version of the bot. Answered, or the member would see "interaction failed"."""

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> UnclaimedComponent:
        """Wrap the pressed component as it is."""
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Say the component is out of date."""
        await reply_privately(interaction, t("page.expired", lang_of(interaction.locale)))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (*_CLAIMED, UnclaimedComponent)


def _article_id(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 1 <= number <= 2**62 else None


# --- pages ------------------------------------------------------------------------------------


def menu_options(
    bot: AllianceBot, items: Sequence[Article], lang: Lang
) -> list[discord.SelectOption]:
    """The options of a menu that opens one of `items` in full."""
    return [
        discord.SelectOption(
            label=render.select_label(a),
            value=str(a.id),
            description=render.clip(render.article_line(a, bot.taxonomy, lang), 100),
        )
        for a in items[:25]
    ]


_Buttons = tuple[tuple[str, str, bool], ...]  # custom_id, label, disabled


@dataclass(frozen=True, slots=True)
class _Shown:
    """A listing page as rendered: kept, it is shown again while the corpus is unchanged.

    A message's View is its own (discord.py keeps state on it), so the controls are kept as
    what makes them: each `page()` builds a new View from them.
    """

    lang: Lang
    embeds: tuple[discord.Embed, ...] = ()
    content: str | None = None
    private: bool = False
    buttons: _Buttons = ()
    menu: tuple[discord.SelectOption, ...] = ()  # the page's articles, to open one

    def page(self) -> Page:
        """A new Page (and View) showing this."""
        view = None
        if self.buttons or self.menu:
            view = discord.ui.View(timeout=None)
            for custom_id, label, disabled in self.buttons:
                view.add_item(PagerButton(custom_id, label=label, disabled=disabled))
            if self.menu:
                view.add_item(OpenArticleSelect(self.lang, self.menu))
        return Page(embeds=list(self.embeds), content=self.content, view=view, private=self.private)


class PageCache(KeptForGeneration[tuple[Listing, int], _Shown]):
    """Listing pages as rendered, by listing and page number, while the corpus generation is
    unchanged: a page asked for again costs a new View, not a search and its rendering.

    A page is made again after `max_age` seconds at most: making it refreshes the last use of
    a long search saved for its buttons, which would otherwise be pruned while still shown.
    With `size` 0 nothing is kept.
    """

    def __init__(self, *, size: int, max_age: float = PAGE_MAX_AGE_S) -> None:
        super().__init__(size=size, max_age=max_age)


async def _controls(
    bot: AllianceBot, listing: Listing, page: int, shown: Sequence[Article], total: int
) -> tuple[_Buttons, tuple[discord.SelectOption, ...]]:
    """The Previous / Next buttons and the menu's options of a page."""
    buttons: _Buttons = ()
    last_page = min(max(0, (total - 1) // listing.size), max_page(listing.size))
    if last_page > 0:
        before, after = await pager_ids(bot, listing, max(page - 1, 0), min(page + 1, last_page))
        if before == after:  # only possible when both are disabled; ids must still differ
            after += " "
        prev_label, next_label = t("page.previous", listing.lang), t("page.next", listing.lang)
        buttons = ((before, prev_label, page <= 0), (after, next_label, page >= last_page))
    return buttons, tuple(menu_options(bot, shown, listing.lang))


async def listing_page(
    bot: AllianceBot, listing: Listing, page: int, *, reader: Lang | None = None
) -> Page:
    """Page `page` (from 0) of a search or of a topic's newest articles (from `bot.page_cache`
    when it was shown already and the corpus has not changed since).

    `reader`: the language of whoever asked, when it may differ from the listing's (a button
    on someone else's message); a private note instead of the page is written in it.
    """
    page = max(0, min(page, max_page(listing.size)))
    shown = await _shown(bot, listing, page)
    if shown.private and reader is not None and reader != listing.lang:
        shown = await _shown(bot, replace(listing, lang=reader), page)
    return shown.page()


async def _shown(bot: AllianceBot, listing: Listing, page: int) -> _Shown:
    generation = await bot.results.generation()
    key = (listing, page)
    if generation is not None:
        kept = bot.page_cache.get(generation, key)
        if kept is not None:
            return kept
    if listing.query is None:
        shown = await _newest_page(bot, listing, page)
    else:
        shown = await _search_page(bot, listing, page)
    if generation is not None:
        bot.page_cache.put(generation, key, shown)
    return shown


async def _search_page(bot: AllianceBot, listing: Listing, page: int) -> _Shown:
    assert listing.query is not None
    lang = listing.lang
    result = await bot.results.search(
        listing.query,
        topic=listing.topic,
        limit=listing.size,
        offset=page * listing.size,
        sort=listing.sort,
    )
    if result.problem is not None:
        return _Shown(lang, content=result.error_message(lang), private=True)
    last_page = (result.total - 1) // listing.size
    if not result.hits and 0 <= last_page < page:
        # The corpus shrank under an old button: show the last page there is.
        return await _search_page(bot, listing, last_page)
    topic_label = bot.taxonomy.label(listing.topic, lang) if listing.topic else None
    if not result.hits:
        embed = render.no_results(listing.query, result.suggestions, topic_label, lang)
        return _Shown(lang, (embed,), private=True)
    embed = render.search_page(
        listing.query,
        result,
        offset=page * listing.size,
        taxonomy=bot.taxonomy,
        lang=lang,
        newest_first=listing.sort == "newest",
        topic_label=topic_label,
    )
    shown = [hit.article for hit in result.hits]
    buttons, menu = await _controls(bot, listing, page, shown, result.total)
    return _Shown(lang, (embed,), buttons=buttons, menu=menu)


async def _newest_page(bot: AllianceBot, listing: Listing, page: int) -> _Shown:
    offset = page * listing.size
    async with bot.readers.reading() as conn:
        total = await articles.count_articles(conn, topic=listing.topic)
        items = await articles.latest(conn, limit=listing.size, offset=offset, topic=listing.topic)
    last_page = (total - 1) // listing.size
    if not items and 0 <= last_page < page:
        return await _newest_page(bot, listing, last_page)
    embed = newest_embed(bot, listing, items, total=total, offset=offset)
    if embed is None:
        return _Shown(listing.lang, content=no_articles(bot, listing), private=True)
    buttons, menu = await _controls(bot, listing, page, items, total)
    return _Shown(listing.lang, (embed,), buttons=buttons, menu=menu)


async def digest_page(
    bot: AllianceBot,
    wanted: DigestPage,
    *,
    digest: Digest | None = None,
    content: str | None = None,
) -> Page:
    """The page `wanted` names, one message of its digest; with Previous / Next buttons when
    the digest takes more, so that a busy week is read a page at a time.

    `digest`: the one `wanted` names, when the caller has built it already. `content`: the
    message's text above the page (a preview's note).
    """
    if digest is None:
        async with bot.readers.reading() as conn:
            if wanted.channel_id is None:
                digest = await build_digest(conn, wanted.week)
            else:
                digest = await schedules.channel_digest(conn, wanted.channel_id, wanted.week)
    shown = render.digest_embeds(digest, wanted.lang)
    last = len(shown) - 1
    page = max(0, min(wanted.page, last))
    embed = shown[page]
    if last == 0:
        return Page(embeds=[embed], content=content)
    numbered = t("digest.page", wanted.lang, page=page + 1, pages=last + 1)
    embed.set_footer(text=f"{numbered}\n{embed.footer.text}")
    view = discord.ui.View(timeout=None)
    for target, key, disabled in (
        (page - 1, "page.previous", page <= 0),
        (page + 1, "page.next", page >= last),
    ):
        custom_id = replace(wanted, page=max(0, min(target, last))).custom_id
        view.add_item(DigestPagerButton(custom_id, label=t(key, wanted.lang), disabled=disabled))
    return Page(embeds=[embed], content=content, view=view)


def no_articles(bot: AllianceBot, listing: Listing) -> str:
    """The note shown instead of an empty list of articles."""
    if listing.topic is None:
        return t("latest.none", listing.lang)
    label = bot.taxonomy.label(listing.topic, listing.lang)
    return t("latest.none_topic", listing.lang, topic=label)


def newest_embed(
    bot: AllianceBot, listing: Listing, items: Sequence[Article], *, total: int, offset: int
) -> discord.Embed | None:
    """The embed listing the newest articles (of a topic); None when there are none."""
    if not items:
        return None
    lang = listing.lang
    title = t("latest.title", lang)
    if listing.topic is not None:
        title = t("latest.title_topic", lang, topic=bot.taxonomy.label(listing.topic, lang))
    count = render.page_count(total, offset + 1, offset + len(items), lang)
    return render.article_list(title, items, taxonomy=bot.taxonomy, lang=lang, footer=count)


async def send_article(
    bot: AllianceBot,
    interaction: discord.Interaction,
    article_id: object,
    lang: Lang,
    *,
    private: bool = True,
) -> None:
    """Show one article in full, across as many messages as its length needs (deferring first
    if reading it takes `defer_after_s`); a missing one is said privately."""
    shown = _article_pages(bot, article_id, lang, private=private)
    await answer_pages(interaction, shown, defer_after=bot.settings.defer_after_s, private=private)


async def _article_pages(
    bot: AllianceBot, article_id: object, lang: Lang, *, private: bool
) -> list[Page]:
    article = None
    # A hand-made interaction can carry any value: a string, a float, an integer past SQLite's.
    number = _article_id(article_id) if type(article_id) in {int, str} else None
    if number is not None:
        async with bot.readers.reading() as conn:
            article = await articles.get_article(conn, number)
    if article is None:
        return [note(t("article.missing", lang, id=number or "?"))]
    shown = render.article_messages(article, taxonomy=bot.taxonomy, lang=lang)
    return [Page(embeds=message, private=private) for message in shown.messages]
