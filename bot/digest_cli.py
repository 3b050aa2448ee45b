"""`alliance-bot digest`: the weekly digest at the terminal, the same one the bot posts."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.cli import UsageError, _open, _out, _print_json
from bot.core.digest import build_digest, render, week_of
from bot.settings import Settings


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest of a week (default: this week in the configured timezone)."""
    try:
        week = week_of(args.week_of, timezone=settings.timezone, now=datetime.now(UTC))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    conn = await _open(settings)
    try:
        digest = await build_digest(conn, week)
    finally:
        await conn.close()
    if args.json:
        _print_json(digest.to_json())
    else:
        _out(render(digest, args.lang).to_text())
    return 0
