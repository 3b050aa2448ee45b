"""Reading the seed layouts and the JSON Lines format."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import pytest

from bot.core import corpus
from bot.core.corpus import MAX_LISTING_BYTES, clean, derive_title, read_file, read_path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
LISTING = SEEDS / "000_ec138bacc4a23740.txt"
SINGLE = SEEDS / "002_defbe0f32aa9e960.txt"

# Line of the listing file → the date written in that summary, resolved.
EXPLICIT_DATES = {
    5: date(2026, 1, 15),  # 1月15日
    8: date(2026, 1, 8),  # 1月8日
    11: date(2025, 12, 19),  # 2025年12月19日
    12: date(2025, 12, 17),
    13: date(2025, 12, 16),
    16: date(2025, 12, 10),  # 12月10日
    17: date(2025, 12, 6),  # 6日
    18: date(2025, 12, 8),  # 8日
    19: date(2025, 11, 25),  # 25日午前10時
    20: date(2025, 11, 23),  # 11月23日
    21: date(2025, 10, 29),  # 10月29日
    22: date(2025, 10, 28),  # 2025年10月27〜28日: the range ends on the 28th
}


def _line(source: str) -> int:
    return int(source.rsplit(":", 1)[1])


def test_seeds_hold_21_articles_without_warnings() -> None:
    """Both seed files together give the 21 distinct articles and no warning."""
    read = read_path(SEEDS)
    assert len(read.drafts) == 21
    assert read.warnings == []


def test_listing_drops_boilerplate_and_repeat() -> None:
    """The page boilerplate is not an article and the repeated summary is stored once."""
    drafts = read_file(LISTING).drafts
    assert len(drafts) == 20
    assert not any(d.body.startswith("本ページでは") for d in drafts)
    repeated = LISTING.read_text("utf-8").splitlines()[1]
    assert sum(d.body == repeated for d in drafts) == 1


def test_listing_headline_belongs_to_first_summary() -> None:
    """Line 1 is the headline of the article whose summary is line 2."""
    first = read_file(LISTING).drafts[0]
    assert first.title == "台湾有事の退避、米軍防護へ議論加速 首相、傍観なら同盟崩壊と警鐘"
    assert first.title_derived is False
    assert first.body.startswith("台湾有事を想定した邦人退避の議論")
    assert first.source == "000_ec138bacc4a23740.txt:2"


@pytest.mark.parametrize("cut", ["…", "..."])
def test_a_summary_cut_short_is_a_summary_not_a_headline(tmp_path: Path, cut: str) -> None:
    """A listing's summaries cut short with … (they say on which day) are each an article with
    its own text, not headlines of the lines after them."""
    lines = [
        f"小泉防衛相は12月20日、ヘグセス国防長官と電話会談し、抑止力強化で一致した{cut}",
        f"米国務省は12月18日、日本へのミサイル売却を承認し議会に通知した{cut}",
        "防衛省は12月15日、日米共同訓練を沖縄周辺で実施したと発表した。",
    ]
    path = tmp_path / "page.txt"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    read = read_file(path)
    assert [d.body for d in read.drafts] == lines
    assert all(d.title_derived for d in read.drafts)
    assert read.warnings == []


def test_a_headline_cut_short_or_with_a_full_stop_is_still_a_headline(tmp_path: Path) -> None:
    """A headline cut short with … (it says no day) or with 。 inside (速報。) titles the
    summary after it."""
    lines = [
        "日米首脳が電話会談、同盟強化で一致…",
        "高市首相とトランプ大統領は12月19日に電話会談し、同盟の抑止力強化で一致した。",
        "速報。北朝鮮がミサイル発射",
        "防衛省によると12月18日、北朝鮮が弾道ミサイル1発を発射した。",
    ]
    path = tmp_path / "page.txt"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    drafts = read_file(path).drafts
    assert [(d.title, d.body) for d in drafts] == [(lines[0], lines[1]), (lines[2], lines[3])]


def test_alike_summaries_of_other_days_are_two_articles(tmp_path: Path) -> None:
    """Two summaries of one formula but of other days (a launch a week later) are each stored;
    the same summary again is stored once."""
    launch = "北朝鮮は12月{}日午前、弾道ミサイル1発を日本海に向けて発射したと防衛省が発表した。"
    lines = [launch.format(17), launch.format(10), launch.format(10)]
    path = tmp_path / "page.txt"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert [d.body for d in read_file(path).drafts] == lines[:2]


def test_explicit_dates_are_read_exactly() -> None:
    """Every date written in a summary, full or partial, resolves to the right day."""
    by_line = {_line(d.source): d for d in read_file(LISTING).drafts}
    for line, expected in EXPLICIT_DATES.items():
        assert (by_line[line].published, by_line[line].date_inferred) == (expected, False), line


def test_undated_articles_sit_between_their_neighbours() -> None:
    """Undated summaries are marked inferred and dated within their neighbours' interval."""
    drafts = read_file(LISTING).drafts
    for i, draft in enumerate(drafts):
        if not draft.date_inferred:
            continue
        if i > 0:
            assert draft.published <= drafts[i - 1].published
        if i + 1 < len(drafts):
            assert draft.published >= drafts[i + 1].published
    inferred = [d for d in drafts if d.date_inferred]
    assert len(inferred) == 8
    assert {d.published for d in inferred if _line(d.source) in (14, 15)} == {
        date(2025, 12, 14),
        date(2025, 12, 12),
    }


def test_single_article_keeps_body_and_headings() -> None:
    """The long article takes its header date as is, keeps headings and derives a title."""
    (draft,) = read_file(SINGLE).drafts
    assert draft.published == date(2026, 1, 2)
    assert draft.date_inferred is False
    assert draft.body.startswith("この2、3年における日米同盟")
    assert "日本でミサイルを作ることで「頼れるパートナー」に？" in draft.body
    assert draft.body.endswith("なくなったのである。")
    assert draft.title == "この2、3年における日米同盟の最大のミッションは「台湾有事」の抑止であった"
    assert draft.title_derived is True


_SPELLED_OUT = "expected `date YYYY-MM-DD`"
# Placeholders, no day, and a day far in the future.
_NO_ARTICLE_DAYS = ["0001-01-01", "1899-12-31", "9999-12-31", "2026-02-30", "2199-01-01"]


@pytest.mark.parametrize(
    ("first", "named"),
    [
        *((f"date {day} 日米が協議した。", repr(day)) for day in _NO_ARTICLE_DAYS),
        ("date 2026/1/2 日米が協議した。", _SPELLED_OUT),
        ("Date: 2026-01-02 日米が協議した。", _SPELLED_OUT),
        ("date", _SPELLED_OUT),
        ("DATE ２０２６", _SPELLED_OUT),
        ("date：2026年1月2日 日米が協議した。", _SPELLED_OUT),
        ("Date: January 2, 2026", _SPELLED_OUT),
        ("date2026-01-02 日米が協議した。", _SPELLED_OUT),
        ("date 2026-01-021 日米が協議した。", "'2026-01-021', " + _SPELLED_OUT + " then the text"),
        ("date 2026-01-02T09:00 日米が協議した。", "'2026-01-02T09:00', " + _SPELLED_OUT),
        ("date ２０２６-０２-３０ 日米が協議した。", "'２０２６-０２-３０'"),
    ],
)
def test_a_header_without_a_usable_date_is_refused(tmp_path: Path, first: str, named: str) -> None:
    """A header dated outside the years an article can have or on no real day, or meant as a
    header but not written `date YYYY-MM-DD`, is a warning on line 1 saying so, and no article
    (not a listing page that makes each paragraph an article)."""
    path = tmp_path / "one.txt"
    path.write_text(f"{first}\n\n第二段落。\n", "utf-8")
    read = read_file(path)
    assert read.drafts == []
    [warning] = read.warnings
    assert warning.line == 1
    assert "invalid date in header" in warning.message
    assert named in warning.message


@pytest.mark.parametrize(
    "first",
    [
        "date 2026-01-02日米が協議した。",
        "date ２０２６-０１-０２ 日米が協議した。",
        "date ２０２６－０１－０２日米が協議した。",
        "date 2026-01-02\u3000日米が協議した。",
    ],
)
def test_a_header_in_full_width_digits_or_without_a_space_is_read(
    tmp_path: Path, first: str
) -> None:
    """A header date in full-width digits, or followed by the text with no space (Japanese has
    none), is the article's date, and the text after it its first paragraph."""
    path = tmp_path / "one.txt"
    path.write_text(f"{first}\n\n第二段落。\n", "utf-8")
    read = read_file(path)
    assert read.warnings == []
    (draft,) = read.drafts
    assert (draft.published, draft.body) == (date(2026, 1, 2), "日米が協議した。\n\n第二段落。")


@pytest.mark.parametrize(
    "headline", ["Dates set for 2+2 talks", "Date 2 of summit talks begins", "Date 2026: a year"]
)
def test_a_listing_whose_first_headline_begins_with_date_is_still_a_listing(
    tmp_path: Path, headline: str
) -> None:
    """A headline beginning with "Date" but no date after it is a listing's, not a header."""
    path = tmp_path / "page.txt"
    path.write_text(f"{headline}\n日米が2+2の日程を発表した。\n", "utf-8")
    read = read_file(path)
    assert read.warnings == []
    assert [d.title for d in read.drafts] == [headline]


def test_a_first_line_of_date_and_many_spaces_is_a_listing_line(tmp_path: Path) -> None:
    """A first line of "Date", 100,000 spaces and words but no date is a listing's line like any
    other, not a header meant (telling so took minutes, growing with the square of the spaces)."""
    first = "Date" + " " * 100_000 + "2 of summit talks begins"
    path = tmp_path / "page.txt"
    path.write_text(f"{first}\n日米が2+2の日程を発表した。\n", "utf-8")
    read = read_file(path)
    assert read.warnings == []
    assert [d.body for d in read.drafts] == [first, "日米が2+2の日程を発表した。"]


def test_derived_titles_fit_and_end_on_a_phrase() -> None:
    """A derived headline is at most 80 characters and is cut after a phrase, not mid-word."""
    lead = (
        "元バイデン政権のダニエル・クリテンブリンク氏は、米中関係の安定が日本の安全保障や利益を"
        "犠牲にしてはならないと警鐘を鳴らし、トランプ政権に日中緊張緩和と同盟国の不安解消の責任を求めた。"
    )
    title = derive_title(lead)
    assert len(title) <= 80
    assert title.endswith("…")
    assert lead.startswith(title[:-1])
    assert title[-2] in "、にをはがのと" or title[-2] == "し"


@pytest.mark.parametrize(
    ("lead", "title"),
    [
        (
            "！速報、日米首脳が電話会談し同盟強化で一致した。",
            "速報、日米首脳が電話会談し同盟強化で一致した",
        ),
        ("。？日米の防衛相が会談した。次の文。", "日米の防衛相が会談した"),
        ("……。\n日米が協議した。", "日米が協議した"),
        ("！？", "！？"),  # nothing but marks: kept, never an empty title
    ],
    ids=["leading ！", "leading 。？", "a line of marks", "marks alone"],
)
def test_a_derived_title_skips_what_comes_before_a_leading_sentence_end(
    lead: str, title: str
) -> None:
    """A lead that opens with 。！？ (or a sentence of marks alone) is titled by its first
    sentence with words, not by the empty text before the mark."""
    assert derive_title(lead) == title


@pytest.mark.parametrize(
    ("content", "title"),
    [
        (
            "！速報、日米首脳が電話会談し同盟強化で一致した。\n",
            "速報、日米首脳が電話会談し同盟強化で一致した",
        ),
        ("date 2025-12-19 。日米首脳が電話会談した。\n", "日米首脳が電話会談した"),
    ],
    ids=["listing", "single article"],
)
def test_a_text_file_opening_with_a_sentence_end_gets_a_title(
    tmp_path: Path, content: str, title: str
) -> None:
    """A listing line or a dated article opening with ！ or 。 is stored with a headline."""
    path = tmp_path / "bang.txt"
    path.write_text(content, "utf-8")
    assert [d.title for d in read_file(path).drafts] == [title]


def test_near_duplicate_summary_is_stored_once(tmp_path: Path) -> None:
    """A summary repeated with a one-character change is the same article."""
    summary = (
        "防衛省は12月10日、航空自衛隊と米軍が日本海上空で共同訓練を実施し、抑止力と連携を示した。"
    )
    path = tmp_path / "page.txt"
    path.write_text(f"{summary}\n{summary.replace('示した', '示す')}\n", "utf-8")
    assert len(read_file(path).drafts) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"\xff\xfe" + "日米\x00".encode("utf-16-le"), "binary"),
        (b"\xff\xfe" + "日米".encode("utf-16-le") + b"\x00\xd8", "not UTF-16"),
        ("台湾有事の退避。".encode("shift_jis"), "not UTF-8"),
        (b"", "empty"),
        (b"  \n\n ", "empty"),
    ],
)
def test_unreadable_file_gives_a_warning(tmp_path: Path, content: bytes, message: str) -> None:
    """Binary, wrongly encoded and empty files give a warning naming the file, no article."""
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    read = read_file(path)
    assert read.drafts == []
    (warning,) = read.warnings
    assert warning.path == "bad.txt"
    assert message in warning.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_read_in_its_encoding(
    tmp_path: Path, encoding: str
) -> None:
    """A text saved as UTF-16 or UTF-32 (LE or BE) with its byte order mark, as Windows editors
    save "Unicode", is read like UTF-8: its header, its date and its text."""
    path = tmp_path / "windows.txt"
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(encoding, "")
    path.write_bytes(
        (bom + "date 2026-01-02 日米が協議した。\r\n\r\n第二段落。\r\n").encode(encoding)
    )
    read = read_file(path)
    assert read.warnings == []
    (draft,) = read.drafts
    assert (draft.published, draft.body) == (date(2026, 1, 2), "日米が協議した。\n\n第二段落。")


def test_folder_import_continues_past_a_bad_file(tmp_path: Path) -> None:
    """A bad file in a folder is reported while the good ones still import."""
    (tmp_path / "a.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "b.txt").write_text("米国務省は2025年12月16日、改修支援を承認した。\n", "utf-8")
    read = read_path(tmp_path)
    assert [d.published for d in read.drafts] == [date(2025, 12, 16)]
    assert [w.path for w in read.warnings] == ["a.txt"]


def test_jsonl_reads_good_lines_and_names_bad_ones(tmp_path: Path) -> None:
    """Valid JSON Lines become articles; each bad line is a warning with its line number."""
    good = {
        "title": "日米防衛相会談",
        "body": "小泉防衛相とヘグセス国防長官が会談した。",
        "published": "2026-02-01",
        "url": "https://example.org/a",
        "source": "Example News",
        "topics": ["diplomacy"],
    }
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps({**good, "title": ""}),
        json.dumps({**good, "published": "someday"}),
        json.dumps({**good, "url": "javascript:alert(1)"}),
        "[1, 2]",
        "",
        json.dumps({**good, "body": "別の記事。", "published": "2026-02-02T09:00:00+09:00"}),
    ]
    path = tmp_path / "extra.jsonl"
    path.write_text("\n".join(lines), "utf-8")
    read = read_file(path)
    assert [d.published for d in read.drafts] == [date(2026, 2, 1), date(2026, 2, 2)]
    first = read.drafts[0]
    assert (first.url, first.source, first.topics) == (
        "https://example.org/a",
        "Example News",
        ("diplomacy",),
    )
    assert [(w.path, w.line) for w in read.warnings] == [
        ("extra.jsonl", n) for n in (2, 3, 4, 5, 6)
    ]
    assert "published" in read.warnings[2].message


def test_jsonl_topics_are_named_as_the_topic_option_names_them(tmp_path: Path) -> None:
    """A topic is found by its slug or either label in any case or width, as `--topic` finds it,
    and given once; an unknown one is still a warning."""
    line = {
        "title": "日米が協議",
        "body": "日米の外務・防衛当局が協議した。",
        "published": "2026-02-01",
        "topics": ["Taiwan", "台湾有事", "ＴＡＩＷＡＮ", "Taiwan contingency", "核・抑止", "Nope"],
    }
    path = tmp_path / "extra.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", "utf-8")
    read = read_file(path)
    assert [d.topics for d in read.drafts] == [("taiwan", "nuclear")]
    assert [(w.line, w.message) for w in read.warnings] == [(1, "unknown topic 'nope' ignored")]


@pytest.mark.parametrize("prefix", ["\u200b", "\ufeff", "\u2060\u200b"])
def test_invisible_characters_before_the_header_keep_one_article(
    tmp_path: Path, prefix: str
) -> None:
    """A zero-width space or second BOM before `date` still reads as the same single article."""
    copy = tmp_path / SINGLE.name
    copy.write_text(prefix + SINGLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_file(copy, origin="o").drafts == read_file(SINGLE, origin="o").drafts


def test_a_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A FIFO (which would block forever) is refused as not a regular file."""
    fifo = tmp_path / "feed.txt"
    os.mkfifo(fifo)
    result = read_file(fifo)
    assert result.drafts == []
    assert [w.message for w in result.warnings] == ["not a regular file"]


def test_a_json_document_is_refused_not_read_as_text(tmp_path: Path) -> None:
    """A .json file (an array of articles) is refused with a pointer to JSON Lines."""
    path = tmp_path / "articles.json"
    path.write_text(json.dumps([{"title": "見出し", "body": "本文。"}]), encoding="utf-8")
    result = read_file(path)
    assert result.drafts == []
    assert "JSON Lines (.jsonl)" in result.warnings[0].message


def test_origin_is_the_full_path_except_in_the_seeds_folder(tmp_path: Path) -> None:
    """Two same-named files differ in origin; a seeds file's origin ignores where seeds live."""
    for folder in ("fa", "fb", "seeds"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "news.txt").write_text(f"{folder}は2025年12月16日に発表した。\n")
    fa, fb = (read_path(tmp_path / f / "news.txt").drafts[0].origin for f in ("fa", "fb"))
    assert fa != fb
    assert fa == (tmp_path / "fa" / "news.txt").resolve().as_posix()
    seeded = read_path(tmp_path / "seeds", seeds=tmp_path / "seeds").drafts
    assert [d.origin for d in seeded] == ["seeds/news.txt"]
    assert [d.source for d in seeded] == ["news.txt:1"]


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Real headline\rFAKE", "Real headline\nFAKE"),
        ("第一段落。\r\n\r\n第二段落。", "第一段落。\n\n第二段落。"),
        ("一行目\u2028二行目\u2029次の段落", "一行目\n二行目\n\n次の段落"),
        ("\u2066日米\u2069同盟\U000e0001\U000e0041\U000e007f", "日米同盟"),
        ("𠮷野家で😀\U000e0041\U0001d173", "𠮷野家で😀"),
        ("葛\U000e0100城市\u00ad長", "葛\U000e0100城市長"),  # the variation selector is the name's
        ("外字\ue000\u3000と\x9b31m\x85\t制御", "外字\ue000\u3000と31m\t制御"),
    ],
    ids=[
        "CR",
        "CRLF",
        "separators",
        "isolates and tags",
        "astral kept",
        "soft hyphen",
        "C1 controls",
    ],
)
def test_clean_removes_controls_and_format_characters_and_keeps_text(
    text: str, cleaned: str
) -> None:
    """Line breaks become newlines and every other control or invisible format character goes;
    variation selectors, private-use 外字, ideographic spaces and tabs stay."""
    assert clean(text) == cleaned


def test_clean_removes_every_control_and_format_character_python_knows() -> None:
    """Every character of Unicode's categories Cc (but tab and newline) and Cf, and the whole
    tag block, is removed, as docs/articles-jsonl.md says."""
    hidden = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Cf") or 0xE0000 <= code <= 0xE007F
    ]
    kept = "\t\n\r"  # a CR is a line break
    assert clean("日" + "".join(ch for ch in hidden if ch not in kept) + "米") == "日米"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "\u200b\u200b", "title: must not be empty"),
        ("title", "\u2066\u00ad\u2069\r", "title: must not be empty"),
        ("body", "\ufeff \u2060", "body: must not be empty"),
        ("published", 0, "published: expected a date as text"),
        ("published", "86400", "published: expected a date like 2026-02-01"),
        ("published", "20251215", "published: expected a date like 2026-02-01"),
        ("published", "2025-02-30", "published: expected a date like 2026-02-01"),
    ],
)
def test_jsonl_refuses_invisible_text_and_non_iso_dates(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    """Invisible-only text and Unix-time or compact dates are refused at their line."""
    line = {"title": "日米防衛相会談", "body": "両氏が会談した。", "published": "2026-02-01"}
    line[field] = value  # type: ignore[assignment]
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    read = read_file(path)
    assert read.drafts == []
    (warning,) = read.warnings
    assert (warning.path, warning.line) == ("bad.jsonl", 1)
    assert warning.message.startswith(f"invalid article: {message}")


def test_jsonl_keeps_a_timestamp_as_its_day(tmp_path: Path) -> None:
    """A full ISO timestamp is read as the article's day."""
    line = {"title": "t", "body": "b", "published": "2026-02-01T23:30:00Z"}
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert [d.published for d in read_file(path).drafts] == [date(2026, 2, 1)]


def test_a_listing_page_over_1_mb_is_skipped_with_a_warning(tmp_path: Path) -> None:
    """A listing larger than MAX_LISTING_BYTES is refused by name; JSON Lines may be larger."""
    line = "米国務省は2025年12月16日、改修支援を承認した。" + "あ" * 300 + "\n"
    path = tmp_path / "huge.txt"
    path.write_text(line * (MAX_LISTING_BYTES // len(line.encode()) + 1), encoding="utf-8")
    read = read_file(path)
    assert read.drafts == []
    assert [str(w) for w in read.warnings] == [
        "huge.txt: listing page larger than 1 MB, skipped: split it, or use JSON Lines"
    ]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs POSIX permissions, which root ignores",
)
def test_unreadable_folder_is_a_warning(tmp_path: Path) -> None:
    """A folder that cannot be listed becomes a warning naming it, not an exception."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.txt").write_text("date 2026-02-01 日米が協議した。\n", "utf-8")
    folder.chmod(0)
    try:
        read = read_path(folder)
    finally:
        folder.chmod(0o755)
    assert read.drafts == []
    assert [w.path for w in read.warnings] == ["locked"]
    assert "cannot read folder" in read.warnings[0].message


_NO_HIDDEN = "expected a link without control or invisible characters"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "あ" * 301}, "title: too long, at most 300 characters"),
        ({"source": "x" * 201}, "source: too long, at most 200 characters"),
        ({"url": "https://e.jp/" + "a" * 2000}, "url: too long, at most 2000 characters"),
        ({"topics": ["taiwan"] * 11}, "topics: too many, at most 10"),
        ({"topics": "taiwan"}, 'topics: expected a list of topic slugs, like ["taiwan"]'),
        ({"topics": ["taiwan", 3]}, "topics item 2: expected text"),
        ({"title": 7}, "title: expected text"),
        ({"title": None}, "title: missing (required)"),
        ({"url": "ftp://e.jp/a"}, "url: expected a link starting with http:// or https://"),
        ({"url": "https://e.jp/\ud800"}, "url: not valid text"),
        ({"url": "https://e.jp/\x1b]0;pwned\x07\x1b[2J"}, f"url: {_NO_HIDDEN}"),
        ({"url": "https://e.jp/a\x00"}, f"url: {_NO_HIDDEN}"),
        ({"url": "https://e.jp/\u202egpj.exe"}, f"url: {_NO_HIDDEN}"),
        ({"author": "某記者"}, "unknown field 'author'"),
        ({"date": "2026-02-01"}, "both published and date given, keep one"),
    ],
)
def test_jsonl_warnings_are_in_our_words(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    """A refused line names the field and its limit in plain words, never pydantic's."""
    base = {"title": "会談", "body": "両氏が会談した。", "published": "2026-02-01"}
    # None leaves the field out.
    line = {k: v for k, v in {**base, **change}.items() if v is not None}
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (warning,) = read_file(path).warnings
    assert warning.message.startswith(f"invalid article: {message}")
    assert not any(word in warning.message for word in ("Value error", "Input should", "items"))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (
            '{"title": "会談", "title": "別題", "body": "両氏。", "published": "2026-02-01"}',
            "title",
        ),
        (
            '{"title": "会談", "body": "両氏。", "published": "2026-02-01", "x": {"a": 1, "a": 2}}',
            "a",
        ),
    ],
    ids=["top level", "nested"],
)
def test_jsonl_repeated_field_refuses_the_line(tmp_path: Path, line: str, key: str) -> None:
    """A field given twice refuses its line instead of silently keeping the last value."""
    path = tmp_path / "twice.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    read = read_file(path)
    assert read.drafts == []
    (warning,) = read.warnings
    assert warning.message == f"invalid article: field {key!r} given twice, keep one"


def test_jsonl_counts_the_other_problems_of_a_line(tmp_path: Path) -> None:
    """A line with several problems shows the first and how many more."""
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"title": "", "body": 1}) + "\n", encoding="utf-8")
    (warning,) = read_file(path).warnings
    assert warning.message == "invalid article: title: must not be empty (and 2 more problems)"


def test_jsonl_bad_json_names_the_column(tmp_path: Path) -> None:
    """A line that is not JSON says why in a sentence that ends, and where."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "a\tb"}\n', encoding="utf-8")
    (warning,) = read_file(path).warnings
    assert warning.message == "not valid JSON: invalid control character (column 13)"


def test_jsonl_too_deep_or_too_long_is_a_warning_and_the_rest_imports(tmp_path: Path) -> None:
    """Arrays nested thousands deep and a number of thousands of digits are refused lines, not
    a failed import; the good line after them is read."""
    good = json.dumps({"title": "会談", "body": "両氏が会談した。", "published": "2026-02-01"})
    path = tmp_path / "hostile.jsonl"
    path.write_text("[" * 200_000 + "\n" + "1" * 5000 + "\n" + good + "\n", encoding="utf-8")
    read = read_file(path)
    assert [d.title for d in read.drafts] == ["会談"]
    assert [(w.line, w.message) for w in read.warnings] == [
        (1, "not valid JSON: nested too deeply"),
        (2, "not valid JSON: a number too long"),
    ]


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("0001-01-01", "between 1900 and 2199"),
        ("1899-12-31", "between 1900 and 2199"),
        ("2200-01-01", "between 1900 and 2199"),
        ("2199-01-01T09:00:00+09:00", "no later than"),
    ],
)
def test_jsonl_refuses_a_date_no_article_has(tmp_path: Path, published: str, expected: str) -> None:
    """A placeholder or typo year, or a day far in the future, is a warning naming the dates
    accepted."""
    line = {"title": "会談", "body": "両氏が会談した。", "published": published}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (warning,) = read_file(path).warnings
    assert warning.message.startswith("invalid article: published: expected a date ")
    assert expected in warning.message


class _Nov25(datetime):
    """The clock at noon on 25 November 2026 in Japan."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Nov25:
        return cls(2026, 11, 25, 3, 0, tzinfo=UTC).astimezone(tz)


_LATEST_ON_NOV25 = "expected a date no later than 2026-12-02 (7 days from today)"


@pytest.mark.parametrize(("day", "read"), [("2026-12-02", True), ("2026-12-03", False)])
def test_a_header_date_may_be_at_most_a_week_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, day: str, read: bool
) -> None:
    """On 25 November a header dated 2 December is read; 3 December is refused, naming the last
    day accepted."""
    monkeypatch.setattr(corpus, "datetime", _Nov25)
    path = tmp_path / "one.txt"
    path.write_text(f"date {day} 日米が協議した。\n", "utf-8")
    result = read_file(path)
    assert len(result.drafts) == read
    assert [w.message for w in result.warnings] == (
        [] if read else [f"invalid date in header: {day!r}, {_LATEST_ON_NOV25}"]
    )


@pytest.mark.parametrize("junk", ["0000年1月1日", "2199年1月1日", "令和99年1月1日"])
def test_listing_skips_a_year_zero_or_far_future_date(tmp_path: Path, junk: str) -> None:
    """A summary mentioning 0000年1月1日, or a day far in the future, is read with its next
    plausible date, not a crash nor that future day."""
    path = tmp_path / "listing.txt"
    path.write_text(
        "日米同盟ニュース\n\n"
        f"{junk}の記録と2025年12月3日の会談について両政府が発表した内容の要約。\n",
        encoding="utf-8",
    )
    (draft,) = read_file(path).drafts
    assert (draft.published, draft.date_inferred) == (date(2025, 12, 3), False)


def test_listing_reads_an_era_date_in_kanji_numbers_and_dates_its_neighbour(
    tmp_path: Path,
) -> None:
    """令和七年十二月十九日 is the summary's date as written, and places "10日" below it in
    December 2025: neither is a guess from the day of the read."""
    path = tmp_path / "listing.txt"
    path.write_text(
        "日米同盟ニュース\n\n"
        "政府は令和七年十二月十九日、日米の防衛協力に関する文書を閣議決定した。\n"
        "防衛相は10日、記者会見で日米の共同訓練について説明した。\n",
        encoding="utf-8",
    )
    first, second = read_file(path).drafts
    assert (first.published, first.date_inferred) == (date(2025, 12, 19), False)
    assert (second.published, second.date_inferred) == (date(2025, 12, 10), False)


def test_listing_days_are_days_in_japan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read at 01:00 on 20 December in Japan (still the 19th in UTC), "20日" is that day, not
    20 November; an undated summary beside it is dated that day too. Both are inferred: the
    page has no year nor month but the day of the read."""

    class At(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> At:
            return cls(2026, 12, 19, 16, 0, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(corpus, "datetime", At)
    path = tmp_path / "listing.txt"
    path.write_text(
        "日米同盟ニュース\n\n"
        "防衛相は20日、記者会見で日米の共同訓練について説明した。\n"
        "米国務省の報道官は、同盟国との協議を続ける考えを示した。\n",
        encoding="utf-8",
    )
    dated, undated = read_file(path).drafts
    assert (dated.published, dated.date_inferred) == (date(2026, 12, 20), True)
    assert (undated.published, undated.date_inferred) == (date(2026, 12, 20), True)


def test_jsonl_drops_lone_surrogates_instead_of_failing_later(tmp_path: Path) -> None:
    """A `\\ud800` escape in the text is removed: SQLite could not store it."""
    line = '{"title": "\\ud800会談", "body": "本文\\udfff。", "published": "2026-02-01"}'
    path = tmp_path / "s.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    (draft,) = read_file(path).drafts
    assert (draft.title, draft.body) == ("会談", "本文。")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("evil\x1b[31mRED\x07.txt", "evil\\x1b[31mRED\\x07.txt: empty file"),
        ("a\u202etxt.exe.txt", "a\\u202etxt.exe.txt: empty file"),
        ("two\nlines.txt", "two\\nlines.txt: empty file"),
    ],
)
def test_a_warning_shows_control_characters_in_a_file_name(
    tmp_path: Path, name: str, shown: str
) -> None:
    """A hostile file name is printed escaped, so it cannot drive or fool the terminal."""
    path = tmp_path / name
    path.write_bytes(b"")
    (warning,) = read_path(tmp_path).warnings
    assert warning.path == name  # the data is kept as it is; only its display is escaped
    assert str(warning) == shown


@pytest.mark.parametrize(
    ("name", "content", "source"),
    [
        ("evil\x1b[31mRED\x07.txt", "日米が協議した。\n", "evil\\x1b[31mRED\\x07.txt:1"),
        ("a\u202etxt.exe.txt", "date 2026-02-01 日米が協議した。\n", "a\\u202etxt.exe.txt:1"),
        (
            "two\rlines.jsonl",
            '{"title": "会談", "body": "本文。", "published": "2026-02-01"}\n',
            "two\\rlines.jsonl:1",
        ),
    ],
    ids=["listing", "single article", "JSON Lines"],
)
def test_a_default_source_shows_control_characters_in_a_file_name(
    tmp_path: Path, name: str, content: str, source: str
) -> None:
    """The file-and-line source of an article is stored with the name's controls written out,
    since it is shown as stored, in the CLI and on Discord."""
    (tmp_path / name).write_text(content, "utf-8")
    assert [d.source for d in read_path(tmp_path).drafts] == [source]


def test_a_file_name_that_is_not_utf8_is_named_with_the_byte_written_out(tmp_path: Path) -> None:
    """A name with a byte that is not UTF-8 (read by Python as a lone surrogate, which SQLite
    and the terminal refuse) is kept and shown with the byte as \\xff."""
    (tmp_path / "bad\udcff.txt").write_bytes(b"")
    (warning,) = read_path(tmp_path).warnings
    assert warning.path == "bad\\xff.txt"
    assert str(warning) == "bad\\xff.txt: empty file"


def test_a_warning_shows_control_characters_from_the_file(tmp_path: Path) -> None:
    """Text from inside a file (an unknown field's name) is escaped in the warning too."""
    path = tmp_path / "x.jsonl"
    line = {"title": "会談", "body": "本文。", "published": "2026-02-01", "\x1b[2J\u2028": 1}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (warning,) = read_file(path).warnings
    assert str(warning) == "x.jsonl:1: invalid article: unknown field '\\x1b[2J\\u2028'"
