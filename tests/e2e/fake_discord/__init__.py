"""A loopback double of Discord's REST API and gateway for end-to-end tests.

Usage (the `fake_discord` fixture in tests/e2e/conftest.py yields a started double)::

    env = {**os.environ, **fake_discord.env(), "ALLIANCE_DB": str(tmp_path / "a.db")}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env)
    await fake_discord.wait_ready()
    await fake_discord.wait_sync()                     # the bot's tree.sync()
    sent = await fake_discord.send_command("alliance search", {"query": "QUAD"}, locale="ja")
    record = await fake_discord.wait_response(sent)    # callback (+ edit/followup if deferred)
    assert record.original["embeds"][0]["title"]
    assert fake_discord.mention_violations == []

In-process discord.py clients use `with pointed_at(fake_discord): ...` instead of `env()`.
"""

from .discordpy import pointed_at
from .interactions import InteractionRecord, ResponseEvent
from .payloads import Channel, Guild, Overwrite, Role, User
from .server import DROP, CommandSync, FakeDiscord, MentionViolation, RecordedRequest

__all__ = [
    "DROP",
    "Channel",
    "CommandSync",
    "FakeDiscord",
    "Guild",
    "InteractionRecord",
    "MentionViolation",
    "Overwrite",
    "RecordedRequest",
    "ResponseEvent",
    "Role",
    "User",
    "pointed_at",
]
