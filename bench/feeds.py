"""Benchmark: fetch and ingest 50 feeds × 100 entries from a loopback HTTP server.

    python bench/feeds.py [--feeds 50] [--entries 100] [--copies 0.1]

Entries are distinct synthetic articles recombined from the seed sentences; `--copies` of them
are the same story carried by a second feed (with a new headline prefix and credit), so the
near-duplicate check has work to do. The server runs in its own thread; the fetcher's per-host
spacing is 0 (every feed is on 127.0.0.1). Prints the total wall time of `fetch_all` and the
time spent parsing (worker threads, summed), deduplicating, ingesting and, inside ingest,
indexing; then the same for a second fetch in which every entry is already known.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core import articles, corpus, db  # noqa: E402
from bot.core.feeds.fetch import Fetcher  # noqa: E402
from bot.core.feeds.service import FeedService, FetchOutcome  # noqa: E402


def sentences() -> list[str]:
    """Every sentence of the shipped seeds."""
    found: list[str] = []
    for draft in corpus.read_path(ROOT / "seeds").drafts:
        for part in draft.body.replace("\n", "。").split("。"):
            if len(part.strip()) > 8:
                found.append(part.strip() + "。")
    return found


def make_feeds(
    feeds: int, entries: int, copies: float, rng: random.Random
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
            body = "".join(rng.sample(pool, 4))
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


async def run_pass(service: FeedService, timer: IndexTimer) -> tuple[float, list[FetchOutcome]]:
    timer.seconds = 0.0
    started = time.perf_counter()
    outcomes = await service.fetch_all()
    return time.perf_counter() - started, outcomes


def report(label: str, total: float, outcomes: list[FetchOutcome], index: float) -> None:
    failed = [o for o in outcomes if o.error]
    assert not failed, failed[0].error
    reports = [o.report for o in outcomes if o.report]
    parse = sum(o.parse_seconds for o in outcomes)
    dedup = sum(r.dedup_seconds for r in reports)
    ingest = sum(r.ingest_seconds for r in reports)
    new = sum(r.new for r in reports)
    dups = sum(r.duplicates for r in reports)
    unchanged = sum(r.unchanged for r in reports)
    print(f"{label}: {total:6.2f} s total  ({new} new, {dups} duplicates, {unchanged} unchanged)")
    for name, seconds in (
        ("parse (threads, summed)", parse),
        ("dedup", dedup),
        ("ingest (incl. index)", ingest),
        ("  of which index", index),
    ):
        print(f"  {name:<24} {seconds:6.2f} s  {100 * seconds / total:5.1f} %")


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(20261123)
    documents, repeated = make_feeds(args.feeds, args.entries, args.copies, rng)
    size = sum(len(d) for d in documents) / 1e6
    print(
        f"{args.feeds} feeds × {args.entries} entries, {size:.1f} MB of RSS, "
        f"{repeated} entries repeat another feed's story"
    )
    httpd, port = serve(documents)
    timer = IndexTimer()
    articles.index_articles = timer  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        conn = await db.connect(Path(tmp) / "bench.db")
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
            total, outcomes = await run_pass(service, timer)
            report("first fetch ", total, outcomes, timer.seconds)
            total, outcomes = await run_pass(service, timer)
            report("second fetch", total, outcomes, timer.seconds)
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
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
