"""Embeds for articles and results stay within Discord's limits and never cut text silently."""

from __future__ import annotations

import dataclasses
from datetime import date

import discord
import pytest

from bot import render
from bot.core.models import Article
from bot.core.search.engine import COUNT_LIMIT, SearchHit, SearchResult
from bot.core.topics import load_taxonomy
from bot.i18n import format_date, lang_of
from bot.runner import application_id_from_token

TAXONOMY = load_taxonomy()


def _article(body: str, *, title: str = "日米首脳会談", inferred: bool = False) -> Article:
    return Article(
        id=7,
        title=title,
        body=body,
        published=date(2025, 12, 19),
        date_inferred=inferred,
        source="seed.txt:3",
        topics=("diplomacy", "taiwan"),
    )


def _within_limits(embed: discord.Embed) -> bool:
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (
        len(data.get("title", "")) <= render.TITLE_MAX
        and len(data.get("description", "")) <= render.DESCRIPTION_MAX
        and len(fields) <= 25
        and all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in fields)
        and len(data.get("footer", {}).get("text", "")) <= render.FOOTER_MAX
        and len(embed) <= render.EMBED_TOTAL_MAX
    )


def test_long_article_is_split_without_losing_text() -> None:
    """A 9,000-character body is spread over several embeds and every paragraph is shown."""
    paragraphs = [f"第{i}段落。" + "同盟の抑止力を高める。" * 12 for i in range(60)]
    view = render.article_messages(_article("\n\n".join(paragraphs)), taxonomy=TAXONOMY, lang="ja")
    shown = "".join(e.description or "" for message in view.messages for e in message)
    assert len(view.messages) > 1
    assert not view.truncated
    assert "".join(shown.split()) == "".join("".join(paragraphs).split())
    assert all(_within_limits(e) for message in view.messages for e in message)


def test_huge_article_says_it_was_cut() -> None:
    """A 200,000-character body is shown in part, and the last embed says so."""
    view = render.article_messages(_article("あ" * 200_000), taxonomy=TAXONOMY, lang="en")
    assert view.truncated
    assert len(view.messages) == render.MAX_ARTICLE_MESSAGES
    assert "only part of it is shown" in (view.messages[-1][-1].description or "")
    assert all(_within_limits(e) for message in view.messages for e in message)


def test_article_text_is_not_read_as_markdown() -> None:
    """Asterisks and underscores in an article are escaped, not turned into formatting."""
    view = render.article_messages(_article("**重要** _注意_ `code`"), taxonomy=TAXONOMY, lang="ja")
    description = view.messages[0][0].description or ""
    assert "\\*\\*重要\\*\\*" in description
    assert "\\_注意\\_" in description


@pytest.mark.parametrize(
    ("before", "tail"),
    [
        (render._BODY_CHUNK - 1, "*強調*"),  # escaped, the "*" would end the first piece
        (render._BODY_CHUNK, "- 箇条書きではない"),
        (render._BODY_CHUNK, "> 引用ではない"),
    ],
)
def test_a_cut_body_escapes_each_piece_whole(before: int, tail: str) -> None:
    """Where a long line is cut, no escape is cut in two, and the next embed escapes what now
    starts its line."""
    view = render.article_messages(_article("あ" * before + tail), taxonomy=TAXONOMY, lang="ja")
    first, second = (message[0].description or "" for message in view.messages)
    assert first == "あ" * before
    assert second == render.plain(tail)
    assert second.startswith("\\")


@pytest.mark.parametrize(
    ("stored", "linked"),
    [
        ("https://ex.jp/a b", None),
        ("https:///no-host", None),
        ("https://?q=1", None),
        ("https://#top", None),
        ("https://ex.jp／記事", None),
        ("https://ex.jp/a%20b", "https://ex.jp/a%20b"),
        ("http://ex.jp", "http://ex.jp"),
    ],
)
def test_an_article_url_discord_would_refuse_is_not_sent(stored: str, linked: str | None) -> None:
    """An article whose URL has a space or no host opens without it; a well-formed URL becomes
    the link."""
    article = Article(7, "見出し", "本文", date(2025, 12, 19), False, "feed", stored)
    view = render.article_messages(article, taxonomy=TAXONOMY, lang="en")
    assert view.messages[0][0].url == linked
    assert (render.article_link(article, "en") != "") is (linked is not None)


def test_search_page_fits_with_oversized_titles() -> None:
    """Five results with 300-character titles and long snippets still fit one embed."""
    hits = [
        SearchHit(
            article=_article("本文", title="長" * 300),
            snippet_parts=(("前" * 150, False), ("台湾", True), ("後" * 150, False)),
        )
        for _ in range(5)
    ]
    result = SearchResult("台湾" * 100, hits, total=5)
    embed = render.search_page("台湾" * 100, result, offset=0, taxonomy=TAXONOMY, lang="ja")
    assert _within_limits(embed)
    assert "**台湾**" in embed.fields[0].value  # type: ignore[operator]


def test_search_title_shows_the_query_as_typed() -> None:
    """Markdown in a query shows as typed in the results' title, not as formatting."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("**x** ~~y~~", [hit], total=1)
    embed = render.search_page("**x** ~~y~~", result, offset=0, taxonomy=TAXONOMY, lang="en")
    assert embed.title == "Results for “\\*\\*x\\*\\* \\~\\~y\\~\\~”"


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        (
            "ja",
            "「B52爆撃機」がそのまま出てくる記事がないため、「B52」「爆撃」「機」が近くに出てくる"
            "記事を表示しています。",
        ),
        (
            "en",
            "Nothing matched “B52爆撃機” as typed; showing articles where “B52”, “爆撃” and “機” "
            "appear close together.",
        ),
    ],
)
def test_words_searched_close_together_are_named_apart(lang: str, note: str) -> None:
    """A word typed without spaces, found as its words close together, says so, naming each
    word, not the spaced-out query (「B52 爆撃 機」) no one typed."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("B52爆撃機", [hit], total=1, corrected="B52 爆撃 機")
    result.near = ("B52", "爆撃", "機")
    embed = render.search_page("B52爆撃機", result, offset=0, taxonomy=TAXONOMY, lang=lang)
    assert embed.description is not None
    assert embed.description.splitlines()[0] == note


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("ja", "「トランブ」に一致する記事がないため、「トランプ OR 関税」で検索しました。"),
        ("en", "Nothing matched “トランブ”; showing results for “トランプ OR 関税”."),
    ],
)
def test_an_or_with_a_typo_names_only_the_word_that_matched_nothing(lang: str, note: str) -> None:
    """トランブ OR 関税, corrected, names トランブ as what matched nothing, not the whole query
    (関税 did match)."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("トランブ OR 関税", [hit], total=1, corrected="トランプ OR 関税")
    result.unmatched = ("トランブ",)
    embed = render.search_page("トランブ OR 関税", result, offset=0, taxonomy=TAXONOMY, lang=lang)
    assert embed.description is not None
    assert embed.description.splitlines()[0] == note


@pytest.mark.parametrize(
    ("lang", "near", "note"),
    [
        (
            "ja",
            ("高市", "首相"),
            "「高市首相」がそのまま出てくる記事は1件のため、「高市」「首相」が近くに出てくる記事も"
            "含めています。",
        ),
        (
            "en",
            ("高市", "首相"),
            "Only 1 matched “高市首相” as typed, so articles where “高市” and “首相” appear close "
            "together are included too.",
        ),
        (
            "ja",
            (),
            "「高市首相」に一致する記事は1件のため、「高市 首相」の検索結果も含めています。",
        ),
        ("en", (), "Only 1 matched “高市首相”, so results for “高市 首相” are included too."),
    ],
)
def test_a_search_with_few_matches_as_typed_says_what_it_added(
    lang: str, near: tuple[str, ...], note: str
) -> None:
    """Results of the loosened query added after the few exact ones are said to be added,
    not said to replace them."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("高市首相", [hit, hit], total=2, corrected="高市 首相", near=near)
    result.typed_total = 1
    embed = render.search_page("高市首相", result, offset=0, taxonomy=TAXONOMY, lang=lang)
    assert embed.description is not None
    assert embed.description.splitlines()[0] == note


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("ja", "「日米」の検索結果（トピック: 台湾有事）"),
        ("en", "Results for “日米” in Taiwan contingency"),
    ],
)
def test_a_search_in_a_topic_says_so_in_its_title(lang: str, title: str) -> None:
    """A page of results filtered by topic names the topic, for everyone reading it."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("日米", [hit], total=1)
    label = TAXONOMY.label("taiwan", lang)  # type: ignore[arg-type]
    embed = render.search_page(
        "日米", result, offset=0, taxonomy=TAXONOMY, lang=lang, topic_label=label
    )
    assert embed.title == title


@pytest.mark.parametrize("control", ["\u202e", "\u2067", "\u200f", "\u061c", "\n"])
def test_a_quoted_query_carries_no_direction_controls(control: str) -> None:
    """A query with a direction override (or a line break) is quoted back without it, in the
    results' title and in "no results"."""
    query = f"{control}台湾 日米"
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    page = render.search_page(
        query, SearchResult(query, [hit], total=1), offset=0, taxonomy=TAXONOMY, lang="en"
    )
    assert page.title == "Results for “台湾 日米”"
    none = render.no_results(query, [], None, "en")
    assert (none.description or "").startswith("No articles match “台湾 日米”.")


@pytest.mark.parametrize(
    ("total", "lang", "line"),
    [
        (12_345 - 2_346, "ja", "9,999件中 9,996件目"),
        (COUNT_LIMIT + 1, "ja", "10,000件以上のうち 9,996件目"),
        (COUNT_LIMIT + 1, "en", "9,996 of more than 10,000"),
    ],
)
def test_search_count_says_more_than_the_limit(total: int, lang: str, line: str) -> None:
    """Past the counting limit the count reads "more than 10,000", with thousands separators."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("日米", [hit], total=total)
    embed = render.search_page("日米", result, offset=9_995, taxonomy=TAXONOMY, lang=lang)
    assert embed.description == line


@pytest.mark.parametrize(
    ("lang", "line"), [("ja", "12件中 1件目（新しい順）"), ("en", "1 of 12, newest first")]
)
def test_search_count_says_when_sorted_newest_first(lang: str, line: str) -> None:
    """A page sorted newest first says so after its count, in the reader's language."""
    hit = SearchHit(article=_article("本文"), snippet_parts=(("本文", True),))
    result = SearchResult("日米", [hit], total=12)
    embed = render.search_page(
        "日米", result, offset=0, taxonomy=TAXONOMY, lang=lang, newest_first=True
    )
    assert embed.description == line


@pytest.mark.parametrize(
    ("first", "last", "exact", "ja", "en"),
    [
        (1, 5, True, "22件中 1–5件目", "1–5 of 22"),
        (1, 1, True, "22件中 1件目", "1 of 22"),
        (22, 22, True, "22件中 22件目", "22 of 22"),
        (6, 6, False, "22件以上のうち 6件目", "6 of more than 22"),
    ],
)
def test_a_page_of_one_item_names_it_alone(
    first: int, last: int, exact: bool, ja: str, en: str
) -> None:
    """A page's count reads a range ("1–5 of 22"), but one item alone ("1 of 22", not 1–1)."""
    assert render.page_count(22, first, last, "ja", exact=exact) == ja
    assert render.page_count(22, first, last, "en", exact=exact) == en


def test_clipped_snippet_never_leaves_bold_open() -> None:
    """A snippet clipped inside a match closes its bold and stays within the limit."""
    hit = SearchHit(article=_article("x"), snippet_parts=(("あ*" * 5, False), ("い" * 50, True)))
    clipped = render.snippet_markdown(hit, 30)
    assert clipped.count("**") == 2
    assert clipped.endswith("**…")
    assert len(clipped) <= 30


@pytest.mark.parametrize(
    ("lang", "inferred", "expected"),
    [
        ("ja", False, "2025年12月19日"),
        ("ja", True, "2025年12月19日頃"),
        ("en", False, "Dec 19, 2025"),
        ("en", True, "approx. Dec 19, 2025"),
    ],
)
def test_dates_read_naturally(lang: str, inferred: bool, expected: str) -> None:
    """Dates follow each language's habit and mark inferred dates."""
    assert format_date(date(2025, 12, 19), lang, inferred=inferred) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("locale", "lang"),
    [(discord.Locale.japanese, "ja"), (discord.Locale.american_english, "en"), ("fr", "en")],
)
def test_reply_language_follows_locale(locale: discord.Locale | str, lang: str) -> None:
    """Japanese clients get Japanese; everyone else English."""
    assert lang_of(locale) == lang


def test_application_id_is_read_from_token() -> None:
    """The id at the start of a bot token is decoded; junk gives None."""
    assert application_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.abc.def") == 123456789012345678
    assert application_id_from_token("not a token") is None
    assert application_id_from_token("") is None


def test_results_link_to_the_article_page() -> None:
    """A result with a URL links to it; a URL that would break Markdown is not linked."""
    linked = Article(7, "見出し", "本文", date(2025, 12, 19), False, "feed", "https://ex.jp/a?id=1")
    broken = Article(8, "見出し", "本文", date(2025, 12, 19), False, "feed", "https://ex.jp/(x)")
    embed = render.article_list("t", [linked, broken], taxonomy=TAXONOMY, lang="en")
    assert "[Read](https://ex.jp/a?id=1)" in str(embed.fields[0].value)
    assert "](" not in str(embed.fields[1].value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("日米同盟の抑止力", "日米同盟の抑止力"),
        ("F-35 と B-52", "F-35 と B-52"),
        ("- 箇条書き", "\\- 箇条書き"),
        ("  - indented\n>>> quote", "  \\- indented\n\\>>> quote"),
        ("# 見出し", "\\# 見出し"),
        ("-# 小さい", "\\-# 小さい"),
        ("[リンク](https://example.com)", "\\[リンク](https://example.com)"),
        ("https://example.com/a_b*c", "https://example.com/a_b*c"),
        ("a_b*c~d|e`f\\g", "a\\_b\\*c\\~d\\|e\\`f\\\\g"),
        ("<@123> <#1> <t:1:F> <:e:1>", "\\<@123> \\<#1> \\<t:1:F> \\<:e:1>"),
        (
            "[注](http://a.example) ||隠し|| **太字** (補足)",
            "\\[注](http://a.example) \\|\\|隠し\\|\\| \\*\\*太字\\*\\* (補足)",
        ),
        ("", ""),
    ],
)
def test_plain_text_escapes_markdown_mentions_and_masked_links(text: str, shown: str) -> None:
    """Markdown, masked links, mentions, timestamps and custom emoji show as written; a web
    address is left whole (an escape would become part of it)."""
    assert render.plain(text) == shown


def test_plain_text_of_any_shape_is_escaped_in_one_pass() -> None:
    """A body of "[a](" 20,000 times (discord.py's escape backtracked for seconds on it) is
    escaped like any other."""
    assert render.plain("[a](" * 20_000) == "\\[a](" * 20_000


def test_a_masked_link_split_by_a_match_stays_text() -> None:
    """A link around a matched word is not a link in the snippet: its "[" is escaped."""
    parts = (
        ("詳しくは[日米", False),
        ("公式サイト", True),
        ("](http://evil.example/login)", False),
    )
    hit = SearchHit(article=_article("本文"), snippet_parts=parts)
    assert render.snippet_markdown(hit) == (
        "詳しくは\\[日米**公式サイト**](http://evil.example/login)"
    )


def test_a_snippet_piece_after_a_match_is_not_a_line_start() -> None:
    """ " - " after a matched word is mid-line: no backslash shows before it."""
    parts = (("結果 - ", False), ("良好確認", True), (" - 発表。", False))
    hit = SearchHit(article=_article("本文"), snippet_parts=parts)
    assert render.snippet_markdown(hit) == "結果 - **良好確認** - 発表。"


def test_titles_are_shown_as_written() -> None:
    """Markdown in a title shows as written in result names and article titles."""
    article = _article("本文", title="||ネタバレ|| **太字**")
    listed = render.article_list("最新", [article], taxonomy=TAXONOMY, lang="ja")
    assert listed.fields[0].name == f"#{article.id} \\|\\|ネタバレ\\|\\| \\*\\*太字\\*\\*"
    view = render.article_messages(article, taxonomy=TAXONOMY, lang="ja")
    assert view.messages[0][0].title == "\\|\\|ネタバレ\\|\\| \\*\\*太字\\*\\*"


def test_a_long_title_keeps_which_part_a_message_is() -> None:
    """A 300-character title of Markdown characters gives way to "(continued 2/2)", and no
    title passes 256 characters or ends in half an escape."""
    article = _article("同盟の抑止力を高める。" * 400, title="*" * 300)
    view = render.article_messages(article, taxonomy=TAXONOMY, lang="en")
    first, second = (message[0].title or "" for message in view.messages)
    assert second.endswith(" (continued 2/2)")
    assert all(len(title) <= render.TITLE_MAX for title in (first, second))
    assert first.endswith("\\*…")


def test_a_later_part_of_an_article_is_titled_without_a_space_before_the_japanese_paren() -> None:
    """In Japanese the part follows the title: 見出し（続き 2/2）, not 見出し （続き 2/2）."""
    article = _article("同盟の抑止力を高める。" * 400, title="見出し")
    view = render.article_messages(article, taxonomy=TAXONOMY, lang="ja")
    assert view.messages[1][0].title == "見出し（続き 2/2）"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_shortened_article_without_a_page_does_not_point_to_the_cli(lang: str) -> None:
    """With no web page to point to, the note says only part is shown, not a CLI command."""
    article = _article("同盟の抑止力を高める。" * 3000)
    shown = render.article_messages(article, taxonomy=TAXONOMY, lang=lang)
    note = str(shown.messages[-1][-1].description).rsplit("\n\n", 1)[1]
    assert note == render.t("article.cut", lang)
    assert "alliance-bot" not in note


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_ten_listed_articles_with_long_titles_and_links_fit_one_embed(lang: str) -> None:
    """`latest count:10` of 300-character titles and 280-character links stays within 6000."""
    url = "https://news.example.jp/articles/" + "a" * 250
    listed = [
        dataclasses.replace(_article("本文。" * 200, title="長" * 300), id=n, url=url)
        for n in range(1, 11)
    ]
    embed = render.article_list(
        "最新の記事", listed, taxonomy=TAXONOMY, lang=lang, footer="123件中 1–10件目"
    )
    assert _within_limits(embed)
    assert len(embed.fields) == 10
    assert all(f"]({url})" in str(field.value) for field in embed.fields)


def test_a_listed_summary_cut_short_keeps_its_escapes_whole() -> None:
    """Ten listed articles whose summaries are all Markdown characters: each value fits its
    share and ends in a whole escape and the ellipsis, never a stray backslash."""
    url = "https://news.example.jp/articles/" + "a" * 250
    body = "*_" * 80
    listed = [
        dataclasses.replace(_article(body, title="長" * 300), id=n, url=url) for n in range(1, 11)
    ]
    embed = render.article_list("最新の記事", listed, taxonomy=TAXONOMY, lang="en")
    assert _within_limits(embed)
    for field in embed.fields:
        summary = str(field.value).split("\n", 1)[1]
        assert summary.endswith("…")
        assert not summary.endswith("\\…")
        assert summary[:-1] == render.plain(body[: len(summary[:-1]) // 2])


@pytest.mark.parametrize("url_chars", [300, 2000])
def test_a_shortened_article_keeps_its_full_text_link_whole(url_chars: int) -> None:
    """The note under a shortened article keeps its whole link, however long the link is."""
    url = "https://news.example.jp/" + "b" * (url_chars - 24)
    article = dataclasses.replace(_article("同盟の抑止力を高める。" * 3000), url=url)
    shown = render.article_messages(article, taxonomy=TAXONOMY, lang="en")
    assert shown.truncated
    last = shown.messages[-1][-1]
    assert _within_limits(last)
    assert str(last.description).endswith(f"Full text: {url})")


FLAG_JP, FLAG_US = "\U0001f1ef\U0001f1f5", "\U0001f1fa\U0001f1f8"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
THUMBS = "\U0001f44d\U0001f3fd"
GA = "か\u3099"  # が as か and a combining voiced mark


def _only(text: str, *units: str) -> bool:
    for unit in units:
        text = text.replace(unit, "")
    return text == ""


@pytest.mark.parametrize(
    "units", [(FLAG_JP, FLAG_US), (FAMILY,), (THUMBS,), (GA,), ("e\u0301",)], ids=str
)
@pytest.mark.parametrize("lead", range(0, 4))
def test_clipping_never_splits_what_a_reader_sees_as_one_character(
    units: tuple[str, ...], lead: int
) -> None:
    """A title, value or body cut anywhere keeps flags, joined emoji and marked letters whole."""
    unit = "".join(units)
    text = "あ" * lead + unit * 40
    for limit in range(lead + 1, lead + 3 * len(unit) + 2):
        kept = render.clip(text, limit).removesuffix("…")
        assert len(kept) < limit
        assert _only(kept.removeprefix("あ" * lead), *units), (limit, kept)
        escaped = render.plain_clip(text, limit).removesuffix("…")
        assert _only(escaped.removeprefix("あ" * lead), *units), (limit, escaped)


def test_a_body_cut_without_a_sentence_end_keeps_flags_whole() -> None:
    """A long body with no paragraph or sentence to cut at is cut between two flags."""
    body = "あ" + FLAG_JP * 4000 + "あ" + FLAG_US * 4000  # "あ" first: no cut falls evenly
    view = render.article_messages(_article(body), taxonomy=TAXONOMY, lang="ja")
    pieces = [e.description or "" for message in view.messages for e in message]
    assert len(pieces) > 2
    assert all(_only(piece, FLAG_JP, FLAG_US, "あ") for piece in pieces[:-1])


def test_an_endless_run_of_marks_is_still_cut() -> None:
    """Thousands of marks on one letter are no character: the text is cut, not dropped."""
    text = "a" + "\u0301" * 5000
    assert len(render.clip(text, 100)) == 100
    assert render.whole_characters(text, 100) == 100


def test_a_title_with_line_breaks_is_shown_on_one_line() -> None:
    """A title imported with line breaks and tabs reads as one line in a menu option or
    autocomplete choice, a result's heading and an article's title."""
    article = _article("本文です。" * 3000, title="日米\n同盟の\t見出し\r\nです")
    assert render.select_label(article) == "#7 日米 同盟の 見出し です"
    listed = render.article_list("最新", [article], taxonomy=TAXONOMY, lang="ja", footer="")
    assert listed.fields[0].name == "#7 日米 同盟の 見出し です"
    shown = render.article_messages(article, taxonomy=TAXONOMY, lang="ja").messages
    titles = [embed.title or "" for message in shown for embed in message]
    assert len(titles) > 1
    assert all(title.startswith("日米 同盟の 見出し です") for title in titles)


def test_fields_over_several_embeds_are_numbered_and_one_embed_is_not() -> None:
    """30 fields of 1,000 characters take several embeds titled "… (1/6)" to "… (6/6)", each
    within Discord's limits (a 256-character title too); two fields keep the title as it is."""
    fields = [(f"#{i}", "v" * 1000) for i in range(30)]
    embeds = render.field_embeds("T" * 300, fields, empty="-")
    assert len(embeds) > 1
    count = len(embeds)
    titles = [e.title or "" for e in embeds]
    assert [t.endswith(f" ({n}/{count})") for n, t in enumerate(titles, 1)] == [True] * count
    assert all(e.title is not None and len(e.title) <= 256 and len(e) <= 6000 for e in embeds)
    [one] = render.field_embeds("Schedules", fields[:2], empty="-")
    assert one.title == "Schedules"
