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
    en), and nothing is followed."""
    env = {"ALLIANCE_FEEDS_BY_COMMAND": "false"}
    async with bot_running(fake_discord, tmp_path / "alliance.db", env=env):
        url = "https://feeds.example.jp/rss.xml"
        added = await ask(fake_discord, "alliance-feeds add", {"url": url}, permissions=ADMIN)
        assert text(added) == (
            "This bot's feeds are managed by its operator (feeds.toml or alliance-bot feeds); "
            "/alliance-feeds list shows them."
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
    """With feeds.toml unreadable at start, the bot runs and `/alliance-feeds list` says why and
    what to do (ja, en), instead of a generic error with a logged traceback."""
    (tmp_path / "feeds.toml").write_text(content)
    async with bot_running(
        fake_discord, tmp_path / "alliance.db", until_logged="feeds are not followed"
    ) as bot:
        started = len(bot.stderr)
        listed = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN))
        assert listed.startswith(
            "News feeds\nThe feeds file can't be read, so no feeds are being fetched. The "
            "operator must fix it and restart the bot: "
        )
        assert said in listed
        ja = text(await ask(fake_discord, "alliance-feeds list", permissions=ADMIN, locale="ja"))
        assert "フィードの設定ファイルを読めないため" in ja
        assert ja_said in ja
        assert "Traceback" not in bot.stderr[started:]
