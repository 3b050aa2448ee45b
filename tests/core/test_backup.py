"""Online backups of a live database, on real SQLite files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.core import db
from bot.core.backup import BackupError, backup

PAYLOAD = "日米同盟" * 100  # ~1 KB a row, so a copy takes long enough to overlap writes


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Path, aiosqlite.Connection]]:
    path = tmp_path / "data" / "alliance.db"
    conn = await db.connect(path)
    await conn.execute("CREATE TABLE load (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    yield path, conn
    await conn.close()


async def _write_batch(conn: aiosqlite.Connection, rows: int) -> None:
    """Insert rows and record the new total in the same transaction."""
    async with db.transaction(conn):
        await conn.executemany("INSERT INTO load (payload) VALUES (?)", [(PAYLOAD,)] * rows)
        total = next(iter(await conn.execute_fetchall("SELECT count(*) FROM load")))[0]
        await db.set_meta(conn, "load_rows", str(total))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _inspect(path: Path) -> tuple[str, int, int, int]:
    """integrity_check, row count, recorded total and highest id of a backup file."""
    with sqlite3.connect(path) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        count, top = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM load").fetchone()
        recorded = conn.execute("SELECT value FROM meta WHERE key = 'load_rows'").fetchone()[0]
    conn.close()
    return check, count, int(recorded), top


async def test_backup_while_writing_is_consistent(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """Copies taken while the bot writes pass integrity_check and hold whole transactions."""
    path, conn = live
    for _ in range(30):
        await _write_batch(conn, 100)
    stop, running = asyncio.Event(), asyncio.Event()
    batches = 0

    async def writer() -> None:
        nonlocal batches
        while not stop.is_set():
            await _write_batch(conn, 20)
            batches += 1
            if batches == 3:
                running.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    try:
        await running.wait()
        before = batches
        copies = [(await backup(path, tmp_path / f"copy{i}.db")).path for i in range(4)]
        during = batches - before
    finally:
        stop.set()
        await task
    final = await db.get_meta(conn, "load_rows")
    assert final is not None
    assert during > 0  # the writer really ran while the copies were taken
    for copy in copies:
        check, count, recorded, top = _inspect(copy)
        assert check == "ok"
        assert count == recorded  # every transaction is in the copy whole, or not at all
        assert top == count
        assert 3000 <= count <= int(final)


async def test_copy_is_a_self_contained_file(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """The copy needs no -wal file, keeps the schema version, and the source is untouched."""
    path, conn = live
    await _write_batch(conn, 10)
    result = await backup(path, tmp_path / "copy.db")
    assert result.path == tmp_path / "copy.db"
    assert result.size_bytes == result.path.stat().st_size
    assert result.schema_version == await db.schema_version(conn)
    assert _names(tmp_path) == ["copy.db", "data"]  # no -wal beside the copy
    with sqlite3.connect(result.path) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()
    assert next(iter(await conn.execute_fetchall("SELECT count(*) FROM load")))[0] == 10


@pytest.mark.parametrize("mode", [0o644, 0o640])
async def test_the_copy_can_be_read_as_the_database_can(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path, mode: int
) -> None:
    """The copy has the database's permissions, not a temporary file's private ones: a
    restore run as another user (the container's) can read it."""
    path, _ = live
    path.chmod(mode)
    result = await backup(path, tmp_path / "copy.db")
    assert stat.S_IMODE(result.path.stat().st_mode) == mode


async def test_folder_target_gets_a_dated_file(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """A folder as target receives `alliance-<UTC time>.db` inside it."""
    path, _ = live
    folder = tmp_path / "backups"
    folder.mkdir()
    result = await backup(path, folder)
    assert result.path.parent == folder
    assert result.path.name.startswith("alliance-")
    assert result.path.name.endswith("Z.db")
    assert _inspect_tables(result.path) >= {"articles", "meta", "load"}


def _inspect_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {r[0] for r in rows}


async def test_existing_target_is_replaced(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """An older backup at the target path is replaced by the new copy, no temp file left."""
    path, conn = live
    target = tmp_path / "latest.db"
    await backup(path, target)
    await _write_batch(conn, 5)
    await backup(path, target)
    assert _inspect(target)[1] == 5
    assert _names(tmp_path) == ["data", "latest.db"]


@pytest.mark.parametrize(
    "name", ["alliance.db", "../data/alliance.db", "alliance.db-wal", "alliance.db.lock"]
)
async def test_refuses_to_overwrite_the_live_database(
    live: tuple[Path, aiosqlite.Connection], name: str
) -> None:
    """The live database and its side files (also the running bot's lock) are never a backup
    target."""
    path, conn = live
    await _write_batch(conn, 3)
    with pytest.raises(BackupError, match="live database"):
        await backup(path, path.parent / name)
    assert next(iter(await conn.execute_fetchall("SELECT count(*) FROM load")))[0] == 3
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


async def test_refuses_the_live_database_through_a_symlink(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """A symlink pointing at the live database is refused too."""
    path, _ = live
    link = tmp_path / "link.db"
    link.symlink_to(path)
    with pytest.raises(BackupError, match="live database"):
        await backup(path, link)


async def test_missing_database_is_not_created(tmp_path: Path) -> None:
    """Backing up a path with no database fails and creates nothing there."""
    missing = tmp_path / "nothing.db"
    with pytest.raises(BackupError, match="no database"):
        await backup(missing, tmp_path / "copy.db")
    assert not missing.exists()
    assert not (tmp_path / "copy.db").exists()


async def test_failed_copy_keeps_the_old_backup(tmp_path: Path) -> None:
    """When the source is not a database the old backup stays and no temp file is left."""
    source = tmp_path / "broken.db"
    source.write_bytes(b"not sqlite at all " * 500)
    target = tmp_path / "backup.db"
    target.write_bytes(b"the previous backup")
    with pytest.raises(BackupError, match="failed"):
        await backup(source, target)
    assert target.read_bytes() == b"the previous backup"
    assert _names(tmp_path) == ["backup.db", "broken.db"]


@pytest.mark.parametrize(("target", "folder"), [("nowhere/copy.db", False), ("backups", True)])
async def test_a_missing_folder_is_refused(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path, target: str, folder: bool
) -> None:
    """A target in a folder that does not exist, or `backups/` meant as a folder that does not
    exist, is refused with a clear message; nothing is written (no file named `backups`)."""
    path, _ = live
    with pytest.raises(BackupError, match="no such folder"):
        await backup(path, tmp_path / target, folder=folder)
    assert not (tmp_path / target.split("/")[0]).exists()


async def test_never_replaces_a_pipe_or_device(
    live: tuple[Path, aiosqlite.Connection], tmp_path: Path
) -> None:
    """A FIFO where the backup would go is refused and left as it is (so is /dev/null)."""
    path, _ = live
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        with pytest.raises(BackupError, match="not a regular file"):
            await backup(path, target)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


async def test_a_damaged_database_is_reported_in_one_short_line(tmp_path: Path) -> None:
    """A copy failing its integrity check with many problems names the first and counts the
    rest, in one line, not the whole report."""
    source = tmp_path / "damaged.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
        conn.executemany("INSERT INTO t (text) VALUES (?)", [("日米" * 50,)] * 5000)
        conn.execute("CREATE INDEX t_text ON t (text)")
    conn.close()
    with source.open("r+b") as file:  # leaf pages of the table and the index, overwritten
        for page in range(20, 400, 2):
            file.seek(page * 4096 + 8)
            file.write(b"\xff" * 64)
    with pytest.raises(BackupError, match="failed its integrity check") as failed:
        await backup(source, tmp_path / "copy.db")
    message = str(failed.value)
    assert "\n" not in message
    assert len(message) < 320
    assert message.endswith("more problems)")
    # Past quick_check's limit of 100 problems, the count is a lower bound.
    assert "at least 99 more problems" in message
