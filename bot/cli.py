"""The `alliance-bot` command: the same lookups and digest as the bot, without Discord.

Each subcommand is a thin adapter over `bot.core`. Heavy modules (discord.py, the Japanese
analyzer) are imported only by the subcommands that need them, so `alliance-bot latest` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import aiosqlite

from bot import __version__, ops
from bot.core import articles, corpus, db
from bot.core.dates import typed_day
from bot.core.models import Article, counted, visible
from bot.core.search.engine import MAX_OFFSET
from bot.log import command_logging
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
T = TypeVar("T")

MAX_LIMIT = 100


class UsageError(Exception):
    """Bad input from the person at the terminal: one line on stderr, exit code 2."""


def _out(text: str = "") -> None:
    ops.write_out(text + "\n")


def _print_json(payload: object) -> None:
    _out(json.dumps(payload, ensure_ascii=False, indent=2))


# Every number typed on the command line goes through `ops.whole_number`: ASCII digits only.
_limit = ops.whole_number(1, MAX_LIMIT)
# The engine pages no further; clamping would show an earlier page as the one asked for.
_offset = ops.whole_number(0, MAX_OFFSET)
_article_id = ops.whole_number(1, 2**62, name="an article id", prefix="#")
_snowflake = ops.whole_number(1, 2**64 - 1, name="a Discord id")


def _typed_date(value: str) -> str:
    """`--week-of` as typed, once it reads as a date the way `/alliance digest week_of` does."""
    # Checked here so that a non-date is refused before settings or the database are opened;
    # cmd_digest reads the week from the same text with parse_week_of, as the bot does.
    if typed_day(value) is None:
        raise argparse.ArgumentTypeError(
            f"not a date (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日): {value!r}"
        )
    return value


async def _open(settings: Settings) -> aiosqlite.Connection:
    """Open the database and, when it is empty, load the shipped seeds first."""
    conn = await db.connect(settings.db)
    try:
        await articles.ensure_seeded(conn, settings.seeds)
    except BaseException:
        await conn.close()
        raise
    return conn


def _exists(path: Path) -> bool:
    """Whether `path` exists; True when it can't be looked at, so that reading it says why."""
    try:
        return path.exists()
    except OSError:  # Path.exists raises PermissionError under a folder that can't be searched
        return True


def _not_article_files(paths: Sequence[Path]) -> list[str]:
    """The files (not folders) among `paths` not named as files of articles: any other file
    would be read as a listing page, each of its lines an article."""
    return [str(p) for p in paths if not os.path.isdir(p) and not corpus.is_article_file_name(p)]


def _topic(name: str | None) -> str | None:
    """The slug of the topic `--topic` names (its slug or a label, in any case), or None."""
    if name is None:
        return None
    from bot.core.topics import load_taxonomy

    taxonomy = load_taxonomy()
    topic = taxonomy.find(name)
    if topic is None:
        known = ", ".join(t.slug for t in taxonomy.topics)
        raise UsageError(f"unknown topic {name!r}; known topics: {known}")
    return topic.slug


def _date_label(article: Article) -> str:
    return article.published.isoformat() + ("~" if article.date_inferred else " ")


def _print_article_line(article: Article) -> None:
    topics = ", ".join(article.topics) or "-"
    # Earlier versions stored control characters (a CR in a title hid its start): an article's
    # text is printed with them written out, here and in `show`, never sent to the terminal.
    _out(f"#{article.id:<5} {_date_label(article)}  {visible(article.title)}")
    _out(f"       [{topics}]  {visible(article.source)}")


def _results_json(items: Sequence[Article], total: int, **extra: Any) -> dict[str, Any]:
    return {"results": [a.to_json() for a in items], "total": total, **extra}


# --- subcommands -------------------------------------------------------------------------------


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Import seed, text and JSON Lines files (default: the configured seeds folder)."""
    paths: list[Path] = args.paths or [settings.seeds]
    missing = [str(p) for p in paths if not _exists(p)]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    others = _not_article_files(paths)
    if others:
        raise UsageError(f"not a file of articles (.txt, .jsonl, .ndjson): {', '.join(others)}")
    conn = await db.connect(settings.db)
    try:
        # Like every command, the first on an empty database loads the shipped seeds; unless
        # they are among the paths, so that their articles count as added in this report.
        seeds = settings.seeds.resolve()
        if all(p.resolve() != seeds for p in paths):
            seeded = await articles.ensure_seeded(conn, settings.seeds)
            if seeded is not None:
                _out(f"empty database: loaded the shipped seeds first (added {seeded.added})")
        # Each of `report.warnings` is also logged as it is found; `command_logging` shows that
        # record as `warning: …`, so printing them here again would show each twice.
        report = await articles.ingest_paths(conn, paths, seeds=settings.seeds)
    finally:
        await conn.close()
    _out(
        f"added {report.added}, updated {report.updated}, "
        f"unchanged {report.unchanged}, skipped {report.skipped}"
    )
    # Fails only when no article could be read at all. One already stored, from this file or
    # from another (skipped), was read; and not every warning is a failure ("unknown topic
    # ignored" comes with an article that imports), so none is counted as one. An empty file
    # failed nothing: it is nothing to import, like a folder without article files.
    read = report.added + report.updated + report.unchanged + report.skipped
    if any(not w.empty for w in report.warnings) and not read:
        raise UsageError("nothing imported: no article could be read, see the warnings above")
    if not read:
        # Not a failure (a drop folder may be empty today), but not a silent success either.
        named = ", ".join(visible(str(p)) for p in paths)
        sys.stderr.write(f"warning: no article found in .txt, .jsonl or .ndjson files: {named}\n")
    return 0


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the newest articles."""
    args.topic = _topic(args.topic)
    conn = await _open(settings)
    try:
        items = await articles.latest(conn, limit=args.limit, topic=args.topic)
        total = await articles.count_articles(conn, topic=args.topic)
    finally:
        await conn.close()
    if args.json:
        _print_json(_results_json(items, total))
        return 0
    if not items:
        _out("no articles" + (f" in topic {args.topic}" if args.topic else ""))
    for article in items:
        _print_article_line(article)
    return 0


async def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    """Print every topic with its labels and article count."""
    from bot.core.topics import topic_counts

    conn = await _open(settings)
    try:
        counts = await topic_counts(conn)
    finally:
        await conn.close()
    if args.json:
        payload = [
            {"slug": t.slug, "label_ja": t.label_ja, "label_en": t.label_en, "count": n}
            for t, n in counts
        ]
        _print_json({"results": payload, "total": len(payload)})
        return 0
    width = max((len(t.slug) for t, _ in counts), default=0)
    for topic, count in counts:
        _out(f"{topic.slug:<{width}}  {count:>5}  {topic.label_ja} / {topic.label_en}")
    return 0


async def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one article in full."""
    conn = await _open(settings)
    try:
        article = await articles.get_article(conn, args.id)
    finally:
        await conn.close()
    if article is None:
        raise UsageError(f"no article with id {args.id}")
    if args.json:
        _print_json(_results_json([article], 1))
        return 0
    approx = " (approximate)" if article.date_inferred else ""
    _out(visible(article.title))
    _out(f"#{article.id}  {article.published.isoformat()}{approx}  [{', '.join(article.topics)}]")
    link = f"  {visible(article.url)}" if article.url else ""
    _out(f"source: {visible(article.source)}{link}")
    _out()
    _out(visible(article.body, keep="\n\t"))
    return 0


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search the corpus."""
    from bot.core.search import search

    args.topic = _topic(args.topic)
    args.query = " ".join(word for word in args.query if word)
    conn = await _open(settings)
    try:
        result = await search(
            conn,
            args.query,
            topic=args.topic,
            limit=args.limit,
            offset=args.offset,
            sort=args.sort,
        )
    finally:
        await conn.close()
    if result.error:
        raise UsageError(result.error_message("en"))
    if args.json:
        payload = _results_json([h.article for h in result.hits], result.shown_total)
        for item, hit in zip(payload["results"], result.hits, strict=True):
            item["snippet"] = hit.snippet
        payload["total_exact"] = result.total_exact
        payload["corrected"] = result.corrected
        payload["near"] = list(result.near)
        payload["typed_total"] = result.typed_total
        payload["unmatched"] = list(result.unmatched)
        payload["suggestions"] = result.suggestions
        _print_json(payload)
        return 0
    if result.unmatched:
        opening = f"no match for {', '.join(result.unmatched)!r}; showing results"
    elif result.typed_total is None:
        opening = f"no exact match for {args.query!r}; showing results"
    else:
        exact = counted(result.typed_total, "exact result")
        opening = f"only {exact} for {args.query!r}; also showing results"
    if result.near:
        words = ", ".join(repr(word) for word in result.near)
        _out(f"{opening} with {words} close together")
    elif result.corrected:
        _out(f"{opening} for {result.corrected!r}")
    if result.total_exact:
        found = counted(result.total, "result")
    else:
        found = f"more than {result.shown_total} results"
    if not result.hits:
        if result.total:
            _out(f"{found}; none at offset {args.offset}")
            return 0
        hint = f" (did you mean: {', '.join(result.suggestions)})" if result.suggestions else ""
        _out(f"no results for {args.query!r}{hint}")
        return 0
    first = args.offset + 1
    _out(f"{found}; showing {first}–{args.offset + len(result.hits)}")
    for hit in result.hits:
        _print_article_line(hit.article)
        _out(f"       {hit.snippet}")
    return 0


# --- parser ------------------------------------------------------------------------------------


def _lazy(module: str, name: str) -> Handler:
    """A handler imported only when its subcommand runs (discord.py, feeds: slow to import)."""

    async def handler(args: argparse.Namespace, settings: Settings) -> int:
        target: Handler = getattr(importlib.import_module(module), name)
        return await target(args, settings)

    return handler


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not the whole usage block: the user asked for a specific thing.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse ignores a failed write: `--help > /dev/full` would lose the help, exit 0.
        if file is sys.stdout and message:
            ops.write_out(message)
        else:
            super()._print_message(message, file)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="alliance-bot",
        description="News about the US–Japan alliance: search, topics and the weekly digest.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = add("ingest", cmd_ingest, "import seed, text and JSON Lines files")
    cmd.add_argument(
        "paths", nargs="*", type=ops.path_argument, metavar="PATH", help="files or folders"
    )

    cmd = add("latest", cmd_latest, "show the newest articles")
    cmd.add_argument("--limit", type=_limit, default=10, help="how many (1–100, default 10)")
    cmd.add_argument(
        "--topic", metavar="SLUG", help="only this topic: its slug or label (see `topics`)"
    )
    cmd.add_argument("--json", action="store_true", help="print JSON")

    cmd = add("topics", cmd_topics, "list topics with their article counts")
    cmd.add_argument("--json", action="store_true", help="print JSON")

    cmd = add("show", cmd_show, "show one article in full")
    cmd.add_argument("id", type=_article_id, metavar="ID", help="article id")
    cmd.add_argument("--json", action="store_true", help="print JSON")

    cmd = add("search", cmd_search, "search articles (Japanese or English)")
    cmd.add_argument(
        "query",
        nargs="+",
        metavar="QUERY",
        help="words to look for; a word to leave out (-word) after `--` or in quotes",
    )
    cmd.add_argument("--topic", metavar="SLUG", help="only this topic: its slug or label")
    cmd.add_argument("--limit", type=_limit, default=10, help="how many (1–100, default 10)")
    cmd.add_argument(
        "--offset", type=_offset, default=0, help=f"skip this many (paging; at most {MAX_OFFSET})"
    )
    cmd.add_argument(
        "--sort",
        choices=["relevance", "newest"],
        default="relevance",
        help="order of the results (default: relevance)",
    )
    cmd.add_argument("--json", action="store_true", help="print JSON")

    cmd = add("run", _lazy("bot.runner", "cmd_run"), "start the Discord bot")
    cmd = add("sync", _lazy("bot.runner", "cmd_sync"), "register the slash commands now")
    cmd.add_argument("--guild", type=_snowflake, metavar="ID", help="only this server (instant)")
    cmd = add("invite-url", _lazy("bot.runner", "cmd_invite_url"), "print the bot's invite link")
    cmd.add_argument(
        "--client-id", type=_snowflake, metavar="ID", help="application id (default: from token)"
    )

    cmd = add("digest", _lazy("bot.digest_cli", "cmd_digest"), "print the weekly digest")
    cmd.add_argument(
        "--week-of",
        type=_typed_date,
        metavar="DATE",
        help="any day of the week: 2025-12-15, 2025/1/5 or 2025年1月5日 (default: now)",
    )
    cmd.add_argument("--lang", choices=["ja", "en"], default="ja", help="language (default: ja)")
    cmd.add_argument("--json", action="store_true", help="print JSON")

    cmd = add("healthcheck", _lazy("bot.ops", "cmd_healthcheck"), "exit 0 if healthy, else 1")
    ops.add_healthcheck_arguments(cmd)
    cmd = add("backup", _lazy("bot.ops", "cmd_backup"), "copy the live database safely")
    ops.add_backup_arguments(cmd)

    from bot.feeds_cli import add_arguments as add_feeds_arguments  # stdlib-only, fast

    cmd = add("feeds", _lazy("bot.feeds_cli", "cmd_feeds"), "follow RSS, Atom and RDF feeds")
    add_feeds_arguments(cmd)
    return parser


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on uvloop where it is installed, else on asyncio's own loop.

    uvloop spends less CPU per event: under 200 concurrent searches (bench/e2e.py) the bot's
    answers came ~15% sooner at the median, with ~20% less CPU.
    """
    try:
        import uvloop
    except ImportError:  # not built for Windows
        return asyncio.run(main)
    return uvloop.run(main)


def _output_failed(error: ops.OutputError) -> int:
    """Report that stdout could not be written, and make sure Python does not try it again."""
    # Python flushes stdout once more at exit; what the failed write left in its buffer would
    # fail again there, as "Exception ignored … BrokenPipeError". Aimed at /dev/null it cannot.
    # Without a file descriptor behind stdout (a test's capture) there is no exit flush to spare.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    if isinstance(error.cause, BrokenPipeError):
        # The reader (`head`, a pager) has all it wanted: quiet, and the status a shell reports
        # for a program killed by SIGPIPE (128 + 13), so a script can tell it from a failure.
        return 141
    if error.cause.errno == errno.EBADF:
        # Started with stdout closed (`>&-`, see `ops.reserve_standard_fds`): nobody reads the
        # output, as with a reader that has gone, so just as quiet; but no SIGPIPE, so not 141.
        return 1
    sys.stderr.write(f"alliance-bot: cannot write the output: {error}\n")
    return 1


def _is_busy(error: BaseException | None) -> bool:
    """Whether `error` is SQLite giving up on a lock another connection held too long."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    message = str(error).lower()
    return "database is locked" in message or "database is busy" in message


def _busy() -> int:
    sys.stderr.write(
        "alliance-bot: the database is busy: another process (the bot, or another command) "
        "is writing to it; try again\n"
    )
    return 1


# SQLite's codes for the disk failing it (full, or an I/O error), not the database.
def _storage_failed(path: Path, error: sqlite3.DatabaseError) -> int:
    # SQLite rolled the interrupted transaction back, and every command is safe to run again.
    sys.stderr.write(
        f"alliance-bot: the database {str(path)!r} could not be written or read ({error}): "
        "check its disk's free space, then run the command again\n"
    )
    return 1


def _damaged(path: Path, error: sqlite3.DatabaseError) -> int:
    sys.stderr.write(
        f"alliance-bot: the database {str(path)!r} is damaged ({error}): restore a backup "
        '(README, "Backups and upgrades")\n'
    )
    return 2


def _unrecognized(args: argparse.Namespace, extra: Sequence[str]) -> str:
    """argparse's error for arguments no command takes; for a search, how to leave a word out:
    argparse reads `-中国` as an option, not as a word of the query."""
    message = f"unrecognized arguments: {visible(' '.join(extra))}"
    if args.handler is cmd_search and any(word[:1] == "-" != word[1:2] for word in extra):
        # Not a command rebuilt from the pieces: argparse has already taken the options out of
        # the words' order, and a wrong guess would search for something else.
        message += (
            '; to leave a word out, quote the whole query (search "台湾 -中国"), or put the '
            "options first and -- before the query's words (search --json -- 台湾 -中国)"
        )
    return message


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(_unrecognized(args, extra))
    settings: Settings | None = None
    try:
        settings = load_settings()
        handler: Handler = args.handler
        with command_logging(settings):
            return run(handler(args, settings))
    except (SettingsError, UsageError, db.MigrationError, db.DatabaseOpenError) as exc:
        cause = exc.__cause__
        if _is_busy(cause):  # the database could not be opened: it was locked
            return _busy()
        if (
            isinstance(exc, db.DatabaseOpenError)
            and isinstance(cause, sqlite3.DatabaseError)
            and db.is_disk_failure(cause)
            and settings is not None
        ):
            # A full disk refuses the -shm SQLite creates as it opens the database: "cannot use
            # the database: disk I/O error" (exit 2) sounded like a broken file or disk, where
            # the same disk failing a write a moment later is reported as what it likely is.
            return _storage_failed(settings.db, cause)
        # Paths and values in the message are input: a control character must not reach the
        # terminal as one (an escape sequence in a file name).
        sys.stderr.write(f"alliance-bot: {visible(str(exc))}\n")
        return 2
    except sqlite3.DatabaseError as exc:
        if _is_busy(exc):
            return _busy()
        # Damage near the start of the file stops the command as it opens the database (a
        # DatabaseOpenError, above); damage further in, only when a query reads that page.
        if settings is not None and db.is_damaged(exc):
            return _damaged(settings.db, exc)
        if settings is not None and db.is_disk_failure(exc):
            return _storage_failed(settings.db, exc)
        raise
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `alliance-bot` and `python -m bot`."""
    ops.reserve_standard_fds()  # before uvloop, the database or a log file opens anything
    ops.utf8_output()
    try:
        try:
            code = _main(argv)
        except SystemExit:
            # argparse printed help or an error and exits; it ignores a failed write itself.
            ops.flush_out()
            raise
        # Flushed here, not at exit, so a full disk or a closed pipe is still reported.
        ops.flush_out()
    except ops.OutputError as exc:
        return _output_failed(exc)
    return code
