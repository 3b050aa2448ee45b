"""Benchmark: 1,000 channels whose weekly digest is due at the same minute, through the double.

    python bench/digest.py [--channels 1000] [--guilds 4] [--lead 15]

Starts the loopback Discord double (tests/e2e/fake_discord) with the channels spread over a few
guilds (Discord allows 500 channels per guild), writes one schedule per channel, all due at the
same coming minute, to a fresh database, and starts the real bot (`python -m bot run`) on it.
The bot's scheduler fires every job at that minute; the benchmark waits until every channel has
its digest, then checks from the double's records that each channel got exactly one POST and one
digest message, and from the database that every post is recorded with its message id.

Prints the time from the due instant to the last post beside two floors: Discord's global limit
of 50 requests per second (channels / 50 s) and the bot's own limiter (`POSTS_PER_SECOND`, 40/s,
which leaves room for members' commands). Waits for a minute boundary (up to a minute) first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from fake_discord import Channel, FakeDiscord, Guild  # noqa: E402
from fake_discord.payloads import JSON  # noqa: E402

from bot.core import db as database  # noqa: E402
from bot.core import schedules  # noqa: E402
from bot.digest_poster import POSTS_PER_SECOND  # noqa: E402
from bot.render import DIGEST_MARKER  # noqa: E402

DISCORD_GLOBAL_LIMIT = 50  # requests per second, for the whole bot
TOKYO = ZoneInfo("Asia/Tokyo")


def build_guilds(channels: int, guilds: int) -> list[Guild]:
    """`channels` text channels spread evenly over `guilds` guilds."""
    per_guild = -(-channels // guilds)
    made: list[Guild] = []
    for g in range(guilds):
        names = range(g * per_guild, min(channels, (g + 1) * per_guild))
        made.append(Guild(name=f"Bench {g}", channels=[Channel(f"digest-{i:04d}") for i in names]))
    return made


def due_minute(lead: float) -> datetime:
    """The first minute boundary at least `lead` seconds from now."""
    now = datetime.now(UTC)
    due = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    while due - now < timedelta(seconds=lead):
        due += timedelta(minutes=1)
    return due


async def write_schedules(db: Path, guilds: list[Guild], due: datetime) -> None:
    """One schedule per channel, all due at `due` (Asia/Tokyo wall time)."""
    local = due.astimezone(TOKYO)
    conn = await database.connect(db)
    try:
        for guild in guilds:
            for channel in guild.channels:
                await schedules.set_schedule(
                    conn,
                    guild_id=guild.id,
                    channel_id=channel.id,
                    weekday=local.isoweekday(),
                    at=f"{local:%H:%M}",
                )
    finally:
        await conn.close()


async def ledger(db: Path) -> dict[int, tuple[str, int | None]]:
    """(status, message id) of every ledger row, by channel."""
    conn = await database.connect(db)
    try:
        query = "SELECT channel_id, status, message_id FROM digest_posts"
        rows = await conn.execute_fetchall(query)
        return {int(c): (str(s), None if m is None else int(m)) for c, s, m in rows}
    finally:
        await conn.close()


def is_digest(message: JSON) -> bool:
    return any(DIGEST_MARKER in (e.get("footer") or {}).get("text", "") for e in message["embeds"])


def bot_env(double: FakeDiscord, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLIANCE_", "DISCORD_"))}
    return {**env, **double.env(), "ALLIANCE_DB": str(db), "PYTHONPATH": str(ROOT)}


async def run(channels: int, guild_count: int, lead: float) -> int:
    guilds = build_guilds(channels, guild_count)
    all_channels = [c for g in guilds for c in g.channels]
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        workdir = Path(tmp)
        db = workdir / "alliance.db"
        async with FakeDiscord(guilds=guilds, heartbeat_interval=5.0) as double:
            due = due_minute(lead)
            await write_schedules(db, guilds, due)
            log = workdir / "bot.log"
            started = time.monotonic()
            with log.open("wb") as out:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run",
                    env=bot_env(double, db), cwd=workdir, stdout=out, stderr=out,
                )  # fmt: skip
            try:
                await double.wait_ready(60)
                ready_after = time.monotonic() - started
                print(f"{channels} channels in {guild_count} guilds, all due at {due:%H:%M:%S} UTC")
                print(f"bot connected after {ready_after:.1f} s; waiting for the due minute …")
                wait = (due - datetime.now(UTC)).total_seconds()

                def posted() -> int:
                    return sum(
                        any(map(is_digest, double.channel_messages(c.id))) for c in all_channels
                    )

                await double.wait_for(
                    lambda: posted() == channels, wait + 180, what="every channel's digest"
                )
                finished = datetime.now(UTC)
                await asyncio.sleep(2)  # anything posted twice would show up now
            finally:
                proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), 30)
            rows = await ledger(db)
            text = log.read_text(errors="replace")

        problems: list[str] = []
        stamps: list[datetime] = []
        for channel in all_channels:
            digests = [m for m in double.channel_messages(channel.id) if is_digest(m)]
            posts = double.find_requests("POST", f"/channels/{channel.id}/messages")
            if len(digests) != 1 or [r.status for r in posts] != [200]:
                problems.append(f"{channel.name}: {len(digests)} digests, {len(posts)} POSTs")
                continue
            stamps.append(datetime.fromisoformat(digests[0]["timestamp"]))
            if rows.get(channel.id) != ("posted", int(digests[0]["id"])):
                problems.append(f"{channel.name}: ledger {rows.get(channel.id)}")
        errors = [r for r in double.requests if r.status >= 400]
        if errors:
            problems.append(f"{len(errors)} requests answered with an error")
        if code != 0 or "Traceback" in text:
            problems.append(f"bot exit code {code}, traceback in log: {'Traceback' in text}")

    first, last = min(stamps), max(stamps)
    total = (last - due).total_seconds()
    spread = (last - first).total_seconds()
    offsets = sorted((s - due).total_seconds() for s in stamps)
    discord_floor = channels / DISCORD_GLOBAL_LIMIT
    limiter_floor = max(0, channels - POSTS_PER_SECOND) / POSTS_PER_SECOND
    print(f"posted exactly once: {len(stamps)}/{channels} channels, ledger consistent")
    print(f"first post   {(first - due).total_seconds():6.2f} s after the due minute")
    print(f"last post    {total:6.2f} s after the due minute (done {finished:%H:%M:%S} UTC)")
    print(f"median post  {statistics.median(offsets):6.2f} s")
    print(f"rate         {channels / spread if spread else float('inf'):6.1f} posts/s (first→last)")
    print(f"floor at Discord's global limit ({DISCORD_GLOBAL_LIMIT}/s): {discord_floor:6.2f} s")
    print(
        f"floor at the bot's limiter ({POSTS_PER_SECOND}/s, burst {POSTS_PER_SECOND}): "
        f"{limiter_floor:6.2f} s"
    )
    print(f"overhead over the limiter floor: {total - limiter_floor:+.2f} s")
    for problem in problems[:20]:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--guilds", type=int, default=4, help="Discord allows 500 channels each")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds to start the bot")
    args = parser.parse_args()
    return asyncio.run(run(args.channels, args.guilds, args.lead))


if __name__ == "__main__":
    sys.exit(main())
