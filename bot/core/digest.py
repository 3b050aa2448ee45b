"""The weekly digest (今週の日米同盟): a week's articles grouped by topic, rendered and paginated.

Three steps, each usable on its own and free of Discord:

1. `build_digest` reads a week (Monday 00:00 to Sunday 24:00 in an IANA timezone) into a `Digest`.
2. `render` turns it into a `RenderedDigest` in Japanese or English: a title, a header and one
   section of lines per topic.
3. `paginate` packs that into `Page`s within size limits (Discord's embed limits by default).
   Nothing is dropped silently: when `max_pages` forces a cut, the last page carries a note
   ("ほかN件…" / "and N more…").

Grouping: each article is listed once, under its first topic in taxonomy order (the order of
`Article.topics`); articles without a topic go to a final "その他 / Other" group. Listing an
article under every topic would repeat up to three times the same line in a short message, and
keeps the counts adding up to the total.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiosqlite

from bot.core import articles
from bot.core.corpus import derive_title
from bot.core.dates import typed_day
from bot.core.models import Article
from bot.core.topics import Taxonomy, load_taxonomy

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_TIMEZONE = "Asia/Tokyo"  # the same default as `Settings.timezone`
OTHER = "other"  # the key of the no-topic group in `Digest.counts`
SUMMARY_CHARS = 120

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SPACES = re.compile(r"\s+")


def zone(name: str | ZoneInfo) -> ZoneInfo:
    """A timezone by IANA name; ValueError with a readable message when unknown."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {name!r} (e.g. Asia/Tokyo)") from None


# --- weeks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """A Monday-to-Sunday week in a timezone; `start` is its Monday."""

    start: date
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise ValueError(f"a week starts on a Monday, not {self.start:%A %Y-%m-%d}")
        if (date.max - self.start).days < 7:
            raise ValueError(f"the week of {self.start} runs past the last date there is")
        zone(self.timezone)

    @property
    def end(self) -> date:
        """The week's Sunday (inclusive)."""
        return self.start + timedelta(days=6)

    @property
    def tz(self) -> ZoneInfo:
        """The timezone as a `ZoneInfo`."""
        return zone(self.timezone)

    @property
    def starts_at(self) -> datetime:
        """Monday 00:00 local time, as an aware datetime."""
        return datetime.combine(self.start, time(0), tzinfo=self.tz)

    @property
    def ends_at(self) -> datetime:
        """The next Monday 00:00 local time (exclusive end), as an aware datetime."""
        return datetime.combine(self.start + timedelta(days=7), time(0), tzinfo=self.tz)

    def contains(self, day: date) -> bool:
        """True when a publication date falls in this week."""
        return self.start <= day <= self.end

    def previous(self) -> Week:
        """The week before."""
        return Week(self.start - timedelta(days=7), self.timezone)


def week_of(
    day: date | None = None,
    *,
    timezone: str | ZoneInfo = DEFAULT_TIMEZONE,
    now: datetime | None = None,
) -> Week:
    """The week containing `day`, or (without one) the week containing `now` in `timezone`."""
    tz = zone(timezone)
    if day is None:
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("`now` must be timezone-aware")
        day = moment.astimezone(tz).date()
    return Week(day - timedelta(days=day.weekday()), tz.key)


# --- the digest --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicGroup:
    """The articles of one topic in a week, newest first; `slug` None is the no-topic group."""

    slug: str | None
    articles: tuple[Article, ...]

    @property
    def key(self) -> str:
        """The group's key in `Digest.counts`: the slug, or `OTHER`."""
        return self.slug if self.slug is not None else OTHER


@dataclass(frozen=True, slots=True)
class Digest:
    """A week's articles grouped by topic (taxonomy order, the no-topic group last)."""

    week: Week
    groups: tuple[TopicGroup, ...]
    latest_before: Article | None = None  # for an empty week: the newest article before it
    # Articles of the week before, stored after its digest was made: in no digest yet (stored
    # late, or dated after a Sunday schedule's run). Newest first.
    late: tuple[Article, ...] = ()

    @property
    def articles(self) -> list[Article]:
        """Every article once, in display order (by group, newest first within one)."""
        return [a for g in self.groups for a in g.articles]

    @property
    def total(self) -> int:
        """How many articles the week holds."""
        return sum(len(g.articles) for g in self.groups)

    @property
    def is_empty(self) -> bool:
        """True when nothing was published in the week, and nothing came late from the week
        before."""
        return self.total == 0 and not self.late

    @property
    def counts(self) -> dict[str, int]:
        """Articles per group, in display order: {slug: n} plus `OTHER` for untagged ones."""
        return {g.key: len(g.articles) for g in self.groups}

    def to_json(self) -> dict[str, Any]:
        """The `alliance-bot digest --json` shape."""
        return {
            "week_start": self.week.start.isoformat(),
            "week_end": self.week.end.isoformat(),
            "timezone": self.week.timezone,
            "articles": [a.to_json() for a in self.articles],
            "counts": self.counts,
            "total": self.total,
            "latest_before": self.latest_before.to_json() if self.latest_before else None,
            "late": [a.to_json() for a in self.late],
        }


def group_articles(
    week: Week, items: Sequence[Article], *, taxonomy: Taxonomy | None = None
) -> Digest:
    """Group a week's articles by first topic; pure (no database), so it is easy to test."""
    taxonomy = taxonomy or load_taxonomy()
    order = {t.slug: i for i, t in enumerate(taxonomy.topics)}
    buckets: dict[str | None, list[Article]] = {}
    for article in items:
        if not week.contains(article.published):
            continue
        known = [s for s in article.topics if s in order]
        slug = min(known, key=order.__getitem__) if known else None
        buckets.setdefault(slug, []).append(article)
    slugs = sorted((s for s in buckets if s is not None), key=order.__getitem__)
    keys: list[str | None] = [*slugs, None] if None in buckets else list(slugs)
    groups = tuple(
        # Newest first; among one day's articles the higher id is the newer (see ingest).
        TopicGroup(k, tuple(sorted(buckets[k], key=lambda a: (a.published, a.id), reverse=True)))
        for k in keys
    )
    return Digest(week, groups)


async def build_digest(
    db: aiosqlite.Connection,
    week: Week,
    *,
    added_by: datetime | None = None,
    late_since: datetime | None = None,
) -> Digest:
    """The digest of a week; for an empty week, with the newest article published before it.

    `added_by`: only articles stored by then, so that a post interrupted after its
    first pages is finished from the digest it began with, whatever was imported since.
    `late_since`: when the week before's digest was made (in the channel this one is for);
    the articles of that week stored since are in this one's `late`.
    """
    found = await articles.articles_between(db, week.start, week.end, added_by=added_by)
    digest = group_articles(week, found)
    if late_since is not None:
        before = week.previous()
        late = await articles.articles_between(
            db, before.start, before.end, added_by=added_by, added_after=late_since
        )
        digest = replace(digest, late=tuple(late))
    if digest.is_empty:
        query = """
            SELECT id FROM articles WHERE published < ? ORDER BY published DESC, id DESC LIMIT 1
        """
        rows = list(await db.execute_fetchall(query, (week.start.isoformat(),)))
        if rows:
            digest = replace(digest, latest_before=await articles.get_article(db, int(rows[0][0])))
    return digest


# --- text --------------------------------------------------------------------------------------


def format_date(day: date, lang: Language, *, inferred: bool = False) -> str:
    """A date for readers: 2025年12月19日 / Dec 19, 2025; inferred ones marked 頃 / approx."""
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日" + ("頃" if inferred else "")
    text = f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"
    return f"approx. {text}" if inferred else text


def format_week(week: Week, lang: Language) -> str:
    """A week's range: 2025年12月15日〜21日 / Dec 15 – 21, 2025 (years and months only once)."""
    a, b = week.start, week.end
    if lang == "ja":
        if a.year != b.year:
            return f"{format_date(a, 'ja')}〜{format_date(b, 'ja')}"
        tail = f"{b.day}日" if a.month == b.month else f"{b.month}月{b.day}日"
        return f"{format_date(a, 'ja')}〜{tail}"
    if a.year != b.year:
        return f"{format_date(a, 'en')} – {format_date(b, 'en')}"
    head = f"{_MONTHS_EN[a.month - 1]} {a.day}"
    tail = f"{b.day}" if a.month == b.month else f"{_MONTHS_EN[b.month - 1]} {b.day}"
    return f"{head} – {tail}, {b.year}"


def summarize(article: Article, limit: int = SUMMARY_CHARS) -> str:
    """One line for an article, at most `limit` characters, cut between words or phrases.

    The title when it is whole; when the title was itself shortened (it ends with …), the body's
    lead sentence, which may fit the longer limit of a digest line.
    """
    title = article.title_line
    if title.endswith("…") and article.body.strip():
        lead = derive_title(_SPACES.sub(" ", article.body), limit)
        if len(lead) > len(title):
            return lead
    if len(title) <= limit:
        return title
    return derive_title(title, limit)


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One article's line in a rendered digest."""

    article_id: int
    text: str


@dataclass(frozen=True, slots=True)
class Section:
    """A topic's heading and lines; `continued` is the heading for its later blocks."""

    heading: str
    continued: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """A digest as neutral text: title, header and sections (no markup of any chat service)."""

    lang: Language
    week: Week
    title: str
    header: str
    sections: tuple[Section, ...]
    total: int

    def more_note(self, n: int) -> str:
        """The note that ends a cut digest: where to find the `n` articles left out."""
        week = self.week.start.isoformat()
        if self.lang == "ja":
            return f"ほか{n}件：/alliance search で検索、/alliance digest week_of:{week} で一覧"
        return f"and {n} more: /alliance search, or /alliance digest week_of:{week} for all"

    def map_text(self, fn: Callable[[str], str]) -> RenderedDigest:
        """The same digest with `fn` applied to every text (e.g. markdown escaping)."""
        sections = tuple(
            Section(
                fn(s.heading),
                fn(s.continued),
                tuple(Line(line.article_id, fn(line.text)) for line in s.lines),
            )
            for s in self.sections
        )
        return replace(self, title=fn(self.title), header=fn(self.header), sections=sections)

    def to_text(self) -> str:
        """Everything as plain text (the CLI's output)."""
        parts = [self.title, "", self.header]
        for section in self.sections:
            parts += ["", section.heading, *(line.text for line in section.lines)]
        return "\n".join(parts)


# Longer links are left out of a digest line: they would crowd out the summaries.
MAX_LINK_CHARS = 200


def _line(article: Article, lang: Language) -> str:
    day = format_date(article.published, lang, inferred=article.date_inferred)
    url = article.url if article.url and len(article.url) <= MAX_LINK_CHARS else None
    link = f" {url}" if url else ""
    if lang == "ja":
        return f"・{day} {summarize(article)}（#{article.id}）{link}"
    return f"• {day} — {summarize(article)} (#{article.id}){link}"


def _label(slug: str | None, lang: Language, taxonomy: Taxonomy) -> str:
    if slug is None:
        return "その他" if lang == "ja" else "Other"
    return taxonomy.label(slug, lang)


def render(
    digest: Digest, lang: Language = "ja", *, taxonomy: Taxonomy | None = None
) -> RenderedDigest:
    """The digest as text in Japanese or English."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use ja or en")
    taxonomy = taxonomy or load_taxonomy()
    span = format_week(digest.week, lang)
    ja = lang == "ja"
    title = f"今週の日米同盟（{span}）" if ja else f"This week in the US–Japan alliance ({span})"
    sections: list[Section] = []
    for group in digest.groups:
        label = _label(group.slug, lang, taxonomy)
        n = len(group.articles)
        sections.append(
            Section(
                _counted(label, n, lang),
                f"{label}（続き）" if ja else f"{label} (cont.)",
                tuple(Line(a.id, _line(a, lang)) for a in group.articles),
            )
        )
    if digest.late:
        n = len(digest.late)
        sections.append(
            Section(
                f"先週分の追加（{n}件）" if ja else f"Added to last week ({n})",
                "先週分の追加（続き）" if ja else "Added to last week (cont.)",
                tuple(Line(a.id, _line(a, lang)) for a in digest.late),
            )
        )
    total = digest.total + len(digest.late)
    header = _header(digest, lang, taxonomy)
    return RenderedDigest(lang, digest.week, title, header, tuple(sections), total)


def _header(digest: Digest, lang: Language, taxonomy: Taxonomy) -> str:
    ja = lang == "ja"
    span = format_week(digest.week, lang)
    if digest.total == 0:
        lines = [
            f"この週（{span}）の記事はありません。" if ja else f"No news in the week of {span}."
        ]
        latest = digest.latest_before
        if latest is not None:
            day = format_date(latest.published, lang, inferred=latest.date_inferred)
            text = summarize(latest)
            lines.append(
                f"最新の記事は{day}：{text}（#{latest.id}）"
                if ja
                else f"The latest was on {day}: {text} (#{latest.id})"
            )
    else:
        total = f"記事{digest.total}件" if ja else _plural(digest.total, "article")
        # Counted as the topic headings count them: "台湾有事（3件）", "Taiwan contingency (3)".
        counts = [
            _counted(_label(g.slug, lang, taxonomy), len(g.articles), lang) for g in digest.groups
        ]
        lines = [
            f"{span}・{total}" if ja else f"{span} · {total}",
            (" ／ " if ja else " · ").join(counts),
        ]
    if digest.late:
        before = format_week(digest.week.previous(), lang)
        n = len(digest.late)
        lines.append(
            f"先週（{before}）の記事で、先週のダイジェストの後に届いた{n}件も載せています。"
            if ja
            else f"Also {_plural(n, 'article')} from last week ({before}) that came in after "
            "its digest."
        )
    if any(a.date_inferred for a in (*digest.articles, *digest.late)):
        lines.append("「頃」は推定の日付です。" if ja else "“approx.”: date estimated.")
    return "\n".join(lines)


def _counted(label: str, n: int, lang: Language) -> str:
    return f"{label}（{n}件）" if lang == "ja" else f"{label} ({n})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- pagination --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of one page; the defaults fit one Discord embed with room for a footer."""

    title_chars: int = 256
    description_chars: int = 4096
    heading_chars: int = 256
    block_chars: int = 1024
    blocks_per_page: int = 25
    page_chars: int = 5500  # Discord allows 6000 per message; the rest is for a footer
    max_pages: int | None = None  # None: as many pages as it takes, nothing is cut

    def __post_init__(self) -> None:
        if self.block_chars < 80 or self.heading_chars < 20 or self.title_chars < 20:
            raise ValueError("limits too small: blocks need 80 characters, headings 20")
        if self.blocks_per_page < 1 or (self.max_pages is not None and self.max_pages < 1):
            raise ValueError("limits too small: at least one block per page and one page")
        if self.page_chars < self.title_chars + self.heading_chars + self.block_chars:
            # So that every page after the first can hold at least one line: no endless loop.
            raise ValueError("limits too small: a page must hold a title, a heading and a block")


@dataclass(frozen=True, slots=True)
class Block:
    """A heading and lines: one embed field, say."""

    heading: str
    lines: tuple[str, ...]

    @property
    def body(self) -> str:
        """The lines joined by newlines."""
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class Page:
    """One message's worth: a title, a description (the header, on the first page), blocks.

    `note` is set on the last page when articles were left out ("ほかN件…"); it counts
    toward `Limits.page_chars`, and belongs where readers see it (say, the embed footer).
    """

    title: str
    description: str
    blocks: tuple[Block, ...]
    article_ids: tuple[int, ...]
    note: str | None = None
    omitted: int = 0

    @property
    def chars(self) -> int:
        """Characters counted toward `Limits.page_chars`."""
        return (
            len(self.title)
            + len(self.description)
            + sum(len(b.heading) + len(b.body) for b in self.blocks)
            + len(self.note or "")
        )

    def to_text(self) -> str:
        """The page as plain text."""
        parts = [self.title]
        if self.description:
            parts += ["", self.description]
        for block in self.blocks:
            parts += ["", block.heading, block.body]
        if self.note:
            parts += ["", self.note]
        return "\n".join(parts)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class _Item:
    section: int
    heading: str  # the section's heading, or its "continued" heading after a block break
    continued: str
    article_id: int
    text: str


@dataclass(slots=True)
class _Fill:
    blocks: list[tuple[int, str, list[str]]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


def _fill(items: Sequence[_Item], start: int, limits: Limits, fixed: int) -> tuple[_Fill, int]:
    """Pack items from `start` into one page whose fixed text takes `fixed` characters."""
    fill = _Fill()
    used = fixed
    i = start
    while i < len(items):
        item = items[i]
        last = fill.blocks[-1] if fill.blocks else None
        if last is not None and last[0] == item.section:
            size = sum(len(t) for t in last[2]) + len(last[2]) - 1
            if size + 1 + len(item.text) <= limits.block_chars:
                if used + 1 + len(item.text) > limits.page_chars:
                    break
                last[2].append(item.text)
                fill.ids.append(item.article_id)
                used += 1 + len(item.text)
                i += 1
                continue
        # A new block: the section's own heading only before its first line.
        first_of_section = i == 0 or items[i - 1].section != item.section
        heading = item.heading if first_of_section else item.continued
        if len(fill.blocks) >= limits.blocks_per_page:
            break
        if used + len(heading) + len(item.text) > limits.page_chars:
            break
        fill.blocks.append((item.section, heading, [item.text]))
        fill.ids.append(item.article_id)
        used += len(heading) + len(item.text)
        i += 1
    return fill, i


def paginate(
    rendered: RenderedDigest,
    limits: Limits | None = None,
    *,
    more_note: Callable[[int], str] | None = None,
) -> list[Page]:
    """Split a rendered digest into pages within `limits`; always at least one page.

    Every article is on a page, unless `limits.max_pages` is reached: then the last page ends with
    `more_note(n)` (default `rendered.more_note`) telling how many were left out. Pages after the
    first carry the title marked as continued and no description.
    """
    limits = limits or Limits()
    note_for = more_note or rendered.more_note
    title = _clip(rendered.title, limits.title_chars)
    cont_title = _clip(
        rendered.title + ("（続き）" if rendered.lang == "ja" else " (cont.)"), limits.title_chars
    )
    description = _clip(rendered.header, limits.description_chars)
    items = [
        _Item(
            n,
            _clip(s.heading, limits.heading_chars),
            _clip(s.continued, limits.heading_chars),
            line.article_id,
            _clip(line.text, limits.block_chars),
        )
        for n, s in enumerate(rendered.sections)
        for line in s.lines
    ]
    pages: list[Page] = []
    i = 0
    while True:
        first = not pages
        page_title = title if first else cont_title
        fixed = len(page_title) + (len(description) if first else 0)
        fill, end = _fill(items, i, limits, fixed)
        note: str | None = None
        if end < len(items) and limits.max_pages is not None and len(pages) + 1 >= limits.max_pages:
            # The last page allowed: make room for the note (sized for the worst case) and cut.
            reserve = len(note_for(len(items)))
            fill, end = _fill(items, i, limits, fixed + reserve)
            note = note_for(len(items) - end)
        pages.append(
            Page(
                title=page_title,
                description=description if first else "",
                blocks=tuple(Block(h, tuple(lines)) for _, h, lines in fill.blocks),
                article_ids=tuple(fill.ids),
                note=note,
                omitted=len(items) - end if note else 0,
            )
        )
        i = end
        if i >= len(items) or note is not None:
            return pages


class WeekProblem(Enum):
    """Why `parse_week_of` found no week."""

    NOT_A_DATE = "not a date"
    PAST_THE_CALENDAR = "its week runs past the last date there is"


def parse_week_of(
    value: str | None, timezone: str, now: datetime | None = None
) -> Week | WeekProblem:
    """The week containing the date `value` (as `typed_day` reads it), or this week when it is
    blank; a `WeekProblem` if there is none."""
    if value is None or not value.strip():
        return week_of(timezone=timezone, now=now or datetime.now(UTC))
    day = typed_day(value)
    if day is None:
        return WeekProblem.NOT_A_DATE
    try:
        return week_of(day, timezone=timezone)
    except ValueError:  # 9999-12-31: its week's Sunday would be past the last date there is
        return WeekProblem.PAST_THE_CALENDAR
