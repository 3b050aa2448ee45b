"""Graceful shutdown: SIGTERM while the bot is answering and posting."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot_process import bot_running, wal_bytes
from fake_discord import FakeDiscord
from fake_discord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS

from bot.core.schedules import latest_complete_week

QUERIES = ("台湾", "核", "PAC3", "Koizumi", "日米同盟", "トランプ", "防衛費", "ミサイル")


async def test_sigterm_mid_work_finishes_answers_and_leaves_one_clean_file(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Answers and a digest post in flight finish; exit 0; the ledger is whole; WAL is empty."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db) as process:
        news = fake_discord.guild.channel("alliance-news")
        sent = [
            await fake_discord.send_command(
                "alliance-digest post-now",
                {"channel": news.id},
                permissions=MEMBER_PERMISSIONS | MANAGE_GUILD,
            )
        ]
        sent += await asyncio.gather(
            *(
                fake_discord.send_command("alliance search", {"query": q}, locale="ja")
                for q in QUERIES * 3
            )
        )
        code = await process.stop()  # SIGTERM
    assert code == 0, process.stderr
    assert "Traceback" not in process.stderr
    answered = [await fake_discord.wait_response(record, 5) for record in sent]
    assert all(record.callback is not None for record in answered)
    assert fake_discord.mention_violations == []

    assert wal_bytes(db) == 0
    week = latest_complete_week(datetime.now(UTC), "Asia/Tokyo")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            "SELECT status, message_id FROM digest_posts WHERE channel_id = ? AND week_start = ?",
            (news.id, week.start.isoformat()),
        ).fetchall()
    posted = [m for m in fake_discord.channel_messages("alliance-news") if m.get("embeds")]
    assert rows == [("posted", int(posted[0]["id"]))]
    assert len(posted) >= 1
