"""The operator subcommands of `alliance-bot`: `healthcheck` and `backup`.

Thin adapters over `bot.core.health` and `bot.core.backup`; `bot.cli` wires them in with the
`add_*_arguments` helpers.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from bot.core.backup import BackupError, backup
from bot.core.health import MAX_HEARTBEAT_AGE, check_health
from bot.settings import Settings


def _seconds(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {value!r}") from None
    if not 1 <= number <= 86_400:
        raise argparse.ArgumentTypeError("must be between 1 and 86400 seconds")
    return number


def add_healthcheck_arguments(cmd: argparse.ArgumentParser) -> None:
    """`[--no-heartbeat] [--max-age SECONDS]`."""
    cmd.add_argument(
        "--no-heartbeat",
        action="store_true",
        help="only check that the database is readable (the bot need not be running)",
    )
    cmd.add_argument(
        "--max-age",
        type=_seconds,
        default=int(MAX_HEARTBEAT_AGE.total_seconds()),
        metavar="SECONDS",
        help="oldest heartbeat still healthy (default %(default)s)",
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
        type=path_argument,
        metavar="PATH",
        help="backup file to write (replaced if it exists), or a folder for a dated file",
    )


async def cmd_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 if the database is readable and the heartbeat fresh, else 1 with the reason."""
    max_age = getattr(args, "max_age", None)
    healthy, reason = await check_health(
        settings.db,
        max_age=MAX_HEARTBEAT_AGE if max_age is None else timedelta(seconds=max_age),
        require_heartbeat=not getattr(args, "no_heartbeat", False),
    )
    if healthy:
        sys.stdout.write(reason + "\n")
        return 0
    sys.stderr.write(f"unhealthy: {reason}\n")
    return 1


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the live database to `args.path`; exit 0 on success, 1 with the reason otherwise."""
    try:
        result = await backup(settings.db, args.path)
    except BackupError as exc:
        sys.stderr.write(f"alliance-bot: {exc}\n")
        return 1
    size_mb = result.size_bytes / (1024 * 1024)
    sys.stdout.write(
        f"backed up {settings.db} to {result.path} "
        f"({size_mb:.1f} MB, schema {result.schema_version}, {result.seconds:.1f} s)\n"
    )
    return 0
