"""`alliance-bot run`, `sync` and `invite-url`: starting and stopping the Discord bot.

Imported only by those subcommands, so the other commands never load discord.py.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import errno
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import discord
import yarl
from discord import gateway, http
from filelock import FileLock, Timeout

from bot import ops
from bot.bot import AllianceBot
from bot.log import setup_logging
from bot.settings import Settings

log = logging.getLogger(__name__)

# What the bot does in a server: read the channel, post digests (with embeds), and find its own
# earlier digest after a crash.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, read_message_history=True
)
SCOPES = ("bot", "applications.commands")


class StartError(Exception):
    """The bot can't start for a reason the operator can fix: one line, exit code 2."""


def point_at(settings: Settings) -> None:
    """Send REST and gateway traffic where the settings say (Discord itself by default)."""
    base = settings.discord_api_url.rstrip("/")
    # Webhook and interaction calls build their URLs from the same Route class.
    http.Route.BASE = base
    if settings.discord_gateway_url:
        gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def _token(settings: Settings) -> str:
    token = _token_or_empty(settings)
    if not token:
        raise StartError("DISCORD_TOKEN is not set: put the bot's token in .env (see README)")
    if not token.isprintable() or " " in token:
        # aiohttp would refuse it in the Authorization header with a traceback.
        raise StartError(
            "DISCORD_TOKEN contains spaces or control characters: check the token (see README)"
        )
    return token


def _sync_refused(guild_id: int | None) -> StartError:
    where = f"in server {guild_id}" if guild_id is not None else "globally"
    return StartError(
        f"Discord refused to register the slash commands {where}: is the bot in that server, "
        "invited with the applications.commands scope? (see alliance-bot invite-url)"
    )


def _refused(exc: discord.HTTPException, guild_id: int | None) -> StartError:
    """An error Discord answered during start-up or a sync, as one line."""
    if isinstance(exc, discord.Forbidden):
        # At start-up, the command sync is the one call Discord refuses so.
        return _sync_refused(guild_id)
    said = " ".join(str(exc.text or exc.response.reason or "").split())[:200]
    if isinstance(exc, discord.DiscordServerError):
        return StartError(f"Discord is unavailable ({exc.status} {said}): try again later")
    if str(exc.response.url).endswith("/commands"):
        where = f"in server {guild_id}" if guild_id is not None else "globally"
        return StartError(
            f"Discord refused to register the slash commands {where} ({exc.status} {said})"
        )
    return StartError(
        f"Discord answered {exc.status} ({said}) at {http.Route.BASE}: "
        "check ALLIANCE_DISCORD_API_URL (it ends in /api/v10)"
    )


async def _login(bot: AllianceBot, token: str) -> None:
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise StartError("Discord rejected DISCORD_TOKEN: check the token (see README)") from None
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        raise StartError(f"cannot reach Discord at {http.Route.BASE}: {exc}") from None
    except discord.HTTPException as exc:  # login runs setup_hook, which syncs the commands
        raise _refused(exc, bot.settings.dev_guild) from None


# What a filesystem that cannot lock files answers.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP})


@contextmanager
def only_instance(database: Path) -> Iterator[None]:
    """Hold a lock beside the database while the bot runs (StartError if another process holds
    it): a second bot on one database answers every command twice, and its start-up takes the
    first one's digest post in flight for a crashed one and posts it again."""
    lock = FileLock(f"{database}.lock", fallback_to_soft=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise StartError(
            f"another alliance-bot is running on the database {database} (it holds "
            f"{lock.lock_file}): stop it first"
        ) from None
    except OSError as exc:
        if exc.errno not in _NO_LOCKS:
            # E.g. a lock file left by a run as another user: unlocked, two bots could run.
            reason = exc.strerror or str(exc)
            raise StartError(f"cannot lock {lock.lock_file}: {reason}") from None
        # A filesystem without locks (some network mounts) should not keep the bot down.
        log.warning("cannot lock %s (%s): run only one bot on this database", lock.lock_file, exc)
    # Outside the handler: an error of the bot's own is not chained to the lock's.
    try:
        yield
    finally:
        if lock.is_locked:
            lock.release()


async def _run(settings: Settings) -> None:
    token = _token(settings)
    point_at(settings)
    with only_instance(settings.db):
        await _serve(settings, token)


async def _serve(settings: Settings, token: str) -> None:
    bot = AllianceBot(settings)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    signalled: list[str] = []
    stopping: list[asyncio.Task[None]] = []
    starting = started = False

    def stop(signame: str) -> None:
        if signalled:
            return
        signalled.append(signame)
        log.info("received %s; shutting down", signame)
        if started:
            stopping.append(loop.create_task(bot.close()))
        elif starting:
            # Still in setup_hook (seeding, opening readers, loading extensions): a close()
            # beside it would close the database under it, or run before what it then opens.
            # Interrupted instead, start-up stops where it is and `async with` closes the rest.
            main.cancel()
        # Neither: start-up failed and the bot is closing already; its error decides the exit.

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    starting = True
    try:
        async with bot:
            try:
                await _login(bot, token)
            finally:
                starting = False
            started = True
            await bot.connect(reconnect=True)
    except asyncio.CancelledError:
        if not signalled or started:
            raise
        main.uncancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if stopping:
            await stopping[0]
    log.info("stopped")


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Start the bot and run until SIGINT or SIGTERM."""
    setup_logging(settings)
    try:
        await _run(settings)
    except StartError as exc:
        sys.stderr.write(f"alliance-bot: {exc}\n")
        return 2
    except discord.PrivilegedIntentsRequired:
        sys.stderr.write("alliance-bot: Discord refused the bot's intents\n")
        return 2
    return 0


async def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Register the slash commands now, globally or in one guild."""
    setup_logging(settings)
    # Without --guild, `sync_commands` syncs where the bot does: to ALLIANCE_DEV_GUILD if set.
    guild = args.guild if args.guild is not None else settings.dev_guild
    try:
        token = _token(settings)
        point_at(settings)
        async with AllianceBot(settings, serving=False) as bot:
            await _login(bot, token)
            try:
                await bot.sync_commands(guild_id=guild, force=True)
            except discord.HTTPException as exc:
                raise _refused(exc, guild) from None
    except StartError as exc:
        sys.stderr.write(f"alliance-bot: {exc}\n")
        return 2
    where = f"in server {guild}" if guild is not None else "globally"
    ops.write_out(f"synced the slash commands {where}\n")
    return 0


def application_id_from_token(token: str) -> int | None:
    """The bot's id, which its token starts with (base64); None if the token isn't shaped so."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() and len(decoded) <= 20 else None


async def cmd_invite_url(args: argparse.Namespace, settings: Settings) -> int:
    """Print the link that adds the bot to a server with the permissions it needs."""
    token = _token_or_empty(settings)
    client_id = args.client_id or application_id_from_token(token)
    if client_id is None:
        why = "DISCORD_TOKEN does not start with an application id" if token else "no token"
        sys.stderr.write(
            f"alliance-bot: {why}: pass --client-id (the application id from the developer "
            "portal) or set DISCORD_TOKEN to the bot's token\n"
        )
        return 2
    url = discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=SCOPES)
    ops.write_out(url + "\n")
    return 0


def _token_or_empty(settings: Settings) -> str:
    return settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
