"""Snippets located with the stored index forms: real words marked, parts of words not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.corpus import read_path
from bot.core.search import analyzer, snippets
from bot.core.search.query import Query, parse_query
from bot.core.search.snippets import SNIPPET_CHARS, snippet


def _marked(text: str, query: str, *, forms: str | None = None) -> list[str]:
    parsed = parse_query(query)
    assert isinstance(parsed, Query)
    return [part for part, is_match in snippet(text, parsed.terms, forms=forms) if is_match]


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        # the word beside words the index spells otherwise: し (為ル), いる (居ル), で (ダ)
        ("政府は対応した。", "対応", ["対応"]),
        ("協議している。トランプ政権に伝えた。", "トランプ", ["トランプ"]),
        ("リスクだけでなく、米国に依存する。", "米国", ["米国"]),
        ("解決が期待されている。", "期待", ["期待"]),
        # a part of a longer word is not marked, the word itself is
        ("議員が中国の対日圧力を批判する中、会談した。", "中", ["中"]),
        ("対中抑止と総合的対応を訴えた。焦点は対ロシア制裁だ。", "対", ["対"]),
        ("米国務省が発表した。", "米国", []),
        # spelled otherwise in the text than in the index: placed by walking the forms
        ("データセキュリティ、量子暗号。", "セキュリティー", ["セキュリティ"]),
        ("原子力空母USS George Washingtonで会談。", "George Washington", ["George Washington"]),
        ("緊張のなか、安全保障を議論した。", "中", ["なか"]),
        # width and separators
        ("ｶﾞｿﾘﾝとPAC3を増産。", "PAC3", ["PAC3"]),
        ("ｶﾞｿﾘﾝ価格…上昇。", "ガソリン", ["ｶﾞｿﾘﾝ"]),
        ("２０２５年…ＰＡＣ３を増産。", "PAC3", ["ＰＡＣ３"]),
        ("構想「ゴールデン・ドーム」を発表。", "ゴールデンドーム", ["ゴールデン・ドーム"]),
        # % after a number is the word パーセント, a decimal's point a separator
        ("防衛費をGDP比2%に増やす。", "2%", ["2%"]),
        ("支出は2パーセント増えた。", "2%", ["2パーセント"]),
        ("NATOは3.5％を目標に。", "3.5%", ["3.5％"]),
        ("総額5000億円の予算。", "億円", ["億円"]),
        ("総額5000億円の予算。", "5000億円", ["5000億円"]),
        # what folding composes is marked whole: half-width voiced kana, combining marks
        ("新しいﾊﾞｸﾞが見つかった。", "バグ", ["ﾊﾞｸﾞ"]),
        ("Cafe\u0301", "café", ["Cafe\u0301"]),
        ("Cafe\u0301 au lait in Tokyo.", "café", ["Cafe\u0301"]),
        ("ポケモンの\u30ab\u3099イド", "ガイド", ["\u30ab\u3099イド"]),
    ],
)
def test_marks_words_as_the_index_reads_them(text: str, query: str, marked: list[str]) -> None:
    """Matches are marked where the index has the word, whatever its neighbours look like."""
    assert _marked(text, query) == marked


SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("議論", "議論"),  # the words after it conjugated: され始め for 為ル レル 始メル
        ("逆回転", "逆回転"),
        ("セキュリティ", "セキュリティ"),  # normalized otherwise: セキュリティー, アポロン
        ("データセキュリティ", "データセキュリティ"),
        ("アポロ計画", "アポロ計画"),
        ("dome", "Dome"),  # its neighbours in English: for is フォー in the index
    ],
)
def test_a_word_deep_in_a_long_seed_article_is_marked(query: str, marked: str) -> None:
    """Deep in the longest seed article (2,453 characters), a word whose neighbours the text
    spells otherwise than the index is still found and marked, not left out of the snippet."""
    [body] = [
        draft.body
        for draft in read_path(SEEDS / "002_defbe0f32aa9e960.txt").drafts
        if "アポロ計画" in draft.body
    ]
    assert body.find(marked) > 1000  # past where reading the forms from the start gave up
    assert _marked(body, query)[:1] == [marked]


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        # between words the text spells otherwise than the index (とりわけ, について)
        ("である。とりわけミサイルについては空対空ミサイルを作る。", "ミサイル", ["ミサイル"] * 2),
        # spelled otherwise than its form (セキュリティー, golden, 高メル)
        ("経済安全保障とデータセキュリティの強化。", "security", ["安全保障", "セキュリティ"]),
        (
            "「ゴールデン・ドーム（Golden Dome）」",
            "Golden Dome",
            ["ゴールデン・ドーム", "Golden Dome"],
        ),
        (
            "抑止力を高める努力をし、対処能力を高めようとしている。",
            "高める",
            ["高める", "高めよう"],
        ),
    ],
)
def test_an_occurrence_that_does_not_read_is_marked_beside_one_that_does(
    text: str, query: str, marked: list[str]
) -> None:
    """An occurrence the words around it do not place is marked, though another one is read."""
    assert _marked(text, query) == marked


def test_a_particle_alone_does_not_make_part_of_a_word_a_match() -> None:
    """The の before 核心 is also before the word 核 (whose next words the text spells otherwise:
    され for 為ル レル), but one particle read alike is too little: the 核 of 核心 is not marked."""
    parsed = parse_query("核")
    assert isinstance(parsed, Query)
    assert snippet("米国の核心的利益。北朝鮮の核され始めた。", parsed.terms) == (
        ("米国の核心的利益。北朝鮮の", False),
        ("核", True),
        ("され始めた。", False),
    )


def test_text_analyzed_again_stays_short_without_sentence_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the forms cannot place a word in a long text whose sentences end only with '.'
    (for is フォー in the index), the text analyzed again is around the word, not the whole."""
    sentence = "The report for the committee was published for review by officials. "
    body = sentence * 560 + "The golden dome for missile defence was announced. " + sentence * 20
    forms = " ".join(analyzer.index_forms(body))
    parsed = parse_query("dome")
    assert isinstance(parsed, Query)
    analyzed: list[int] = []
    analyze = analyzer.analyze

    def recording(text: str) -> list[analyzer.Token]:
        analyzed.append(len(text))
        return analyze(text)

    monkeypatch.setattr(analyzer, "analyze", recording)
    parts = snippet(body, parsed.terms, forms=forms)
    assert [part for part, is_match in parts if is_match] == ["dome"]
    assert len(analyzed) == 1  # the word was found by analyzing the text around it
    # 600 characters either side of where the forms put it, widened by at most 200 each side.
    assert analyzed[0] <= 2 * (600 + 200) < len(body)


def test_stored_forms_are_used_instead_of_analysis() -> None:
    """Given the stored forms, the snippet follows them (here: forms that put 核 inside 中核)."""
    text = "米軍は中核を担う。"
    forms = " ".join(analyzer.index_forms(text))
    assert _marked(text, "核", forms=forms) == []
    # An index that (wrongly) held 中 and 核 apart would make the 核 of 中核 a match.
    assert _marked(text, "核", forms=forms.replace("中核", "中 核")) == ["核"]


def test_title_only_match_shows_the_start_unmarked() -> None:
    """An article matching only in its title gets the beginning of its text, nothing marked."""
    parsed = parse_query("ヘグセス")
    assert isinstance(parsed, Query)
    parts = snippet("防衛相は電話で協議した。" * 30, parsed.terms)
    assert not any(is_match for _, is_match in parts)
    assert parts[0][0].startswith("防衛相は")
    assert parts[-1] == ("…", False)


def test_deep_match_in_a_long_text_is_centred_and_short() -> None:
    """A match far into a long text is shown in a window of at most 200 characters."""
    filler = "日米の協議が続いた。"
    body = filler * 400 + "ヘグセス国防長官が来日した。" + filler * 50
    parsed = parse_query("ヘグセス")
    assert isinstance(parsed, Query)
    parts = snippet(body, parsed.terms)
    text = "".join(part for part, _ in parts)
    assert len(text) <= 202
    assert text.startswith("…")
    assert text.endswith("…")
    assert [part for part, is_match in parts if is_match] == ["ヘグセス"]


def test_every_occurrence_in_the_window_is_marked() -> None:
    """All occurrences inside the window are marked, in order."""
    assert _marked("台湾有事と台湾海峡、そして台湾。", "台湾") == ["台湾", "台湾", "台湾"]


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("トランプ 関税", ["トランプ関税"]),
        ("Trump tariffs", ["トランプ関税"]),
        ("関税 トランプ", ["トランプ関税"]),  # the order typed does not matter
    ],
)
def test_several_words_are_shown_where_the_text_has_them_together(
    query: str, marked: list[str]
) -> None:
    """A search for several words shows the part of the text with all of them, not the first
    word's first occurrence alone."""
    filler = "日米の協議が続いた。"
    body = "トランプ政権が発足した。" + filler * 40 + "トランプ関税の影響を議論した。" + filler * 20
    assert _marked(body, query) == marked


def test_a_text_without_the_words_together_shows_the_first_match() -> None:
    """When no part of the text has more of the words than another, the first match is shown."""
    filler = "日米の協議が続いた。"
    body = filler * 5 + "関税を議論した。" + filler * 40 + "トランプ政権が発足した。" + filler * 20
    assert _marked(body, "トランプ 関税") == ["関税"]


@pytest.mark.parametrize(
    "text",
    [
        "２０２５年…ＰＡＣ３を増産。",  # folding changes its length: not kept
        "日米はPAC3を増産した。",  # kept after the first time
        "PAC3。" + "日米同盟。" * 1300,  # too long to keep
    ],
)
def test_a_body_seen_again_gets_the_same_snippet(text: str) -> None:
    """Whether its folded text was kept or not, a body marks the same words every time."""
    first = _marked(text, "PAC3")
    assert first
    assert first == _marked(text, "PAC3") == _marked(text, "PAC3")


def test_a_match_at_the_window_s_end_is_marked_whole() -> None:
    """A later match that the window's end would cut is shown whole, never half in bold."""
    text = "政治の話。" + "い" * (SNIPPET_CHARS - 7) + "、政治と経済。" + "う" * 50 + "。"
    parsed = parse_query("政治")
    assert isinstance(parsed, Query)
    parts = snippet(text, parsed.terms)
    assert [part for part, marked in parts if marked] == ["政治", "政治"]


def test_a_word_beside_long_runs_the_index_spells_otherwise_is_marked() -> None:
    """核 after runs of half-width kana with sound marks (one long unknown word each, folded
    otherwise than stored) is marked; reading past them tries a few lengths, not thousands."""
    run = "ﾄﾗﾝﾌﾟ" * 400
    assert _marked(f"{run}、{run}、{run}、核", "核") == ["核"]


def test_a_long_word_spelled_otherwise_is_not_skipped_loosely() -> None:
    """A neighbour spelled otherwise is skipped as at most 12 characters: a form of 11
    characters can be passed over, one of 20 cannot."""
    for length, reads in ((11, True), (20, False)):
        form = "ア" * length
        text = "イ" * length + "核"
        assert snippets._reads_after(text, 0, [form, "核"], snippets._LOOSE) is reads


def test_parts_of_words_before_many_occurrences_are_read_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1,000 核 inside 中核 before 1,000 核 each with words of its own around it: the parts of
    words are not each read against every occurrence's words (a million readings, ~8 s on the
    event loop for 15,000 characters; a 200,000-character article took minutes), and the first
    核 of its own is still marked."""
    count = 1000
    text = "中核" * count + "。" + "".join(f"核{i}ア{i}イ{i}。" for i in range(count))
    readings = 0
    for name in ("_reads_before", "_reads_after", "_reads_words_before", "_reads_words_after"):
        read = getattr(snippets, name)

        def counted(*args: object, _read: Any = read) -> bool:
            nonlocal readings
            readings += 1
            return bool(_read(*args))

        monkeypatch.setattr(snippets, name, counted)
    forms = " ".join(analyzer.index_forms(text))
    parsed = parse_query("核")
    assert isinstance(parsed, Query)
    parts = snippet(text, parsed.terms, forms=forms)
    assert readings <= 4 * snippets._MAX_READINGS
    marked = [i for i, (_, is_match) in enumerate(parts) if is_match]
    assert marked, parts
    assert parts[marked[0]][0] == "核"
    assert "".join(part for part, _ in parts[marked[0] + 1 :]).startswith("0ア0")


def test_a_body_of_many_occurrences_finds_no_more_hits_than_can_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """100,000 核 apart in a body: the snippet marks the first ones, and takes no more hits from
    the text than `_MAX_READINGS` lets it read (all were found and sorted: 400,000 took 1.5 s
    of the event loop)."""
    found = 0
    probe_pattern = snippets._probe_pattern

    class Counted:
        def __init__(self, pattern: re.Pattern[str]) -> None:
            self.pattern = pattern

        def finditer(self, text: str) -> Iterator[re.Match[str]]:
            nonlocal found
            for match in self.pattern.finditer(text):
                found += 1
                yield match

    monkeypatch.setattr(snippets, "_probe_pattern", lambda phrase: Counted(probe_pattern(phrase)))
    text = "核 " * 100_000
    parsed = parse_query("核")
    assert isinstance(parsed, Query)
    parts = snippet(text, parsed.terms, forms=" ".join(analyzer.index_forms(text)))
    assert parts[:3] == (("核", True), (" ", False), ("核", True))
    assert all(is_match for part, is_match in parts if part == "核")
    assert found <= snippets._MAX_READINGS + 1
