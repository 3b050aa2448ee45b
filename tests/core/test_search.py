"""Search on the real seed corpus: relevance, variants, typos, English, hostile input, paging."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.core import articles, db
from bot.core.models import ArticleDraft
from bot.core.search import QueryProblem, analyzer, engine, index, search, suggest
from bot.core.search.engine import snippet
from bot.core.search.query import (
    COMMON_WORDS,
    Query,
    load_aliases,
    loosened,
    other_number,
    parse_query,
)
from bot.core.topics import load_taxonomy

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def conn(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[aiosqlite.Connection]:
    connection = await db.connect(tmp_path_factory.mktemp("search") / "alliance.db")
    await articles.ingest_paths(connection, [SEEDS])
    yield connection
    await connection.close()


async def _id_of(conn: aiosqlite.Connection, fragment: str) -> int:
    rows = list(
        await conn.execute_fetchall(
            "SELECT id FROM articles WHERE instr(title || body, ?) > 0", (fragment,)
        )
    )
    assert len(rows) == 1, fragment
    return int(rows[0][0])


# query → fragments identifying articles that must be in the top 5, and the one that must be
# first (None where several are equally right).
RELEVANCE: list[tuple[str, list[str], str | None]] = [
    # one- and two-character kanji
    ("核", ["核武装", "核保有"], None),
    ("台湾", ["台湾有事を想定した邦人退避", "台湾侵攻の口実", "台湾情勢を巡る"], None),
    ("日米", ["日米同盟の最大のミッション"], None),
    # long phrases and several terms
    ("日米同盟の抑止力と連携", ["日米同盟の抑止力と連携"], "日米同盟の抑止力と連携"),
    ("台湾 退避", ["台湾有事を想定した邦人退避"], "台湾有事を想定した邦人退避"),
    ("ヘグセス 小泉", ["ヘグセス国防長官と約50分"], "ヘグセス国防長官と約50分"),
    ("イージス艦 改修", ["イージス艦改修支援"], "イージス艦改修支援"),
    # Latin terms and codes
    ("PAC3", ["PAC3MSE"], "PAC3MSE"),
    ("AMRAAM", ["PAC3MSE"], "PAC3MSE"),
    ("AIM-120", ["PAC3MSE"], "PAC3MSE"),
    ("B-52", ["B-52戦略爆撃機"], "B-52戦略爆撃機"),
    ("LNG", ["ロシア産LNG"], "ロシア産LNG"),
    ("GDP", ["GDP比目標"], "GDP比目標"),
    ("NSS", ["GDP比目標"], "GDP比目標"),
    ("USS George Washington", ["原子力空母USS"], "原子力空母USS"),
    # mixes
    ("日米 PAC3", ["PAC3MSE"], "PAC3MSE"),
    ("トランプ 電話会談", ["電話会談について説明"], "電話会談について説明"),
    # width, case, kana and spelling variants
    ("ＰＡＣ３", ["PAC3MSE"], "PAC3MSE"),
    ("pac3", ["PAC3MSE"], "PAC3MSE"),
    ("ﾐｻｲﾙ", ["新たなミサイル部隊"], None),
    ("みさいる", ["新たなミサイル部隊"], None),
    ("とらんぷ", ["トランプ氏が日米関係", "トランプ政権の新NSS"], None),
    ("ゴールデンドーム", ["PAC3MSE"], "PAC3MSE"),
    ("ゴールデン・ドーム", ["PAC3MSE"], "PAC3MSE"),
    ("B52", ["B-52戦略爆撃機"], "B-52戦略爆撃機"),
    ("F35", ["B-52戦略爆撃機"], "B-52戦略爆撃機"),
    ("aim120", ["PAC3MSE"], "PAC3MSE"),
    # English
    ("Koizumi", ["小泉進次郎防衛相は1月8日", "与那国島を訪問"], None),
    ("Hegseth", ["ヘグセス国防長官と約50分"], "ヘグセス国防長官と約50分"),
    ("Taiwan evacuation", ["台湾有事を想定した邦人退避"], "台湾有事を想定した邦人退避"),
    ("nuclear", ["核武装", "核保有"], None),
    ("North Korea", ["核武装"], "核武装"),
    ("missile", ["新たなミサイル部隊"], None),
    ("Yonaguni", ["与那国島を訪問"], "与那国島を訪問"),
    ("Pentagon", ["ヘグセス国防長官と約50分"], "ヘグセス国防長官と約50分"),
    ("Golden Dome", ["PAC3MSE"], "PAC3MSE"),
    ("radar", ["レーダー照射"], "レーダー照射"),
    ("Aegis destroyer", ["イージス艦改修支援"], "イージス艦改修支援"),
    ("sanctions LNG", ["ロシア産LNG"], "ロシア産LNG"),
    ("Kritenbrink", ["クリテンブリンク氏"], "クリテンブリンク氏"),
    # English: every person, place, organization and weapon system named in the seeds
    ("Takaichi", ["原子力空母USS", "電話会談について説明", "台湾有事を想定した邦人退避"], None),
    ("Leavitt", ["レビット報道官"], "レビット報道官"),
    ("Kihara", ["木原稔官房長官"], "木原稔官房長官"),
    ("Biden", ["クリテンブリンク氏"], "クリテンブリンク氏"),
    ("Trump", ["トランプ氏が日米関係", "トランプ政権の新NSS"], None),
    ("Washington", ["ペンタゴンでヘグセス", "シンクタンクでの講演"], None),
    ("Hawaii", ["米ハワイの国際会議"], "米ハワイの国際会議"),
    ("Okinawa", ["沖縄本島南東"], "沖縄本島南東"),
    ("Yokosuka", ["横須賀停泊"], "横須賀停泊"),
    ("Ichigaya", ["市ヶ谷の防衛省"], "市ヶ谷の防衛省"),
    ("Imperial Palace", ["皇居の木立"], "皇居の木立"),
    ("Venezuela", ["ベネズエラ攻撃"], "ベネズエラ攻撃"),
    ("Ukraine", ["ウクライナへの供与"], "ウクライナへの供与"),
    ("Russia LNG", ["ロシア産LNG"], "ロシア産LNG"),
    ("Sea of Japan", ["日本海上空"], "日本海上空"),
    ("Indo-Pacific", ["インド太平洋の緊張", "インド太平洋の安全保障が緊迫"], None),
    ("State Department", ["イージス艦改修支援", "核不拡散"], None),
    ("Senate", ["米上院外交委"], "米上院外交委"),
    ("House of Representatives", ["米下院で超党派"], "米下院で超党派"),
    ("Congressional Budget Office", ["米議会予算局"], "米議会予算局"),
    ("Kyodo", ["共同通信通信"], "共同通信通信"),
    ("TV Asahi", ["テレビ朝日系ANN", "テレビ朝日番組"], None),
    ("Joint Operations Command", ["統合作戦司令部"], "統合作戦司令部"),
    ("Self-Defense Forces", ["自衛隊の関与"], None),
    ("US-China", ["米中関係の安定"], None),
    ("Japan-China", ["日中対立"], None),
    ("aircraft carrier", ["原子力空母USS"], "原子力空母USS"),
    ("Patriot", ["PAC3MSE"], "PAC3MSE"),
    ("F-15", ["B-52戦略爆撃機"], "B-52戦略爆撃機"),
    ("drones", ["PAC3MSE"], "PAC3MSE"),
    ("Apollo", ["アポロ計画"], "アポロ計画"),
    ("space", ["宇宙配備型"], "宇宙配備型"),
    # typos, corrected against the corpus vocabulary
    ("クリテンブリング", ["クリテンブリンク氏"], "クリテンブリンク氏"),
    ("ヘグセズ", ["ヘグセス国防長官と約50分"], "ヘグセス国防長官と約50分"),
    ("トランブ", ["トランプ氏が日米関係", "トランプ政権の新NSS"], None),
    ("ワシントソ", ["ペンタゴンでヘグセス"], None),
    ("イージズ艦", ["イージス艦改修支援"], "イージス艦改修支援"),
    ("Hegsth", ["ヘグセス国防長官と約50分"], "ヘグセス国防長官と約50分"),
    ("Taiwn", ["台湾有事を想定した邦人退避", "台湾侵攻の口実"], None),
]


@pytest.mark.parametrize(("query", "must", "first"), RELEVANCE)
async def test_relevance_table(
    conn: aiosqlite.Connection, query: str, must: list[str], first: str | None
) -> None:
    """The articles a reader means are in the top 5, and the clear best one is first."""
    result = await search(conn, query, limit=5)
    top = [hit.article.id for hit in result.hits]
    for fragment in must:
        assert await _id_of(conn, fragment) in top, fragment
    if first is not None:
        assert top[0] == await _id_of(conn, first)


async def test_kanji_is_not_found_inside_a_longer_word(conn: aiosqlite.Connection) -> None:
    """核 does not match 中核: the long article (only 中核) is not a result."""
    result = await search(conn, "核", limit=20)
    assert await _id_of(conn, "システムの中核") not in [h.article.id for h in result.hits]


async def test_typo_is_corrected_and_said(conn: aiosqlite.Connection) -> None:
    """A misspelled name is corrected against the corpus vocabulary, and the result says so."""
    result = await search(conn, "クリテンブリング")
    assert result.corrected == "クリテンブリンク"
    assert [h.article.id for h in result.hits] == [await _id_of(conn, "クリテンブリンク氏")]


async def test_typo_inside_a_compound_is_corrected(conn: aiosqlite.Connection) -> None:
    """A compound known only inside a longer run is corrected part by part."""
    result = await search(conn, "イージズ艦 改修")
    assert result.corrected == "イージス艦 改修"
    assert [h.article.id for h in result.hits] == [await _id_of(conn, "イージス艦改修支援")]


async def test_english_typo_is_corrected(conn: aiosqlite.Connection) -> None:
    """A misspelled English alias is corrected too."""
    result = await search(conn, "Koizmi")
    assert result.corrected is not None
    assert result.total == 5


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("ドランプ", "トランプ"),  # the first character wrong: found by the word's end
        ("トランプド", "トランプ"),  # one too many at the end: found by its start
        ("Hegseht", "Hegseth"),  # two letters swapped: one edit
        ("トンラプ", "トランプ"),  # the middle two swapped: found by its first and last
        ("tarrif", "tariff"),  # a letter doubled, another not: two edits, one slip
        ("小泉進次朗", "小泉進次郎"),  # a name only ever written with its title (防衛相)
        ("トランブ OR ほげほげ", "トランプ OR ほげほげ"),  # each word of an OR as alone
    ],
)
async def test_a_typo_anywhere_is_corrected(
    conn: aiosqlite.Connection, typo: str, meant: str
) -> None:
    """A typo at either end of a word, or two swapped letters (in the middle of a short word
    too), is corrected to the word meant, among the seed articles' other words."""
    result = await search(conn, typo)
    assert result.corrected == meant
    assert result.total > 0


@pytest.mark.parametrize(("word", "not_meant"), [("hidden", "Biden"), ("bitten", "Biden")])
async def test_an_english_word_is_not_taken_for_a_name_one_undoubled_letter_away(
    conn: aiosqlite.Connection, word: str, not_meant: str
) -> None:
    """A doubled letter is forgiven alone, not with another edit on top: hidden (hiden) is not
    a slip for Biden, and hidden missile still finds what missile finds."""
    result = await search(conn, word)
    assert result.corrected != not_meant
    assert not_meant not in result.suggestions
    found = await search(conn, f"{word} missile")
    assert (found.corrected, found.total) == ("missile", (await search(conn, "missile")).total)


@pytest.mark.parametrize("typo", ["Koizmi", "koizmi", "KOIZMI"])
async def test_an_english_correction_is_written_as_the_alias_table_writes_it(
    conn: aiosqlite.Connection, typo: str
) -> None:
    """A corrected English name is written as a name (Koizumi), however it was typed."""
    result = await search(conn, typo)
    assert result.corrected == "Koizumi"


async def test_an_english_suggestion_is_written_as_the_alias_table_writes_it(
    conn: aiosqlite.Connection,
) -> None:
    """Suggestions offer Koizumi (not koizumi) for Koizmi, once: the correction finds nothing."""
    result = await search(conn, "Koizmi Kritenbrink")
    assert result.total == 0
    assert "Koizumi" in result.suggestions
    assert [s.lower() for s in result.suggestions].count("koizumi") == 1


async def test_a_typo_as_close_to_two_words_takes_the_commoner(tmp_path: Path) -> None:
    """トランブ is one edit from トランプ (in many articles) and from トラン (in one): the
    correction is トランプ."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        await articles.ingest_paths(connection, [SEEDS], seeds=SEEDS)
        rare = "INSERT INTO vocab (key, display, df) VALUES ('トラン', 'トラン', 1)"
        await connection.execute(rare)
        await connection.commit()
        assert (await search(connection, "トランブ")).corrected == "トランプ"
    finally:
        await connection.close()


async def test_no_match_offers_suggestions(conn: aiosqlite.Connection) -> None:
    """A word far from everything finds nothing, with no error."""
    result = await search(conn, "量子コンピューター暗号通貨")
    assert (result.total, result.hits, result.problem) == (0, [], None)


_EMPTY = QueryProblem.EMPTY
_SYMBOLS = QueryProblem.NOTHING_SEARCHABLE

# query → what it must do: be refused for a reason, find exactly what a plain query finds (its
# syntax is taken as literal punctuation and dropped), or find nothing (its operator words are
# taken literally, and no article contains them).
HOSTILE: list[tuple[str, QueryProblem | str | None]] = [
    ('"', _SYMBOLS),
    ('"核', "核"),
    ('"核"', "核"),
    ("核*", "核"),
    ("* OR 1=1", None),
    ("AND", QueryProblem.ONLY_COMMON_WORDS),  # English "and", "or": not searched alone
    ("OR", QueryProblem.ONLY_COMMON_WORDS),
    ("核 AND 台湾", None),
    ("NOT 核", QueryProblem.ONLY_EXCLUDED),
    ("-核", QueryProblem.ONLY_EXCLUDED),
    ("-の", QueryProblem.ONLY_EXCLUDED),
    ("-the", QueryProblem.ONLY_EXCLUDED),
    ("デス", None),  # katakana: a word searched, not the particle です
    ("核 AND 台湾 -", None),  # AND is in no article: left out, and the reply says so
    ("NEAR(核 台湾)", "台湾"),
    ("NEAR", None),
    ("(台湾", "台湾"),
    ("(核)", "核"),
    ("title:核", None),
    ("body : 核", "核"),
    ("{title}: 核", "核"),
    ("'; DROP TABLE articles; --", None),
    ("SELECT * FROM articles", None),
    ("%", _SYMBOLS),
    ("_", _SYMBOLS),
    ("%核%", "核"),
    ("日米_同盟", "日米同盟"),
    ("100%", None),
    ("\\", _SYMBOLS),
    ("核\\", "核"),
    ("C:\\path", None),
    ("🇯🇵🔥", _SYMBOLS),
    ("核🔥", "核"),
    ("🇯🇵 台湾", "台湾"),
    ("\u200b\u200d", _EMPTY),
    ("台\u200b湾", "台湾"),
    ("\udcff", _EMPTY),  # a terminal's byte 0xff that is not UTF-8
    ("台\ud800湾", "台湾"),
    ("\x00\x07\x1b[31m", None),
    ("台湾\t日米", "台湾 日米"),
    ("台湾\n日米", "台湾 日米"),
    ("^核", "核"),
    ("--核", QueryProblem.ONLY_EXCLUDED),
    ("台湾 -", "台湾"),
    ("a" * 10_000, QueryProblem.TOO_LONG),
    ("核" * 10_000, QueryProblem.TOO_LONG),
    ("", _EMPTY),
    ("   \u3000  ", _EMPTY),
]


@pytest.mark.parametrize(("query", "expected"), HOSTILE)
async def test_hostile_queries_are_literal_or_refused(
    conn: aiosqlite.Connection, query: str, expected: QueryProblem | str | None
) -> None:
    """Operators, SQL, symbols, emoji, control characters and huge input never break search."""
    result = await search(conn, query)
    if isinstance(expected, QueryProblem):
        assert result.problem is expected
        assert result.error_message("ja")
        assert result.error_message("en")
        assert result.hits == []
    elif expected is None:
        assert (result.problem, result.total, result.hits) == (None, 0, [])
    else:
        plain = await search(conn, expected)
        assert plain.total > 0
        assert result.problem is None
        assert result.total == plain.total
        assert [h.article.id for h in result.hits] == [h.article.id for h in plain.hits]
    rows = await conn.execute_fetchall("SELECT count(*) FROM articles")
    assert next(iter(rows))[0] == 21


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", QueryProblem.EMPTY),
        (" \t\n\u3000", QueryProblem.EMPTY),
        ("\u200b", QueryProblem.EMPTY),
        ("核" * 201, QueryProblem.TOO_LONG),
        ("!!! ??? ***", QueryProblem.NOTHING_SEARCHABLE),
        (" ".join("abcdefghij"), QueryProblem.TOO_MANY_TERMS),
    ],
)
async def test_refusals_say_why(
    conn: aiosqlite.Connection, query: str, problem: QueryProblem
) -> None:
    """Empty, too long, symbol-only and too many words are refused with the reason."""
    result = await search(conn, query)
    assert result.problem is problem


async def test_invisible_and_control_characters_are_ignored(conn: aiosqlite.Connection) -> None:
    """A zero-width space inside a word or a stray control character doesn't hide matches."""
    plain = await search(conn, "ゴールデンドーム")
    assert (await search(conn, "ゴール\u200bデン\u2060ドーム")).total == plain.total == 1
    assert (await search(conn, "核\x00")).total == (await search(conn, "核")).total


async def test_pages_cover_every_match_once(conn: aiosqlite.Connection) -> None:
    """Paging with limit and offset returns each match exactly once, with a stable total."""
    seen: list[int] = []
    totals = set()
    for offset in range(0, 20, 4):
        page = await search(conn, "日米", limit=4, offset=offset)
        totals.add(page.total)
        seen.extend(h.article.id for h in page.hits)
    (total,) = totals
    assert total >= 10
    assert len(seen) == len(set(seen)) == total


async def test_topic_filter(conn: aiosqlite.Connection) -> None:
    """With a topic, only articles of that topic are found and counted."""
    everything = await search(conn, "台湾", limit=20)
    china = await search(conn, "台湾", topic="china", limit=20)
    assert 0 < china.total < everything.total
    assert all("china" in h.article.topics for h in china.hits)


async def test_sort_newest(conn: aiosqlite.Connection) -> None:
    """sort=newest orders every match by date, newest first."""
    result = await search(conn, "日米", sort="newest", limit=20)
    dates = [h.article.published for h in result.hits]
    assert len(dates) == result.total
    assert dates == sorted(dates, reverse=True)


async def test_pages_past_the_ranked_window_go_on_newest_first(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the ranked window, pages continue with the other matches, newest first, each once."""
    monkeypatch.setattr(engine, "RANK_WINDOW", 3)
    seen: list[int] = []
    for offset in range(0, 30, 4):
        page = await search(conn, "日米", limit=4, offset=offset)
        seen.extend(h.article.id for h in page.hits)
    total = (await search(conn, "日米")).total
    assert len(seen) == len(set(seen)) == total > 6
    found = {a.id: (a.published, a.id) for a in await articles.get_articles(conn, seen)}
    by_date = [found[article_id] for article_id in seen]
    newest_three = sorted(by_date, reverse=True)[:3]
    assert sorted(by_date[:3]) == sorted(newest_three)  # the window: the newest matches, ranked
    assert by_date[3:] == sorted(by_date[3:], reverse=True)


async def test_an_archive_imported_later_ranks_below_newer_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranking and paging go by publication date, not import order: an older archive imported
    after newer articles does not push them out of the ranked window; a date edit moves one."""

    def draft(n: int, day: date, origin: str) -> ArticleDraft:
        body = f"記事{n}番。防衛装備の共同開発を巡り、日米の担当者が協議した。"
        return ArticleDraft(f"見出し{n}番", body, day, False, origin, origin)

    monkeypatch.setattr(engine, "RANK_WINDOW", 3)
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        recent = [draft(n, date(2026, 1, n), "recent.jsonl") for n in range(1, 5)]
        await articles.ingest(connection, recent)
        archive = [draft(n, date(2019, 1, n), "archive.jsonl") for n in range(11, 17)]
        await articles.ingest(connection, archive)
        for sort in ("relevance", "newest"):
            pages = [
                await search(connection, "共同開発", sort=sort, limit=2, offset=offset)
                for offset in range(0, 10, 2)
            ]
            dates = [h.article.published.isoformat() for page in pages for h in page.hits]
            assert len(dates) == 10
            assert dates[:4] == ["2026-01-04", "2026-01-03", "2026-01-02", "2026-01-01"], sort
            assert dates[4:] == sorted(dates[4:], reverse=True)

        moved = draft(12, date(2027, 3, 1), "archive.jsonl")
        assert (await articles.ingest(connection, [moved])).updated == 1
        first = await search(connection, "共同開発", limit=1)
        assert first.hits[0].article.title == "見出し12番"
        assert first.hits[0].snippet  # its analyzed text is found under its new key
        rows = await connection.execute_fetchall(
            "SELECT count(*) FROM articles AS a"
            " JOIN article_index_content AS c ON c.id = a.index_key"
        )
        assert next(iter(rows))[0] == 10
    finally:
        await connection.close()


@pytest.mark.parametrize("topic", [None, "china"])
async def test_sort_newest_pages_by_date_then_id(
    conn: aiosqlite.Connection, topic: str | None
) -> None:
    """sort=newest pages by date (then id), each match once, with or without a topic."""
    seen = []
    for offset in range(0, 30, 3):
        page = await search(conn, "日米", topic=topic, sort="newest", limit=3, offset=offset)
        seen.extend((h.article.published, h.article.id) for h in page.hits)
    assert len(seen) == page.total
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("U.S.", "US"),
        ("U.S. military", "US military"),
        ("U.S. forces", "US forces"),
        ("U.S.-Japan alliance", "US-Japan alliance"),
        ("U.S.–Japan", "US-Japan"),
        ("US–Japan alliance", "US-Japan alliance"),
        ("Japan—US", "Japan-US"),
        # names of the table joined by a dash or a slash, British spellings
        ("Takaichi-Trump", "Takaichi Trump"),
        ("Trump–Takaichi,", "Trump Takaichi"),
        ("US/Japan", "US Japan"),
        ("defence spending", "defense spending"),
        ("Missile Defence", "missile defense"),
        # a word or a name in the other number than the table's
        ("nuclear weapon", "nuclear weapons"),
        ("Aegis destroyers", "Aegis destroyer"),
        ("strategic bombers", "strategic bomber"),
        ("lawmaker", "lawmakers"),
        ("Patriots", "Patriot"),
        ("B52s", "B52"),
        ("Self-Defense Force,", "Self-Defense Forces"),
    ],
)
async def test_spellings_the_alias_table_writes_one_way_are_aliases(
    conn: aiosqlite.Connection, typed: str, plain: str
) -> None:
    """U.S. with its dots, dashes of any length, names joined by - or /, British spellings and
    the other number of a word find what the table's own spelling finds, as typed (not as a
    correction)."""
    found = await search(conn, typed)
    assert found.total == (await search(conn, plain)).total > 0
    assert found.corrected is None


@pytest.mark.parametrize(
    ("typed", "without"),
    [
        ("台湾 -中国", "中国"),
        ("台湾 NOT 中国", "中国"),
        ("Taiwan －China", "中国"),
        ("台湾 —中国", "中国"),  # an editor's dash
        ("台湾 --中国", "中国"),
        ("台湾 -Donald Trump", "トランプ"),  # a name of the alias table, all its words
        ("台湾 -Trump's", "トランプ"),
    ],
)
async def test_a_word_written_with_a_minus_or_after_not_is_left_out(
    conn: aiosqlite.Connection, typed: str, without: str
) -> None:
    """-中国 (any minus, or NOT 中国, or an English alias of one or more words) finds the
    articles of the other words that do not have 中国."""
    found = await search(conn, typed, limit=100)
    ids = {h.article.id for h in (await search(conn, "台湾", limit=100)).hits}
    ids -= {h.article.id for h in (await search(conn, without, limit=100)).hits}
    assert {h.article.id for h in found.hits} == ids
    assert 0 < found.total < (await search(conn, "台湾")).total
    assert found.corrected is None


@pytest.mark.parametrize(
    ("typed", "either"),
    [("核 OR 台湾", "核 台湾"), ("Taiwan OR 関税", "台湾 関税"), ("核 ＯＲ 台湾", "核 台湾")],
)
async def test_or_in_capitals_finds_the_articles_of_either_word(
    conn: aiosqlite.Connection, typed: str, either: str
) -> None:
    """核 OR 台湾 finds the articles with either word; 核 or 台湾 (English's or) needs both."""
    found = await search(conn, typed, limit=100)
    ids: set[int] = set()
    for word in either.split():
        ids |= {h.article.id for h in (await search(conn, word, limit=100)).hits}
    assert {h.article.id for h in found.hits} == ids
    assert found.total > (await search(conn, either.replace(" ", " or "))).total


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("台湾 OR -中国 核", "台湾 核 -中国"), ("台湾 OR NOT 中国 核", "台湾 核 -中国")],
)
async def test_or_before_a_word_to_leave_out_joins_nothing(typed: str, meant: str) -> None:
    """OR joins the two words it stands between: before a word to leave out it joins nothing,
    and the next word is still one that must match."""
    parsed = parse_query(typed)
    assert isinstance(parsed, Query)
    assert parsed == parse_query(meant)


@pytest.mark.parametrize(
    "typed", ['台湾 "-中国" ほげほげ', "台湾 (-中国) ほげほげ", "台湾 (NOT) 中国"]
)
async def test_a_word_in_brackets_is_not_named_as_what_it_was_not_read_as(typed: str) -> None:
    """A bracketed word searched as a word is not named -中国 (or NOT): the query named as
    searched would say it was left out."""
    parsed = parse_query(typed)
    assert isinstance(parsed, Query)
    assert parse_query(parsed.text) == parsed


@pytest.mark.parametrize(
    ("typed", "alone"),
    [
        ("高市首相 OR 小泉防衛相", ("高市首相", "小泉防衛相")),
        ("高市首相 OR ほげほげ", ("高市首相",)),
    ],
)
async def test_or_finds_at_least_what_each_word_finds_alone(
    conn: aiosqlite.Connection, typed: str, alone: tuple[str, ...]
) -> None:
    """Words typed together are loosened on either side of OR as they are alone (高市首相 finds
    高市早苗首相): OR never finds less than one of its words."""
    found = await search(conn, typed, limit=100)
    ids: set[int] = set()
    for word in alone:
        ids |= {h.article.id for h in (await search(conn, word, limit=100)).hits}
    assert ids
    assert {h.article.id for h in found.hits} >= ids


async def test_a_typo_in_an_or_is_corrected_though_the_other_word_finds(
    conn: aiosqlite.Connection,
) -> None:
    """トランブ OR 関税 finds what 関税 finds, but its typo is corrected all the same: the
    results are トランプ OR 関税's, and トランブ is named as what matched nothing."""
    typed = await search(conn, "トランブ OR 関税")
    assert typed.corrected == "トランプ OR 関税"
    assert typed.unmatched == ("トランブ",)
    assert typed.total == (await search(conn, "トランプ OR 関税")).total
    assert typed.total > (await search(conn, "関税")).total


async def test_a_correction_keeps_the_words_left_out(conn: aiosqlite.Connection) -> None:
    """A typo corrected still leaves out the words written with a minus, and says so."""
    found = await search(conn, "トランブ -関税")
    assert found.corrected == "トランプ -関税"
    assert found.total == (await search(conn, "トランプ -関税")).total > 0


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("Takaichi Trump call", "Takaichi Trump"),
        ("Hegseth Koizumi visit", "Hegseth Koizumi"),
        ("日米同盟 ほげほげ", "日米同盟"),
        ("NEAR(核 台湾)", "台湾"),  # named without its bracket
    ],
)
async def test_words_no_article_has_are_left_out_and_said(
    conn: aiosqlite.Connection, typed: str, searched: str
) -> None:
    """Words in no article (English outside the alias table) are left out when the rest
    finds something, and the reply names the query searched."""
    found = await search(conn, typed)
    assert (found.query, found.corrected) == (typed.rstrip(")"), searched)
    assert found.total == (await search(conn, searched)).total > 0


async def test_a_word_no_article_has_alone_is_not_left_out(conn: aiosqlite.Connection) -> None:
    """A query of only words no article has finds nothing, rather than everything."""
    found = await search(conn, "non-nuclear")
    assert (found.total, found.corrected) == (0, None)


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("Japanese", "Japan"),
        ("Taiwanese", "Taiwan"),
        ("Ukrainian", "Ukraine"),
        ("American", "America"),
        ("North Korean", "North Korea"),
        ("Korea", "North Korea"),  # the seeds name no 韓国 nor 朝鮮半島
        ("Korean", "North Korea"),
    ],
)
async def test_an_adjective_or_short_name_of_a_country_finds_it(
    conn: aiosqlite.Connection, typed: str, same_as: str
) -> None:
    """Japanese, Korea or North Korean finds what Japan or North Korea finds."""
    result = await search(conn, typed)
    assert result.total >= (await search(conn, same_as)).total > 0
    assert result.corrected is None
    if typed != "American":  # America is not 米, American is
        assert result.total == (await search(conn, same_as)).total


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Taiwan and China", "Taiwan China"),
        ("the alliance", "alliance"),
        ("defense of Taiwan", "defense Taiwan"),
        ("Mr. Koizumi", "Koizumi"),
        ("Secretary Hegseth", "Hegseth"),
        ("Minister Koizumi", "Koizumi"),
        ("“The Alliance”", "alliance"),
        ("台湾 の", "台湾"),
        ("台湾 -の", "台湾"),  # left out, it would leave out every article
    ],
)
async def test_function_words_and_titles_are_left_out(
    conn: aiosqlite.Connection, typed: str, meant: str
) -> None:
    """The, and, of, Mr., Secretary or の among other words finds what the other words find."""
    result = await search(conn, typed)
    expected = await search(conn, meant)
    assert result.total == expected.total > 0
    assert [h.article.id for h in result.hits] == [h.article.id for h in expected.hits]
    assert result.corrected is None


@pytest.mark.parametrize(
    "typed", ["the", "AND", "Mr.", "of the", "“The”", "Secretary", "の", "の です"]
)
async def test_a_query_of_only_common_words_is_refused_with_the_reason(
    conn: aiosqlite.Connection, typed: str
) -> None:
    """A query of nothing but function words or titles is refused, saying why, in both
    languages."""
    result = await search(conn, typed)
    assert result.problem is QueryProblem.ONLY_COMMON_WORDS
    assert "add a name or a topic" in result.error_message("en")
    assert "名前や話題" in result.error_message("ja")
    assert (result.total, result.hits) == (0, [])


@pytest.mark.parametrize(
    ("named", "japanese"),
    [
        ("Sea of Japan", "日本海"),
        ("secretary of defense", "国防長官"),
        ("House of Representatives", "下院"),
    ],
)
async def test_a_common_word_inside_an_alias_is_part_of_the_name(
    conn: aiosqlite.Connection, named: str, japanese: str
) -> None:
    """Of in Sea of Japan, or Secretary in Secretary of Defense, is kept: the name is aliased."""
    result = await search(conn, named)
    assert result.total >= (await search(conn, japanese)).total > 0
    assert result.corrected is None


async def test_no_common_word_is_an_alias() -> None:
    """No alias key is a word that is left out, in either number: the alias would be lost."""
    for key in load_aliases():
        assert key not in COMMON_WORDS
        assert other_number(key) not in COMMON_WORDS


@pytest.mark.parametrize(
    ("key", "other"),
    [
        ("weapon", "weapons"),
        ("nuclear weapons", "nuclear weapon"),
        ("strategy", "strategies"),
        ("economic strategies", "economic strategy"),
        ("day", "days"),
        ("pac-3s", "pac-3"),
        ("aegis", None),  # not a plural
        ("congress", None),
        ("f35", None),  # a code has no plural to try
        ("us", None),  # too short to tell
        ("台湾", None),
    ],
)
async def test_other_number_is_the_regular_english_plural_or_singular(
    key: str, other: str | None
) -> None:
    """The other number of a key's last word follows the regular English rule, or is None."""
    assert other_number(key) == other


@pytest.mark.parametrize(
    "quoted",
    ["“Taiwan”", "‘Taiwan’", "„Taiwan“", "«Taiwan»", "「Taiwan」", "“North Korea”", "〝Taiwan〟"],
)
async def test_typographic_quotes_are_taken_as_straight_ones(
    conn: aiosqlite.Connection, quoted: str
) -> None:
    """A word in curly, guillemet or Japanese quotes finds what it finds in straight quotes."""
    result = await search(conn, quoted)
    straight = await search(conn, '"' + quoted[1:-1] + '"')
    assert result.total == straight.total > 0
    assert result.corrected is None


async def test_title_matches_rank_above_body_matches(conn: aiosqlite.Connection) -> None:
    """An article with the word in its headline ranks above ones with it only in the text."""
    result = await search(conn, "退避", limit=5)
    assert result.hits[0].article.title.startswith("台湾有事の退避")


async def test_snippet_marks_the_match_and_stays_short(conn: aiosqlite.Connection) -> None:
    """Snippets are about 200 characters around the first match, which is in bold."""
    result = await search(conn, "AMRAAM")
    (hit,) = result.hits
    text = "".join(part for part, _ in hit.snippet_parts)
    assert len(text) <= 202
    assert "AMRAAM" in [part for part, marked in hit.snippet_parts if marked]
    assert "**AMRAAM**" in hit.snippet
    assert text.startswith("…")  # the match is deep inside the long article


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("米軍は中核を担うと述べた。", "核", []),  # 核 inside 中核 is not a match
        ("トランプ氏と会談した。", "トランプ", ["トランプ"]),  # bounded by script: no analysis
        ("トランプルは別の語だ。", "トランプ", []),  # katakana goes on: analysis says no
        ("PAC3MSEを共同生産。", "PAC3", ["PAC3"]),  # Latin goes on: analysis splits the code
        ("B-52戦略爆撃機が飛んだ。", "B52", ["B-52"]),
    ],
)
async def test_snippet_marks_only_real_words(text: str, query: str, marked: list[str]) -> None:
    """Snippets mark whole words only: script boundaries or analysis decide, not substrings."""
    parsed = parse_query(query)
    assert isinstance(parsed, Query)
    parts = snippet(text, parsed.terms)
    assert [part for part, is_match in parts if is_match] == marked


async def test_snippet_marks_variant_spellings(conn: aiosqlite.Connection) -> None:
    """A full-width query marks the half-width text it matched."""
    result = await search(conn, "ＰＡＣ３")
    assert "PAC3" in [part for part, marked in result.hits[0].snippet_parts if marked]


async def test_autocomplete_empty_prefix(conn: aiosqlite.Connection) -> None:
    """An empty prefix suggests up to 25 frequent words."""
    words = await suggest(conn, "")
    assert 10 <= len(words) <= 25
    assert "日米" in words


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("とら", "トランプ"),
        ("ト", "トランプ"),
        ("日米", "日米同盟"),
        ("台湾", "台湾有事"),
        ("kri", "Kritenbrink"),
        ("heg", "Hegseth"),  # an English name, written as one
        ("usf", "USFJ"),
        ("sea", "Sea of Japan"),
        ("核", "核"),
        ("North Ko", "North Korea"),  # a name of two words, completed as one
        ("自衛", "自衛隊"),  # a noun with its suffix: the word as written
        ("インド", "インド太平洋"),
        ("国務", "国務省"),
        ("United St", "United States"),
        ("日米 Shinjiro Koi", "日米 Shinjiro Koizumi"),
        # a second name sharing a word with the first is still offered
        ("defense minister defense se", "defense minister defense secretary"),
        ("US forces US m", "US forces US military"),
        ("Ministry of Defense Department of S", "Ministry of Defense Department of State"),
        ("日米 同", "日米 同盟"),
        ("台湾\u3000ミサ", "台湾 ミサイル"),  # a Japanese IME's space between words
        ("日米\tKoi", "日米 Koizumi"),
        ("台湾 -中", "台湾 -中国"),  # a word to leave out keeps its minus
        ("台湾 -", "台湾 -日米"),  # a minus alone: the most used words
        ("North -Ko", "North -Korea"),  # a minus begins a word of its own, not a name's
    ],
)
async def test_autocomplete_prefix(conn: aiosqlite.Connection, prefix: str, expected: str) -> None:
    """A prefix suggests words, names and topics that start with it."""
    words = await suggest(conn, prefix)
    assert expected in words
    assert len(words) <= 25
    assert all(len(w) <= 100 for w in words)


@pytest.mark.parametrize(
    ("typed", "searched", "near"),
    [
        ("高市首相", "高市 首相", ("高市", "首相")),  # the text says 高市早苗首相
        ("台湾について", "台湾", ()),
        ("台湾、中国", "台湾 中国", ()),  # apart as typed: not searched close together
        ("小泉防衛相", "小泉 防衛相", ("小泉", "防衛相")),  # 相 stays with 防衛: a suffix
    ],
)
async def test_words_typed_without_spaces_are_searched_as_words(
    conn: aiosqlite.Connection, typed: str, searched: str, near: tuple[str, ...]
) -> None:
    """A Japanese query with no match as written is searched as its nouns, and says so, naming
    the words it searched close together."""
    found = await search(conn, typed)
    assert (found.query, found.corrected, found.near) == (typed, searched, near)
    assert found.total == (await search(conn, searched)).total > 0


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("PAC3部隊", ["PAC3", "部隊"]),  # a code stays whole: "3" would be in any article
        ("F35A配備", ["F35A", "配備"]),
        ("2025年度予算", ["2025年度", "予算"]),
        ("台湾、中国", ["台湾", "中国"]),
        ("PAC-3ミサイル", ["PAC-3", "ミサイル"]),  # the hyphen joins the code, not 3ミサイル
        ("B-52爆撃機", ["B-52", "爆撃", "機"]),
        ("ＰＡＣ３ミサイル", ["ＰＡＣ３", "ミサイル"]),  # full-width is a code too
        ("日米-中国", ["日米", "中国"]),  # only a Latin code is joined across a hyphen
    ],
)
async def test_a_run_together_query_keeps_codes_and_numbers_whole(
    typed: str, words: list[str]
) -> None:
    """Split into words, a query keeps a code or a number with what it is written with."""
    parsed = parse_query(typed)
    assert isinstance(parsed, Query)
    loose = loosened(parsed)
    assert loose is not None
    assert loose.text.split() == words


@pytest.mark.parametrize(
    ("hyphenated", "plain"),
    [
        ("B-52爆撃機", "B52爆撃機"),
        ("PAC-3ミサイル", "PAC3ミサイル"),
        ("ＰＡＣ－３ミサイル", "PAC3ミサイル"),
    ],
)
async def test_a_hyphenated_code_run_into_japanese_finds_what_the_plain_code_does(
    conn: aiosqlite.Connection, hyphenated: str, plain: str
) -> None:
    """B-52爆撃機 finds the B-52戦略爆撃機 article, as B52爆撃機 does."""
    found, expected = await search(conn, hyphenated), await search(conn, plain)
    assert [h.article.id for h in found.hits] == [h.article.id for h in expected.hits]
    assert found.total == expected.total > 0


def _draft(title: str, body: str) -> ArticleDraft:
    return ArticleDraft(title, body, date(2026, 1, 5), False, "near.jsonl", "near.jsonl")


async def test_a_run_together_query_finds_its_words_close_together(tmp_path: Path) -> None:
    """高市首相 finds 高市早苗首相, but 米国務長官 does not find an article that says
    米国防長官 in one place and 国務省 in another."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        drafts = [
            _draft("首相の発言", "高市早苗首相は日米同盟の強化を訴えた。"),
            _draft("国防長官と国務省", "米国防長官が来日した。会談後、国務省も声明を出した。"),
        ]
        await articles.ingest(connection, drafts)
        assert (await search(connection, "高市首相")).total == 1
        assert (await search(connection, "米国務長官")).total == 0
    finally:
        await connection.close()


async def test_a_percentage_is_not_any_number(tmp_path: Path) -> None:
    """2% finds 2% and 2パーセント (in either width), not any 2 nor 3.2%; 3.5% finds 3.5%."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        drafts = [
            _draft("GDP比2%", "防衛費をGDP比2%に増やす。"),
            _draft("2パーセント", "関税を２パーセント引き上げた。"),
            _draft("全角", "防衛費をＧＤＰ比２％とする。"),
            _draft("2年", "この2、3年で同盟は変わった。"),
            _draft("3.5%", "NATOは3.5％を目標に掲げた。"),
            _draft("3.2%", "成長率は3.2パーセントだった。"),
        ]
        await articles.ingest(connection, drafts)
        for query in ("2%", "２％", "2パーセント"):  # not 3.2%
            found = await search(connection, query)
            assert {h.article.title for h in found.hits} == {"GDP比2%", "2パーセント", "全角"}
        for query in ("3.5%", "3.2%"):
            assert [h.article.title for h in (await search(connection, query)).hits] == [query]
        assert (await search(connection, "5%")).total == 0  # not 3.5%
        assert (await search(connection, "%核%")).problem is None  # % alone is no word still
    finally:
        await connection.close()


@pytest.mark.parametrize(("query", "fragment"), [("億円", "155億円"), ("兆円", "120兆円")])
async def test_a_unit_of_a_number_is_found_without_the_number(
    conn: aiosqlite.Connection, query: str, fragment: str
) -> None:
    """億円 and 兆円 find the articles that write a number with them (155億円, 120兆円)."""
    found = await search(conn, query)
    assert await _id_of(conn, fragment) in [h.article.id for h in found.hits]
    assert found.corrected is None


@pytest_asyncio.fixture
async def takaichi(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """Two articles that say 高市首相 as typed, three that only say 高市早苗首相, and a digest
    of 首相 alone; the newest has the highest id."""
    connection = await db.connect(tmp_path / "alliance.db")
    bodies = [
        ("full-a", "高市早苗首相は日米同盟の強化を訴えた。"),
        ("typed-a", "高市首相は記者団に語った。"),
        ("full-b", "高市早苗首相が訪米した。"),
        ("other", "首相官邸で会見があった。高市氏は出席しなかった。政府は声明を出した。"),
        ("typed-b", "高市首相は会談後に声明を出した。"),
        ("full-c", "会談で高市早苗首相は防衛費に触れた。"),
    ]
    drafts = [
        ArticleDraft(title, body, date(2026, 1, day), False, "near.jsonl", "near.jsonl")
        for day, (title, body) in enumerate(bodies, start=1)
    ]
    await articles.ingest(connection, drafts)
    yield connection
    await connection.close()


async def test_a_query_with_few_matches_as_typed_finds_its_words_close_together_after_them(
    takaichi: aiosqlite.Connection,
) -> None:
    """高市首相 finds the two articles that say it first, then the three that say 高市早苗首相,
    and says it added them; never the article where the words are far apart."""
    found = await search(takaichi, "高市首相", limit=10)
    titles = [hit.article.title for hit in found.hits]
    assert sorted(titles[:2]) == ["typed-a", "typed-b"]
    assert sorted(titles[2:]) == ["full-a", "full-b", "full-c"]
    assert (found.total, found.typed_total) == (5, 2)
    assert (found.corrected, found.near) == ("高市 首相", ("高市", "首相"))
    assert "**高市**早苗**首相**" in found.hits[2].snippet


async def test_pages_of_a_supplemented_search_go_on_where_the_typed_matches_end(
    takaichi: aiosqlite.Connection,
) -> None:
    """Paged two at a time, the five come once each, in the order of one page of ten."""
    whole = [hit.article.id for hit in (await search(takaichi, "高市首相", limit=10)).hits]
    paged: list[int] = []
    for offset in (0, 2, 4):
        page = await search(takaichi, "高市首相", limit=2, offset=offset)
        assert (page.total, page.typed_total) == (5, 2)
        paged += [hit.article.id for hit in page.hits]
    assert paged == whole


async def test_a_supplemented_search_newest_first_mixes_both_by_date(
    takaichi: aiosqlite.Connection,
) -> None:
    """Newest first, the typed and the close-together matches are one list by date."""
    found = await search(takaichi, "高市首相", limit=10, sort="newest")
    titles = [hit.article.title for hit in found.hits]
    assert titles == ["full-c", "typed-b", "full-b", "typed-a", "full-a"]
    assert (found.total, found.typed_total) == (5, 2)


async def test_a_query_with_a_page_of_matches_as_typed_is_not_loosened(tmp_path: Path) -> None:
    """With SUPPLEMENT_BELOW matches as typed, the close-together ones are not added."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        typed = [_draft(f"typed-{n}", "高市首相は語った。") for n in range(engine.SUPPLEMENT_BELOW)]
        await articles.ingest(connection, [*typed, _draft("full", "高市早苗首相が訪米した。")])
        found = await search(connection, "高市首相")
        assert (found.total, found.typed_total, found.corrected) == (
            engine.SUPPLEMENT_BELOW,
            None,
            None,
        )
    finally:
        await connection.close()


async def test_a_compound_of_real_words_is_not_corrected_into_another_meaning(
    conn: aiosqlite.Connection,
) -> None:
    """米国務長官 (State) is never searched as 米国防長官 (Defense): that is only suggested."""
    found = await search(conn, "米国務長官")
    assert (found.total, found.corrected) == (0, None)
    assert "米国防長官" in found.suggestions
    typo = await search(conn, "トランブ政権")  # トランブ is no word: still corrected
    assert typo.corrected == "トランプ政権"


@pytest.mark.parametrize(
    ("typed", "near"),
    [
        ("高市首相 日米", ("高市", "首相")),  # 日米 searched as typed
        ("高市首相について", ("高市", "首相")),  # a particle left out of the word
        ("高市首相 台湾有事", ()),  # two words loosened: each pair is close, not all four
        ("台湾について 高市首相", ()),  # 台湾について became 台湾: said as the query searched
        ("台湾有事における", ("台湾", "有事")),  # particles of several characters
        ("高市首相にも", ("高市", "首相")),  # and several in a row
        ("台湾有事についての", ("台湾", "有事")),
        ("日米同盟はつぶれる", ()),  # a verb left out: said as the query searched
        ("日米同盟が強い", ()),  # an adjective left out
        ("台湾台湾", ()),  # a word typed twice is searched once, and said so
    ],
)
async def test_words_searched_close_together_are_named_only_when_that_is_all(
    conn: aiosqlite.Connection, typed: str, near: tuple[str, ...]
) -> None:
    """The words searched close together are named only when they are all that changed; a
    query loosened in more ways says what was searched, as a correction does."""
    found = await search(conn, typed)
    assert found.corrected is not None
    assert found.near == near


async def test_a_suggestion_is_offered_only_where_it_finds_something(
    conn: aiosqlite.Connection,
) -> None:
    """In a topic, "did you mean" offers only words that find articles of that topic: 米国防長官
    is in a diplomacy article, and in no Taiwan one."""
    in_topic = await search(conn, "米国務長官", topic="diplomacy")
    assert "米国防長官" in in_topic.suggestions
    elsewhere = await search(conn, "米国務長官", topic="taiwan")
    assert (await search(conn, "米国防長官", topic="taiwan")).total == 0
    assert "米国防長官" not in elsewhere.suggestions
    for word in in_topic.suggestions + elsewhere.suggestions:
        topic = "diplomacy" if word in in_topic.suggestions else "taiwan"
        assert (await search(conn, word, topic=topic)).total > 0, word


@pytest.mark.parametrize(
    ("possessive", "name"),
    [("Trump's", "Trump"), ("Koizumi’s", "Koizumi"), ("Trump's,", "Trump"), ("U.S.'s", "U.S.")],
)
async def test_an_english_possessive_finds_the_name(
    conn: aiosqlite.Connection, possessive: str, name: str
) -> None:
    """A possessive such as "Trump's" finds what the name alone finds."""
    found = await search(conn, possessive)
    assert found.total > 0
    assert found.total == (await search(conn, name)).total


@pytest.mark.parametrize(
    ("prefix", "unwanted"),
    [
        ("North Ko", "North Koizumi"),
        ("台湾 -North Ko", "台湾 -North Koizumi"),
        ("台湾 -台", "台湾 -台湾"),  # leaves out every article that 台湾 finds
        ("日米 -", "日米 -日米"),
        ("Shinjiro Koi", "Shinjiro Koizumi Shinjiro"),
        ("台湾 ", "台湾 台湾"),
        ("US Jap", "US Japan US"),
        ("トランプ", "トランプ氏"),  # an honorific makes no other word (a guard)
        ("インド", "インド太平"),  # half of インド太平洋
    ],
)
async def test_autocomplete_never_repeats_or_splits_a_name(
    conn: aiosqlite.Connection, prefix: str, unwanted: str
) -> None:
    """No completion repeats a word already typed or completes half of a longer name alone."""
    words = await suggest(conn, prefix)
    assert unwanted not in words
    assert words


@pytest.mark.parametrize(
    "prefix",
    [
        *("-", "-中", "-North Ko", "-中国 -台", "－", "-Sea of Ja", "-North Korea -"),
        *("-North Korea -中", "NOT Ko", "NOT North Ko", "NOT 台湾 -中"),
    ],
)
async def test_autocomplete_offers_no_query_only_leaving_out(
    conn: aiosqlite.Connection, prefix: str
) -> None:
    """Only words to leave out, which the search would refuse, are never offered."""
    assert await suggest(conn, prefix) == []


async def test_autocomplete_offers_no_topic_labels(conn: aiosqlite.Connection) -> None:
    """Topic labels, which find little as words (the topic option filters), are not offered."""
    labels = {label for t in load_taxonomy().topics for label in (t.label_ja, t.label_en)}
    for prefix in ("核", "us", "中国", "Leaders", "防衛"):
        assert not labels & set(await suggest(conn, prefix)), prefix


async def test_autocomplete_ranks_exact_then_frequent(conn: aiosqlite.Connection) -> None:
    """The word typed comes first, then longer words by how many articles use them."""
    words = await suggest(conn, "日米")
    assert words[0] == "日米"
    assert words.index("日米同盟") < words.index("日米双方")
    assert all(w.startswith("日米") for w in words)


async def test_autocomplete_skips_grammar_words(conn: aiosqlite.Connection) -> None:
    """Hiragana-only nouns such as とも are not offered; katakana names are."""
    words = await suggest(conn, "と")
    assert "とも" not in words
    assert "トランプ" in words


@pytest.mark.parametrize("prefix", ["x" * 10_000, "\x00", "🇯🇵", '"', "%_"])
async def test_autocomplete_hostile_prefix(conn: aiosqlite.Connection, prefix: str) -> None:
    """Hostile prefixes give a (possibly empty) list of short suggestions, never an error."""
    words = await suggest(conn, prefix)
    assert all(len(w) <= 100 for w in words)


async def test_index_follows_edits_and_vocabulary_forgets(tmp_path: Path) -> None:
    """After a seed edit, the new wording is found and the removed word is no longer suggested."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        await articles.ingest_paths(connection, [seeds])
        assert "ペンタゴン" in await suggest(connection, "ペンタ")
        listing = seeds / "000_ec138bacc4a23740.txt"
        listing.write_text(listing.read_text("utf-8").replace("ペンタゴン", "国防総省"), "utf-8")
        report = await articles.ingest_paths(connection, [seeds])
        assert report.updated == 1
        assert (await search(connection, "国防総省")).total == 1
        assert "ペンタゴン" not in await suggest(connection, "ペンタ")
    finally:
        await connection.close()


async def test_vocabulary_keeps_a_word_other_articles_still_have(tmp_path: Path) -> None:
    """Editing one of two articles that share a word keeps its count; removing it from one
    leaves it suggested for the other."""
    common = (
        "日米両政府は同盟の抑止力を高めるため、共同訓練と装備の共同生産を拡大する方針で一致した。"
    )

    def draft(origin: str, extra: str) -> ArticleDraft:
        body = f"{common}{extra}"
        return ArticleDraft(f"{origin}の記事", body, date(2026, 1, 5), False, origin, origin)

    async def df(word: str) -> list[int]:
        rows = await connection.execute_fetchall("SELECT df FROM vocab WHERE key = ?", (word,))
        return [int(row[0]) for row in rows]

    connection = await db.connect(tmp_path / "alliance.db")
    try:
        await articles.ingest(connection, [draft("a.jsonl", "ペンタゴンが発表した。")])
        await articles.ingest(connection, [draft("b.jsonl", "ペンタゴンが認めた。")])
        assert await df("ペンタゴン") == [2]
        edit = await articles.ingest(connection, [draft("a.jsonl", "ペンタゴンが正式に発表した。")])
        assert edit.updated == 1
        assert await df("ペンタゴン") == [2]
        edit = await articles.ingest(connection, [draft("b.jsonl", "国防総省が認めた。")])
        assert edit.updated == 1
        assert await df("ペンタゴン") == [1]
        assert "ペンタゴン" in await suggest(connection, "ペンタ")
    finally:
        await connection.close()


async def test_index_rebuilds_for_a_new_analyzer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the analyzer version changes, the index is rebuilt once and search still works."""
    connection = await db.connect(tmp_path / "alliance.db")
    try:
        await articles.ingest_paths(connection, [SEEDS])
        monkeypatch.setattr(analyzer, "version", lambda: "test-analyzer")
        assert (await search(connection, "AMRAAM")).total == 1
        assert await db.get_meta(connection, "index_version") == index.index_version()
        assert index.index_version().startswith("test-analyzer/")
        rows = await connection.execute_fetchall("SELECT count(*) FROM article_index")
        assert next(iter(rows))[0] == 21
    finally:
        await connection.close()
