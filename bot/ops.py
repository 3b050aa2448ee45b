"""The operator subcommands of `alliance-bot`: `healthcheck` and `backup`.

Thin adapters over `bot.core.health` and `bot.core.backup`; `bot.cli` wires them in with the
`add_*_arguments` helpers. Also the argument types and the stdout writer every subcommand shares
(`bot.cli`, `bot.feeds_cli` and `bot.digest_cli` use them too).
"""

from __future__ import annotations

import argparse
import codecs
import io
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.core.backup import BackupError, backup
from bot.core.health import MAX_HEARTBEAT_AGE, check_health
from bot.core.models import visible
from bot.settings import Settings


class OutputError(Exception):
    """Standard output could not be written: the disk is full, or the reader (`head`) is gone."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


def reserve_standard_fds() -> None:
    """Put the null device behind whichever of stdin, stdout and stderr the command lacks.

    A process started with one of them closed (`alliance-bot latest >&-`) would hand that
    descriptor number to the next file it opens: uvloop takes it for its own and aborts when it
    closes it again (libuv asserts `fd > STDERR_FILENO`), and a log or database file could end up
    receiving what the command prints. Stdout gets the null device opened for reading, so that
    writing to it still fails (EBADF) as a closed stdout would; stderr gets it for writing, so
    messages vanish rather than fail; stdin reads nothing.
    """
    for fd, name, flags in (
        (0, "stdin", os.O_RDONLY),
        (1, "stdout", os.O_RDONLY),
        (2, "stderr", os.O_WRONLY),
    ):
        if _is_open(fd):
            continue
        opened = os.open(os.devnull, flags)
        if opened != fd:
            os.dup2(opened, fd)
            os.close(opened)
        os.set_inheritable(fd, True)  # as a standard descriptor always is
        if getattr(sys, name) is None:  # Python found the descriptor closed at startup
            mode = "r" if fd == 0 else "w"
            # Never closed, like the stream Python makes at startup: it lives as long as we do.
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# Characters per write: at most 4 bytes each in UTF-8, so a piece never exceeds stdout's buffer.
# Larger text goes to the pipe in one write, and when the reader leaves during it (`| head`),
# CPython keeps the part written and drops the rest without an error.
_PIECE_CHARS = io.DEFAULT_BUFFER_SIZE // 4


def utf8_output() -> None:
    """Write stdout and stderr in UTF-8 when they go to a file or a pipe and the locale says
    otherwise (a Windows code page, a C locale), as Python's UTF-8 mode does: the output is
    Japanese, and `--json` is promised UTF-8. A terminal keeps its encoding, as does an
    encoding set by PYTHONIOENCODING; what it can't show is replaced, not a traceback."""
    chosen = bool(os.environ.get("PYTHONIOENCODING"))
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper):
            continue
        if codecs.lookup(stream.encoding).name == "utf-8":
            continue
        errors = "backslashreplace" if stream is sys.stderr else "replace"
        if chosen or stream.isatty():
            stream.reconfigure(errors=errors)
        else:
            stream.reconfigure(encoding="utf-8", errors=errors)


def write_out(text: str) -> None:
    """Write `text` to stdout; a failed write raises `OutputError`, not a bare `OSError`."""
    try:
        for start in range(0, len(text), _PIECE_CHARS):
            sys.stdout.write(text[start : start + _PIECE_CHARS])
    except OSError as exc:
        # Told apart from the other OSErrors a command can meet (a file, the database), which
        # must not be reported as "cannot write the output".
        raise OutputError(exc) from exc


def flush_out() -> None:
    """Flush stdout now, where a failure can still be reported; see `write_out`."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(exc) from exc


def whole_number(
    low: int, high: int, *, unit: str = "", name: str = "", prefix: str = ""
) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` to `high`, in ASCII digits only.

    `int()` alone also takes other scripts' digits (`٣`, full-width `３`), signs and `_`.
    `name` ("an article id") is the whole error message where the bounds mean nothing to the
    reader; `prefix` ("#") may come before the digits.
    """
    what = name or ("a whole number" + (f" of {unit}" if unit else ""))
    bounds = f"must be between {low} and {high}" + (f" {unit}" if unit else "")

    def parse(value: str) -> int:
        digits = value.strip()
        if prefix:
            digits = digits.removeprefix(prefix).lstrip()  # "#3" and "# 3"
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"not {what}: {value!r}")
        # Length first: int() refuses strings of more than 4300 digits, leading zeros included.
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(high)) or not low <= int(digits) <= high:
            raise argparse.ArgumentTypeError(f"not {name}: {value!r}" if name else bounds)
        return int(digits)

    return parse


_seconds = whole_number(1, 86_400, unit="seconds")


def add_healthcheck_arguments(cmd: argparse.ArgumentParser) -> None:
    """`[--no-heartbeat] [--max-age SECONDS]`."""
    # Either one: with --no-heartbeat no heartbeat is read, so a --max-age would be ignored.
    how = cmd.add_mutually_exclusive_group()
    how.add_argument(
        "--no-heartbeat",
        action="store_true",
        help="check the database for damage throughout instead (the bot need not be running)",
    )
    # No default here: argparse tells a value typed from its default by identity, and would
    # let `--no-heartbeat --max-age 120` through.
    how.add_argument(
        "--max-age",
        type=_seconds,
        metavar="SECONDS",
        help=f"oldest heartbeat still healthy (default {int(MAX_HEARTBEAT_AGE.total_seconds())})",
    )


def path_argument(value: str) -> Path:
    """A path typed on the command line; an empty one (which `Path` reads as ".") is refused."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty path")
    return Path(value)


def add_backup_arguments(cmd: argparse.ArgumentParser) -> None:
    """`PATH`: the backup file, or a folder to put a dated file in."""
    cmd.add_argument(
        "path",
        type=_backup_target,
        metavar="PATH",
        help="backup file to write (replaced if it exists), or a folder for a dated file",
    )


def _backup_target(value: str) -> str:
    # Kept as typed: `Path` drops a trailing slash, which says the operator meant a folder.
    path_argument(value)
    return value


async def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 if the database is readable and the heartbeat fresh, else 1 with the reason."""
    max_age = getattr(args, "max_age", None)
    healthy, reason = await check_health(
        settings.db,
        max_age=MAX_HEARTBEAT_AGE if max_age is None else timedelta(seconds=max_age),
        require_heartbeat=not getattr(args, "no_heartbeat", False),
    )
    reason = visible(reason)  # it names the database's path, which may hold anything
    if healthy:
        write_out(reason + "\n")
        return 0
    sys.stderr.write(f"unhealthy: {reason}\n")
    return 1


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the live database to `args.path`; exit 0 on success, 1 with the reason otherwise."""
    try:
        folder = args.path.endswith(("/", os.sep))
        result = await backup(settings.db, Path(args.path), folder=folder)
    except BackupError as exc:
        sys.stderr.write(f"alliance-bot: {visible(str(exc))}\n")
        return 1
    size_mb = result.size_bytes / (1024 * 1024)
    write_out(
        f"backed up {visible(str(settings.db))} to {visible(str(result.path))} "
        f"({size_mb:.1f} MB, schema {result.schema_version}, {result.seconds:.1f} s)\n"
    )
    return 0
