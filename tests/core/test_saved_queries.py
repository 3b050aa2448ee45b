"""Long searches saved for pagination buttons, on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import db, saved_queries
from bot.core.saved_queries import SavedQuery


async def test_save_and_load_round_trip(tmp_path: Path) -> None:
    """A saved search comes back unchanged under its key, and saving twice keeps one row."""
    conn = await db.connect(tmp_path / "a.db")
    try:
        saved = SavedQuery("日米同盟 " * 30, "taiwan", "newest")
        key = await saved_queries.save(conn, saved)
        assert await saved_queries.save(conn, saved) == key
        assert await saved_queries.load(conn, key) == saved
        assert await saved_queries.load(conn, "0" * 16) is None
        rows = await conn.execute_fetchall("SELECT count(*) FROM saved_queries")
        assert next(iter(rows))[0] == 1
    finally:
        await conn.close()


async def test_prune_forgets_old_searches(tmp_path: Path) -> None:
    """Searches unused for longer than the keep period are removed; recent ones stay."""
    conn = await db.connect(tmp_path / "a.db")
    try:
        key = await saved_queries.save(conn, SavedQuery("核", None, "relevance"))
        assert await saved_queries.prune(conn) == 0
        later = datetime.now(UTC) + saved_queries.KEEP_FOR + timedelta(days=1)
        assert await saved_queries.prune(conn, now=later) == 1
        assert await saved_queries.load(conn, key) is None
    finally:
        await conn.close()


async def test_prune_loop_prunes_at_once_then_every_interval(tmp_path: Path) -> None:
    """The loop forgets an old search as it starts, and one that ages later on its next round."""
    conn = await db.connect(tmp_path / "a.db")
    old = (datetime.now(UTC) - saved_queries.KEEP_FOR - timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )

    async def age(key: str) -> None:
        await conn.execute("UPDATE saved_queries SET last_used = ? WHERE key = ?", (old, key))
        await conn.commit()

    async def forgotten(key: str) -> bool:
        for _ in range(500):  # up to ~5 s
            if await saved_queries.load(conn, key) is None:
                return True
            await asyncio.sleep(0.01)
        return False

    try:
        first = await saved_queries.save(conn, SavedQuery("核", None, "relevance"))
        second = await saved_queries.save(conn, SavedQuery("艦", None, "relevance"))
        await age(first)
        loop = asyncio.create_task(saved_queries.prune_loop(conn, interval=timedelta(seconds=0.05)))
        try:
            assert await forgotten(first)
            assert await saved_queries.load(conn, second) is not None
            await age(second)
            assert await forgotten(second)
            assert not loop.done()
        finally:
            loop.cancel()
    finally:
        await conn.close()
