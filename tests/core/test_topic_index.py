"""Topics in the full-text index: a topic filter finds exactly the matches of that topic."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import date
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.core import articles, db, topics
from bot.core.models import ArticleDraft
from bot.core.search import analyzer, engine, index, search
from bot.core.search.index import refresh_topics, remove_articles, topic_token
from bot.core.search.query import Query, parse_query
from bot.core.topics import load_taxonomy, parse_taxonomy

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
TOML = Path(topics.__file__).parent / "data" / "topics.toml"
QUERIES = ["日米", "台湾", "防衛", "中国", "核", "米国", "ミサイル"]
PAGE = 3

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[aiosqlite.Connection]:
    """The seed corpus, shared by the tests that only read."""
    connection = await db.connect(tmp_path_factory.mktemp("topics") / "alliance.db")
    await articles.ingest_paths(connection, [SEEDS])
    yield connection
    await connection.close()


@pytest_asyncio.fixture(loop_scope="module")
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """The seed corpus, for a test that changes it."""
    connection = await db.connect(tmp_path / "alliance.db")
    await articles.ingest_paths(connection, [SEEDS])
    yield connection
    await connection.close()


async def _ids(conn: aiosqlite.Connection, query: str, *params: object) -> list[int]:
    return [int(r[0]) for r in await conn.execute_fetchall(query, params)]


async def _expected(conn: aiosqlite.Connection, query: str, topic: str, sort: str) -> list[int]:
    """Every match of `query` in `topic`, in order, from the unfiltered search and plain SQL."""
    everything = await search(conn, query, limit=engine.MAX_LIMIT)
    assert everything.total == len(everything.hits) < engine.RANK_WINDOW  # all ranked
    ranked = [h.article.id for h in everything.hits]
    in_topic = set(await _ids(conn, "SELECT article_id FROM article_topics WHERE topic = ?", topic))
    if sort == "relevance":
        return [i for i in ranked if i in in_topic]
    marks = ",".join("?" * len(ranked))
    return await _ids(
        conn,
        f"""
        SELECT a.id FROM articles AS a JOIN article_topics AS t ON t.article_id = a.id
         WHERE a.id IN ({marks}) AND t.topic = ?
         ORDER BY a.published DESC, a.id DESC
        """,
        *ranked,
        topic,
    )


async def _check_against_brute_force(
    conn: aiosqlite.Connection, queries: Iterable[str], slugs: Iterable[str], sort: engine.Sort
) -> int:
    """Pages 0 and 1 of every query in every topic are the expected ones; returns how many
    second pages had results (so a test can tell it checked some)."""
    second_pages = 0
    for query in queries:
        for slug in slugs:
            expected = await _expected(conn, query, slug, sort)
            for page in (0, 1):
                result = await search(
                    conn, query, topic=slug, sort=sort, limit=PAGE, offset=page * PAGE
                )
                assert result.total == len(expected), (query, slug, sort)
                got = [h.article.id for h in result.hits]
                assert got == expected[page * PAGE : (page + 1) * PAGE], (query, slug, sort, page)
                assert all(slug in h.article.topics for h in result.hits)
                second_pages += bool(page and got)
    return second_pages


async def _index_terms(conn: aiosqlite.Connection) -> dict[tuple[int, str], set[str]]:
    """Each (index key, column) of the index with the tokens FTS5 holds for it."""
    await conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms"
        " USING fts5vocab(main, article_index, instance)"
    )
    found: dict[tuple[int, str], set[str]] = {}
    for term, doc, column, _ in await conn.execute_fetchall("SELECT * FROM temp.terms"):
        found.setdefault((int(doc), str(column)), set()).add(str(term))
    return found


async def _topics_by_article(conn: aiosqlite.Connection) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for aid, slug in await conn.execute_fetchall("SELECT article_id, topic FROM article_topics"):
        found.setdefault(int(aid), set()).add(str(slug))
    return found


async def _assert_index_topics_true(conn: aiosqlite.Connection) -> None:
    """The index's topics column holds exactly each article's topics, as tokens."""
    terms = await _index_terms(conn)
    by_article = await _topics_by_article(conn)
    for aid, key in await conn.execute_fetchall("SELECT id, index_key FROM articles"):
        wanted = {topic_token(slug) for slug in by_article.get(aid, set())}
        assert terms.get((key, "topics"), set()) == wanted, aid


def _draft(
    title: str, body: str, *, origin: str, day: int, topics: tuple[str, ...] = ()
) -> ArticleDraft:
    return ArticleDraft(
        title=title,
        body=body,
        published=date(2026, 2, day),
        date_inferred=False,
        origin=origin,
        source=f"{origin}:1",
        topics=topics,
    )


async def test_topic_tokens_are_single_distinct_and_only_in_the_topics_column(
    seeded: aiosqlite.Connection,
) -> None:
    """Each slug is one token of its own (hyphens and case too), never found in title or body."""
    slugs = [t.slug for t in load_taxonomy().topics] + ["China", "us", "politics", "中国", "a b"]
    tokens = [topic_token(slug) for slug in slugs]
    assert len(set(tokens)) == len(slugs)
    async with db.transaction(seeded):
        query = "INSERT INTO article_index (rowid, title, body, topics) VALUES (-1, '', '', ?)"
        await seeded.execute(query, (" ".join(tokens),))
        terms = await _index_terms(seeded)
        await seeded.execute("DELETE FROM article_index WHERE rowid = -1")
    assert terms[(-1, "topics")] == {t.lower() for t in tokens}
    text = set().union(*(v for (_, column), v in terms.items() if column != "topics"))
    assert not text & {t.lower() for t in tokens}
    await _assert_index_topics_true(seeded)


async def test_no_reader_word_matches_the_topics_column(seeded: aiosqlite.Connection) -> None:
    """Words match as if only title and body were indexed: typed slugs and tokens too."""
    slugs = [t.slug for t in load_taxonomy().topics]
    typed = [*QUERIES, *slugs, *map(topic_token, slugs), "ｔｏｐｉｃ", "TOPIC"]
    for text in typed:
        parsed = parse_query(text)
        assert isinstance(parsed, Query), text
        count = "SELECT count(*) FROM article_index WHERE article_index MATCH ?"
        (anywhere,) = await _ids(seeded, count, parsed.fts())
        (in_text,) = await _ids(seeded, count, parsed.fts(column="title body"))
        assert anywhere == in_text, text
        result = await search(seeded, text)
        assert result.total == in_text or result.corrected, text  # or found another spelling
    for slug in slugs:
        token = topic_token(slug)
        # The analyzer folds (NFKC) what it indexes and what readers type; the token is not folded.
        assert analyzer.fold(token) != token
        assert token not in analyzer.index_forms(token)


@pytest.mark.parametrize("sort", ["relevance", "newest"])
async def test_topic_search_finds_exactly_the_matches_of_the_topic(
    seeded: aiosqlite.Connection, sort: engine.Sort
) -> None:
    """For several queries in every topic, totals and pages 0 and 1 equal the brute-force answer."""
    slugs = [t.slug for t in load_taxonomy().topics]
    assert await _check_against_brute_force(seeded, QUERIES, slugs, sort) >= 3


async def test_topic_pages_past_the_ranked_window_go_on_newest_first(
    seeded: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a topic, the ranked window holds its newest matches and later pages follow by date."""
    expected = await _expected(seeded, "日米", "us-politics", "newest")
    monkeypatch.setattr(engine, "RANK_WINDOW", 2)
    seen: list[int] = []
    dated: list[tuple[date, int]] = []
    for offset in range(0, 12, 2):
        page = await search(seeded, "日米", topic="us-politics", limit=2, offset=offset)
        assert page.total == len(expected)
        seen.extend(h.article.id for h in page.hits)
        dated.extend((h.article.published, h.article.id) for h in page.hits)
    assert len(expected) > 3
    assert sorted(seen) == sorted(expected)
    assert sorted(seen[:2]) == sorted(expected[:2])  # the window: the two newest, ranked
    assert seen[2:] == expected[2:]
    assert dated[2:] == sorted(dated[2:], reverse=True)


async def test_unknown_topic_finds_nothing(seeded: aiosqlite.Connection) -> None:
    """A topic no article has gives no results rather than an error or everything."""
    result = await search(seeded, "日米", topic="no-such-topic")
    assert (result.total, result.hits) == (0, [])


@pytest.mark.parametrize("slug", ["china", "spending", "us-politics"])
async def test_a_word_equal_to_a_slug_does_not_match_the_topics_column(
    conn: aiosqlite.Connection, slug: str
) -> None:
    """Searching a slug ("china") or its token does not find an article only tagged with it."""
    draft = _draft(
        "与那国島で住民説明会", "防衛相が与那国島の住民に部隊配備を説明した。",
        origin="tagged.jsonl", day=3, topics=(slug,),
    )  # fmt: skip
    await articles.ingest(conn, [draft])
    ((aid, key),) = await conn.execute_fetchall(
        "SELECT id, index_key FROM articles WHERE origin = 'tagged.jsonl'"
    )
    raw = await _ids(
        conn, "SELECT rowid FROM article_index WHERE article_index MATCH ?", topic_token(slug)
    )
    assert key in raw  # the token is in the index, in the topics column
    for word in (slug, topic_token(slug), "ｔｏｐｉｃ"):
        for topic in (None, slug):
            result = await search(conn, word, topic=topic, limit=engine.MAX_LIMIT)
            assert aid not in [h.article.id for h in result.hits], (word, topic)
    assert aid in [h.article.id for h in (await search(conn, "与那国島", topic=slug)).hits]


async def test_ingested_article_is_found_in_its_topics_only(conn: aiosqlite.Connection) -> None:
    """A new article is found with the topics it was stored with, and not with others."""
    draft = _draft(
        "ヘグセス長官が与那国島を視察", "ヘグセス国防長官が与那国島の部隊を視察した。",
        origin="new.jsonl", day=4, topics=("nuclear",),
    )  # fmt: skip
    await articles.ingest(conn, [draft])
    (aid,) = await _ids(conn, "SELECT id FROM articles WHERE origin = 'new.jsonl'")
    (article,) = await articles.get_articles(conn, [aid])
    assert "nuclear" in article.topics
    for slug in (t.slug for t in load_taxonomy().topics):
        hits = [h.article.id for h in (await search(conn, "ヘグセス", topic=slug)).hits]
        assert (aid in hits) == (slug in article.topics), slug
    await _assert_index_topics_true(conn)


async def test_replaced_article_moves_to_its_new_topics(conn: aiosqlite.Connection) -> None:
    """An article edited in place (same origin, similar text) is found under its new topics."""
    body = "ヘグセス国防長官が与那国島の部隊を視察し、住民と意見を交わした。"
    first = _draft("与那国島を視察", body, origin="edit.jsonl", day=5, topics=("nuclear",))
    await articles.ingest(conn, [first])
    (aid,) = await _ids(conn, "SELECT id FROM articles WHERE origin = 'edit.jsonl'")
    second = dataclasses.replace(first, body=body + "約30分。", topics=("spending",))
    report = await articles.ingest(conn, [second])
    assert report.updated == 1
    assert aid in [h.article.id for h in (await search(conn, "与那国島", topic="spending")).hits]
    assert aid not in [h.article.id for h in (await search(conn, "与那国島", topic="nuclear")).hits]
    await _assert_index_topics_true(conn)


async def test_deleted_article_leaves_the_topic(conn: aiosqlite.Connection) -> None:
    """An article dropped from the index and the table is no longer found in its topic."""
    before = await search(conn, "日米", topic="china", limit=engine.MAX_LIMIT)
    gone = before.hits[0].article.id
    async with db.transaction(conn):
        await remove_articles(conn, [gone])
        await conn.execute("DELETE FROM articles WHERE id = ?", (gone,))
    after = await search(conn, "日米", topic="china", limit=engine.MAX_LIMIT)
    assert after.total == before.total - 1
    assert gone not in [h.article.id for h in after.hits]
    await _assert_index_topics_true(conn)


def _changed_rules() -> topics.Taxonomy:
    text = TOML.read_text("utf-8").replace('"核武装" = 3', '"核武装" = 3, "皇居" = 9')
    return parse_taxonomy(text.encode())  # 皇居 now strongly signals the nuclear topic


async def test_retagging_moves_the_topic_filter(
    conn: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the rules change and an ingest re-tags, topic searches follow the new tags."""
    (palace,) = await _ids(conn, "SELECT id FROM articles WHERE body LIKE '%皇居%'")
    assert palace not in await _ids(
        conn, "SELECT article_id FROM article_topics WHERE topic = 'nuclear'"
    )
    monkeypatch.setattr(articles, "load_taxonomy", _changed_rules)
    await articles.ingest_paths(conn, [SEEDS])
    assert palace in [h.article.id for h in (await search(conn, "皇居", topic="nuclear")).hits]
    await _assert_index_topics_true(conn)
    slugs = [t.slug for t in load_taxonomy().topics]
    await _check_against_brute_force(conn, QUERIES[:3], slugs, "relevance")


async def test_retagging_rewrites_only_entries_whose_topics_changed(
    conn: aiosqlite.Connection,
) -> None:
    """retag_all rewrites the index entries of the re-tagged articles and no other."""
    before = await _topics_by_article(conn)
    statements: list[str] = []
    await conn.set_trace_callback(statements.append)
    try:
        async with db.transaction(conn):
            await topics.retag_all(conn, load_taxonomy())  # the same rules: nothing changes
        unchanged = sum(s.startswith("UPDATE article_index") for s in statements)
        statements.clear()
        async with db.transaction(conn):
            await topics.retag_all(conn, _changed_rules())
        rewritten = sum(s.startswith("UPDATE article_index") for s in statements)
    finally:
        await conn.set_trace_callback(None)
    after = await _topics_by_article(conn)
    moved = {aid for aid in before.keys() | after.keys() if before.get(aid) != after.get(aid)}
    assert unchanged == 0
    assert rewritten == len(moved) > 0
    async with db.transaction(conn):
        assert await refresh_topics(conn) == 0
    await _assert_index_topics_true(conn)


async def test_topic_dropped_from_the_taxonomy_leaves_the_index(conn: aiosqlite.Connection) -> None:
    """Syncing a taxonomy without a topic removes its token from the index too."""
    assert (await search(conn, "日米", topic="china")).total > 0
    text = TOML.read_text("utf-8")
    start = text.index('slug = "china"')
    block_start = text.rindex("[[topic]]", 0, start)
    block_end = text.find("[[topic]]", start)
    without = text[:block_start] + (text[block_end:] if block_end != -1 else "")
    taxonomy = parse_taxonomy(without.encode())
    assert taxonomy.get("china") is None
    async with db.transaction(conn):
        assert await topics.sync_topics(conn, taxonomy)
    assert (await search(conn, "日米", topic="china")).total == 0
    await _assert_index_topics_true(conn)


# The articles table's columns before migration 0012 added index_key.
SCHEMA_11_ARTICLES = (
    "id, origin, source, content_hash, title, title_derived, body, published, date_inferred,"
    " url, created_at, updated_at"
)


async def _old_database(tmp_path: Path, version: int) -> Path:
    """The seed corpus in a database at schema `version` (6 or 11), its index keyed by article
    id as the code of that schema wrote it (6: title and body only)."""
    fresh = await db.connect(tmp_path / "fresh.db")
    await articles.ingest_paths(fresh, [SEEDS])
    await fresh.close()

    path = tmp_path / "old.db"
    old = await db.connect(path, migrate_schema=False)
    await db.migrate(old, db.load_migrations()[:version])
    await old.execute("ATTACH DATABASE ? AS fresh", (str(tmp_path / "fresh.db"),))
    columns = "rowid, title, body" if version < 7 else "rowid, title, body, topics"
    texts = "c.c0, c.c1" if version < 7 else "c.c0, c.c1, c.c2"
    async with db.transaction(old):
        await old.execute(
            f"INSERT INTO main.articles SELECT {SCHEMA_11_ARTICLES} FROM fresh.articles"
        )
        for table in ("topics", "article_topics", "vocab", "meta"):
            await old.execute(f"INSERT INTO main.{table} SELECT * FROM fresh.{table}")
        await old.execute(
            f"INSERT INTO main.article_index ({columns}) SELECT a.id, {texts}"
            " FROM fresh.article_index_content AS c JOIN fresh.articles AS a ON c.id = a.index_key"
        )
    await old.execute("DETACH DATABASE fresh")
    await old.close()
    return path


async def test_schema_6_database_upgrades_and_searches_by_topic(tmp_path: Path) -> None:
    """A database at schema 6 with articles, topics and an index is migrated and searched."""
    await _old_database(tmp_path, 6)

    conn = await db.connect(tmp_path / "old.db")
    try:
        assert await db.schema_version(conn) == len(db.load_migrations())
        assert await db.get_meta(conn, "index_version") is None  # stale: rebuilt on first use
        slugs = [t.slug for t in load_taxonomy().topics]
        assert await _check_against_brute_force(conn, QUERIES, slugs, "newest") >= 3
        await _assert_index_topics_true(conn)
        assert await articles.count_articles(conn) == 21
    finally:
        await conn.close()


async def test_schema_11_index_is_keyed_by_date_without_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0012 re-keys a current index by date, keeps its text and topics, and the index
    is not rebuilt: searches page by date at once."""
    await _old_database(tmp_path, 11)
    rebuilt: list[object] = []
    monkeypatch.setattr(index, "_store", lambda *args: rebuilt.append(args))  # no analysis
    conn = await db.connect(tmp_path / "old.db")
    try:
        assert await db.get_meta(conn, "index_version") == index.index_version()
        rows = await conn.execute_fetchall(
            "SELECT count(*) FROM articles AS a JOIN article_index_content AS c"
            " ON c.id = a.index_key AND c.c0 != '' AND c.c1 != ''"
        )
        assert next(iter(rows))[0] == 21
        slugs = [t.slug for t in load_taxonomy().topics]
        for sort in ("newest", "relevance"):
            assert await _check_against_brute_force(conn, QUERIES, slugs, sort) >= 3
        await _assert_index_topics_true(conn)
        assert rebuilt == []
    finally:
        await conn.close()


async def test_article_ids_past_32_bits_are_refused(tmp_path: Path) -> None:
    """An id past 32 bits (a hand-made row) stops the upgrade to schema 12, and inserting one
    later fails: two articles would share an index key."""
    path = await _old_database(tmp_path, 11)
    insert = (
        f"INSERT INTO articles ({SCHEMA_11_ARTICLES})"
        f" SELECT ?, origin, source, 'x' || content_hash, title, title_derived, body, published,"
        f" date_inferred, url, created_at, updated_at FROM articles WHERE id = 1"
    )
    conn = await db.connect(path, migrate_schema=False)
    try:
        async with db.transaction(conn):
            await conn.execute(insert, (2**32,))
        with pytest.raises(db.MigrationError, match="max_id < 4294967296"):
            await db.migrate(conn)
        assert await db.schema_version(conn) == 11
        async with db.transaction(conn):
            await conn.execute("DELETE FROM articles WHERE id = ?", (2**32,))
        assert await db.migrate(conn) == len(db.load_migrations())
        with pytest.raises(sqlite3.IntegrityError, match="32 bits"):
            await conn.execute(insert, (2**32,))
        await conn.execute(insert, (2**32 - 1,))  # the largest id that fits
    finally:
        await conn.close()
