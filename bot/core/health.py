"""Liveness: the running bot writes a heartbeat; `alliance-bot healthcheck` reads it.

The heartbeat is a UTC timestamp in the `meta` table, so the check needs nothing but the database
file: it works from another process (Docker's `HEALTHCHECK`) and survives restarts.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.core.db import (
    damage_summary,
    get_meta,
    is_damaged,
    is_disk_failure,
    load_migrations,
    newer_schema,
    open_connection,
    read_only_uri,
    schema_version,
    set_meta,
    unusable_reason,
)

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "heartbeat"
HEARTBEAT_INTERVAL = timedelta(seconds=30)
MAX_HEARTBEAT_AGE = timedelta(minutes=2)
# A health probe must answer quickly even if a writer holds the database.
_CHECK_TIMEOUT_SECONDS = 5.0
# Damage in the middle of the file is found only by reading all of it: `PRAGMA quick_check`
# walks every page, for 100,000 articles (320 MB) in 0.3 s from the page cache and 2 s from
# disk, without `integrity_check`'s matching of indexes to tables (0.7 s). Cut short past this,
# so that a far larger database is not called unhealthy for outlasting Docker's 10 s timeout.
_DAMAGE_CHECK_SECONDS = 4.0


async def write_heartbeat(db: aiosqlite.Connection, *, now: datetime | None = None) -> None:
    """Record that the bot is alive now (or at `now`, an aware datetime)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    # No transaction of its own: on the bot's shared connection another coroutine may hold one,
    # and a heartbeat that joins (or rolls back with) it is harmless.
    await set_meta(db, HEARTBEAT_KEY, moment.isoformat(timespec="seconds"))


async def clear_heartbeat(db: aiosqlite.Connection) -> None:
    """Forget the heartbeat: the bot stopped cleanly, and is not alive until it writes again."""
    await db.execute("DELETE FROM meta WHERE key = ?", (HEARTBEAT_KEY,))


async def heartbeat_loop(
    db: aiosqlite.Connection, *, interval: timedelta = HEARTBEAT_INTERVAL
) -> None:
    """Write a heartbeat every `interval` until cancelled; a failed write is logged, not fatal."""
    while True:
        try:
            await write_heartbeat(db)
        except sqlite3.Error:
            # A locked or full database: the healthcheck will notice if it lasts.
            log.warning("could not write the heartbeat", exc_info=True)
        await asyncio.sleep(interval.total_seconds())


async def check_health(
    db_path: Path,
    *,
    max_age: timedelta = MAX_HEARTBEAT_AGE,
    require_heartbeat: bool,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """Whether the database is readable and, if required, the heartbeat fresh, or else (no
    heartbeat required) whether it is readable and undamaged throughout; and why.

    The database is opened read-only and never created or migrated, so probing a stopped or
    missing bot changes nothing.
    """
    try:
        found = await asyncio.to_thread(db_path.is_file)
    except OSError as exc:  # a name longer than 255 bytes, a loop of links
        return False, f"cannot use the database path {db_path}: {exc.strerror or exc}"
    if not found:
        return False, f"no database at {db_path}"
    try:
        conn = await open_connection(
            read_only_uri(db_path), uri=True, timeout=_CHECK_TIMEOUT_SECONDS
        )
        try:
            # Reads the schema and one page: proves the file is our database.
            stamp = await get_meta(conn, HEARTBEAT_KEY)
            version = await schema_version(conn)
            # The whole file is read only when asked (`--no-heartbeat`, an operator's check):
            # Docker's probe every 30 s would read all of it from disk, 2 s for 100,000 articles.
            damage, checked = (None, True) if require_heartbeat else await _damage(conn)
        finally:
            await conn.close()
    except sqlite3.Error as exc:
        return False, await asyncio.to_thread(_unreadable, db_path, exc)
    if damage is not None:
        return False, f"database {db_path} is damaged: {damage}"
    # Readable is not enough: this version of the bot refuses to start on that database.
    newer = newer_schema(version, (await asyncio.to_thread(load_migrations))[-1].version)
    if newer is not None:
        return False, newer
    unchecked = "" if checked else f" (checked for damage for {_DAMAGE_CHECK_SECONDS:g} s only)"
    if not require_heartbeat:
        return True, "ok: database readable" + unchecked
    if stamp is None:
        return False, "no heartbeat: the bot is not running (or not started yet)"
    try:
        beat = datetime.fromisoformat(stamp)
    except ValueError:
        return False, f"heartbeat is not a timestamp: {stamp[:40]!r}"
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    age = (now or datetime.now(UTC)) - beat
    seconds = int(age.total_seconds())
    if age > max_age:
        limit = int(max_age.total_seconds())
        return False, f"heartbeat is {seconds} s old (limit {limit} s): the bot is stuck or stopped"
    if age < -max_age:
        # A clock set back (or a copied database) would otherwise look healthy for hours.
        return False, f"heartbeat is {-seconds} s in the future: check the system clock"
    return True, f"ok: heartbeat {max(seconds, 0)} s old" + unchecked


async def _damage(conn: aiosqlite.Connection) -> tuple[str | None, bool]:
    """The first damage `PRAGMA quick_check` finds, in one line, or None; and whether it read
    the whole file (False when cut short, see `_DAMAGE_CHECK_SECONDS`)."""
    deadline = time.monotonic() + _DAMAGE_CHECK_SECONDS
    await conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        rows = list(await conn.execute_fetchall("PRAGMA quick_check(1)"))
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
            return None, False
        raise
    found = str(rows[0][0]) if rows else "ok"
    if found == "ok":
        return None, True
    return damage_summary(found), True


def _unreadable(path: Path, error: sqlite3.Error) -> str:
    """Why the database could not be read, in words that point at the fix."""
    why = unusable_reason(path)
    if why is not None:
        # SQLite says "unable to open database file" or "attempt to write a readonly database",
        # which sounds like damage; the file is fine, its owner or folder is not.
        return f"database {path} cannot be opened: {why}"
    if is_damaged(error):
        return f"database {path} is damaged: {error}"
    if is_disk_failure(error):
        # "unreadable: disk I/O error" alone reads as a broken file.
        return f"database {path} unreadable: {error}: check its disk's free space"
    return f"database {path} unreadable: {error}"
