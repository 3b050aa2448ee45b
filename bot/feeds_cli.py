"""`alliance-bot feeds …`: follow, list and fetch feeds from the terminal.

`add_arguments` is imported when the parser is built, so this module imports only the standard
library at the top; the service (aiohttp, feedparser, APScheduler) loads when a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.models import counted, visible

if TYPE_CHECKING:
    from bot.core.feeds.config import FeedConfigError
    from bot.core.feeds.service import FeedService, FeedStatus
    from bot.settings import Settings


def _interval(value: str) -> int:
    from bot.core.feeds.config import MAX_INTERVAL, MIN_INTERVAL
    from bot.ops import whole_number

    return whole_number(MIN_INTERVAL, MAX_INTERVAL, unit="minutes")(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `feeds` subcommands."""
    sub = parser.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        # The line `feeds --help` lists is the action's own --help, as for every command.
        return sub.add_parser(name, help=help_text, description=help_text)

    cmd = add("fetch", "fetch every feed")
    cmd.add_argument(
        "--once", action="store_true", help="fetch each feed once and exit (default: keep going)"
    )
    cmd = add("list", "show feeds and their status")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd = add("add", "follow a feed")
    cmd.add_argument("url", metavar="URL")
    cmd.add_argument("--name", help="shown as the articles' source (default: the host)")
    cmd.add_argument(
        "--interval",
        type=_interval,
        default=30,
        help="minutes between fetches (5–1440, default 30)",
    )
    cmd.add_argument(
        "--general",
        action="store_true",
        help="general news: keep only entries about the alliance",
    )
    cmd = add("remove", "stop following a feed")
    cmd.add_argument("url", metavar="URL")


def _out(text: str = "") -> None:
    from bot.ops import write_out  # loaded already: bot.cli imports it

    write_out(text + "\n")


def _error(text: str) -> int:
    sys.stderr.write(f"alliance-bot: {visible(text)}\n")
    return 2


def _warn_unread(error: FeedConfigError) -> None:
    """Say that feeds.toml can't be read, and what that leaves out."""
    # The shape of `command_logging`'s lines, among which it is printed.
    sys.stderr.write(f"warning: {visible(str(error))}; its feeds are left out until it is fixed\n")


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    if abs(minutes) >= 48 * 60:
        return moment.date().isoformat()
    if minutes < 1:
        # A moment ahead of the clock (set back since it was stored) too: not "-5 min ago".
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago"


def _print_status(status: FeedStatus, now: datetime) -> None:
    from bot.core.models import visible

    feed, state = status.config, status.state
    flag = "  ** FAILING FOR 24 H OR MORE **" if status.flagged else ""
    # Says why an operator's LAN feed added from Discord (or before 0006) is refused.
    where = status.origin if status.allow_private else f"{status.origin}, public addresses only"
    _out(f"{feed.display_name}  [{feed.kind}, every {feed.interval} min, {where}]{flag}")
    _out(f"  {feed.url}")
    if state is None:
        _out("  not fetched yet")
        return
    _out(
        f"  last fetch {_ago(state.last_fetch_at, now)}, "
        f"last new article {_ago(state.last_new_at, now)}, {counted(state.articles, 'article')}"
    )
    if state.last_error:
        since = _ago(state.failing_since, now)
        # The error may quote the feed's server: shown, never obeyed, by the terminal.
        _out(f"  last error: {visible(state.last_error)} (failing since {since})")


async def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `feeds` subcommand."""
    from bot.core import articles, db
    from bot.core.feeds.config import FeedConfigError
    from bot.core.feeds.service import FeedService

    conn = await db.connect(settings.db)
    service = FeedService.for_database(conn, settings.db, settings.tz)
    try:
        # Seeds first: once feeds have filled the database, `ensure_seeded` would skip them.
        await articles.ensure_seeded(conn, settings.seeds)
        # Each of `service.problems` is logged as it is found, and `command_logging` shows it.
        unread = await service.load()
        if unread is not None:
            if args.feeds_command == "add":
                # Whether the file follows the feed already can't be known.
                return _error(f"not added: {unread}")
            # Listing, removing and fetching the feeds added by command need nothing from it.
            _warn_unread(unread)
        return await _run(args, service, unread)
    except FeedConfigError as exc:
        return _error(str(exc))
    finally:
        await service.stop()
        await conn.close()


async def _run(
    args: argparse.Namespace, service: FeedService, unread: FeedConfigError | None
) -> int:
    """The subcommand, once the feeds are loaded; `unread`: why feeds.toml could not be."""
    from bot.core.feeds.config import FeedConfigError
    from bot.core.feeds.service import summary

    action: str = args.feeds_command
    if action == "add":
        feed = await service.add_feed(
            args.url,
            name=args.name,
            interval=args.interval,
            kind="general" if args.general else "alliance",
            allow_private=True,  # the operator at the terminal
        )
        _out(f"following {feed.url} ({feed.kind}, every {feed.interval} min)")
        return 0
    if action == "remove":
        if not await service.remove_feed(args.url):
            return _error(f"{args.url} is not followed")
        _out(f"no longer following {args.url}")
        return 0
    if action == "list":
        statuses = await service.list_feeds()
        if args.json:
            payload = [s.to_json() for s in statuses]
            # A script reading the list must be able to tell that the file's feeds are missing.
            error = str(unread) if unread is not None else None
            listed = {"results": payload, "total": len(payload), "feeds_file_error": error}
            _out(json.dumps(listed, ensure_ascii=False, indent=2))  # as every --json prints
            return 0
        if not statuses:
            _out(f"no feeds: add one with `alliance-bot feeds add URL` or in {service.feeds_file}")
        now = datetime.now(UTC)
        for status in statuses:
            _print_status(status, now)
        return 0
    # fetch: the feeds of a file that can't be read are not fetched, a failure like a feed's
    failed = 1 if unread is not None else 0
    if not service.followed():
        _out(f"no feeds: add one with `alliance-bot feeds add URL` or in {service.feeds_file}")
        return failed
    if args.once:
        outcomes = await service.fetch_all()
        for outcome in outcomes:
            # A failure is not printed here: the service logs it as it happens, and
            # `command_logging` shows that record as the `warning: feed URL: …` line on stderr.
            if outcome.error:
                continue
            if outcome.not_modified:
                _out(f"{outcome.name}: not modified")
            elif outcome.report:
                r = outcome.report
                _out(
                    f"{outcome.name}: {r.new} new, {r.edited} edited, "
                    f"{counted(r.duplicates, 'duplicate')}, "
                    f"{r.unchanged} unchanged, {r.filtered} filtered"
                )
        _out(summary(outcomes))
        return 1 if any(o.error for o in outcomes) else failed
    try:
        await service.start()
    except FeedConfigError as exc:
        # As in the bot, the feeds added by command are fetched meanwhile, and the service reads
        # the file again every few minutes.
        if unread is None:  # broken since it was read above
            _warn_unread(exc)
    _out(f"fetching {counted(len(service.followed()), 'feed')} on schedule; Ctrl-C to stop")
    await asyncio.Event().wait()  # until Ctrl-C cancels the run
    return 0
