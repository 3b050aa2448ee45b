"""The Discord client: owns the database, loads the extensions, syncs commands when they change."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import itertools
import json
import logging
from typing import Any

import aiosqlite
import discord
from discord.ext import commands

from bot.core import articles, db, saved_queries
from bot.core.db import Readers, get_meta, set_meta, transaction
from bot.core.health import clear_heartbeat, heartbeat_loop
from bot.core.search.cache import CACHE_SIZE, ResultCache
from bot.core.search.engine import warm_up
from bot.core.topics import Taxonomy, load_taxonomy
from bot.i18n import CommandTranslator
from bot.pages import DYNAMIC_ITEMS, PageCache
from bot.settings import Settings
from bot.tree import NO_MENTIONS, AllianceTree

log = logging.getLogger(__name__)

# How long a shutdown waits for members' commands that are being answered.
SHUTDOWN_GRACE_SECONDS = 5.0
# Names discord.py gives the tasks that run slash commands and component callbacks.
_HANDLER_TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-")

# Each reader's page cache. Pages it drops come back from the OS's file cache: at 100k articles
# a search takes as long with 256 KiB as with 8 MiB, and 2 MiB (SQLite's default) per reader
# only added resident memory.
READER_CACHE_KIB = 512
# Searches sharing one reader: a few keep its thread busy while their Python work runs; with
# more, 200 concurrent searches all finish late together instead of the first ones early
# (bench/e2e.py at 100k articles: p50 ~440 ms at 4, ~610 ms unbounded, ~890 ms on one shared
# connection).
READS_PER_CONNECTION = 4

EXTENSIONS = ("bot.exts.alliance", "bot.exts.digest", "bot.exts.feeds")
# The longest wait between attempts to reach a gateway that could not be reached yet.
GATEWAY_RETRY_MAX_S = 60.0
# Allocations between collections of the youngest generation, then of the next two (see
# `_tune_garbage_collection`).
GC_THRESHOLDS = (50_000, 20, 20)

# The bot never joins voice: the warnings about missing voice libraries would only alarm operators.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def _intents() -> discord.Intents:
    # Slash commands need no privileged intent; guilds gives the channel and role cache that
    # permission checks read.
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class AllianceBot(commands.Bot):
    """The bot: its database connections and the extensions, opened in `setup_hook`.

    `db` is the connection that writes; members' reads (searches, lists, articles) borrow one
    of `readers`, so they neither queue behind each other nor behind a write. Searches go
    through `results`, which answers repeated pages from memory, and the pages they make
    through `page_cache`, which keeps them as rendered.
    """

    db: aiosqlite.Connection
    readers: Readers
    results: ResultCache
    page_cache: PageCache

    def __init__(self, settings: Settings, *, serving: bool = True) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=_intents(),
            tree_cls=AllianceTree,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
        )
        self.settings = settings
        # False for a bot made only to register its commands (`alliance-bot sync`): no digests,
        # feeds or heartbeat, which would make a stopped bot look alive.
        self.serving = serving
        self.taxonomy: Taxonomy = load_taxonomy()
        self._background: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()

    async def setup_hook(self) -> None:
        """Open the database, load the extensions and, if they changed, sync the commands (when
        `serving`: and start the background work)."""
        self.db = await db.connect(self.settings.db)
        report = await articles.ensure_seeded(self.db, self.settings.seeds)
        if report is not None:
            log.info("loaded the shipped seeds: %d articles", report.added)
        # Build the search index and load the analyzer now, so the first search is fast.
        await warm_up(self.db)
        self.readers = await Readers.open(
            self.settings.db,
            self.settings.db_readers,
            per_connection=READS_PER_CONNECTION,
            cache_kib=READER_CACHE_KIB,
        )
        for reader in self.readers.connections:
            await warm_up(reader)
        cache_size = CACHE_SIZE if self.settings.search_cache else 0
        self.results = ResultCache(self.readers, size=cache_size)
        self.page_cache = PageCache(size=cache_size)
        extra = {t.label_en: t.label_ja for t in self.taxonomy.topics}
        await self.tree.set_translator(CommandTranslator(extra))
        for item in DYNAMIC_ITEMS:
            self.add_dynamic_items(item)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if not self.serving:
            return
        heartbeat = self._heartbeat_once_connected()
        self._background.append(asyncio.create_task(heartbeat, name="heartbeat"))
        pruning = saved_queries.prune_loop(self.db)
        self._background.append(asyncio.create_task(pruning, name="saved-search pruning"))
        await self.sync_commands()
        _tune_garbage_collection()

    async def _heartbeat_once_connected(self) -> None:
        # `healthcheck` calls the bot healthy by its heartbeat: not before it reached Discord.
        await self.wait_until_ready()
        await heartbeat_loop(self.db)

    async def connect(self, *, reconnect: bool = True) -> None:
        """discord.py's `connect`, also retried when Discord's gateway can't be reached before
        the first connection: discord.py 2.7 then stops with an AttributeError of its own, after
        logging that it reconnects (Rapptz/discord.py#10520)."""
        for attempt in itertools.count():
            try:
                await super().connect(reconnect=reconnect)
                return
            except AttributeError:
                if self.is_closed():
                    return  # shut down while discord.py waited to reconnect
                # Only that failure: the gateway connection discord.py reads was never made.
                if self.ws is not None or not reconnect:
                    raise
            delay = min(GATEWAY_RETRY_MAX_S, 2.0**attempt)
            log.warning("cannot reach Discord's gateway; trying again in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                # A shutdown ends the wait: `super().connect` then returns at once.
                await asyncio.wait_for(self._closing.wait(), delay)

    async def sync_commands(self, *, guild_id: int | None = None, force: bool = False) -> bool:
        """Register the slash commands with Discord if they changed (or `force`); True if sent.

        With `ALLIANCE_DEV_GUILD` set (and no `guild_id`), they go to that guild, which Discord
        updates at once, instead of globally.
        """
        guild_id = guild_id if guild_id is not None else self.settings.dev_guild
        guild = discord.Object(guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = await self.command_schema_hash(guild)
        key = f"commands:{self.application_id}:{guild_id if guild_id is not None else 'global'}"
        if not force and await get_meta(self.db, key) == digest:
            log.info("slash commands unchanged; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        async with transaction(self.db):
            await set_meta(self.db, key, digest)
        where = f"guild {guild_id}" if guild is not None else "globally"
        log.info("synced %d slash commands %s", len(synced), where)
        return True

    async def command_schema_hash(self, guild: discord.abc.Snowflake | None = None) -> str:
        """A hash of exactly what `tree.sync` would send, translations included."""
        translator = self.tree.translator
        payload: list[dict[str, Any]] = []
        for command in self.tree.get_commands(guild=guild):
            if translator is not None:
                payload.append(await command.get_translated_payload(self.tree, translator))
            else:
                payload.append(command.to_dict(self.tree))
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    async def close(self) -> None:
        """Let answers in progress finish, stop background work, close gateway and database."""
        self._closing.set()
        await _finish_interactions()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        if self.serving and hasattr(self, "db"):
            # Else `healthcheck` would call a stopped bot healthy until its heartbeat aged.
            try:
                await clear_heartbeat(self.db)
            except aiosqlite.Error:
                log.warning("could not clear the heartbeat on close", exc_info=True)
        try:
            await super().close()
        finally:
            # Whatever failed above, the readers close (their threads would keep the process
            # alive) and the writing connection checkpoints its WAL and closes.
            try:
                if hasattr(self, "readers"):
                    await self.readers.close()
            finally:
                if hasattr(self, "db"):
                    await _close_database(self.db)


def _tune_garbage_collection() -> None:
    """Keep what start-up loaded out of garbage collection, and collect less often.

    What start-up loaded (dictionary, vocabulary, discord.py) lives as long as the bot, yet each
    full collection walked all of it: a 20-35 ms pause that stalled every answer in flight.
    Frozen, a full collection walks only what was made since.

    Each answer makes ~100 container objects that live until it is sent. At CPython's
    thresholds (700, 10, 10) a burst of answers was collected every few answers, each time
    walking all the answers in flight again: ~25 ms a burst of 200, most of it on members'
    waits. At GC_THRESHOLDS a burst sees one collection or none, for a few MB more at peak.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _finish_interactions() -> None:
    """Wait (a few seconds at most) for command and component handlers still running.

    discord.py runs each in a task of its own, named after its kind; without this wait a
    shutdown would close the database under a member's half-answered command.
    """
    current = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE_SECONDS
    told = False
    # Looked for again after each wait: the gateway is still open, so commands keep arriving.
    while running := [
        task
        for task in asyncio.all_tasks()
        if task is not current and task.get_name().startswith(_HANDLER_TASK_PREFIXES)
    ]:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            break
        if not told:
            log.info("waiting for %d interaction(s) to finish", len(running))
            told = True
        await asyncio.wait(running, timeout=left, return_when=asyncio.FIRST_COMPLETED)


async def _close_database(conn: aiosqlite.Connection) -> None:
    """Checkpoint the WAL into the main file and close, so a stopped bot leaves one clean file."""
    try:
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except aiosqlite.Error:
        log.warning("could not checkpoint the database on close", exc_info=True)
    await conn.close()
