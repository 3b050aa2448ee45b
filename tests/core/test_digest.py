"""The weekly digest on the real seeds: weeks, grouping, rendering and pagination."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.core import articles, db
from bot.core.digest import (
    OTHER,
    Digest,
    Limits,
    Week,
    build_digest,
    format_date,
    format_week,
    group_articles,
    paginate,
    render,
    summarize,
    week_of,
)
from bot.core.models import Article, ArticleDraft

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
_ID = re.compile(r"[#]([0-9]+)[)）]$")


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    connection = await db.connect(tmp_path / "alliance.db")
    await articles.ingest_paths(connection, [tmp_path / "seeds"])
    yield connection
    await connection.close()


def _article(n: int, day: date, topics: tuple[str, ...] = ()) -> Article:
    title = f"記事{n}：日米防衛相会談で共同訓練の拡充を確認、防衛装備の協力も協議する方針"
    return Article(n, title, title + "。", day, n % 5 == 0, f"synthetic:{n}", None, topics)


async def test_week_of_2025_12_15_holds_16_17_19(conn: aiosqlite.Connection) -> None:
    """The seeds' week of 2025-12-15 holds exactly the articles dated 16, 17 and 19 December."""
    digest = await build_digest(conn, week_of(date(2025, 12, 18)))
    assert digest.week.start == date(2025, 12, 15)
    assert digest.week.end == date(2025, 12, 21)
    assert sorted(a.published.day for a in digest.articles) == [16, 17, 19]
    assert digest.total == 3
    assert sum(digest.counts.values()) == 3
    payload = digest.to_json()
    assert payload["week_start"] == "2025-12-15"
    assert payload["week_end"] == "2025-12-21"
    assert [a["published"] for a in payload["articles"]].count("2025-12-19") == 1


async def test_groups_follow_taxonomy_order_and_newest_first(conn: aiosqlite.Connection) -> None:
    """Groups come in taxonomy order, each article once under its first topic."""
    digest = await build_digest(conn, week_of(date(2025, 12, 15)))
    assert list(digest.counts) == ["nuclear", "equipment", "us-politics"]
    ids = [a.id for a in digest.articles]
    assert len(ids) == len(set(ids))


async def test_a_digest_can_leave_out_articles_stored_after_its_claim(
    conn: aiosqlite.Connection,
) -> None:
    """`added_by` keeps the digest as it was when its week was claimed: an article stored
    later is in the week's digest, but not in the one made as of the claim."""
    week = week_of(date(2025, 12, 18))
    claimed = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    await conn.execute("UPDATE articles SET created_at = ?", ("2025-12-22T00:00:00Z",))
    late = ArticleDraft(
        "後から届いた記事", "日米の協議が続いた。", date(2025, 12, 18), False, "late", "late"
    )
    await articles.ingest(conn, [late])
    titles = {a.title for a in (await build_digest(conn, week)).articles}
    as_claimed = {a.title for a in (await build_digest(conn, week, added_by=claimed)).articles}
    assert titles - as_claimed == {"後から届いた記事"}
    assert len(as_claimed) == 3


async def test_articles_stored_after_the_week_befores_digest_come_late(
    conn: aiosqlite.Connection,
) -> None:
    """With `late_since` (when the week before's digest was made), that week's articles stored
    since are in this week's `late`, and only they: in both languages, and in the JSON."""
    made = datetime(2025, 12, 22, 0, 0, tzinfo=UTC)
    await conn.execute("UPDATE articles SET created_at = ?", ("2025-12-21T23:00:00Z",))
    sunday = ArticleDraft(
        "日曜夜の会談記事", "日米の会談が日曜夜に行われた。", date(2025, 12, 21), False, "s", "s"
    )
    await articles.ingest(conn, [sunday])
    await conn.execute(
        "UPDATE articles SET created_at = ? WHERE title = ?", ("2025-12-22T00:00:01Z", sunday.title)
    )
    week = week_of(date(2025, 12, 22))
    digest = await build_digest(conn, week, late_since=made)
    assert [a.title for a in digest.late] == [sunday.title]
    assert sunday.title not in {a.title for a in digest.articles}
    assert digest.to_json()["late"][0]["title"] == sunday.title
    ja, en = render(digest, "ja"), render(digest, "en")
    assert ja.sections[-1].heading == "先週分の追加（1件）"
    assert en.sections[-1].heading == "Added to last week (1)"
    assert "2025年12月15日〜21日）の記事で、先週のダイジェストの後に届いた1件" in ja.header
    assert "Also 1 article from last week (Dec 15 – 21, 2025)" in en.header
    # Stored in the second the week before's digest was made: it was in that digest.
    at_made = await build_digest(conn, week, late_since=made + timedelta(seconds=1))
    assert at_made.late == ()
    # Without `late_since` (a preview, or no digest the week before), nothing comes late.
    assert (await build_digest(conn, week)).late == ()


async def test_a_week_with_only_late_articles_is_not_empty(tmp_path: Path) -> None:
    """A week with no articles of its own but late ones is posted: not empty, its header says
    so, and the late articles are its lines."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        late = ArticleDraft("遅れて届いた記事", "日米の協議。", date(2025, 12, 19), False, "l", "l")
        await articles.ingest(connection, [late])
        made = datetime(2025, 12, 21, tzinfo=UTC)
        digest = await build_digest(connection, week_of(date(2025, 12, 22)), late_since=made)
    finally:
        await connection.close()
    assert (digest.total, digest.is_empty, len(digest.late)) == (0, False, 1)
    text = render(digest, "en").to_text()
    assert "No news in the week of" in text
    assert "遅れて届いた記事" in text


def test_newest_first_within_a_topic_and_other_last() -> None:
    """Within a group the newest comes first; articles without a topic form a last group."""
    week = Week(date(2025, 12, 15))
    items = [
        _article(1, date(2025, 12, 15), ("china",)),
        _article(2, date(2025, 12, 20), ("china", "taiwan")),
        _article(3, date(2025, 12, 18), ("china",)),
        _article(4, date(2025, 12, 16)),
        _article(5, date(2025, 12, 22), ("china",)),  # the next week: left out
    ]
    digest = group_articles(week, items)
    assert list(digest.counts) == ["taiwan", "china", OTHER]
    china = digest.groups[1]
    assert [a.id for a in china.articles] == [3, 1]
    assert digest.total == 4


def test_week_boundaries_tokyo_vs_utc() -> None:
    """Sunday 15:30 UTC is already Monday in Tokyo: the two timezones see different weeks."""
    now = datetime(2025, 12, 21, 15, 30, tzinfo=UTC)
    tokyo = week_of(timezone="Asia/Tokyo", now=now)
    utc = week_of(timezone="UTC", now=now)
    assert tokyo.start == date(2025, 12, 22)
    assert utc.start == date(2025, 12, 15)
    assert tokyo.starts_at == datetime(2025, 12, 21, 15, 0, tzinfo=UTC)
    assert tokyo.ends_at - tokyo.starts_at == timedelta(days=7)


def test_week_rejects_bad_input() -> None:
    """A week must start on a Monday, end on a date there is, be in a real timezone, and come
    from an aware `now`."""
    with pytest.raises(ValueError, match="Monday"):
        Week(date(2025, 12, 16))
    with pytest.raises(ValueError, match="last date"):
        week_of(date(9999, 12, 27))
    assert week_of(date(9999, 12, 26)).end == date(9999, 12, 26)
    with pytest.raises(ValueError, match="IANA"):
        week_of(date(2025, 12, 16), timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        week_of(now=datetime(2025, 12, 16, 12))


async def test_empty_week_names_the_latest_article_before(conn: aiosqlite.Connection) -> None:
    """An empty week carries the newest earlier article, and says so in both languages."""
    digest = await build_digest(conn, week_of(date(2026, 2, 2)))
    assert digest.is_empty
    assert digest.latest_before is not None
    assert digest.latest_before.published == date(2026, 1, 15)
    ja = render(digest, "ja")
    en = render(digest, "en")
    assert ja.sections == ()
    assert "記事はありません" in ja.header
    assert f"#{digest.latest_before.id}" in ja.header
    assert "No news in the week of" in en.header
    assert "Jan 15, 2026" in en.header
    pages = paginate(ja)
    assert len(pages) == 1
    assert pages[0].article_ids == ()


async def test_empty_database_week(tmp_path: Path) -> None:
    """With no article at all, an empty week has no 'latest' to show."""
    conn = await db.connect(tmp_path / "empty.db")
    try:
        digest = await build_digest(conn, week_of(date(2025, 12, 15)))
    finally:
        await conn.close()
    assert digest.is_empty
    assert digest.latest_before is None
    assert render(digest, "en").header.count("\n") == 0


def test_dates_per_language_and_inferred_marks() -> None:
    """Dates read 2025年12月19日 / Dec 19, 2025; inferred ones are marked 頃 / approx."""
    day = date(2025, 12, 19)
    assert format_date(day, "ja") == "2025年12月19日"
    assert format_date(day, "en") == "Dec 19, 2025"
    assert format_date(day, "ja", inferred=True) == "2025年12月19日頃"
    assert format_date(day, "en", inferred=True) == "approx. Dec 19, 2025"
    assert format_week(Week(date(2025, 12, 29)), "ja") == "2025年12月29日〜2026年1月4日"
    assert format_week(Week(date(2025, 9, 29)), "en") == "Sep 29 – Oct 5, 2025"


async def test_render_marks_inferred_and_counts(conn: aiosqlite.Connection) -> None:
    """A week with an inferred date marks it in its line and explains the mark in the header."""
    digest = await build_digest(conn, week_of(date(2026, 1, 12)))
    inferred = [a for a in digest.articles if a.date_inferred]
    assert inferred
    ja = render(digest, "ja")
    lines = [line.text for s in ja.sections for line in s.lines]
    assert any("頃 " in text and f"#{inferred[0].id}" in text for text in lines)
    assert "推定" in ja.header
    en = render(digest, "en")
    assert "approx." in en.to_text()
    assert f"{digest.total} articles" in en.header


def test_summary_is_one_clean_line() -> None:
    """Summaries fit 120 characters, hold no newline, and end on a phrase boundary or whole."""
    long_body = ("日米両政府は、" + "共同訓練の拡充と装備協力について、" * 12).rstrip("、") + "。"
    article = Article(1, long_body[:79] + "…", long_body, date(2025, 12, 16), False, "x")
    text = summarize(article)
    assert len(text) <= 120
    assert "\n" not in text
    assert text.endswith("…")
    assert text[:-1].endswith("について") or text[:-1].endswith("拡充と")
    short = Article(2, "短い見出し\n二行目", "本文。", date(2025, 12, 16), False, "x")
    assert summarize(short) == "短い見出し 二行目"


def _digest_of(n: int) -> Digest:
    week = Week(date(2025, 12, 15))
    slugs = ("taiwan", "nuclear", "china", "us-politics", "")
    items = [
        _article(i, week.start + timedelta(days=i % 7), (slugs[i % 5],) if slugs[i % 5] else ())
        for i in range(1, n + 1)
    ]
    return group_articles(week, items)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_splitting_300_articles_keeps_every_one(lang: str) -> None:
    """300 articles split into pages within the limits, each article exactly once."""
    rendered = render(_digest_of(300), lang)  # type: ignore[arg-type]
    limits = Limits()
    pages = paginate(rendered, limits)
    assert len(pages) > 1
    seen = [i for p in pages for i in p.article_ids]
    assert sorted(seen) == list(range(1, 301))
    for page in pages:
        assert page.chars <= limits.page_chars
        assert len(page.blocks) <= limits.blocks_per_page
        assert all(len(b.body) <= limits.block_chars for b in page.blocks)
        assert all(len(b.heading) <= limits.heading_chars for b in page.blocks)
        assert page.note is None
        # The ids written in the text are the ids the page claims to carry.
        written = [int(m[1]) for b in page.blocks for line in b.lines if (m := _ID.search(line))]
        assert written == list(page.article_ids)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_cut_digest_says_how_many_more(lang: str) -> None:
    """With a page cap, the last page says how many were left out; shown + left out = 300."""
    rendered = render(_digest_of(300), lang)  # type: ignore[arg-type]
    limits = Limits(max_pages=2)
    pages = paginate(rendered, limits)
    assert len(pages) == 2
    shown = sum(len(p.article_ids) for p in pages)
    last = pages[-1]
    assert last.note is not None
    assert last.omitted == 300 - shown > 0
    assert f"{last.omitted}" in last.note
    assert ("ほか" in last.note) if lang == "ja" else last.note.startswith("and ")
    assert "/alliance search" in last.note
    assert all(p.chars <= limits.page_chars for p in pages)


def test_small_digest_fits_one_page_without_note() -> None:
    """A digest that fits is one page with the header, and no 'more' note even with a cap."""
    rendered = render(_digest_of(12), "ja")
    pages = paginate(rendered, Limits(max_pages=1))
    assert len(pages) == 1
    assert pages[0].note is None
    assert pages[0].description == rendered.header
    assert len(pages[0].article_ids) == 12


def test_japanese_counts_are_written_as_the_rest_of_the_bot_writes_them() -> None:
    """The header, the topic headings and the cut note count "12件", as search and topics do:
    no spaces around the number."""
    rendered = render(_digest_of(12), "ja")
    assert "・記事12件" in rendered.header
    assert all(re.search(r"（\d+件）$", s.heading) for s in rendered.sections)
    assert rendered.more_note(3).startswith("ほか3件：")
    assert not re.search(r"\d 件|\s\d+件", rendered.to_text() + rendered.more_note(3))


@pytest.mark.parametrize(
    ("lang", "counts"),
    [("ja", "台湾有事（2件） ／ 核・抑止（3件）"), ("en", "Taiwan contingency (2) · Nuclear")],
)
def test_the_header_counts_each_topic_as_its_heading_does(lang: str, counts: str) -> None:
    """The header's counts per topic carry their counter, as the headings do: "台湾有事（2件）",
    not a bare "台湾有事 2"."""
    rendered = render(_digest_of(12), lang)  # type: ignore[arg-type]
    assert counts in rendered.header.splitlines()[1]
    assert rendered.sections[0].heading in rendered.header


def test_tight_block_limit_continues_sections() -> None:
    """A section longer than a block continues in a block marked as continued."""
    rendered = render(_digest_of(60), "en")
    pages = paginate(rendered, Limits(block_chars=300, page_chars=1600))
    headings = [b.heading for p in pages for b in p.blocks]
    assert any(h.endswith("(cont.)") for h in headings)
    assert sorted(i for p in pages for i in p.article_ids) == list(range(1, 61))
    assert all(p.title.endswith("(cont.)") for p in pages[1:])


def test_map_text_escapes_everything() -> None:
    """`map_text` reaches the title, header, headings and every line."""
    rendered = render(_digest_of(5), "en").map_text(str.upper)
    assert rendered.title.startswith("THIS WEEK")
    assert all(s.heading == s.heading.upper() for s in rendered.sections)
    assert "ARTICLES" in rendered.header


def test_limits_too_small_are_refused() -> None:
    """Limits that could not hold one line per page are refused up front."""
    with pytest.raises(ValueError, match="too small"):
        Limits(block_chars=1024, page_chars=1000)


def test_digest_lines_carry_the_article_link() -> None:
    """An article with a URL shows it on its digest line, in both languages."""
    week = week_of(date(2025, 12, 15))
    article = Article(5, "日米首脳会談", "本文", date(2025, 12, 16), False, "f", "https://ex.jp/1")
    rendered_ja = render(group_articles(week, [article]), "ja")
    rendered_en = render(group_articles(week, [article]), "en")
    assert rendered_ja.to_text().count("https://ex.jp/1") == 1
    assert rendered_en.to_text().count("https://ex.jp/1") == 1
