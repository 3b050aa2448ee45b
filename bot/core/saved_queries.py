"""Searches saved under a short key, for pagination buttons whose custom_id can't hold the query.

Buttons carry their state in the custom_id (at most 100 characters), so they keep working after a
restart. A long query doesn't fit; it is stored here and the button carries its key instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosqlite

from bot.core.db import stamp, transaction
from bot.core.search.engine import Sort

log = logging.getLogger(__name__)

KEY_CHARS = 16
# Buttons older than this stop paging (they say so); keeps the table from growing for ever.
KEEP_FOR = timedelta(days=90)
PRUNE_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A search as the reader asked for it."""

    query: str
    topic: str | None
    sort: Sort


def key_of(saved: SavedQuery) -> str:
    """A stable short key for a search."""
    raw = "\x00".join((saved.query, saved.topic or "", saved.sort)).encode()
    return hashlib.sha256(raw).hexdigest()[:KEY_CHARS]


async def save(db: aiosqlite.Connection, saved: SavedQuery) -> str:
    """Store a search (or refresh its last use) and return its key."""
    key = key_of(saved)
    now = stamp(datetime.now(UTC))
    query = """
        INSERT INTO saved_queries (key, query, topic, sort, last_used) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET last_used = excluded.last_used
    """
    async with transaction(db):
        await db.execute(query, (key, saved.query, saved.topic, saved.sort, now))
    return key


async def load(db: aiosqlite.Connection, key: str) -> SavedQuery | None:
    """The search saved under `key`, or None when it is unknown or was pruned."""
    query = "SELECT query, topic, sort FROM saved_queries WHERE key = ?"
    rows = list(await db.execute_fetchall(query, (key,)))
    if not rows:
        return None
    text, topic, sort = rows[0]
    return SavedQuery(str(text), topic, "newest" if sort == "newest" else "relevance")


async def prune(db: aiosqlite.Connection, *, now: datetime | None = None) -> int:
    """Forget searches not used for `KEEP_FOR`; return how many were removed."""
    cutoff = stamp((now or datetime.now(UTC)) - KEEP_FOR)
    # Fetched to the end, so no statement is left open (a checkpoint on close would fail on it).
    query = "DELETE FROM saved_queries WHERE last_used < ? RETURNING 1"
    async with transaction(db):
        removed = await db.execute_fetchall(query, (cutoff,))
    return len(list(removed))


async def prune_loop(db: aiosqlite.Connection, *, interval: timedelta = PRUNE_EVERY) -> None:
    """`prune` now and every `interval` until cancelled; a failed prune is logged, not fatal."""
    while True:
        try:
            removed = await prune(db)
        except sqlite3.Error:
            # A locked database: the next round prunes what this one could not.
            log.warning("could not prune the saved searches", exc_info=True)
        else:
            if removed:
                log.info("forgot %d saved searches unused for %d days", removed, KEEP_FOR.days)
        await asyncio.sleep(interval.total_seconds())
