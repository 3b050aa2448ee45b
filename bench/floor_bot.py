"""The floor for bench/e2e.py: a discord.py bot that does nothing but answer a constant.

    DISCORD_TOKEN=... ALLIANCE_DISCORD_API_URL=... ALLIANCE_DISCORD_GATEWAY_URL=... \
        python bench/floor_bot.py

It registers `/alliance search query:<text> [topic]` (the real bot's shape), syncs it on start,
and answers every search at once with one constant embed: whatever time bench/e2e.py measures
for it is discord.py, the loopback double and the machine, with no work of ours.
Imports only discord.py, so its start-up and memory are discord.py's too, and runs on the
event loop the bot runs on (uvloop where installed, as `bot.cli.run`). SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import os
import signal

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

EMBED = discord.Embed(
    title="検索結果: 日米同盟",
    description="**日米同盟**の記事 5 件 (全 21 件中 1–5 件)",
    colour=0x1F4E79,
)
for number in range(1, 6):
    EMBED.add_field(name=f"{number}. 見出し {number}", value="2025年12月19日 · 防衛\n要約…")


class FloorBot(discord.Client):
    """One command group, one constant answer."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        group = app_commands.Group(name="alliance", description="US–Japan alliance news")

        @group.command(name="search", description="Search articles")
        async def search(
            interaction: discord.Interaction, query: str, topic: str | None = None
        ) -> None:
            await interaction.response.send_message(embed=EMBED)

        self.tree.add_command(group)

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def main() -> None:
    discord.http.Route.BASE = os.environ["ALLIANCE_DISCORD_API_URL"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        os.environ["ALLIANCE_DISCORD_GATEWAY_URL"]
    )
    bot = FloorBot()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: loop.create_task(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
