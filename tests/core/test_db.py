"""Migrations, WAL, transactions and read-only readers on real SQLite files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlite_threads import QueryGate, sqlite_workers

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


async def test_two_connections_migrating_at_once_apply_each_migration_once(
    tmp_path: Path,
) -> None:
    """Two connections migrating a new database together both end at the newest schema, and a
    migration that inserts a row inserted it once."""
    path = tmp_path / "race.db"
    migrations = [
        Migration(1, "0001_table.sql", "CREATE TABLE runs (n INTEGER);"),
        Migration(2, "0002_row.sql", "INSERT INTO runs VALUES (1);"),
    ]
    one = await db.connect(path, migrate_schema=False)
    two = await db.connect(path, migrate_schema=False)
    try:
        versions = await asyncio.gather(db.migrate(one, migrations), db.migrate(two, migrations))
        assert versions == [2, 2]
        rows = await one.execute_fetchall("SELECT count(*) FROM runs")
        assert next(iter(rows))[0] == 1
    finally:
        await one.close()
        await two.close()


async def test_migration_script_with_a_trigger_and_semicolons_in_strings(tmp_path: Path) -> None:
    """A script whose trigger body and string hold `;` runs whole, trailing comment and all."""
    script = """
        CREATE TABLE notes (text TEXT);
        CREATE TABLE log (text TEXT);
        CREATE TRIGGER noted AFTER INSERT ON notes BEGIN
            INSERT INTO log VALUES ('added; ' || new.text);
        END;
        INSERT INTO notes VALUES ('a; b');
        -- a closing comment"""
    conn = await db.connect(tmp_path / "t.db", migrate_schema=False)
    try:
        assert await db.migrate(conn, [Migration(1, "0001_notes.sql", script)]) == 1
        rows = await conn.execute_fetchall("SELECT text FROM log")
        assert [r[0] for r in rows] == ["added; a; b"]
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


async def test_transaction_cancelled_while_beginning_leaves_none_open(tmp_path: Path) -> None:
    """Cancelled while BEGIN runs on the connection's thread, no transaction is left open, so
    the checkpoint on close still works."""
    conn = await db.connect(tmp_path / "d.db")
    try:

        async def begin() -> None:
            async with db.transaction(conn):
                await asyncio.sleep(60)

        task = asyncio.create_task(begin())
        await asyncio.sleep(0)  # the task now waits for BEGIN on the connection's thread
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not conn.in_transaction
        rows = await conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        assert next(iter(rows))[0] == 0  # not blocked
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


async def test_execute_in_binds_long_lists_in_chunks() -> None:
    """`execute_in` finds every value of a list longer than one chunk, each once, every place."""
    async with aiosqlite.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t (n INTEGER, tag TEXT)")
        count = db.PARAMETER_CHUNK * 2 + 7
        await conn.executemany("INSERT INTO t VALUES (?, 'a')", [(n,) for n in range(count)])
        await conn.executemany("INSERT INTO t VALUES (?, 'b')", [(n,) for n in range(count)])
        query = """
            SELECT n FROM t WHERE tag = ? AND n IN ({marks})
            UNION ALL
            SELECT -n FROM t WHERE tag = 'b' AND n IN ({marks})
        """
        wanted = [*range(1, count, 2), 1, 3]  # odd numbers, two of them given twice
        rows = await db.execute_in(conn, query, wanted, before=("a",))
        found = sorted(int(r[0]) for r in rows)
        odd = list(range(1, count, 2))
        assert found == sorted([*odd, *(-n for n in odd)])


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


@pytest.mark.parametrize("kind", ["folder", "not sqlite", "no parent", "pipe", "device"])
async def test_unusable_path_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    """A folder, a non-SQLite file, a pipe, a device or an impossible path raises
    DatabaseOpenError naming it."""
    if kind == "folder":
        path = tmp_path
    elif kind == "pipe":
        path = tmp_path / "pipe.db"
        os.mkfifo(path)
    elif kind == "device":
        path = Path(os.devnull)
    elif kind == "not sqlite":
        path = tmp_path / "notes.db"
        path.write_text("just some text, long enough to be read as a header" * 4, "utf-8")
    else:
        blocker = tmp_path / "file"
        blocker.write_text("x", "utf-8")
        path = blocker / "sub" / "alliance.db"
    with pytest.raises(DatabaseOpenError, match=str(path.name)) as refused:
        await db.connect(path)
    if kind in ("pipe", "device"):
        assert "not a regular file" in str(refused.value)


@pytest.mark.parametrize("kind", ["writer", "reader"])
async def test_a_failed_open_leaves_no_thread_behind(tmp_path: Path, kind: str) -> None:
    """When SQLite refuses the file, its worker thread has ended by the time the error arrives.

    A thread still running then reports to the event loop, which `asyncio.run` may have closed:
    "Event loop is closed" printed after the command's one-line message.
    """
    # Longer than SQLite's 512-byte limit on a path: refused for every user, root included.
    path = tmp_path.joinpath("x" * 200, "y" * 200, "z" * 200, "alliance.db")
    path.parent.mkdir(parents=True)
    path.touch()  # the reader opens only an existing file
    before = sqlite_workers()
    opening = db.connect(path) if kind == "writer" else db.connect_reader(path, cache_kib=64)
    with pytest.raises(DatabaseOpenError, match="unable to open database file"):
        await open_and_close(opening)
    assert sqlite_workers() <= before


# --- read-only connections and the Readers pool ------------------------------------------------


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """The migrated database `tmp_path / "alliance.db"`, open for writing."""
    conn = await db.connect(tmp_path / "alliance.db")
    try:
        yield conn
    finally:
        await conn.close()


@asynccontextmanager
async def open_readers(
    tmp_path: Path, count: int, *, per_connection: int
) -> AsyncIterator[db.Readers]:
    """A Readers pool on `tmp_path / "alliance.db"`, closed after the block."""
    readers = await db.Readers.open(
        tmp_path / "alliance.db", count, per_connection=per_connection, cache_kib=64
    )
    try:
        yield readers
    finally:
        await readers.close()


async def open_and_close(opening: Awaitable[aiosqlite.Connection | db.Readers]) -> None:
    """Await `opening` and close what it opened (an open aiosqlite thread would hang pytest)."""
    opened = await opening
    await opened.close()


async def settle() -> None:
    """Let every task that can run without I/O run until it waits."""
    for _ in range(10):
        await asyncio.sleep(0)


class Borrower:
    """A task that borrows a reader connection and keeps it until told to leave."""

    def __init__(self, readers: db.Readers, name: str, log: list[str]) -> None:
        self.name = name
        self.conn: aiosqlite.Connection | None = None
        self.entered = asyncio.Event()
        self._leave = asyncio.Event()
        self._readers = readers
        self._log = log
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with self._readers.reading() as conn:
            self.conn = conn
            self._log.append(self.name)
            self.entered.set()
            await self._leave.wait()

    async def wait_in(self) -> None:
        """Wait until the task holds a connection (failing after 10 s rather than hanging)."""
        async with asyncio.timeout(10):
            await self.entered.wait()

    def let_go(self) -> None:
        """Tell the task to give the connection back."""
        self._leave.set()

    async def leave(self) -> None:
        """Give the connection back and wait until the borrowing task has ended."""
        self.let_go()
        async with asyncio.timeout(10):
            await self.task


async def test_reader_sees_committed_writes_only(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """A reader opened before a write sees it once committed, not while it is pending."""
    reader = await db.connect_reader(tmp_path / "alliance.db", cache_kib=64)
    try:
        async with db.transaction(writer):
            await db.set_meta(writer, "k", "pending")
            assert await db.get_meta(reader, "k") is None  # not blocked, the old snapshot
        assert await db.get_meta(reader, "k") == "pending"
        async with db.transaction(writer):
            await db.set_meta(writer, "k", "second")
        assert await db.get_meta(reader, "k") == "second"
    finally:
        await reader.close()


async def test_reader_cannot_write(tmp_path: Path, writer: aiosqlite.Connection) -> None:
    """Writes through a reader fail with SQLite's read-only error and change nothing."""
    reader = await db.connect_reader(tmp_path / "alliance.db", cache_kib=64)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.set_meta(reader, "k", "v")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.execute("CREATE TABLE scratch (x)")
        assert await db.get_meta(writer, "k") is None
    finally:
        await reader.close()


async def test_reader_keeps_its_own_small_cache(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """`cache_kib` sets the reader's page cache; it waits for locks like the writer does."""
    reader = await db.connect_reader(tmp_path / "alliance.db", cache_kib=300)
    try:
        assert list(await reader.execute_fetchall("PRAGMA cache_size")) == [(-300,)]
        assert list(await reader.execute_fetchall("PRAGMA busy_timeout")) == [(5000,)]
    finally:
        await reader.close()


async def test_reader_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    """A reader never creates the database: a missing file raises DatabaseOpenError."""
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseOpenError, match=r"missing\.db"):
        await open_and_close(db.connect_reader(path, cache_kib=64))
    assert not path.exists()


async def test_reader_opens_a_path_with_uri_characters(tmp_path: Path) -> None:
    """Spaces, #, ?, % and non-ASCII in the path survive the file: URI the reader opens."""
    path = tmp_path / "data #1 ?%41 日米" / "alliance.db"
    conn = await db.connect(path)
    try:
        await db.set_meta(conn, "k", "v")
        reader = await db.connect_reader(path, cache_kib=64)
        try:
            assert await db.get_meta(reader, "k") == "v"
        finally:
            await reader.close()
    finally:
        await conn.close()


async def test_readers_share_the_pool_up_to_per_connection(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """2 connections x 2: four tasks read at once, two on each; the fifth waits for a slot."""
    log: list[str] = []
    async with open_readers(tmp_path, 2, per_connection=2) as readers:
        borrowers = [Borrower(readers, str(i), log) for i in range(5)]
        await settle()
        assert log == ["0", "1", "2", "3"]
        held = Counter(b.conn for b in borrowers[:4])
        assert held == dict.fromkeys(readers.connections, 2)
        assert [b.conn for b in borrowers[:2]] == readers.connections  # least busy first
        for b in borrowers[:4]:
            assert b.conn is not None
            assert list(await b.conn.execute_fetchall("SELECT 1")) == [(1,)]
        await borrowers[1].leave()
        await borrowers[4].wait_in()
        assert borrowers[4].conn is borrowers[1].conn  # the connection with a free slot
        for b in borrowers:
            await b.leave()


async def test_waiting_readers_are_served_in_arrival_order(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """With every slot taken, waiting tasks get in one at a time, first come first served."""
    log: list[str] = []
    async with open_readers(tmp_path, 1, per_connection=1) as readers:
        holder = Borrower(readers, "holder", log)
        await holder.wait_in()
        queue = []
        for name in "abc":
            queue.append(Borrower(readers, name, log))
            await settle()  # queued before the next one arrives
        assert log == ["holder"]
        holder.let_go()
        late = Borrower(readers, "late", log)  # arrives as the slot frees: still behind "c"
        await queue[0].wait_in()
        await settle()
        assert log == ["holder", "a"]  # one at a time
        for current in queue:
            await current.leave()
            await settle()
        assert log == ["holder", "a", "b", "c", "late"]
        await late.leave()
        await holder.task


async def test_a_reader_that_gives_up_or_fails_frees_its_slot(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """A waiter cancelled in the queue and a block that raises leave no slot taken."""
    log: list[str] = []
    async with open_readers(tmp_path, 1, per_connection=1) as readers:
        holder = Borrower(readers, "holder", log)
        quitter = Borrower(readers, "quitter", log)
        patient = Borrower(readers, "patient", log)
        await settle()
        quitter.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await quitter.task
        await holder.leave()
        await patient.wait_in()
        await patient.leave()
        assert log == ["holder", "patient"]

        with pytest.raises(sqlite3.OperationalError):
            async with readers.reading() as conn:
                await conn.execute("SELECT * FROM no_such_table")
        again = Borrower(readers, "again", log)
        await again.wait_in()  # the slot came back
        await again.leave()


async def test_a_slow_read_holds_up_neither_other_readers_nor_the_writer(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """While one reader is stuck in a query, the writer commits and another reader sees it."""
    gate = QueryGate()
    async with open_readers(tmp_path, 2, per_connection=1) as readers:
        first, second = readers.connections
        await gate.install(first)

        async def stuck() -> list[Any]:
            async with readers.reading() as conn:
                assert conn is first
                return list(await conn.execute_fetchall("SELECT wait_at_gate()"))

        task = asyncio.create_task(stuck())
        try:
            assert await gate.entered()
            async with db.transaction(writer):
                await db.set_meta(writer, "k", "v")
            async with readers.reading() as conn:
                assert conn is second
                assert await db.get_meta(conn, "k") == "v"
            assert not task.done()
        finally:
            gate.open()
        assert await task == [(1,)]


async def test_a_lookup_does_not_wait_behind_a_stuck_search(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """While the pool's only connection is stuck in a query, a lookup still reads at once."""
    gate = QueryGate()
    async with db.transaction(writer):
        await db.set_meta(writer, "k", "v")
    async with open_readers(tmp_path, 1, per_connection=1) as readers:
        (pooled,) = readers.connections
        await gate.install(pooled)
        stuck = asyncio.create_task(pooled.execute_fetchall("SELECT wait_at_gate()"))
        try:
            assert await gate.entered()
            assert await asyncio.wait_for(db.get_meta(readers.lookup(), "k"), 5) == "v"
            assert not stuck.done()
        finally:
            gate.open()
        await stuck


async def test_closing_readers_closes_every_connection(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """After close(), no connection of the pool answers, nor the lookup connection."""
    readers = await db.Readers.open(tmp_path / "alliance.db", 3, per_connection=2, cache_kib=64)
    assert len({*readers.connections, readers.lookup()}) == 4
    await readers.close()
    for conn in [*readers.connections, readers.lookup()]:
        with pytest.raises(ValueError, match="no active connection"):
            await conn.execute("SELECT 1")


async def test_readers_that_fail_to_open_close_those_already_open(
    tmp_path: Path, writer: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the third connection cannot open, the first two are closed and the error raised."""
    opened: list[aiosqlite.Connection] = []
    real = db.connect_reader

    async def third_fails(path: Path | str, *, cache_kib: int) -> aiosqlite.Connection:
        if len(opened) == 2:
            return await real(tmp_path / "missing.db", cache_kib=cache_kib)
        opened.append(await real(path, cache_kib=cache_kib))
        return opened[-1]

    monkeypatch.setattr(db, "connect_reader", third_fails)
    with pytest.raises(DatabaseOpenError, match=r"missing\.db"):
        await open_and_close(
            db.Readers.open(tmp_path / "alliance.db", 3, per_connection=1, cache_kib=64)
        )
    assert len(opened) == 2
    for conn in opened:
        with pytest.raises(ValueError, match="no active connection"):
            await conn.execute("SELECT 1")


@pytest.mark.parametrize(("count", "per_connection"), [(0, 2), (1, 0), (-1, 1)])
async def test_an_empty_reader_pool_is_refused(
    tmp_path: Path,
    writer: aiosqlite.Connection,
    count: int,
    per_connection: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pool without connections or slots is refused, before opening any, instead of making
    readers wait forever."""
    opened: list[Path | str] = []

    async def counted(path: Path | str, *, cache_kib: int) -> aiosqlite.Connection:
        opened.append(path)
        raise AssertionError("no connection should be opened")

    monkeypatch.setattr(db, "connect_reader", counted)
    with pytest.raises(ValueError, match="at least one"):
        await db.Readers.open(
            tmp_path / "alliance.db", count, per_connection=per_connection, cache_kib=512
        )
    assert opened == []


# --- writers on several connections -------------------------------------------------------------


@asynccontextmanager
async def write_lock_held(conn: aiosqlite.Connection) -> AsyncIterator[asyncio.Event]:
    """Hold SQLite's write lock on `conn` (as a feed ingest does) until the yielded event is set
    or the block ends; the transaction then commits."""
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.transaction(conn):
            await db.set_meta(conn, "holder", "ingest")
            inside.set()
            await release.wait()

    task = asyncio.create_task(hold())
    try:
        async with asyncio.timeout(10):
            await inside.wait()
        yield release
    finally:
        release.set()
        await task


async def test_writers_are_set_to_wait_30_s_and_readers_5_s(writer: aiosqlite.Connection) -> None:
    """A connection opened to write gets a 30 s busy timeout, longer than the readers' 5 s."""
    assert list(await writer.execute_fetchall("PRAGMA busy_timeout")) == [(30000,)]
    assert db.WRITE_BUSY_TIMEOUT_S > db.READ_BUSY_TIMEOUT_S == 5.0


async def test_a_write_on_another_connection_waits_for_the_lock_then_commits(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """A write on a second connection waits while the first holds the write lock for longer
    than it takes to give up on a short timeout, then succeeds once the lock is released."""
    second = await db.connect(tmp_path / "alliance.db", busy_timeout=5.0)
    loop = asyncio.get_running_loop()
    try:
        async with write_lock_held(writer) as release:
            loop.call_later(1.5, release.set)
            started = loop.time()
            async with db.transaction(second):
                await db.set_meta(second, "admin", "saved")
            waited = loop.time() - started
        assert waited >= 1.0
        assert await db.get_meta(writer, "admin") == "saved"
        assert await db.get_meta(writer, "holder") == "ingest"
    finally:
        await second.close()


async def test_a_write_gives_up_after_its_busy_timeout(
    tmp_path: Path, writer: aiosqlite.Connection
) -> None:
    """With a timeout shorter than the hold, the second write fails as "database is locked"
    and leaves nothing behind."""
    second = await db.connect(tmp_path / "alliance.db", busy_timeout=0.5)
    try:
        async with write_lock_held(writer):
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                async with db.transaction(second):
                    await db.set_meta(second, "admin", "saved")
            assert not second.in_transaction
        assert await db.get_meta(writer, "admin") is None
    finally:
        await second.close()
