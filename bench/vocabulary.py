"""Benchmark: autocomplete and typo correction with a large vocabulary.

    python bench/vocabulary.py [--words 300000]

The synthetic 100k corpus of bench/e2e.py reuses the seed corpus's ~1,250 words; a real corpus
of that size has hundreds of thousands (every name, place and run of nouns). This adds `--words`
made-up words (kana and kanji, 2-8 characters, made-up frequencies) to the seed corpus's
vocabulary and prints, for autocomplete (1-3 character prefixes, and an empty one) and for typo
correction (searches for misspelled words): p50 / p99 / max, the longest the event loop went
without a turn while they ran (every other member's interaction waits that long), and the
Python memory they left allocated (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core import articles, db  # noqa: E402
from bot.core.search import search, suggest  # noqa: E402

PREFIXES = ["", "ト", "日", "台", "防衛", "日米", "k", "ヘグ", "イージ", "ミサ", "米軍", "同"]
TYPOS = [
    "トランブ",
    "ドランプ",
    "トンラプ",
    "ヘグセフ",
    "イージズ艦",
    "ゴールデンドム",
    "Koizmi",
    "Hegseht",
]
KANA = [chr(c) for c in range(0x30A1, 0x30F6)]
KANJI = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def made_up_words(count: int, rng: random.Random) -> list[tuple[str, str, int]]:
    """`count` distinct words as vocab rows (key, display, df): kana or kanji, 2-8 long."""
    words: dict[str, tuple[str, str, int]] = {}
    while len(words) < count:
        alphabet = KANA if rng.random() < 0.5 else KANJI
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 8)))
        words[word] = (word, word, int(rng.paretovariate(1.2)))
    return list(words.values())


class LoopStalls:
    """The longest time the event loop went without running a 1 ms ticker, while inside."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last)
            last = now

    async def __aenter__(self) -> LoopStalls:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.005)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.005)  # the ticker's turn after the last call counts its stall
        assert self._task is not None
        self._task.cancel()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def measure(label: str, calls: list[Callable[[], Awaitable[object]]], rounds: int) -> None:
    times: list[float] = []
    tracemalloc.start()
    async with LoopStalls() as stalls:
        for _ in range(rounds):
            for call in calls:
                start = time.perf_counter()
                await call()
                times.append(time.perf_counter() - start)
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label:<16} n={len(times):<4} p50 {pct(times, 0.5):6.2f}  p99 {pct(times, 0.99):6.2f}  "
        f"max {max(times) * 1000:6.2f} ms;  longest loop stall {stalls.longest * 1000:6.1f} ms;  "
        f"memory left allocated {kept / 1e6:5.1f} MB"
    )


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="alliance-vocab-") as tmp:
        conn = await db.connect(Path(tmp) / "alliance.db")
        try:
            seeds = ROOT / "seeds"
            await articles.ingest_paths(conn, [seeds], seeds=seeds)
            rows = made_up_words(args.words, random.Random(1))
            query = "INSERT OR IGNORE INTO vocab (key, display, df) VALUES (?, ?, ?)"
            await conn.executemany(query, rows)
            await conn.commit()
            total = next(iter(await conn.execute_fetchall("SELECT count(*) FROM vocab")))[0]
            print(f"vocabulary: {total:,} words")
            await search(conn, "日米")  # the analyzer and index loaded
            completions = [lambda p=p: suggest(conn, p) for p in PREFIXES]
            corrections = [lambda t=t: search(conn, t) for t in TYPOS]
            await measure("autocomplete", completions, args.rounds)
            await measure("typo correction", corrections, args.rounds)
            for typo in TYPOS:
                result = await search(conn, typo)
                print(f"  {typo} → {result.corrected} ({result.total} results)")
        finally:
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=300_000, help="made-up words to add")
    parser.add_argument("--rounds", type=int, default=20, help="times each call is made")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
