"""`alliance-bot digest`: the weekly digest at the terminal, the same one the bot posts."""

from __future__ import annotations

import argparse

from bot.cli import UsageError, _open, _out, _print_json
from bot.core.digest import Week, WeekProblem, build_digest, parse_week_of, render
from bot.settings import Settings


def _week(value: str | None, timezone: str) -> Week:
    """The week holding the date `--week-of` names (this week without one), read as
    `/alliance digest week_of` is; a UsageError when it names none."""
    week = parse_week_of(value, timezone)
    if week is WeekProblem.NOT_A_DATE:  # refused by the parser already; here for other callers
        raise UsageError(f"--week-of: not a date: {value!r}")
    if week is WeekProblem.PAST_THE_CALENDAR:
        raise UsageError(f"--week-of: the week of {value!r} runs past the last date there is")
    return week


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest of a week (default: this week in the configured timezone)."""
    week = _week(args.week_of, settings.timezone)
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
