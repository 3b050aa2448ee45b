"""Replies name commands the way each member's Discord client shows them."""

from __future__ import annotations

import re

import pytest

from bot.i18n import COMMAND_JA, MESSAGES, slash, t

_COMMAND = re.compile(r"`/([^`]+)`")


def _words(command: str) -> list[str]:
    """Command and subcommand names, then option names (of `name:value`, whose value may hold
    spaces)."""
    path = re.split(r"\s(?=\S+:)", command, maxsplit=1)[0]
    return [*path.split(), *re.findall(r"(\S+):", command)]


@pytest.mark.parametrize("key", [k for k, (ja, en) in MESSAGES.items() if "`/" in ja + en])
def test_replies_name_commands_in_the_members_language(key: str) -> None:
    """Each reply names commands as its reader sees them: `/日米同盟 検索`, `/alliance search`."""
    ja, en = MESSAGES[key]
    japanese = set(COMMAND_JA.values())
    for command in _COMMAND.findall(ja):
        assert all(word in japanese for word in _words(command)), command
    for command in _COMMAND.findall(en):
        assert all(word in COMMAND_JA for word in _words(command)), command
    assert len(_COMMAND.findall(ja)) == len(_COMMAND.findall(en))


def test_slash_names_a_command_for_each_client() -> None:
    """`slash` gives the localized path for Japanese and the source names for English."""
    assert slash("alliance search", "ja") == "/日米同盟 検索"
    assert slash("alliance-digest set", "ja") == "/同盟ダイジェスト設定 設定"
    assert slash("alliance search", "en") == "/alliance search"


def test_a_count_of_one_is_singular_in_english() -> None:
    """English says "1 article" and "2 articles"; Japanese counts the same way for both."""
    assert t("topics.count", "en", count=1) == "1 article"
    assert t("topics.count", "en", count=2) == "2 articles"
    assert t("topics.count", "ja", count=1) == "1件"
    assert t("feeds.footer", "en", count=1, flagged=0) == "1 feed (0 failing)"


def test_a_relative_time_reads_as_a_phrase_in_the_failing_feed_line() -> None:
    """Discord shows <t:…:R> as "3 days ago": the English line reads "Started failing 3 days
    ago" (not "Failing since 3 days ago"), the Japanese "3日前から…"."""
    assert t("feeds.flagged", "en", since="3 days ago") == "⚠️ Started failing 3 days ago"
    assert t("feeds.flagged", "ja", since="3日前").startswith("⚠️ 3日前から")


def test_missed_weeks_are_counted_without_spaces_in_japanese() -> None:
    """Missed weeks read "ほか3週分", as "3件" reads elsewhere: no spaces around the number."""
    assert "の週ほか3週分は" in t("digest.missed_more", "ja", week="2025-12-15", count=3)
    assert "の週ほか1週分は" in t("digest.missed_more", "ja", week="2025-12-15", count=1)


@pytest.mark.parametrize("key", list(MESSAGES))
def test_a_japanese_number_meets_its_counter_without_a_space(key: str) -> None:
    """Japanese writes "500文字", "5回", "5〜1440分" as it writes "3件": no space before the
    counter, whatever the message."""
    ja, _ = MESSAGES[key]
    assert not re.search(r"\} (?:件|文字|分|回|バイト|秒|週)", ja), ja


@pytest.mark.parametrize("key", list(MESSAGES))
def test_a_command_named_in_a_reply_is_set_as_code(key: str) -> None:
    """A slash command in a reply is in backticks, as in every other reply: never bare text
    running into the sentence ("/同盟フィード設定 一覧 で一覧を…")."""
    names = {"alliance", "alliance-digest", "alliance-feeds"}
    names |= {COMMAND_JA[name] for name in names}
    bare = re.compile(rf"(?<![\w`])/(?:{'|'.join(map(re.escape, names))})\b")
    for text in MESSAGES[key]:
        assert not bare.search(text), text


def test_option_descriptions_word_a_default_and_a_schedule_as_the_replies_do() -> None:
    """Every Japanese option description gives its default as 省略時は / 省略すると, and calls a
    schedule 定期投稿の設定 as the replies do: not 既定 in one, スケジュール in another."""
    for english, japanese in COMMAND_JA.items():
        if "default" in english:
            assert "省略" in japanese, japanese
    shown = [*COMMAND_JA.values(), *(ja for ja, _ in MESSAGES.values())]
    assert [text for text in shown if "スケジュール" in text or "既定" in text] == []
