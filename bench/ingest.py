"""Benchmark: ingest throughput and CLI start-up time.

    python bench/ingest.py [--articles 100000]

Prints:
- storage alone: articles/s for the ingest (hashing, topic tagging, inserts) with the search
  index hooks (analysis and indexing) replaced by no-ops;
- full: articles/s for the same ingest with the Japanese search index;
- re-ingest of the same batch (everything unchanged);
- re-ingest of a file of `--edited` long articles (~1,400 characters) with every article
  edited: a note appended to each body, then each title changed (edits are matched to their
  old versions by similarity, within the file);
- `alliance-bot latest` as a fresh process on the seed database, median and worst wall time.

Each ingest line also gives how long it held SQLite's write lock (BEGIN IMMEDIATE to COMMIT):
the rest of its time (hashing, tagging, matching edits, analyzing text for the index) runs
before the lock, so other writers only wait for the writes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds import LockClock  # noqa: E402

from bot.core import articles, corpus, db  # noqa: E402
from bot.core.models import ArticleDraft  # noqa: E402


def seed_sentences() -> list[str]:
    """Every sentence of the shipped seeds, the material for synthetic articles."""
    read = corpus.read_path(ROOT / "seeds")
    sentences: list[str] = []
    for draft in read.drafts:
        for part in draft.body.replace("\n", "。").split("。"):
            part = part.strip()
            if len(part) > 8:
                sentences.append(part + "。")
    return sentences


def synthetic_drafts(
    count: int, rng: random.Random, *, sentences: tuple[int, int] = (2, 4)
) -> list[ArticleDraft]:
    """`count` distinct articles recombined from seed sentences, dated over three years."""
    pool = seed_sentences()
    start = date(2023, 1, 1)
    drafts = []
    for i in range(count):
        body = "".join(rng.sample(pool, rng.randint(*sentences)))
        title = body[: rng.randint(20, 40)].rstrip("。、") + f" ({i})"
        drafts.append(
            ArticleDraft(
                title=title,
                body=body,
                published=start + timedelta(days=rng.randrange(3 * 365)),
                date_inferred=False,
                origin="bench.jsonl",
                source=f"bench.jsonl:{i + 1}",
            )
        )
    return drafts


async def time_ingest(
    path: Path, drafts: list[ArticleDraft], *, with_index: bool
) -> tuple[float, float]:
    """Seconds to ingest `drafts` into a new database, and seconds the write lock was held."""
    conn = await db.connect(path)
    clock = LockClock()
    clock.attach(conn)
    original = articles.index_articles, articles.analyze_texts
    if not with_index:

        async def no_index(*_: object) -> None:
            return None

        async def no_analysis(*_: object) -> dict[str, object]:
            return {}

        articles.index_articles = no_index  # type: ignore[assignment]
        articles.analyze_texts = no_analysis  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        report = await articles.ingest(conn, drafts)
        elapsed = time.perf_counter() - started
        assert report.added == len(drafts), report
        return elapsed, sum(clock.held)
    finally:
        articles.index_articles, articles.analyze_texts = original  # type: ignore[assignment]
        await conn.close()


async def time_reingest(path: Path, drafts: list[ArticleDraft]) -> tuple[float, float]:
    """Seconds to ingest `drafts` again, all unchanged, and seconds the write lock was held."""
    conn = await db.connect(path)
    clock = LockClock()
    clock.attach(conn)
    try:
        started = time.perf_counter()
        report = await articles.ingest(conn, drafts)
        elapsed = time.perf_counter() - started
        assert report.unchanged == len(drafts), report
        return elapsed, sum(clock.held)
    finally:
        await conn.close()


async def time_edits(path: Path, drafts: list[ArticleDraft]) -> list[tuple[float, float]]:
    """Seconds to re-ingest `drafts` with every body edited, then with every title edited, each
    with the seconds the write lock was held."""
    conn = await db.connect(path)
    clock = LockClock()
    clock.attach(conn)
    try:
        await articles.ingest(conn, drafts)
        times = []
        for edit in (
            lambda d: replace(d, body=d.body + "（編集部注：一部を修正しました）"),
            lambda d: replace(d, title=d.title + "【更新】"),
        ):
            drafts = [edit(d) for d in drafts]
            clock.held = []
            started = time.perf_counter()
            report = await articles.ingest(conn, drafts)
            times.append((time.perf_counter() - started, sum(clock.held)))
            assert report.updated == len(drafts), report
        return times
    finally:
        await conn.close()


def time_cli_latest(workdir: Path, runs: int = 10) -> list[float]:
    env = {**os.environ, "ALLIANCE_DB": str(workdir / "seed.db")}
    command = [sys.executable, "-m", "bot", "latest"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)  # seeds the DB
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--edited", type=int, default=1_000)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI start-up timing")
    args = parser.parse_args()
    rng = random.Random(20251219)
    drafts = synthetic_drafts(args.articles, rng)
    avg = statistics.mean(len(d.body) for d in drafts)
    print(f"articles: {len(drafts)}  (avg body {avg:.0f} chars)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        storage, held = asyncio.run(time_ingest(work / "storage.db", drafts, with_index=False))
        print(
            f"ingest, storage alone : {storage:7.2f} s  {len(drafts) / storage:9.0f} articles/s"
            f"  (write lock held {held:.2f} s)"
        )
        full, held = asyncio.run(time_ingest(work / "full.db", drafts, with_index=True))
        print(
            f"ingest, with index    : {full:7.2f} s  {len(drafts) / full:9.0f} articles/s"
            f"  (write lock held {held:.2f} s)"
        )
        again, held = asyncio.run(time_reingest(work / "full.db", drafts))
        print(
            f"re-ingest (unchanged) : {again:7.2f} s  {len(drafts) / again:9.0f} articles/s"
            f"  (write lock held {held:.2f} s)"
        )
        size = sum(f.stat().st_size for f in work.glob("full.db*"))
        print(f"database size (full)  : {size / 1e6:7.1f} MB")
        long = synthetic_drafts(args.edited, rng, sentences=(20, 30))
        avg = statistics.mean(len(d.body) for d in long)
        (bodies, bodies_held), (titles, titles_held) = asyncio.run(
            time_edits(work / "edits.db", long)
        )
        print(
            f"re-ingest, all edited : {args.edited} articles of {avg:.0f} chars: bodies "
            f"{bodies:.2f} s (lock {bodies_held:.2f} s), titles {titles:.2f} s "
            f"(lock {titles_held:.2f} s)"
        )
        if args.no_cli:
            return
        cli = time_cli_latest(work)
        print(
            f"`alliance-bot latest` : median {statistics.median(cli) * 1000:.0f} ms, "
            f"worst {max(cli) * 1000:.0f} ms ({len(cli)} fresh processes, seed DB)"
        )


if __name__ == "__main__":
    main()
