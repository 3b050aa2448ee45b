"""End-to-end: the operator's side of feeds (ALLIANCE_FEEDS_BY_COMMAND=false, an unreadable
feeds.toml), each on a bot of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_process import bot_running
from fake_discord import FakeDiscord
from fake_discord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS
from replies import ask, text

from bot.core import db as database
from bot.core.feeds import store

ADMIN = MEMBER_PERMISSIONS | MANAGE_GUILD


async def test_feeds_left_to_the_operator_are_not_changed_by_command(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """With ALLIANCE_FEEDS_BY_COMMAND=false, `add` and `remove` say who manages the feeds (ja,
    en), nothing is followed, and the empty list says the operator adds them, not `add`."""
    env = {"ALLIANCE_FEEDS_BY_COMMAND": "false"}
    async with bot_running(fake_discord, tmp_path / "alliance.db", env=env):
        listed = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN))
        assert "No feeds yet. The operator adds them in feeds.toml or with alliance-bot" in listed
        assert "/alliance-feeds add" not in listed
        url = "https://feeds.example.jp/rss.xml"
        added = await ask(fake_discord, "alliance-feeds add", {"url": url}, permissions=ADMIN)
        assert text(added) == (
            "This bot's feeds are managed by its operator (feeds.toml or alliance-bot feeds); "
            "`/alliance-feeds list` shows them."
        )
        removed = await ask(
            fake_discord, "alliance-feeds remove", {"url": url}, permissions=ADMIN, locale="ja"
        )
        assert text(removed).startswith("このボットのフィードは運用者が管理しています")
    conn = await database.connect(tmp_path / "alliance.db")
    try:
        assert await store.all_states(conn) == {}
    finally:
        await conn.close()


async def test_feeds_left_to_the_operator_name_the_list_as_a_japanese_client_does(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The Japanese refusal points to the list command by the name a Japanese client shows
    (/同盟フィード設定 一覧), as every other Japanese reply does, not by its English name."""
    env = {"ALLIANCE_FEEDS_BY_COMMAND": "false"}
    async with bot_running(fake_discord, tmp_path / "alliance.db", env=env):
        url = "https://feeds.example.jp/rss.xml"
        added = await ask(
            fake_discord, "alliance-feeds add", {"url": url}, permissions=ADMIN, locale="ja"
        )
        said = text(added)
        assert "/同盟フィード設定 一覧" in said
        assert "/alliance-feeds" not in said


@pytest.mark.parametrize(
    ("content", "said", "ja_said"),
    [
        ("[[feed]\nurl = 'https://example.com/rss'\n", "is not valid TOML", "TOML の書式"),
        ("feed = 1\n", "`feed` must be written as [[feed]] tables", "[[feed]] の表として"),
    ],
)
async def test_an_unreadable_feeds_file_is_reported_by_the_list(
    fake_discord: FakeDiscord, tmp_path: Path, content: str, said: str, ja_said: str
) -> None:
    """With feeds.toml unreadable at start, the bot runs and `/alliance-feeds list` says why,
    that only the feeds added by command are fetched, and that mending it is enough (ja, en),
    instead of a generic error with a logged traceback."""
    (tmp_path / "feeds.toml").write_text(content)
    unread = "feeds.toml can't be read: following only the 0 feeds added by command until it can"
    async with bot_running(fake_discord, tmp_path / "alliance.db", until_logged=unread) as bot:
        started = len(bot.stderr)
        listed = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN))
        assert listed.startswith(
            "News feeds\nThe feeds file can't be read, so only the feeds added by command are "
            "being fetched. Once the operator fixes it, the bot reads it again within 5 minutes "
            "and fetches its feeds too: "
        )
        assert said in listed
        ja = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN, locale="ja"))
        assert "コマンドで追加したフィードだけを取得しています" in ja
        assert ja_said in ja
        assert "Traceback" not in bot.stderr[started:]


async def test_a_feeds_file_broken_while_running_is_noted_above_the_list(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """feeds.toml broken after a good start: a change by command is refused with why, and the
    list still shows the file's feed, under a note that the file can't be read (en, ja)."""
    url = "http://127.0.0.1:9/alliance.xml"  # loopback, nothing listens: never reaches out
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feed]]\nurl = "{url}"\nname = "File feed"\n')
    async with bot_running(fake_discord, tmp_path / "alliance.db", until_logged="following 1"):
        feeds_file.write_text("feed = 1\n")
        other = "https://feeds.example.jp/rss.xml"
        added = text(
            await ask(fake_discord, "alliance-feeds add", {"url": other}, permissions=ADMIN)
        )
        assert added.startswith("Not done: ")
        assert "`feed` must be written as [[feed]] tables" in added
        listed = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN))
        assert listed.startswith(
            "News feeds\nThe feeds file can't be read, so the feeds are fetched as it last said. "
            "The operator must fix it: "
        )
        assert "File feed" in listed
        ja = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN, locale="ja"))
        assert "最後に読めた設定のまま取得しています" in ja
