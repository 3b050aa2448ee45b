"""Consistent copies of the live database with SQLite's online backup API.

Safe while the bot runs: the copy is one read snapshot (WAL lets the bot keep writing meanwhile),
written to a temporary file beside the target, checked, then renamed into place, so the target
is either the old file or a complete new copy, never half of one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.core.db import damage_summary, unusable_reason

log = logging.getLogger(__name__)

_CHECK_LIMIT = 100  # problems quick_check reports before it stops (SQLite's default)

# Files SQLite keeps beside a database, and the running bot's lock (bot.runner.only_instance);
# writing a backup over one would corrupt the live data, or let a second bot start.
_SIDE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".lock")


# SQLite's codes for a write of the copy that its disk refused: full (ENOSPC), or a write error
# (EFBIG past a file size limit, EIO). The live database is only read.
_COPY_UNWRITTEN = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_WRITE})


class BackupError(Exception):
    """The backup was refused or failed; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """Where the copy went and what it holds."""

    path: Path
    size_bytes: int
    schema_version: int
    seconds: float


def resolve_target(db_path: Path, target: Path, *, folder: bool = False) -> Path:
    """The file a backup to `target` writes: a folder gets a timestamped file name.

    Raises `BackupError` when the file would be the live database or one of its side files,
    when `folder` says `target` must be a folder and it isn't one, and when something other
    than a regular file is there: the backup's rename would replace a device or a pipe.
    """
    if folder and not target.is_dir():
        raise BackupError(f"no such folder: {target}")
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"{db_path.stem}-{stamp}.db"
    if target.exists() and not target.is_file():
        raise BackupError(f"not a regular file: {target}")
    live = db_path.resolve()
    resolved = target.resolve()
    for suffix in _SIDE_SUFFIXES:
        if resolved == live.with_name(live.name + suffix):
            raise BackupError(f"refusing to write the backup over the live database ({target})")
    if not resolved.parent.is_dir():
        raise BackupError(f"no such folder: {target.parent}")
    return target


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets us open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _backup_sync(db_path: Path, requested: Path, folder: bool) -> BackupResult:
    started = time.monotonic()
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    target = resolve_target(db_path, requested, folder=folder)
    # mode=rw: never create an empty database where the operator mistyped a path.
    source_uri = db_path.resolve().as_uri() + "?mode=rw"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        source = sqlite3.connect(source_uri, uri=True, timeout=30.0)
        try:
            dest = sqlite3.connect(tmp)
            try:
                try:
                    # All pages in one step, i.e. one read snapshot. Copying in slices would
                    # restart after every write the bot makes and might never finish on a busy
                    # database.
                    source.backup(dest, pages=-1)
                    # The copy is a single self-contained file, not a WAL database needing a -wal.
                    dest.execute("PRAGMA journal_mode = DELETE")
                except sqlite3.Error as exc:
                    code = getattr(exc, "sqlite_errorcode", None)
                    if code not in _COPY_UNWRITTEN:
                        raise
                    # Said as SQLite says it, "backup of alliance.db failed: disk I/O error"
                    # read as the live database failing, not the backup's disk.
                    why = "its disk is full" if code == sqlite3.SQLITE_FULL else str(exc)
                    raise BackupError(f"cannot write the backup {target}: {why}") from exc
                check = dest.execute(f"PRAGMA quick_check({_CHECK_LIMIT})").fetchall()
                if check != [("ok",)]:
                    report = "\n".join(str(row[0]) for row in check)
                    summary = damage_summary(report, cap=_CHECK_LIMIT)
                    raise BackupError(f"the copy failed its integrity check: {summary}")
                version = int(dest.execute("PRAGMA user_version").fetchone()[0])
            finally:
                dest.close()
        finally:
            source.close()
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp made it private to us; the restore may run as another user (the container's,
        # reading a copy `docker compose cp` gave to the host's): readable as the database is.
        os.chmod(tmp, stat.S_IMODE(db_path.stat().st_mode))
        os.replace(tmp, target)
    except BaseException:
        # With its journal: SQLite leaves the copy's -journal behind when it cannot roll back
        # a write the disk refused, one more hidden file in the backups folder at each attempt.
        for suffix in ("", "-journal", "-wal", "-shm"):
            tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return BackupResult(
        path=target,
        size_bytes=target.stat().st_size,
        schema_version=version,
        seconds=time.monotonic() - started,
    )


async def backup(db_path: Path, target: Path, *, folder: bool = False) -> BackupResult:
    """Copy the live database at `db_path` to `target` (a file, or a folder for a dated name;
    with `folder`, it must be a folder).

    An existing target file is replaced atomically. Raises `BackupError` for a missing
    database, a target that is the live database or not a regular file, a missing folder, or a
    failed copy.
    """
    try:
        # A thread, so the bot's event loop keeps answering while pages are copied.
        result = await asyncio.to_thread(_backup_sync, db_path, target, folder)
    except sqlite3.Error as exc:
        # SQLite says "unable to open database file" of a good database in a folder this user
        # can't write (a host's user backing up the container's volume): say which file is.
        why = await asyncio.to_thread(unusable_reason, db_path)
        if why is not None:
            raise BackupError(f"cannot read the database {db_path}: {why}") from exc
        raise BackupError(f"backup of {db_path} failed: {exc}") from exc
    except OSError as exc:
        where = exc.filename or target
        raise BackupError(f"cannot write {where}: {exc.strerror or exc}") from exc
    log.info(
        "backed up %s to %s (%d bytes, schema %d) in %.2f s",
        db_path,
        result.path,
        result.size_bytes,
        result.schema_version,
        result.seconds,
    )
    return result
