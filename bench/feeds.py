"""Benchmark: fetch and ingest 50 feeds × 100 entries from a loopback HTTP server.

    python bench/feeds.py [--feeds 50] [--entries 100] [--copies 0.1] [--preload 0]
                          [--sentences 4]

Entries are distinct synthetic articles recombined from the seed sentences; `--copies` of them
are the same story carried by a second feed (with a new headline prefix and credit), so the
near-duplicate check has work to do. The server runs in its own thread; the fetcher's per-host
spacing is 0 (every feed is on 127.0.0.1). Prints the total wall time of `fetch_all` and the
time spent parsing (worker threads, summed), deduplicating, ingesting and, inside ingest,
indexing; then the same for a second fetch in which every entry is already known.

For each pass it also prints how long SQLite's write lock was held: the time between each
`BEGIN IMMEDIATE` and its COMMIT / ROLLBACK on the bot's connection (summed, and the longest
one), and what another writer saw: a probe process on its own connection writes one `meta` row
every 20 ms (as the digest scheduler's claim of a week does) and records how long each write
waited. `--preload N` first stores N articles of the last 30 days (a lived-in database).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import aiosqlite

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core import articles, corpus, db  # noqa: E402
from bot.core.feeds.fetch import Fetcher  # noqa: E402
from bot.core.feeds.service import FeedService, FetchOutcome  # noqa: E402
from bot.core.models import ArticleDraft  # noqa: E402


def sentences() -> list[str]:
    """Every sentence of the shipped seeds."""
    found: list[str] = []
    for draft in corpus.read_path(ROOT / "seeds").drafts:
        for part in draft.body.replace("\n", "。").split("。"):
            if len(part.strip()) > 8:
                found.append(part.strip() + "。")
    return found


def make_feeds(
    feeds: int, entries: int, copies: float, rng: random.Random, sentences_each: int = 4
) -> tuple[list[bytes], int]:
    """RSS documents, and how many entries repeat a story from the previous feed."""
    pool = sentences()
    now = datetime.now(UTC)
    stories: list[list[tuple[str, str, str, datetime]]] = []
    repeated = 0
    for f in range(feeds):
        items = []
        for e in range(entries):
            if f and rng.random() < copies:
                title, body, _, when = stories[f - 1][e]
                items.append((f"【速報】{title}", body + "（共同）", f"f{f}-copy-{e}", when))
                repeated += 1
                continue
            body = "".join(rng.sample(pool, sentences_each))
            title = f"日米{body[:24]} 第{f * entries + e}報"
            when = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
            items.append((title, body, f"f{f}-e{e}", when))
        stories.append(items)
    documents = []
    for f, items in enumerate(stories):
        parts = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>']
        parts.append(f"<title>bench {f}</title><link>https://bench.example.jp/{f}</link>")
        for title, body, guid, when in items:
            parts.append(
                f"<item><title>{escape(title)}</title>"
                f"<link>https://bench.example.jp/{f}/{guid}</link>"
                f'<guid isPermaLink="false">{guid}</guid>'
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape('<p>' + body + '</p>')}</description></item>"
            )
        parts.append("</channel></rss>")
        documents.append("".join(parts).encode("utf-8"))
    return documents, repeated


def serve(documents: Sequence[bytes]) -> tuple[ThreadingHTTPServer, int]:
    """A loopback server: /feed/N answers document N (no validators, so every fetch is full)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents[int(self.path.rsplit("/", 1)[1])]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, int(httpd.server_address[1])


class IndexTimer:
    """Wraps the search-index hook that `articles.ingest` calls, adding up its time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.original: Callable[..., object] = articles.index_articles

    async def __call__(self, *args: object) -> None:
        started = time.perf_counter()
        await self.original(*args)  # type: ignore[misc]
        self.seconds += time.perf_counter() - started


@dataclass
class LockClock:
    """Times each write transaction of one connection, from BEGIN IMMEDIATE to its end."""

    held: list[float] = field(default_factory=list)
    _began: float | None = None

    def attach(self, conn: aiosqlite.Connection) -> None:
        """Wrap `conn`'s execute, commit and rollback (nothing here uses `async with execute`)."""
        execute, commit, rollback = conn.execute, conn.commit, conn.rollback

        async def timed_execute(sql: str, parameters: object = None) -> object:
            result = await execute(sql, parameters)  # type: ignore[arg-type]
            if sql.lstrip().upper().startswith("BEGIN IMMEDIATE"):
                self._began = time.perf_counter()
            return result

        async def timed_end(end: Callable[[], Awaitable[None]]) -> None:
            await end()
            if self._began is not None:
                self.held.append(time.perf_counter() - self._began)
                self._began = None

        conn.execute = timed_execute  # type: ignore[method-assign,assignment]
        conn.commit = lambda: timed_end(commit)  # type: ignore[method-assign]
        conn.rollback = lambda: timed_end(rollback)  # type: ignore[method-assign]


# Another writer, in a process of its own (a thread would share the GIL with the ingest): until
# its stdin closes, it writes one meta row every 20 ms; then it prints each write's seconds.
PROBE = """
import sqlite3, sys, threading, time
conn = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
waits = []
while not done.wait(0.02):
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('bench_probe', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(started),),
    )
    conn.execute("COMMIT")
    waits.append(time.perf_counter() - started)
print(" ".join(map(str, waits)))
"""


class Probe:
    """Another writer (as the digest scheduler's claim of a week), timing each of its writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.waits: list[float] = []

    def __enter__(self) -> Probe:
        self._process = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.2)  # started and writing
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._process.communicate("")
        self.waits = [float(w) for w in out.split()]


@dataclass
class Pass:
    total: float
    outcomes: list[FetchOutcome]
    index: float
    held: list[float]
    waits: list[float]


async def run_pass(
    service: FeedService, timer: IndexTimer, clock: LockClock, db_path: Path
) -> Pass:
    timer.seconds = 0.0
    clock.held = []
    with Probe(db_path) as probe:
        started = time.perf_counter()
        outcomes = await service.fetch_all()
        total = time.perf_counter() - started
    return Pass(total, outcomes, timer.seconds, clock.held, probe.waits)


def report(label: str, run: Pass) -> None:
    total, outcomes, index = run.total, run.outcomes, run.index
    failed = [o for o in outcomes if o.error]
    assert not failed, failed[0].error
    reports = [o.report for o in outcomes if o.report]
    parse = sum(o.parse_seconds for o in outcomes)
    dedup = sum(r.dedup_seconds for r in reports)
    prepare = sum(r.prepare_seconds for r in reports)
    ingest = sum(r.ingest_seconds for r in reports)
    new = sum(r.new for r in reports)
    dups = sum(r.duplicates for r in reports)
    unchanged = sum(r.unchanged for r in reports)
    replanned = sum(1 for r in reports if r.replanned)
    print(f"{label}: {total:6.2f} s total  ({new} new, {dups} duplicates, {unchanged} unchanged)")
    for name, seconds in (
        ("parse (threads, summed)", parse),
        ("dedup", dedup),
        ("prepare (tags, analysis)", prepare),
        ("ingest (incl. index)", ingest),
        ("  of which index", index),
    ):
        print(f"  {name:<24} {seconds:6.2f} s  {100 * seconds / total:5.1f} %")
    if replanned:
        print(f"  {replanned} fetches matched again under the lock")
    held = sum(run.held)
    print(
        f"  {'write lock held':<24} {held:6.2f} s  {100 * held / total:5.1f} %"
        f"  ({len(run.held)} transactions, longest {max(run.held, default=0.0):.3f} s)"
    )
    waits = sorted(run.waits) or [0.0]
    print(
        f"  {'other writer waited':<24} max {waits[-1]:.3f} s, "
        f"median {statistics.median(waits) * 1000:.1f} ms ({len(run.waits)} writes)"
    )


def preload_drafts(count: int, rng: random.Random) -> list[ArticleDraft]:
    """`count` distinct articles of the last 30 days, as a lived-in database holds."""
    pool = sentences()
    today = datetime.now(UTC).date()
    drafts = []
    for i in range(count):
        body = "".join(rng.sample(pool, 4))
        drafts.append(
            ArticleDraft(
                title=f"{body[:30]} ({i})",
                body=body,
                published=today - timedelta(days=rng.randrange(30)),
                date_inferred=False,
                origin="bench-preload.jsonl",
                source=f"bench-preload.jsonl:{i + 1}",
            )
        )
    return drafts


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(20261123)
    documents, repeated = make_feeds(args.feeds, args.entries, args.copies, rng, args.sentences)
    size = sum(len(d) for d in documents) / 1e6
    print(
        f"{args.feeds} feeds × {args.entries} entries, {size:.1f} MB of RSS, "
        f"{repeated} entries repeat another feed's story"
    )
    httpd, port = serve(documents)
    timer = IndexTimer()
    articles.index_articles = timer  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        conn = await db.connect(db_path)
        if args.preload:
            await articles.ingest(conn, preload_drafts(args.preload, rng))
            print(f"preloaded {args.preload} articles")
        clock = LockClock()
        clock.attach(conn)
        service = FeedService(
            conn,
            feeds_file=Path(tmp) / "feeds.toml",
            tz=ZoneInfo("Asia/Tokyo"),
            fetcher=Fetcher(spacing=0.0),
        )
        try:
            for n in range(args.feeds):
                url = f"http://127.0.0.1:{port}/feed/{n}"
                await service.add_feed(url, name=f"bench {n}", allow_private=True)
            report("first fetch ", await run_pass(service, timer, clock, db_path))
            report("second fetch", await run_pass(service, timer, clock, db_path))
            print(f"articles stored: {await articles.count_articles(conn)}")
        finally:
            await service.stop()
            await conn.close()
            httpd.shutdown()
            articles.index_articles = timer.original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--copies", type=float, default=0.1)
    parser.add_argument("--preload", type=int, default=0)
    parser.add_argument("--sentences", type=int, default=4, help="sentences in an entry's body")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
