"""Embeds for articles, search pages, topic lists and help, always within Discord's limits.

Pure functions from core results to `discord.Embed`s: no I/O, so every limit is easy to test.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import discord

from bot.core.digest import Digest, Page, Week, paginate
from bot.core.digest import render as render_digest
from bot.core.models import Article
from bot.core.search.analyzer import strip_invisible
from bot.core.search.engine import SearchHit, SearchResult
from bot.core.topics import Taxonomy
from bot.i18n import Lang, enumerate_words, format_date, slash, t

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10
CONTENT_MAX = 2000
SELECT_LABEL_MAX = 100
SELECT_DESCRIPTION_MAX = 100

# Our own budgets, chosen so a page of five results can never reach EMBED_TOTAL_MAX.
_RESULT_NAME_MAX = 200
_RESULT_VALUE_MAX = 700
_BODY_CHUNK = 3800
_MESSAGE_BUDGET = 5800
# An article longer than this many messages is shown in part, with a note saying so.
MAX_ARTICLE_MESSAGES = 3
SUMMARY_CHARS = 160
_SUMMARY_ROOM = 60  # at least this much of a listed article's value is left for its summary

COLOUR = discord.Colour(0x1F4E9C)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: whole_characters(text, limit - 1)].rstrip() + "…"


# A longer run than this is no character a reader sees as one (a letter under hundreds of
# accents): it is cut where it must be rather than dropped whole.
_LONGEST_CLUSTER = 32


def whole_characters(text: str, end: int) -> int:
    """`end`, moved back so `text[:end]` ends between two characters as a reader sees them: not
    inside a flag, an emoji with its skin tone or joined family, or a letter and its marks."""
    if end <= 0 or end >= len(text):
        return max(0, min(end, len(text)))
    start = end
    while start > 0 and end - start < _LONGEST_CLUSTER and _joins_previous(text, start):
        start -= 1
    if _regional(text[start]):
        # Flags are pairs of regional indicators, counted from the first of a run.
        run = start
        while run > 0 and _regional(text[run - 1]):
            run -= 1
        start -= (start - run) % 2
    return start if end - start < _LONGEST_CLUSTER else end


def _joins_previous(text: str, index: int) -> bool:
    code = ord(text[index])
    return (
        text[index - 1] == "\u200d"  # zero width joiner, before
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji or text style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tags (the flags of England, Scotland, Wales)
        or unicodedata.category(text[index]) in ("Mn", "Me", "Mc")  # marks, e.g. ゙ and é's ́
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


# A web address is left as written: Discord links it and reads no Markdown in it, and an escape
# would become part of the address.
_URL = r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"
# Inline Markdown (bold, italics, underline, strikethrough, spoilers, code), the escape itself,
# masked links ("[") and mentions, channels, timestamps and custom emoji ("<").
_INLINE = r"[\\*_~|`\[<]"
# What Markdown reads only at the start of a line, before a space: quotes, headings, subtext,
# lists ("#7" or "-1" start no heading or list).
_OPENER = r"(?P<line>[ \t]*)(?=(?:>{1,3}|#{1,3}|-#?)[ \t])"
_LINE_START = re.compile(rf"(?P<url>{_URL})|(?m:^){_OPENER}|{_INLINE}")
# The same where the text does not begin a line (a piece of a snippet after another).
_LATER_LINE_START = re.compile(rf"(?P<url>{_URL})|(?<=\n){_OPENER}|{_INLINE}")
_MARKDOWN_CHARS = re.compile(r"[\\*_~|`\[<>#-]")


def _escaped(match: re.Match[str]) -> str:
    found = match[0]
    if match["url"] is not None:
        return found
    if match["line"] is not None:
        return f"{found}\\"  # before the opener the lookahead found
    return f"\\{found}"


def plain(text: str, *, line_start: bool = True) -> str:
    """Article or user text shown as-is: Markdown characters escaped, not interpreted.

    Linear in the text's length, however it is made (discord.py's `escape_markdown` took
    seconds on a body of "[a](" repeated). `line_start=False`: the text continues a line.
    """
    # Most Japanese text has none of them.
    if _MARKDOWN_CHARS.search(text) is None:
        return text
    pattern = _LINE_START if line_start else _LATER_LINE_START
    return pattern.sub(_escaped, text)


def plain_clip(text: str, limit: int) -> str:
    """`plain(text)` in at most `limit` characters: the text is cut (with an ellipsis) before it
    is escaped, so no escape is cut in two."""
    escaped = plain(text)
    if len(escaped) <= limit:
        return escaped
    fits, over = 0, len(text)  # how much of the raw text fits, escaped, with the ellipsis
    while over - fits > 1:
        middle = (fits + over) // 2
        if len(plain(text[:middle].rstrip())) < limit:
            fits = middle
        else:
            over = middle
    return plain(text[: whole_characters(text, fits)].rstrip()) + "…"


def quote(text: str, limit: int) -> str:
    """Text that is not ours (a server's error, a guild's name) on one line, in at most `limit`
    characters, its Markdown shown as typed."""
    return plain_clip(" ".join(text.split()), limit)


def summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The first line of a body, shortened to `limit` characters."""
    first = " ".join(body.split("\n", 1)[0].split())
    return clip(first, limit)


def topic_labels(slugs: Sequence[str], taxonomy: Taxonomy, lang: Lang) -> str:
    """Topic labels joined for display ("—" when there are none)."""
    labels = [topic.label(lang) for s in slugs if (topic := taxonomy.get(s)) is not None]
    return " · ".join(labels) if labels else "—"


def article_line(article: Article, taxonomy: Taxonomy, lang: Lang) -> str:
    """Date and topics of an article, e.g. "2025年12月19日 · 台湾有事"."""
    when = format_date(article.published, lang, inferred=article.date_inferred)
    return f"{when} · {topic_labels(article.topics, taxonomy, lang)}"


# Discord refuses an embed whose URL has a space ("Not a well formed URL"), and brackets or
# parentheses would end a Markdown link early.
_LINKABLE = re.compile(r"https?://[^\s()<>\[\]]{1,300}")


def linkable_url(url: str | None) -> str | None:
    """`url` if Discord accepts it as a link and it fits in Markdown, else None."""
    if not url or not _LINKABLE.fullmatch(url):
        return None
    # A link with no host (https:///page, https://?q=1, which an imported file may hold) is not
    # well formed to Discord either: the whole message would be refused.
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a host NFKC would change: a full-width ／ or ＠ in https://ex.jp／記事
        return None
    return url if host else None


def article_link(article: Article, lang: Lang) -> str:
    """A Markdown link to the article's page, or "" when it has none we can link safely."""
    url = linkable_url(article.url)
    return f"[{t('article.link', lang)}]({url})" if url else ""


def _with_link(line: str, article: Article, lang: Lang) -> str:
    link = article_link(article, lang)
    return f"{line} · {link}" if link else line


def _result_name(article: Article, limit: int = _RESULT_NAME_MAX) -> str:
    return plain_clip(f"#{article.id} {article.title_line}", limit)


def snippet_markdown(hit: SearchHit, limit: int = _RESULT_VALUE_MAX) -> str:
    """The hit's snippet in at most `limit` characters: text escaped, matched words in bold."""
    out: list[str] = []
    used = 0
    for index, (text, is_match) in enumerate(hit.snippet_parts):
        marks = 4 if is_match else 0
        # Only the first piece starts a line: a later one starting with "-" is mid-line.
        first = index == 0
        piece = plain(text, line_start=first)
        if used + len(piece) + marks > limit:
            # Clip the raw text, not the escaped one, so no escape or bold marker is cut in half.
            room = limit - used - marks - 1
            raw = text[: whole_characters(text, room)]
            while raw and len(plain(raw, line_start=first)) > room:
                raw = raw[: whole_characters(raw, len(raw) - 1)]
            if raw:
                shown = plain(raw, line_start=first)
                out.append(f"**{shown}**" if is_match else shown)
            out.append("…")
            break
        out.append(f"**{piece}**" if is_match else piece)
        used += len(piece) + marks
    return "".join(out)


def shown(query: str, limit: int = 80) -> str:
    """A reader's query as it is searched, to quote back: on one line, clipped, without the
    invisible characters (a direction override would turn the rest of the line around)."""
    return clip(" ".join(strip_invisible(query).split()), limit)


def page_count(total: int, first: int, last: int, lang: Lang, *, exact: bool = True) -> str:
    """Which of `total` items a page shows, "1–5 of 22" ("3 of 22" for one), as every pager
    words it; short of `exact`, `total` is only a floor ("… of more than 10,000")."""
    key = "search.count" if exact else "search.count_over"
    if first == last:
        key += "_single"
    return t(key, lang, total=total, first=first, last=last)


def search_page(
    query: str,
    result: SearchResult,
    *,
    offset: int,
    taxonomy: Taxonomy,
    lang: Lang,
    newest_first: bool = False,
    topic_label: str | None = None,
) -> discord.Embed:
    """One page of search results for `query` as the reader typed it (by relevance, or newest
    first, which the count line says; in a topic, which the title says)."""
    shown_query = shown(query)
    if topic_label:
        title = t("search.title_topic", lang, query=plain(shown_query), topic=topic_label)
    else:
        title = t("search.title", lang, query=plain(shown_query))
    embed = discord.Embed(title=clip(title, TITLE_MAX))
    embed.colour = COLOUR
    lines = []
    if result.near:
        # Quoted apart, not as the query they make ("B52 爆撃 機"), which no one would type.
        words = [t("search.quoted", lang, word=plain(word)) for word in result.near]
        listed = "".join(words) if lang == "ja" else f"{', '.join(words[:-1])} and {words[-1]}"
        key = "search.near" if result.typed_total is None else "search.near_also"
        lines.append(t(key, lang, query=plain(shown_query), words=listed, typed=result.typed_total))
    elif result.corrected:
        corrected = plain(result.corrected)
        key = "search.corrected" if result.typed_total is None else "search.corrected_also"
        # Only words of an OR matched nothing (トランブ OR 関税): they are named, not the query.
        named = shown(enumerate_words(result.unmatched, lang)) if result.unmatched else shown_query
        lines.append(
            t(key, lang, query=plain(named), corrected=corrected, typed=result.typed_total)
        )
    first, last = offset + 1, offset + len(result.hits)
    count = page_count(result.shown_total, first, last, lang, exact=result.total_exact)
    lines.append(t("search.sorted_newest", lang, count=count) if newest_first else count)
    embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
    for hit in result.hits:
        line = _with_link(article_line(hit.article, taxonomy, lang), hit.article, lang)
        value = f"{line}\n{snippet_markdown(hit, _RESULT_VALUE_MAX - len(line) - 1)}"
        embed.add_field(name=_result_name(hit.article), value=value, inline=False)
    return embed


def no_results(
    query: str, suggestions: Sequence[str], topic_label: str | None, lang: Lang
) -> discord.Embed:
    """What a reader sees when nothing matched, with "did you mean" words when there are any."""
    key = "search.none_topic" if topic_label else "search.none"
    lines = [t(key, lang, query=plain(shown(query)), topic=topic_label or "")]
    if suggestions:
        words = enumerate_words((plain(s) for s in suggestions[:5]), lang)
        lines.append(t("search.did_you_mean", lang, words=words))
    lines.append(t("search.try", lang))
    return discord.Embed(description=clip("\n".join(lines), DESCRIPTION_MAX), colour=COLOUR)


def article_list(
    title: str, articles: Sequence[Article], *, taxonomy: Taxonomy, lang: Lang, footer: str = ""
) -> discord.Embed:
    """A list of articles (latest, a topic), one field each with date, topics and summary."""
    embed = discord.Embed(title=clip(title, TITLE_MAX), colour=COLOUR)
    footer = clip(footer, FOOTER_MAX)
    # `/alliance latest` lists up to ten: the budgets of a five-result page would then allow
    # more than EMBED_TOTAL_MAX, so each article gets its share of what title and footer leave.
    share = (EMBED_TOTAL_MAX - len(embed.title or "") - len(footer)) // max(len(articles), 1)
    name_max = min(_RESULT_NAME_MAX, share // 4)
    value_max = min(_RESULT_VALUE_MAX, share - name_max)
    for article in articles:
        line = article_line(article, taxonomy, lang)
        linked = _with_link(line, article, lang)
        # A link is left out rather than cut, which would break it; the summary keeps some room.
        head = linked if len(linked) <= value_max - _SUMMARY_ROOM else clip(line, value_max // 2)
        # Cut before it is escaped: cut after, an escape could lose its character (a stray "\").
        value = f"{head}\n{plain_clip(summary(article.body), value_max - len(head) - 1)}"
        embed.add_field(name=_result_name(article, name_max), value=value, inline=False)
    if footer:
        embed.set_footer(text=footer)
    return embed


def _split_body(body: str, size: int, most: int) -> list[str]:
    """The body escaped for Markdown, in pieces of at most `size` characters each, cut at a
    paragraph, line or sentence end if possible; at most `most` pieces and, if there is more,
    one more (only to say so: not escaped, not whole).

    Each piece is escaped on its own, after the cut: escaping first could cut an escape in two,
    and a piece that starts with "-" or ">" must be escaped as the line start it becomes.
    """
    pieces: list[str] = []
    rest = body.strip()
    while rest:
        if len(pieces) == most:
            pieces.append(rest[:size])
            break
        window = size
        while True:
            cut = _cut_point(rest, window)
            piece = plain(rest[:cut].rstrip())
            if len(piece) <= size:
                break
            # Escapes made it too long: try again with the window shrunk in proportion.
            window = min(window - 1, window * size // len(piece))
        pieces.append(piece)
        rest = rest[cut:].lstrip()
    return pieces or [""]


def _cut_point(text: str, size: int) -> int:
    """Where to end a piece of `text` of at most `size` characters."""
    if len(text) <= size:
        return len(text)
    window = text[:size]
    for boundary, keep in (("\n\n", 0), ("\n", 0), ("。", 1)):
        found = window.rfind(boundary)
        if found >= size // 2:
            return found + keep
    return whole_characters(text, size) or size  # never an empty piece: that would not end


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article as Discord messages: each a list of embeds within the per-message limits."""

    messages: list[list[discord.Embed]]
    truncated: bool


def article_messages(
    article: Article, *, taxonomy: Taxonomy, lang: Lang, max_messages: int = MAX_ARTICLE_MESSAGES
) -> ArticleView:
    """An article in full, its body split across embeds (and messages); a cut is always said."""
    # One chunk per message keeps every message under 6000.
    chunks = _split_body(article.body, _BODY_CHUNK, max_messages)
    truncated = len(chunks) > max_messages
    chunks = chunks[:max_messages]
    url = linkable_url(article.url)
    footer = clip(f"#{article.id} · {t('article.source', lang)}: {article.source}", FOOTER_MAX)
    messages: list[list[discord.Embed]] = []
    for index, chunk in enumerate(chunks):
        if index == 0:
            title = plain_clip(article.title_line, TITLE_MAX)
            embed = discord.Embed(title=title, url=url, colour=COLOUR)
            embed.add_field(
                name=t("article.topics", lang),
                value=clip(article_line(article, taxonomy, lang), FIELD_VALUE_MAX),
                inline=False,
            )
        else:
            part = t("article.continued", lang, part=index + 1, parts=len(chunks))
            # The title gives way: which part this is must stay readable.
            gap = "" if lang == "ja" else " "  # （続き…） brings its own space
            title = plain_clip(article.title_line, TITLE_MAX - len(part) - len(gap)) + gap + part
            embed = discord.Embed(title=title, colour=COLOUR)
        text = chunk
        if truncated and index == len(chunks) - 1:
            # The text makes room for the note: cutting the note would break its link.
            note = _truncation_note(article, lang)
            text = clip(chunk, DESCRIPTION_MAX - len(note) - 2) + "\n\n" + note
        embed.description = clip(text, DESCRIPTION_MAX)
        embed.set_footer(text=footer)
        messages.append([embed])
    return ArticleView(messages=messages, truncated=truncated)


_SHOWABLE_URL = re.compile(r"https?://\S{1,2000}")


def _truncation_note(article: Article, lang: Lang) -> str:
    # Members can't run the CLI: with no page to point to, the note only says what is missing.
    if article.url is None or not _SHOWABLE_URL.fullmatch(article.url):
        return t("article.cut", lang)
    return t("article.cut_link", lang, url=plain(article.url))


def topic_overview(counts: Sequence[tuple[str, str, int]], lang: Lang) -> discord.Embed:
    """Every topic with its article count; `counts` holds (slug, label, count)."""
    lines = [f"**{plain(label)}** — {t('topics.count', lang, count=n)}" for _, label, n in counts]
    embed = discord.Embed(title=t("topics.title", lang), colour=COLOUR)
    embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
    embed.set_footer(text=t("topics.description", lang))
    return embed


def help_embed(lang: Lang, article_count: int) -> discord.Embed:
    """What each command does, with examples."""
    embed = discord.Embed(title=t("help.title", lang), description=t("help.intro", lang))
    embed.colour = COLOUR
    for command, key in (
        ("alliance search", "help.search"),
        ("alliance latest", "help.latest"),
        ("alliance topics", "help.topics"),
        ("alliance article", "help.article"),
        ("alliance digest", "help.digest"),
        ("alliance-digest", "help.admin"),
        ("alliance-feeds", "help.feeds"),
    ):
        value = clip(t(key, lang), FIELD_VALUE_MAX)
        embed.add_field(name=slash(command, lang), value=value, inline=False)
    embed.set_footer(text=t("help.footer", lang, count=article_count))
    return embed


def select_label(article: Article) -> str:
    """An article as a select-menu option label or an autocomplete choice: one line."""
    return clip(f"#{article.id} {article.title_line}", SELECT_LABEL_MAX)


DIGEST_MARKER = "alliance-bot digest"


def marker(week: Week) -> str:
    """The footer text by which the bot recognises its own digest of `week` in a channel."""
    return f"{DIGEST_MARKER} {week.start.isoformat()}"


def digest_embeds(digest: Digest, lang: Lang) -> list[discord.Embed]:
    """A digest as embeds, one per message, each within Discord's limits; nothing dropped."""
    rendered = render_digest(digest, lang).map_text(plain)
    pages: list[Page] = paginate(rendered)
    embeds: list[discord.Embed] = []
    for page in pages:
        embed = discord.Embed(title=page.title, description=page.description or None)
        embed.colour = COLOUR
        for block in page.blocks:
            embed.add_field(name=block.heading, value=block.body, inline=False)
        footer = marker(digest.week)
        if page.note:
            footer = f"{page.note}\n{footer}"
        embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


def field_embeds(
    title: str,
    fields: Sequence[tuple[str, str]],
    *,
    empty: str,
    footer: str = "",
    note: str = "",
) -> list[discord.Embed]:
    """Fields packed into as many embeds as Discord's limits need (send one per message),
    numbered "(1/2)" after the title when there are several; `note` (and `empty`, if there are
    no fields) above the first one's fields."""

    def new() -> discord.Embed:
        return discord.Embed(title=clip(title, TITLE_MAX), colour=COLOUR)

    embeds = [new()]
    intro = [note] if note else []
    if not fields:
        intro.append(empty)
    if intro:
        embeds[0].description = clip("\n\n".join(intro), DESCRIPTION_MAX)
    for raw_name, raw_value in fields:
        name, value = clip(raw_name, FIELD_NAME_MAX), clip(raw_value, FIELD_VALUE_MAX)
        current = embeds[-1]
        if len(current.fields) == 25 or len(current) + len(name) + len(value) > _MESSAGE_BUDGET:
            current = new()
            embeds.append(current)
        current.add_field(name=name, value=value, inline=False)
    if len(embeds) > 1:
        # Within the budget's slack: a title grows by at most " (25/25)"-like few characters.
        for number, embed in enumerate(embeds, start=1):
            marker = f" ({number}/{len(embeds)})"
            embed.title = clip(title, TITLE_MAX - len(marker)) + marker
    if footer:
        for embed in embeds:
            embed.set_footer(text=clip(footer, FOOTER_MAX))
    return embeds
