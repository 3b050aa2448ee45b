"""Closing the bot closes every database connection, whatever fails before."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord.ext import commands

from bot.bot import AllianceBot
from bot.settings import Settings


async def test_a_failing_gateway_close_still_closes_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py's close raising leaves no reader (nor the lookup) or writer open."""
    settings = Settings(_env_file=None, db=tmp_path / "alliance.db")  # type: ignore[call-arg]
    bot = AllianceBot(settings, serving=False)
    await bot.setup_hook()
    connections = [*bot.readers.connections, bot.readers.lookup(), bot.db]

    async def fails(self: commands.Bot) -> None:
        raise RuntimeError("the gateway did not close")

    monkeypatch.setattr(commands.Bot, "close", fails)
    with pytest.raises(RuntimeError, match="gateway"):
        await bot.close()
    for conn in connections:
        with pytest.raises(ValueError, match="no active connection"):
            await conn.execute("SELECT 1")
