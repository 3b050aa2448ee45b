"""Fixtures shared by the core and CLI tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.models import ArticleDraft


def _numbered_reports(count: int) -> list[ArticleDraft]:
    start = date(2000, 1, 1)
    return [
        ArticleDraft(
            title=f"防衛協力 第{n}報",
            body=f"日米の防衛協力について第{n}報。",
            published=start + timedelta(days=n),
            date_inferred=False,
            origin="many.jsonl",
            source=f"many.jsonl:{n}",
        )
        for n in range(count)
    ]


@pytest.fixture(scope="session")
def numbered_reports() -> Callable[[int], list[ArticleDraft]]:
    """Drafts "防衛協力 第n報" for n in range(count), one a day from 2000-01-01, oldest first."""
    return _numbered_reports


def _damage_middle(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        pages, size = (
            conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "page_size")
        )
    finally:
        conn.close()
    with path.open("r+b") as file:
        for page in range(pages // 3, 2 * pages // 3):
            file.seek(page * size)
            file.write(bytes(range(256)) * (size // 256))


@pytest.fixture(scope="session")
def damage_middle() -> Callable[[Path], None]:
    """Overwrites the middle third of a closed database's pages with junk, the same each time."""
    return _damage_middle


def _left_by_a_crash(path: Path, script: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.executescript(script)
        # What a crash leaves: the committed changes in the -wal, not yet in the file.
        left = {s: Path(f"{path}{s}").read_bytes() for s in ("-wal", "-shm")}
    finally:
        conn.close()  # checkpoints and deletes the -wal: put back below
    for suffix, data in left.items():
        Path(f"{path}{suffix}").write_bytes(data)


@pytest.fixture(scope="session")
def left_by_a_crash() -> Callable[[Path, str], None]:
    """Runs an SQL script on a closed WAL database and leaves its changes where a crash right
    after it would: committed in the -wal beside the database, not yet in the file."""
    return _left_by_a_crash


def _restore_over_a_crash(path: Path) -> None:
    with sqlite3.connect(path) as source, sqlite3.connect(f"{path}.backup") as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # as `alliance-bot backup` writes it
    source.close()
    copy.close()
    script = """
        CREATE TABLE after_the_backup (payload TEXT);
        WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        INSERT INTO after_the_backup SELECT '日米同盟' || hex(randomblob(500)) FROM n;
    """
    _left_by_a_crash(path, script)
    Path(f"{path}.backup").replace(path)


@pytest.fixture(scope="session")
def restore_over_a_crash() -> Callable[[Path], None]:
    """Puts a backup of a closed WAL database in its place as an operator restoring after a
    crash might: the changes made since the backup are left in the -wal beside it."""
    return _restore_over_a_crash
