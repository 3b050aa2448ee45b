"""The heartbeat and the health check, on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.core import articles, db, health
from bot.core.health import HEARTBEAT_KEY, check_health, heartbeat_loop, write_heartbeat
from bot.core.models import ArticleDraft


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Path, aiosqlite.Connection]]:
    path = tmp_path / "data" / "alliance.db"
    conn = await db.connect(path)
    yield path, conn
    await conn.close()


async def test_fresh_heartbeat_is_healthy(live: tuple[Path, aiosqlite.Connection]) -> None:
    """A heartbeat written just now passes the check."""
    path, conn = live
    await write_heartbeat(conn)
    healthy, reason = await check_health(path, require_heartbeat=True)
    assert healthy, reason
    assert reason.startswith("ok")


async def test_heartbeat_is_a_utc_timestamp(live: tuple[Path, aiosqlite.Connection]) -> None:
    """The heartbeat is stored in the meta table as an ISO UTC timestamp."""
    _, conn = live
    tokyo = datetime(2025, 6, 2, 15, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    await write_heartbeat(conn, now=tokyo)
    assert await db.get_meta(conn, HEARTBEAT_KEY) == "2025-06-02T06:00:00+00:00"


async def test_stale_heartbeat_is_unhealthy(live: tuple[Path, aiosqlite.Connection]) -> None:
    """A heartbeat older than two minutes fails, and the reason says how old it is."""
    path, conn = live
    now = datetime.now(UTC)
    await write_heartbeat(conn, now=now - timedelta(minutes=3))
    healthy, reason = await check_health(path, require_heartbeat=True, now=now)
    assert not healthy
    assert "180 s old" in reason


async def test_max_age_is_configurable(live: tuple[Path, aiosqlite.Connection]) -> None:
    """A 90-second-old heartbeat passes the default limit but not a 60-second one."""
    path, conn = live
    now = datetime.now(UTC)
    await write_heartbeat(conn, now=now - timedelta(seconds=90))
    assert (await check_health(path, require_heartbeat=True, now=now))[0]
    short = timedelta(seconds=60)
    assert not (await check_health(path, max_age=short, require_heartbeat=True, now=now))[0]


async def test_future_heartbeat_is_unhealthy(live: tuple[Path, aiosqlite.Connection]) -> None:
    """A heartbeat far in the future (clock set back) does not count as fresh."""
    path, conn = live
    now = datetime.now(UTC)
    await write_heartbeat(conn, now=now + timedelta(hours=1))
    healthy, reason = await check_health(path, require_heartbeat=True, now=now)
    assert not healthy
    assert "future" in reason


async def test_missing_heartbeat(live: tuple[Path, aiosqlite.Connection]) -> None:
    """Without a heartbeat the check fails, unless the heartbeat is not required."""
    path, _ = live
    healthy, reason = await check_health(path, require_heartbeat=True)
    assert not healthy
    assert "no heartbeat" in reason
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert healthy, reason


async def test_garbled_heartbeat(live: tuple[Path, aiosqlite.Connection]) -> None:
    """A heartbeat value that is not a timestamp is reported, not raised."""
    path, conn = live
    await db.set_meta(conn, HEARTBEAT_KEY, "yesterday")
    healthy, reason = await check_health(path, require_heartbeat=True)
    assert not healthy
    assert "not a timestamp" in reason


async def test_missing_database_is_unhealthy_and_not_created(tmp_path: Path) -> None:
    """Checking a path with no database fails and leaves no file behind."""
    path = tmp_path / "nothing.db"
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert not healthy
    assert "no database" in reason
    assert not path.exists()


async def test_not_a_database_is_unhealthy(tmp_path: Path) -> None:
    """A file that is not SQLite is "damaged", the word the README's advice (restore) goes by."""
    path = tmp_path / "alliance.db"
    path.write_bytes(b"this is not a database, just some text" * 200)
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert not healthy
    assert reason == f"database {path} is damaged: file is not a database"


async def test_database_without_schema_is_unhealthy(tmp_path: Path) -> None:
    """A SQLite file that is not ours (no meta table) fails the check."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert not healthy
    assert "no such table: meta" in reason


@pytest.mark.parametrize("require_heartbeat", [False, True])
async def test_database_newer_than_the_bot_is_unhealthy(
    live: tuple[Path, aiosqlite.Connection], require_heartbeat: bool
) -> None:
    """A database this version refuses to start on fails the check, heartbeat or not."""
    path, conn = live
    await write_heartbeat(conn)
    latest = db.load_migrations()[-1].version
    await conn.execute(f"PRAGMA user_version = {latest + 1}")
    await conn.commit()
    healthy, reason = await check_health(path, require_heartbeat=require_heartbeat)
    assert not healthy
    assert reason == (
        f"the database is at schema {latest + 1}, newer than this version of the bot ({latest})"
    )


async def _reports_db(path: Path, drafts: list[ArticleDraft]) -> None:
    conn = await db.connect(path)
    try:
        await articles.ingest(conn, drafts)
        await write_heartbeat(conn)
    finally:
        await conn.close()


async def test_damage_in_the_middle_is_unhealthy(
    tmp_path: Path,
    numbered_reports: Callable[[int], list[ArticleDraft]],
    damage_middle: Callable[[Path], None],
) -> None:
    """A database whose middle pages are junk fails the check without a heartbeat (the
    operator's), in one line."""
    path = tmp_path / "alliance.db"
    await _reports_db(path, numbered_reports(1000))
    damage_middle(path)
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert not healthy
    assert reason.startswith(f"database {path} is damaged: ")
    assert "\n" not in reason


async def test_a_damage_check_over_its_time_is_cut_short_and_says_so(
    tmp_path: Path,
    numbered_reports: Callable[[int], list[ArticleDraft]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The damage check stops at its time limit: healthy, saying it checked only that long."""
    path = tmp_path / "alliance.db"
    await _reports_db(path, numbered_reports(1000))
    monkeypatch.setattr(health, "_DAMAGE_CHECK_SECONDS", 0.0)
    healthy, reason = await check_health(path, require_heartbeat=False)
    assert (healthy, reason) == (True, "ok: database readable (checked for damage for 0 s only)")


def _remove_side_files(path: Path) -> None:
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)


async def test_check_reads_a_closed_wal_database(tmp_path: Path) -> None:
    """After the bot stopped (no -wal or -shm left) the read-only check still reads it."""
    path = tmp_path / "alliance.db"
    conn = await db.connect(path)
    await write_heartbeat(conn)
    await conn.close()
    _remove_side_files(path)
    healthy, reason = await check_health(path, require_heartbeat=True)
    assert healthy, reason


async def test_check_never_writes(live: tuple[Path, aiosqlite.Connection]) -> None:
    """The check leaves the heartbeat exactly as it found it."""
    path, conn = live
    await write_heartbeat(conn, now=datetime(2020, 1, 1, tzinfo=UTC))
    await check_health(path, require_heartbeat=True)
    assert await db.get_meta(conn, HEARTBEAT_KEY) == "2020-01-01T00:00:00+00:00"


async def test_heartbeat_loop_keeps_beating(live: tuple[Path, aiosqlite.Connection]) -> None:
    """The loop rewrites the heartbeat on its interval until cancelled."""
    path, conn = live
    await write_heartbeat(conn, now=datetime(2020, 1, 1, tzinfo=UTC))
    task = asyncio.create_task(heartbeat_loop(conn, interval=timedelta(milliseconds=10)))
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if (await check_health(path, require_heartbeat=True))[0]:
                break
        healthy, reason = await check_health(path, require_heartbeat=True)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert healthy, reason
