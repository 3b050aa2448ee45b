"""The floor for bench/e2e.py: a discord.py bot that does nothing but answer a constant.

    DISCORD_TOKEN=... ALLIANCE_DISCORD_API_URL=... ALLIANCE_DISCORD_GATEWAY_URL=... \
        python bench/floor_bot.py [ANSWERS.json]

It registers `/alliance search query:<text> [topic]` (the real bot's shape), syncs it on start,
and answers every search at once with one constant embed: whatever time bench/e2e.py measures
for it is discord.py, the loopback double and the machine, with no work of ours.

With ANSWERS.json (written by bench/e2e.py: each search's options and locale, and the answer
our bot gave it) it answers each search with our bot's answer instead: the same embeds, menus
and buttons, built once at start. That floor sends what we send, so the time between it and
our bot is our own work alone, not the size of the answer.
Imports only discord.py, so its start-up and memory are discord.py's too, and runs on the
event loop the bot runs on (uvloop where installed, as `bot.cli.run`). SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from typing import Any

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


class Constant(discord.ui.DynamicItem[Any], template=re.compile(".*", re.DOTALL)):
    """A replayed button or menu, dynamic like ours so discord.py keeps no state for it."""


class Answer:
    """One replayed answer: built once, sent as often as its search comes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.content: str | None = data.get("content")
        self.embeds = [discord.Embed.from_dict(e) for e in data.get("embeds", [])]
        self.ephemeral = bool(data.get("flags", 0) & 64)
        self.view = discord.ui.View(timeout=None)
        for row, bar in enumerate(data.get("components", [])):
            for component in bar["components"]:
                self.view.add_item(Constant(_item(component, row)))

    async def send(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            self.content, embeds=self.embeds, view=self.view, ephemeral=self.ephemeral
        )


def _item(data: dict[str, Any], row: int) -> discord.ui.Item[Any]:
    if data["type"] == 2:
        return discord.ui.Button(
            label=data.get("label"),
            custom_id=data["custom_id"],
            style=discord.ButtonStyle(data["style"]),
            disabled=data.get("disabled", False),
            row=row,
        )
    options = [discord.SelectOption.from_dict(o) for o in data["options"]]
    return discord.ui.Select(
        custom_id=data["custom_id"], placeholder=data.get("placeholder"), options=options, row=row
    )


def answer_key(options: dict[str, str], locale: str) -> str:
    """What identifies a search among the replayed answers."""
    return json.dumps([sorted(options.items()), locale], ensure_ascii=False)


def load_answers(path: str) -> dict[str, Answer]:
    with open(path, encoding="utf-8") as file:
        return {key: Answer(data) for key, data in json.load(file).items()}


class FloorBot(discord.Client):
    """One command group, one constant answer (or a constant answer per search)."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        group = app_commands.Group(name="alliance", description="US–Japan alliance news")

        @group.command(name="search", description="Search articles")
        async def search(
            interaction: discord.Interaction, query: str, topic: str | None = None
        ) -> None:
            options = {"query": query} if topic is None else {"query": query, "topic": topic}
            answer = answers.get(answer_key(options, interaction.locale.value))
            if answer is None:
                await interaction.response.send_message(embed=EMBED)
            else:
                await answer.send(interaction)

        self.tree.add_command(group)

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def main() -> None:
    discord.http.Route.BASE = os.environ["ALLIANCE_DISCORD_API_URL"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        os.environ["ALLIANCE_DISCORD_GATEWAY_URL"]
    )
    bot = FloorBot(load_answers(sys.argv[1]) if len(sys.argv) > 1 else {})
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
