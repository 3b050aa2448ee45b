"""Long searches saved for pagination buttons, on a real SQLite file."""

from __future__ import annotations

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
