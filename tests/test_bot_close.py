"""Closing the bot closes every database connection, whatever fails before."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from sqlite_threads import sqlite_workers

from bot.bot import AllianceBot
from bot.settings import Settings


async def test_a_failing_gateway_close_still_closes_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py's close raising leaves no connection (readers, lookup, writer) or thread open."""
    before = sqlite_workers()
    settings = Settings(_env_file=None, db=tmp_path / "alliance.db")  # type: ignore[call-arg]
    bot = AllianceBot(settings, serving=False)
    await bot.setup_hook()
    opened = sqlite_workers() - before
    assert len(opened) >= 4  # the writer, two readers and the lookup, and the cogs' own

    async def fails(self: discord.Client) -> None:
        raise RuntimeError("the gateway did not close")

    # commands.Bot.close unloads the extensions (closing the cogs' connections), then calls this.
    monkeypatch.setattr(discord.Client, "close", fails)
    with pytest.raises(RuntimeError, match="gateway"):
        await bot.close()
    for thread in opened:
        thread.join(5)
    assert [thread for thread in opened if thread.is_alive()] == []
