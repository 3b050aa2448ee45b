"""Command sync of the real bot: only when the schema changed, forced by `sync`, dev guild."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from bot_process import bot_running, run_command
from fake_discord import FakeDiscord
from replies import ask


def _command_puts(double: FakeDiscord) -> list[str]:
    """Paths of every bulk overwrite of commands the bot sent (global or guild), in order."""
    return [r.path for r in double.find_requests("PUT", "/applications/*/commands")]


def _global_path(double: FakeDiscord) -> str:
    return f"/applications/{double.application_id}/commands"


def _guild_path(double: FakeDiscord, guild_id: int) -> str:
    return f"/applications/{double.application_id}/guilds/{guild_id}/commands"


async def _answers_help(double: FakeDiscord) -> bool:
    record = await ask(double, "alliance help")
    return bool(record.original and record.original["embeds"])


async def test_a_restart_on_the_same_database_does_not_sync(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The first start syncs globally once; a second start on the same DB sends no PUT."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db):
        assert _command_puts(fake_discord) == [_global_path(fake_discord)]
    async with bot_running(fake_discord, db) as second:
        assert await _answers_help(fake_discord)
    assert _command_puts(fake_discord) == [_global_path(fake_discord)]
    assert "slash commands unchanged; not syncing" in second.stderr


async def test_a_changed_stored_hash_syncs_again(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """When the hash in the DB differs from the schema's, the next start syncs and stores it."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db):
        pass
    with closing(sqlite3.connect(db)) as conn, conn:
        query = "SELECT key, value FROM meta WHERE key LIKE 'commands:%'"
        key, digest = conn.execute(query).fetchone()
        conn.execute("UPDATE meta SET value = 'an older schema' WHERE key = ?", (key,))
    async with bot_running(fake_discord, db):
        assert await _answers_help(fake_discord)
    assert _command_puts(fake_discord) == [_global_path(fake_discord)] * 2
    with closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    assert stored == (digest,)


async def test_a_fresh_database_syncs(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """A bot on a new database syncs even though Discord already holds the same commands."""
    async with bot_running(fake_discord, tmp_path / "first.db"):
        pass
    async with bot_running(fake_discord, tmp_path / "second.db"):
        pass
    assert _command_puts(fake_discord) == [_global_path(fake_discord)] * 2
    first, second = fake_discord.command_syncs
    assert first.commands == second.commands


async def test_sync_command_forces_a_sync(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """`alliance-bot sync --guild ID` and plain `sync` push the commands even if unchanged."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db):
        pass
    guild_id = fake_discord.guild.id
    to_guild = await run_command(
        fake_discord, db, tmp_path / "sync1", "sync", "--guild", str(guild_id)
    )
    assert to_guild.returncode == 0, to_guild.stderr
    assert to_guild.stdout.strip() == f"synced the slash commands in server {guild_id}"
    assert _command_puts(fake_discord) == [
        _global_path(fake_discord),
        _guild_path(fake_discord, guild_id),
    ]
    guild_names = {c["name"] for c in fake_discord.commands[guild_id]}
    assert guild_names == {c["name"] for c in fake_discord.commands[None]}

    again = await run_command(fake_discord, db, tmp_path / "sync2", "sync")
    assert again.returncode == 0, again.stderr
    assert _command_puts(fake_discord)[-1] == _global_path(fake_discord)
    assert len(_command_puts(fake_discord)) == 3
    assert "Traceback" not in to_guild.stderr + again.stderr


async def test_sync_command_does_not_pass_for_a_running_bot(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A bot stopped cleanly is not healthy at once (no heartbeat), and `alliance-bot sync` on
    its database leaves no heartbeat either."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db):
        pass
    stopped = await run_command(fake_discord, db, tmp_path / "stopped", "healthcheck")
    assert stopped.returncode == 1  # a bot stopped cleanly takes its heartbeat with it
    assert "no heartbeat" in stopped.stderr
    synced = await run_command(fake_discord, db, tmp_path / "sync", "sync")
    assert synced.returncode == 0, synced.stderr
    with closing(sqlite3.connect(db)) as conn:
        beats = conn.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchall()
    assert beats == []
    health = await run_command(fake_discord, db, tmp_path / "health", "healthcheck")
    assert health.returncode == 1
    assert "Traceback" not in synced.stderr + health.stderr


async def test_dev_guild_gets_the_commands_instead_of_global(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """With ALLIANCE_DEV_GUILD the commands go to that guild, where they answer; none globally."""
    guild_id = fake_discord.guild.id
    env = {"ALLIANCE_DEV_GUILD": str(guild_id)}
    async with bot_running(fake_discord, tmp_path / "alliance.db", env=env):
        assert _command_puts(fake_discord) == [_guild_path(fake_discord, guild_id)]
        assert fake_discord.commands.get(None) is None
        assert await _answers_help(fake_discord)


async def test_a_guild_the_bot_is_not_in_is_one_line_and_exit_2(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Syncing to a server that refuses (bot not in it): exit 2, one clear line, no traceback."""
    stranger = "123456789012345678"
    db = tmp_path / "alliance.db"
    run = await run_command(
        fake_discord, db, tmp_path / "run", "run", env={"ALLIANCE_DEV_GUILD": stranger}
    )
    sync = await run_command(fake_discord, db, tmp_path / "sync", "sync", "--guild", stranger)
    for process in (run, sync):
        assert process.returncode == 2
        assert "Traceback" not in process.stderr
        (line,) = [x for x in process.stderr.splitlines() if x.startswith("alliance-bot:")]
        assert f"refused to register the slash commands in server {stranger}" in line
    assert fake_discord.gateway.identify_count == 0
    assert fake_discord.command_syncs == []


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("PUT", "/applications/*/commands", 503, "Discord is unavailable (503"),
        ("PUT", "/applications/*/commands", 404, "refused to register the slash commands globally"),
        ("GET", "/users/@me", 404, "check ALLIANCE_DISCORD_API_URL"),
    ],
)
async def test_any_error_discord_answers_at_start_is_one_line_and_exit_2(
    fake_discord: FakeDiscord, tmp_path: Path, method: str, path: str, status: int, says: str
) -> None:
    """An outage or a wrong API address while starting or syncing: exit 2 and one line saying
    which, no traceback."""
    db = tmp_path / "alliance.db"
    for name, args in (("run", ("run",)), ("sync", ("sync",))):
        fake_discord.fail(method, path, status=status)
        process = await run_command(fake_discord, db, tmp_path / name, *args)
        assert process.returncode == 2, process.stderr
        assert "Traceback" not in process.stderr
        (line,) = [x for x in process.stderr.splitlines() if x.startswith("alliance-bot:")]
        assert says in line
    assert fake_discord.gateway.identify_count == 0


async def test_sync_says_it_synced_to_the_dev_guild(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """`alliance-bot sync` with ALLIANCE_DEV_GUILD set syncs to that guild and says so."""
    guild_id = fake_discord.guild.id
    env = {"ALLIANCE_DEV_GUILD": str(guild_id)}
    synced = await run_command(
        fake_discord, tmp_path / "alliance.db", tmp_path / "s", "sync", env=env
    )
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.strip() == f"synced the slash commands in server {guild_id}"
    assert _command_puts(fake_discord) == [_guild_path(fake_discord, guild_id)]
