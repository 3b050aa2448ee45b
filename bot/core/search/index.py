"""Keeping the full-text index and the vocabulary in step with the articles table.

`index_articles` and `remove_articles` run inside the caller's transaction (ingest), so the
index never disagrees with the articles. Analyzing the text is most of their cost and needs no
database: `analyze_texts` does it beforehand, outside the write lock, and both take its result
(any text missing from it is analyzed on the spot). When the analyzer changes (a new Sudachi
dictionary, new rules), the whole index is rebuilt once.

Besides the analyzed title and body, each entry holds the article's topics (one `topic_token`
each, in the `topics` column), so a search in a topic is one MATCH. Whatever writes
article_topics calls `refresh_topics` in the same transaction, or re-indexes the articles.

An entry's rowid is its article's `index_key` (migration 0012): the publication date, then the
id, so FTS5's own order (ORDER BY rowid DESC) is newest first. `article_id_of` reads the id
back. A change of date moves the entry: ingest removes it before the article changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.core.db import bump_generation, execute_in, get_meta, set_meta
from bot.core.search import analyzer

log = logging.getLogger(__name__)

_VERSION_KEY = "index_version"
# Bump when an index built by earlier code must be rebuilt. 2: `remove_articles` dropped words
# that other articles still had from the vocabulary, so indexes edited before are repaired.
INDEX_FORMAT = "2"
# Analysis is CPU-bound: big batches (of texts, a title or a body each) go to a worker thread so
# the bot keeps answering, and so do a few long texts: a feed's 50 entries of 20,000 characters
# (the most it keeps of one) held the event loop for 2 to 4 s.
_THREAD_THRESHOLD = 100
_THREAD_CHARS = 50_000
_REBUILD_BATCH = 2000
# The low bits of an index key: the article's id (see migration 0012).
_ID_BITS = 0xFFFFFFFF


def article_id_of(key_sql: str) -> str:
    """SQL for the article id in an index key (an index rowid, or an expression of one)."""
    return f"({key_sql} & {_ID_BITS})"


# Full-width letters: NFKC turns them into ASCII, so they are never in analyzed text.
_TOPIC_PREFIX = "ｔｏｐｉｃ"


def topic_token(slug: str) -> str:
    """The one token that stands for a topic in the index's `topics` column.

    The tokenizer splits slugs at hyphens (us-politics) and folds case, so the slug is written
    as the hex of its UTF-8 bytes: one token, different for every slug. Its full-width prefix
    keeps it apart from every word: the analyzer NFKC-folds both the indexed text and readers'
    words, which leaves no full-width letter, so no word a reader types matches a topic token
    and the words need no column filter (one made every search ~10% slower at 100k articles).
    """
    return _TOPIC_PREFIX + slug.encode("utf-8").hex()


def _topics_text(slugs: Iterable[str]) -> str:
    """The `topics` column for a set of slugs: their tokens, sorted, so equal sets compare equal."""
    return " ".join(sorted(topic_token(slug) for slug in slugs))


async def _select_ids(
    db: aiosqlite.Connection, query: str, column: str, ids: Sequence[int] | None
) -> list[aiosqlite.Row]:
    """The rows of `query` (which ends in WHERE) whose `column` is one of `ids`; all if None."""
    if ids is None:
        return list(await db.execute_fetchall(f"{query} 1"))
    return await execute_in(db, f"{query} {column} IN ({{marks}})", ids)


async def _topics_of(db: aiosqlite.Connection, ids: Sequence[int] | None) -> dict[int, str]:
    """The `topics` column these articles (None: all) should have; absent when they have none."""
    query = "SELECT article_id, topic FROM article_topics WHERE"
    slugs: dict[int, list[str]] = {}
    for article_id, slug in await _select_ids(db, query, "article_id", ids):
        slugs.setdefault(int(article_id), []).append(str(slug))
    return {article_id: _topics_text(found) for article_id, found in slugs.items()}


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """A text as the index keeps it: its index forms (space-joined) and its vocabulary."""

    forms: str
    vocab: frozenset[tuple[str, str]]


# Analyses by text: a text's analysis depends on nothing else, so one made before the write lock
# is right for that text whenever it is stored.
Analyses = Mapping[str, TextAnalysis]
_NONE: Analyses = {}


def _analyze_all(texts: Sequence[str]) -> dict[str, TextAnalysis]:
    found: dict[str, TextAnalysis] = {}
    for text in texts:
        forms, vocab = analyzer.analyze_document(text)
        found[text] = TextAnalysis(forms, frozenset(vocab))
    return found


async def analyze_texts(texts: Iterable[str], known: Analyses = _NONE) -> Analyses:
    """`known` and the analyses of the `texts` it lacks; many are analyzed in a worker thread.

    CPU-bound and needs no database: callers run it before taking the write lock.
    """
    missing = [text for text in dict.fromkeys(texts) if text not in known]
    if not missing:
        return known
    if len(missing) > _THREAD_THRESHOLD or sum(map(len, missing)) > _THREAD_CHARS:
        return {**known, **await asyncio.to_thread(_analyze_all, missing)}
    return {**known, **_analyze_all(missing)}


def texts_of(rows: Iterable[tuple[int, str, str]]) -> list[str]:
    """The titles and bodies of (id, title, body) rows: what `index_articles` analyzes."""
    return [text for _, title, body in rows for text in (title, body)]


@dataclass(frozen=True, slots=True)
class _Analyzed:
    article_id: int
    title: str
    body: str
    vocab: frozenset[tuple[str, str]]
    topics: str = ""


async def _analyze_with_topics(
    db: aiosqlite.Connection, rows: Sequence[tuple[int, str, str]], known: Analyses = _NONE
) -> list[_Analyzed]:
    """Each row's index entry, with the topics the article has now in article_topics."""
    topics = await _topics_of(db, [r[0] for r in rows])
    texts = await analyze_texts(texts_of(rows), known)
    analyzed = []
    for article_id, title, body in rows:
        t, b = texts[title], texts[body]
        topic = topics.get(article_id, "")
        analyzed.append(_Analyzed(article_id, t.forms, b.forms, t.vocab | b.vocab, topic))
    return analyzed


async def index_articles(
    db: aiosqlite.Connection, rows: Sequence[tuple[int, str, str]], known: Analyses = _NONE
) -> None:
    """Add or replace the index entries of (id, title, body) rows.

    Their topics are read from article_topics: write those first. `known`: analyses made
    beforehand (`analyze_texts`), so that the caller's transaction only writes.
    """
    if not await index_is_current(db):
        await rebuild_index(db, known)
        return
    await remove_articles(db, [r[0] for r in rows], only_indexed=True, known=known)
    await _store(db, await _analyze_with_topics(db, rows, known))
    await bump_generation(db)


async def _store(db: aiosqlite.Connection, analyzed: Sequence[_Analyzed]) -> None:
    query = "SELECT id, index_key FROM articles WHERE id IN ({marks})"
    keys = {
        int(r[0]): int(r[1]) for r in await execute_in(db, query, [a.article_id for a in analyzed])
    }
    # In key order: FTS5 writes out its pending terms whenever a rowid goes backwards.
    await db.executemany(
        "INSERT INTO article_index (rowid, title, body, topics) VALUES (?, ?, ?, ?)",
        sorted((keys[a.article_id], a.title, a.body, a.topics) for a in analyzed),
    )
    df: Counter[str] = Counter()
    display: dict[str, str] = {}
    for item in analyzed:
        for key, shown in item.vocab:
            df[key] += 1
            display.setdefault(key, shown)
    await db.executemany(
        """
        INSERT INTO vocab (key, display, df) VALUES (?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET df = df + excluded.df
        """,
        [(key, display[key], n) for key, n in df.items()],
    )


async def remove_articles(
    db: aiosqlite.Connection,
    ids: Sequence[int],
    *,
    only_indexed: bool = False,
    known: Analyses = _NONE,
) -> None:
    """Drop articles from the index; call before their text changes or they are deleted.

    The vocabulary is decremented from the indexed text's source, which must still be in the
    articles table (`known`: analyses of it made beforehand). With `only_indexed`, ids not in
    the index yet are ignored quietly.
    """
    query = """
        SELECT a.id, a.title, a.body, a.index_key FROM articles AS a
         WHERE a.id IN ({marks}) AND EXISTS (SELECT 1 FROM article_index WHERE rowid = a.index_key)
    """
    rows = await execute_in(db, query, ids)
    indexed = [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
    if not indexed:
        return
    texts = await analyze_texts(texts_of(indexed), known)
    vocabs = [texts[title].vocab | texts[body].vocab for _, title, body in indexed]
    df: Counter[str] = Counter(key for vocab in vocabs for key, _ in vocab)
    # Words no article keeps are deleted before the others are decremented: deleted after, the
    # test would see the new counts and drop words other articles still have.
    await db.executemany(
        "DELETE FROM vocab WHERE key = ? AND df <= ?", [(key, n) for key, n in df.items()]
    )
    await db.executemany(
        "UPDATE vocab SET df = df - ? WHERE key = ?", [(n, key) for key, n in df.items()]
    )
    await db.executemany("DELETE FROM article_index WHERE rowid = ?", sorted((r[3],) for r in rows))
    if not only_indexed:
        await bump_generation(db)


async def rebuild_index(db: aiosqlite.Connection, known: Analyses = _NONE) -> int:
    """Index every article from scratch (inside the caller's transaction); returns the count.

    `known`: analyses made beforehand (a new database's first ingest rebuilds with its own).
    """
    log.info("rebuilding the search index (%s)", index_version())
    await db.execute("DELETE FROM article_index")
    await db.execute("DELETE FROM vocab")
    last_id = 0
    total = 0
    while True:
        rows = await db.execute_fetchall(
            "SELECT id, title, body FROM articles WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, _REBUILD_BATCH),
        )
        batch = [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
        if not batch:
            break
        await _store(db, await _analyze_with_topics(db, batch, known))
        last_id = batch[-1][0]
        total += len(batch)
    await optimize_index(db)
    await set_meta(db, _VERSION_KEY, index_version())
    await bump_generation(db)
    return total


async def refresh_topics(db: aiosqlite.Connection, ids: Sequence[int] | None = None) -> int:
    """Make the index's `topics` column agree with article_topics (inside the caller's
    transaction), for these articles or all; returns how many entries were rewritten.

    Rewriting an entry tokenizes its whole text again (~60 µs at 100k articles), so only the
    entries whose topics changed are. Articles not in the index are left to what indexes them.
    """
    wanted = await _topics_of(db, ids)
    # FTS5's table of the indexed text: id (the index key), c0 = title, c1 = body, c2 = topics.
    query = """
        SELECT a.id, c.id, c.c2 FROM articles AS a
          JOIN article_index_content AS c ON c.id = a.index_key WHERE
    """
    changed = [
        (wanted.get(int(article_id), ""), int(key))
        for article_id, key, topics in await _select_ids(db, query, "a.id", ids)
        if (topics or "") != wanted.get(int(article_id), "")
    ]
    changed.sort(key=lambda change: change[1])  # in key order, as `_store` writes
    await db.executemany("UPDATE article_index SET topics = ? WHERE rowid = ?", changed)
    return len(changed)


async def optimize_index(db: aiosqlite.Connection) -> None:
    """Merge the index into one segment (inside the caller's transaction).

    Bulk inserts leave many segments, and every query reads each: at 100k articles, after a
    rebuild, counting a common word's matches took ~3x longer than after this (~1.5 s) merge.
    """
    await db.execute("INSERT INTO article_index (article_index) VALUES ('optimize')")


async def index_is_current(db: aiosqlite.Connection) -> bool:
    """True when the index was built by the installed analyzer and this index format."""
    return await get_meta(db, _VERSION_KEY) == index_version()


def index_version() -> str:
    """What built an index: the analyzer's version and the index format."""
    return f"{analyzer.version()}/index-{INDEX_FORMAT}"
