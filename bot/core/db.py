"""Opening the SQLite database and applying its numbered migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# SQLite's default limit on host parameters is 32766; `IN (?, ?, …)` lists stay far below it.
PARAMETER_CHUNK = 900

# How long a connection that writes waits for SQLite's write lock before "database is locked".
# An ingest holds it only for its writes (a fraction of a second for a large feed), but a search
# index rebuild or a re-tag after an upgrade holds it for seconds, and an admin's command, a saved
# query or the digest's claim of a week on another connection must wait that out, not fail.
WRITE_BUSY_TIMEOUT_S = 30.0
# Readers in WAL mode never wait on writers; this only covers a checkpoint or recovery.
READ_BUSY_TIMEOUT_S = 5.0


async def execute_in(
    db: aiosqlite.Connection,
    query: str,
    values: Iterable[object],
    *,
    before: Sequence[object] = (),
) -> list[aiosqlite.Row]:
    """Run `query` for all of `values` (each once), a chunk at a time; the rows of every run.

    `query` writes its `IN` list as `({marks})`, as often as it needs it: each place binds the
    chunk. `before` binds parameters that come ahead of the first.
    """
    places = query.count("{marks}")
    unique = list(dict.fromkeys(values))
    rows: list[aiosqlite.Row] = []
    for start in range(0, len(unique), PARAMETER_CHUNK):
        chunk = unique[start : start + PARAMETER_CHUNK]
        # Only question marks go into the statement; every value is bound.
        statement = query.replace("{marks}", ",".join("?" * len(chunk)))
        rows.extend(await db.execute_fetchall(statement, [*before, *chunk * places]))
    return rows


_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change; `version` is what `PRAGMA user_version` becomes."""

    version: int
    name: str
    sql: str


class MigrationError(Exception):
    """The database is newer than this code, or a migration failed and was rolled back."""


class DatabaseOpenError(Exception):
    """The database file cannot be opened: a folder, not SQLite, unreadable or unwritable."""


def load_migrations() -> list[Migration]:
    """Every migration shipped in `bot/core/migrations`, in order, numbered without gaps."""
    found: list[Migration] = []
    for entry in resources.files("bot.core.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.name})")
    return found


def newer_schema(current: int, latest: int) -> str | None:
    """Why a database at schema `current` can't be used by code that migrates to `latest`."""
    if current <= latest:
        return None
    return f"the database is at schema {current}, newer than this version of the bot ({latest})"


async def schema_version(db: aiosqlite.Connection) -> int:
    """The schema version recorded in the database."""
    rows = await db.execute_fetchall("PRAGMA user_version")
    return int(next(iter(rows))[0])


async def migrate(db: aiosqlite.Connection, migrations: list[Migration] | None = None) -> int:
    """Apply pending migrations, each in its own transaction; return the final version.

    Each migration reads the version again once it holds the write lock, so a process migrating
    at the same time (the bot and a CLI command started together) never applies one twice.
    """
    migrations = load_migrations() if migrations is None else migrations
    current = await schema_version(db)
    latest = migrations[-1].version if migrations else 0
    newer = newer_schema(current, latest)
    if newer is not None:
        raise MigrationError(newer)
    for migration in migrations:
        if migration.version <= current:
            continue
        try:
            async with transaction(db):
                current = await schema_version(db)
                if migration.version <= current:
                    continue  # applied by another connection while this one waited
                for statement in _statements(migration.sql):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {migration.version}")
        except sqlite3.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        log.info("applied migration %s", migration.name)
        current = migration.version
    return current


def _statements(script: str) -> list[str]:
    """A migration's statements, split where SQLite says one ends (not at a `;` inside a
    string, a comment or a trigger's body)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    rest = pending.removesuffix(";")
    if rest.strip():
        statements.append(rest)  # comments, or a last statement without its `;`
    return statements


async def open_connection(database: Path | str, **kwargs: Any) -> aiosqlite.Connection:
    """`aiosqlite.connect(database, **kwargs)`, except that a failed open leaves no thread behind.

    When SQLite refuses to open the file, aiosqlite (0.22) tells the connection's worker thread
    to stop but does not wait for it; the thread then hands its last result to the event loop,
    which `asyncio.run` may have closed meanwhile: "RuntimeError: Event loop is closed" printed
    from that thread after the command's own message. Waiting for the thread here, while the
    loop still runs, lets it finish first.
    """
    conn = aiosqlite.connect(database, **kwargs)
    try:
        return await conn
    except BaseException:
        # aiosqlite has no public way to wait for its worker (omnilib/aiosqlite#387).
        await asyncio.to_thread(conn._thread.join)
        raise


def primary_code(error: BaseException) -> int | None:
    """SQLite's primary result code of `error` (SQLITE_CORRUPT, SQLITE_FULL…); None for an
    error that is not SQLite's own (only those carry a code, whose low byte is the primary)."""
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_disk_failure(error: BaseException) -> bool:
    """Whether `error` is SQLite failing at its disk: full, or an I/O error (mostly a full disk,
    which refuses the -shm SQLite creates as it opens a WAL database)."""
    return primary_code(error) in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


def is_damaged(error: BaseException) -> bool:
    """Whether `error` is SQLite finding the database file damaged."""
    return primary_code(error) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def damage_summary(report: str, limit: int = 200, *, cap: int | None = None) -> str:
    """`PRAGMA quick_check`'s report of damage in one line: its first problem, and how many
    more there are (the whole report can run to kilobytes). `cap`: the number of problems the
    check stops at; reaching it, the count is a lower bound."""
    # "*** in database main ***", then one line for each problem found.
    problems = [line for line in report.splitlines() if line.strip() and not line.startswith("***")]
    if not problems:
        return " ".join(report.split())[:limit]
    first = problems[0][:limit]
    more = len(problems) - 1
    if more == 0:
        return first
    least = "at least " if cap is not None and len(problems) >= cap else ""
    return f"{first} (and {least}{more} more problem{'s' if more > 1 else ''})"


def unusable_reason(path: Path) -> str | None:
    """Which file permission keeps this process from opening the database at `path`, if any.

    SQLite needs more than the file: in WAL mode it keeps `-wal` and `-shm` files beside it and
    creates them when they are missing, even to only read, so their folder must be writable too.
    """
    user = _this_user()
    if path.exists() and not os.access(path, os.R_OK):
        return f"{str(path)!r} is not readable by {user}"
    sidecars = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    to_create = [p.name for p in (path, *sidecars) if not p.exists()]
    folder = path.parent
    if to_create and not os.access(folder, os.W_OK | os.X_OK):
        names = ", ".join(to_create[:-1]) + " and " * (len(to_create) > 1) + to_create[-1]
        return (
            f"its folder {str(folder)!r} is not writable by {user}, "
            f"so SQLite cannot create {names} there"
        )
    for sidecar in sidecars:
        if sidecar.exists() and not os.access(sidecar, os.R_OK | os.W_OK):
            return f"{str(sidecar)!r} is not readable and writable by {user}"
    return None


def _this_user() -> str:
    geteuid = getattr(os, "geteuid", None)  # POSIX only
    return f"uid {geteuid()}" if geteuid is not None else "this user"


async def connect(
    path: Path | str,
    *,
    migrate_schema: bool = True,
    busy_timeout: float = WRITE_BUSY_TIMEOUT_S,
) -> aiosqlite.Connection:
    """Open the database in WAL mode with foreign keys on, migrated to the latest schema.

    A write waits up to `busy_timeout` seconds for another connection's write transaction.
    """
    on_disk = str(path) != ":memory:"
    if on_disk:
        _check_path(Path(path))
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (see `transaction`).
    try:
        db = await open_connection(path, isolation_level=None)
    except sqlite3.Error as exc:
        why = unusable_reason(Path(path)) if on_disk else None
        raise DatabaseOpenError(f"cannot open the database {str(path)!r}: {why or exc}") from exc
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute(f"PRAGMA busy_timeout = {_milliseconds(busy_timeout)}")
        if migrate_schema:
            await migrate(db)
    except sqlite3.DatabaseError as exc:
        await db.close()
        # An existing database in a folder this user can't write opens, then fails here with
        # "attempt to write a readonly database", which does not say which file is read-only.
        why = unusable_reason(Path(path)) if on_disk else None
        raise DatabaseOpenError(f"cannot use the database {str(path)!r}: {why or exc}") from exc
    except BaseException:
        await db.close()
        raise
    return db


async def connect_reader(path: Path | str, *, cache_kib: int) -> aiosqlite.Connection:
    """A read-only connection to a database `connect` has already created and migrated.

    `cache_kib` caps its page cache: each connection keeps its own.
    """
    _check_exists(Path(path))
    try:
        reader = await open_connection(read_only_uri(path), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseOpenError(f"cannot open the database {str(path)!r}: {exc}") from exc
    try:
        await reader.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        await reader.execute(f"PRAGMA busy_timeout = {_milliseconds(READ_BUSY_TIMEOUT_S)}")
    except BaseException:
        await reader.close()
        raise
    return reader


def _milliseconds(seconds: float) -> int:
    """A busy timeout for PRAGMA busy_timeout: whole milliseconds, never negative."""
    return max(0, round(seconds * 1000))


def read_only_uri(path: Path | str) -> str:
    """A `file:` URI that opens `path` read-only (never creating it), whatever its characters."""
    return Path(path).resolve().as_uri() + "?mode=ro"


class Readers:
    """A few read-only connections shared by the tasks that read, a bounded number at a time.

    aiosqlite runs each connection in a thread of its own and SQLite lets go of the GIL while
    it reads, so reads on different connections overlap each other and the event loop instead
    of queueing on the one connection that also writes. At most `per_connection` tasks share a
    connection: enough to keep its thread busy while their Python work runs, few enough that
    later arrivals wait their turn (in order) rather than slowing every task down alike.

    `lookup` is one more connection, outside the pool, for the one-row reads every search makes
    first (the corpus generation): a connection's thread runs its statements in turn, so on a
    pool connection such a read waited behind the searches already sent to it.
    """

    def __init__(
        self,
        connections: list[aiosqlite.Connection],
        *,
        per_connection: int,
        lookup: aiosqlite.Connection | None = None,
    ) -> None:
        _check_pool(len(connections), per_connection)
        self._borrowers = dict.fromkeys(connections, 0)
        self._slots = asyncio.Semaphore(len(connections) * per_connection)
        self._lookup = lookup

    @classmethod
    async def open(
        cls, path: Path | str, count: int, *, per_connection: int, cache_kib: int
    ) -> Readers:
        """`count` read-only connections to `path`, and one more for lookups."""
        _check_pool(count, per_connection)
        connections: list[aiosqlite.Connection] = []
        try:
            for _ in range(count + 1):
                connections.append(await connect_reader(path, cache_kib=cache_kib))
            *pool, lookup = connections
            return cls(pool, per_connection=per_connection, lookup=lookup)
        except BaseException:
            for conn in connections:
                await conn.close()
            raise

    @property
    def connections(self) -> list[aiosqlite.Connection]:
        """Every connection of the pool (not the lookup connection)."""
        return list(self._borrowers)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow the least busy connection for the block (waiting while all slots are taken)."""
        async with self._slots:
            conn = self._least_busy()
            self._borrowers[conn] += 1
            try:
                yield conn
            finally:
                self._borrowers[conn] -= 1

    def lookup(self) -> aiosqlite.Connection:
        """The connection for a one-row read that should not wait behind searches, without
        taking a slot: the lookup connection, or in a pool made without one the least busy."""
        return self._lookup if self._lookup is not None else self._least_busy()

    def _least_busy(self) -> aiosqlite.Connection:
        return min(self._borrowers, key=self._borrowers.__getitem__)

    async def close(self) -> None:
        """Close every connection, even when closing one of them fails (that error is raised)."""
        failure: BaseException | None = None
        lookup = [] if self._lookup is None else [self._lookup]
        for conn in [*self._borrowers, *lookup]:
            try:
                await conn.close()
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure


def _check_pool(count: int, per_connection: int) -> None:
    if count < 1 or per_connection < 1:
        # An empty pool would make every reader wait forever.
        raise ValueError("a reader pool needs at least one connection and one slot each")


def _check_path(path: Path) -> None:
    """Refuse paths SQLite cannot open with a message that says why (SQLite's does not)."""
    if _is(path, Path.is_dir):
        raise DatabaseOpenError(f"the database path {str(path)!r} is a folder, not a file")
    if _is(path, Path.exists) and not _is(path, Path.is_file):
        # /dev/null, a pipe, a socket: SQLite would report a "disk I/O error" in a migration.
        raise DatabaseOpenError(f"the database path {str(path)!r} is not a regular file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseOpenError(f"cannot create the folder for {str(path)!r}: {reason}") from exc
    if _is(path, Path.exists) and not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseOpenError(f"the database {str(path)!r} is not readable and writable")


def _is(path: Path, test: Callable[[Path], bool]) -> bool:
    """`test(path)`, or `DatabaseOpenError` for a path the system refuses to look at (a name
    longer than 255 bytes, a loop of links), which `Path`'s tests raise as `OSError`."""
    try:
        return test(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseOpenError(f"cannot use the database path {str(path)!r}: {reason}") from exc


def _check_exists(path: Path) -> None:
    """Refuse a missing database: a read-only open can't create it, and SQLite's own message
    ("unable to open database file") does not say that it is missing."""
    if not _is(path, Path.is_file):
        raise DatabaseOpenError(f"there is no database file at {str(path)!r}")


# One lock per connection: the bot shares one connection between concurrent tasks, and SQLite
# has one transaction per connection, so a second BEGIN must wait rather than fail or nest.
_write_locks: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """Run the block in one write transaction: commit on success, roll back on any error.

    Transactions on the same connection from concurrent tasks run one after another.
    """
    lock = _write_locks.setdefault(db, asyncio.Lock())
    async with lock:
        try:
            await db.execute("BEGIN IMMEDIATE")
        except BaseException:
            # Cancelled while BEGIN ran on the connection's thread, it begins all the same: the
            # rollback queues behind it (and fails harmlessly when nothing began).
            with contextlib.suppress(sqlite3.Error):
                await db.rollback()
            raise
        try:
            yield db
        except BaseException:
            await db.rollback()
            raise
        else:
            await db.commit()


async def get_meta(db: aiosqlite.Connection, key: str) -> str | None:
    """Read one bookkeeping value from the `meta` table."""
    query = "SELECT value FROM meta WHERE key = ?"
    rows = list(await db.execute_fetchall(query, (key,)))
    return str(rows[0][0]) if rows else None


async def set_meta(db: aiosqlite.Connection, key: str, value: str) -> None:
    """Write one bookkeeping value to the `meta` table (inside the caller's transaction)."""
    query = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?"
    await db.execute(query, (key, value, value))


# How the schema's defaults (`strftime('%Y-%m-%dT%H:%M:%SZ', 'now')`) store a moment: UTC, in
# whole seconds, as text that sorts as time does.
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def stamp(moment: datetime) -> str:
    """`moment` as the database stores moments."""
    return moment.astimezone(UTC).strftime(_STAMP)


def parse_stamp(value: object) -> datetime | None:
    """A moment the database stored (None for none)."""
    if value is None:
        return None
    return datetime.strptime(str(value), _STAMP).replace(tzinfo=UTC)


# Moves with every change to what a search can return (articles, their index, their topics),
# in the transaction that makes it, and with nothing else: caches of results compare it, so the
# heartbeat or a digest record does not empty them.
GENERATION_KEY = "index_generation"


async def bump_generation(db: aiosqlite.Connection) -> None:
    """Record that the searchable corpus changed (inside the caller's transaction)."""
    await db.execute(
        """
        INSERT INTO meta (key, value) VALUES (?, '1')
        ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
        """,
        (GENERATION_KEY,),
    )
