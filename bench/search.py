"""Benchmark: search latency on 100,000 synthetic articles, beside the bare FTS5 floor.

    python bench/search.py [--articles 100000] [--db PATH]

For each kind of query (1-char, 2-char, 3+ char, multi-term, Latin, width/kana variant, typo,
English) prints p50 and p99 of `search()` (a whole first page: count, ranking, articles, snippets)
and, in the same run, the floor: the bare FTS5 statements for the same terms that any page needs
(the count and the newest five matching rowids). Also autocomplete latency, index build time,
database size, and relevance on the seed corpus (recall of the top 5, expected-first rate).

The targets are read from the uncached table (`search()` as the bot calls it by default). Two
tables after it are for information: the same pages again through `cache.ResultCache` (answered
from memory), and sort=newest and a topic filter, which have no floor here.

The index is rebuilt on every run, so a database kept with --db is always searched with the
installed analyzer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core"))

from ingest import synthetic_drafts  # noqa: E402

from bot.core import articles, db  # noqa: E402
from bot.core.db import Readers  # noqa: E402
from bot.core.search import search, suggest  # noqa: E402
from bot.core.search.analyzer import fold  # noqa: E402
from bot.core.search.cache import ResultCache  # noqa: E402
from bot.core.search.query import Query, load_aliases, parse_query  # noqa: E402

LATIN = [
    "PAC3", "AMRAAM", "AIM-120", "B-52", "F-35", "F-15", "LNG", "GDP", "NSS", "USS",
    "George Washington", "ANN", "AI", "PAC3MSE", "Golden Dome", "B52", "F35", "AIM120",
    "USS George Washington", "LNG GDP",
]  # fmt: skip
VARIANTS = [
    "ＰＡＣ３", "ﾐｻｲﾙ", "とらんぷ", "ゴールデンドーム", "ＡＭＲＡＡＭ", "ｌｎｇ", "ＧＤＰ",
    "へぐせす", "ﾄﾗﾝﾌﾟ", "ﾍｸﾞｾｽ", "ぺんたごん", "ワシントン", "ｂ－５２", "Ｆ３５",
    "pac3", "amraam", "れびっと", "ばいでん", "ｼｽﾃﾑ", "さぷらいちぇーん",
]  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def vocab_keys(conn: object) -> list[tuple[str, str, int]]:
    rows = await conn.execute_fetchall("SELECT key, display, df FROM vocab")  # type: ignore[attr-defined]
    return [(str(k), str(d), int(n)) for k, d, n in rows]


def is_cjk(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


def is_katakana(text: str) -> bool:
    return all("\u30a1" <= c <= "\u30fc" for c in text)


def build_queries(vocab: list[tuple[str, str, int]], rng: random.Random) -> dict[str, list[str]]:
    by_df = sorted(vocab, key=lambda v: -v[2])
    one = [d for k, d, _ in by_df if len(k) == 1 and is_cjk(k)][:40]
    two = [d for k, d, _ in by_df if len(k) == 2 and is_cjk(k)][:200]
    long = [d for k, d, _ in by_df if len(k) >= 3 and (is_cjk(k) or is_katakana(k))][:300]
    frequent = [d for k, d, _ in by_df if len(k) >= 2 and is_cjk(k)][:60]
    keys = {k for k, _, _ in vocab}
    typos: list[str] = []
    for word in [d for k, d, _ in by_df if len(k) >= 5 and is_katakana(k)]:
        i = rng.randrange(1, len(word))
        typo = word[:i] + ("ン" if word[i] != "ン" else "ル") + word[i + 1 :]
        if fold(typo) not in keys:
            typos.append(typo)
    english = [k for k in load_aliases() if " " not in k][:200]
    return {
        "1-char": rng.sample(one, min(20, len(one))),
        "2-char": rng.sample(two, 20),
        "3+char": rng.sample(long, 20),
        "multi-term": [" ".join(rng.sample(frequent, 2)) for _ in range(20)],
        "Latin": LATIN,
        "variant": VARIANTS,
        "typo": typos[:20],
        "English": rng.sample(english, 20),
    }


async def floor(conn: object, query: str) -> float:
    parsed = parse_query(query)
    assert isinstance(parsed, Query), query
    expr = parsed.fts()
    started = time.perf_counter()
    await conn.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT count(*) FROM article_index WHERE article_index MATCH ?", (expr,)
    )
    await conn.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT rowid FROM article_index WHERE article_index MATCH ? ORDER BY rowid DESC LIMIT 5",
        (expr,),
    )
    return time.perf_counter() - started


async def measure(conn: object, queries: dict[str, list[str]], repeat: int) -> None:
    print(f"{'kind':<11} {'n':>3} {'hits p50':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'floor p50':>10} {'floor p99':>10} {'p50/floor':>10}")  # fmt: skip
    for kind, items in queries.items():
        ours: list[float] = []
        bare: list[float] = []
        totals: list[int] = []
        for _ in range(repeat):
            for query in items:
                started = time.perf_counter()
                result = await search(conn, query)  # type: ignore[arg-type]
                ours.append(time.perf_counter() - started)
                totals.append(result.total)
                if kind != "typo":
                    bare.append(await floor(conn, query))
        line = (
            f"{kind:<11} {len(items):>3} {statistics.median(totals):>9.0f} "
            f"{pct(ours, 0.5):>8.2f} {pct(ours, 0.99):>8.2f}"
        )
        if bare:
            ratio = pct(ours, 0.5) / max(pct(bare, 0.5), 1e-6)
            line += f" {pct(bare, 0.5):>10.2f} {pct(bare, 0.99):>10.2f} {ratio:>9.1f}x"
        print(line)


async def measure_cached(conn: object, queries: dict[str, list[str]], repeat: int) -> None:
    print("cached: the same first page again, through cache.ResultCache; not the targets")
    print(f"{'kind':<11} {'n':>3} {'p50 ms':>8} {'p99 ms':>8}")
    results = ResultCache(Readers([conn], per_connection=1))  # type: ignore[list-item]
    for kind, items in queries.items():
        times: list[float] = []
        for query in items:
            await results.search(query)
            for _ in range(repeat):
                started = time.perf_counter()
                await results.search(query)
                times.append(time.perf_counter() - started)
        print(f"{kind:<11} {len(items):>3} {pct(times, 0.5):>8.2f} {pct(times, 0.99):>8.2f}")


async def measure_other_paths(conn: object, queries: dict[str, list[str]]) -> None:
    rows = await conn.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT topic FROM article_topics GROUP BY topic ORDER BY count(*) DESC LIMIT 1"
    )
    topic = str(next(iter(rows))[0])
    items = queries["2-char"] + queries["multi-term"]
    print(f"other paths, {len(items)} 2-char and multi-term queries, uncached; no target")
    for label, kwargs in (
        ("sort=newest", {"sort": "newest"}),
        (f"topic={topic}", {"topic": topic}),
        ("page 3", {"offset": 10}),
    ):
        times: list[float] = []
        for query in items:
            started = time.perf_counter()
            await search(conn, query, **kwargs)  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
        print(f"{label:<16} p50 {pct(times, 0.5):>6.2f} ms   p99 {pct(times, 0.99):>6.2f} ms")


async def autocomplete(conn: object, vocab: list[tuple[str, str, int]], rng: random.Random) -> None:
    prefixes = [""] + [d[: rng.randint(1, 2)] for _, d, _ in rng.sample(vocab, 199)]
    await suggest(conn, "")  # type: ignore[arg-type]
    times = []
    for prefix in prefixes:
        started = time.perf_counter()
        await suggest(conn, prefix)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    print(f"autocomplete ({len(prefixes)} prefixes): p50 {pct(times, 0.5):.2f} ms, "
          f"p99 {pct(times, 0.99):.2f} ms")  # fmt: skip


async def relevance() -> None:
    from test_search import RELEVANCE

    with tempfile.TemporaryDirectory() as tmp:
        conn = await db.connect(Path(tmp) / "seeds.db")
        await articles.ingest_paths(conn, [ROOT / "seeds"])
        expected = found = firsts = first_ok = 0
        for query, must, first in RELEVANCE:
            top = [h.article.id for h in (await search(conn, query, limit=5)).hits]
            for fragment in must:
                rows = await conn.execute_fetchall(
                    "SELECT id FROM articles WHERE instr(title || body, ?) > 0", (fragment,)
                )
                expected += 1
                found += int(next(iter(rows))[0]) in top
            if first is not None:
                rows = await conn.execute_fetchall(
                    "SELECT id FROM articles WHERE instr(title || body, ?) > 0", (first,)
                )
                firsts += 1
                first_ok += bool(top) and top[0] == int(next(iter(rows))[0])
        await conn.close()
    print(f"seed relevance: {len(RELEVANCE)} queries, recall@5 {found}/{expected}, "
          f"expected first {first_ok}/{firsts}")  # fmt: skip


async def size(conn: object, path: Path) -> str:
    await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    rows = await conn.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size"
    )
    free = int(next(iter(rows))[0])
    # A reused --db grows with each rebuild's freed pages; the size without them is comparable.
    return f"{total / 1e6:.1f} MB ({free / 1e6:.1f} MB of it free pages)"


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        conn = await db.connect(path)
        if not await articles.count_articles(conn):
            drafts = synthetic_drafts(args.articles, random.Random(20251219))
            started = time.perf_counter()
            await articles.ingest(conn, drafts)
            took = time.perf_counter() - started
            print(f"ingest with index: {len(drafts)} articles in {took:.1f} s "
                  f"({len(drafts) / took:.0f} articles/s)")  # fmt: skip
        print(f"database: {await articles.count_articles(conn)} articles, {await size(conn, path)}")
        started = time.perf_counter()
        async with db.transaction(conn):
            from bot.core.search.index import rebuild_index

            count = await rebuild_index(conn)
        print(f"index rebuild: {count} articles in {time.perf_counter() - started:.1f} s")
        print(f"database after the rebuild: {await size(conn, path)}")
        vocab = await vocab_keys(conn)
        print(f"vocabulary: {len(vocab)} words")
        queries = build_queries(vocab, rng)
        await search(conn, "日米")  # warm caches (dictionary, vocabulary)
        await measure(conn, queries, args.repeat)
        await measure_cached(conn, queries, args.repeat)
        await measure_other_paths(conn, queries)
        await autocomplete(conn, vocab, rng)
        await conn.close()
    await relevance()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="reuse (or create) this database instead of a temp one")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
