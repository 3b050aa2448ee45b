"""Migrations, WAL and transactions on real SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import articles, db
from bot.core.corpus import read_path
from bot.core.db import DatabaseOpenError, Migration, MigrationError
from bot.core.search import search

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


async def test_fresh_database_reaches_latest_version(tmp_path: Path) -> None:
    """A new database is migrated to the newest schema and runs in WAL mode."""
    conn = await db.connect(tmp_path / "a.db")
    try:
        assert await db.schema_version(conn) == db.load_migrations()[-1].version
        rows = await conn.execute_fetchall("PRAGMA journal_mode")
        assert next(iter(rows))[0] == "wal"
        rows = await conn.execute_fetchall("PRAGMA foreign_keys")
        assert next(iter(rows))[0] == 1
    finally:
        await conn.close()


def test_migrations_are_numbered_without_gaps() -> None:
    """Shipped migrations are 0001, 0002, … in order."""
    versions = [m.version for m in db.load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_upgrade_from_older_schema_keeps_data(tmp_path: Path) -> None:
    """A database at schema 1 with an article upgrades to the latest and keeps the article."""
    path = tmp_path / "old.db"
    migrations = db.load_migrations()
    conn = await db.connect(path, migrate_schema=False)
    await db.migrate(conn, migrations[:1])
    await conn.execute(
        "INSERT INTO articles (origin, source, content_hash, title, body, published)"
        " VALUES ('x.txt', 'x.txt:1', 'h', 't', 'b', '2025-01-01')"
    )
    await conn.close()

    conn = await db.connect(path)
    try:
        assert await db.schema_version(conn) == migrations[-1].version
        rows = await conn.execute_fetchall("SELECT title FROM articles")
        assert [r[0] for r in rows] == ["t"]
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    """A migration that fails half-way leaves neither its tables nor a version bump."""
    conn = await db.connect(tmp_path / "b.db", migrate_schema=False)
    broken = [
        Migration(1, "0001_ok.sql", "CREATE TABLE one (x);"),
        Migration(2, "0002_bad.sql", "CREATE TABLE two (x); INSERT INTO nowhere VALUES (1);"),
    ]
    try:
        with pytest.raises(MigrationError, match="0002_bad"):
            await db.migrate(conn, broken)
        assert await db.schema_version(conn) == 1
        rows = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'two'")
        assert list(rows) == []
    finally:
        await conn.close()


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    """A database from a newer version of the bot is not touched."""
    conn = await db.connect(tmp_path / "c.db")
    await conn.execute("PRAGMA user_version = 999")
    await conn.close()
    with pytest.raises(MigrationError, match="newer"):
        await db.connect(tmp_path / "c.db")


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    """An exception inside `transaction` undoes every write made in it."""
    conn = await db.connect(tmp_path / "d.db")
    try:

        async def write_then_fail() -> None:
            async with db.transaction(conn):
                await db.set_meta(conn, "k", "v")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await write_then_fail()
        assert await db.get_meta(conn, "k") is None
        async with db.transaction(conn):
            await db.set_meta(conn, "k", "v2")
        assert await db.get_meta(conn, "k") == "v2"
    finally:
        await conn.close()


async def test_seed_db_from_schema_1_upgrades_and_becomes_searchable(tmp_path: Path) -> None:
    """Articles stored under schema 1 (no search index yet) survive the upgrade and are found."""
    path = tmp_path / "old.db"
    conn = await db.connect(path, migrate_schema=False)
    await db.migrate(conn, db.load_migrations()[:1])
    drafts = read_path(SEEDS).drafts
    query = """
        INSERT INTO articles (origin, source, content_hash, title, body, published, date_inferred)
        VALUES (?, ?, ?, ?, ?, ?, ?)
    """
    await conn.executemany(
        query,
        [
            (
                d.origin,
                d.source,
                articles.content_hash(d.title, d.body),
                d.title,
                d.body,
                d.published.isoformat(),
                int(d.date_inferred),
            )
            for d in drafts
        ],
    )
    await conn.close()

    conn = await db.connect(path)
    try:
        assert await db.schema_version(conn) == db.load_migrations()[-1].version
        assert (await search(conn, "AMRAAM")).total == 1
        report = await articles.ingest_paths(conn, [SEEDS])
        assert report.added == 0
        assert await articles.count_articles(conn) == 21
        assert await articles.count_articles(conn, topic="nuclear") >= 2  # tagged on re-ingest
    finally:
        await conn.close()


@pytest.mark.parametrize("kind", ["folder", "not sqlite", "no parent"])
async def test_unusable_path_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    """A folder, a non-SQLite file or an impossible path raises DatabaseOpenError naming it."""
    if kind == "folder":
        path = tmp_path
    elif kind == "not sqlite":
        path = tmp_path / "notes.db"
        path.write_text("just some text, long enough to be read as a header" * 4, "utf-8")
    else:
        blocker = tmp_path / "file"
        blocker.write_text("x", "utf-8")
        path = blocker / "sub" / "alliance.db"
    with pytest.raises(DatabaseOpenError, match=str(path.name)):
        await db.connect(path)
