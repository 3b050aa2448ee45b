"""Storing and reading articles: idempotent, transactional ingest and the read queries.

An ingest is planned, then applied. `plan_ingest` reads what is stored and does the CPU-bound
work (hashing, tagging, matching edits, analyzing the text for the search index) without the
write lock; `apply_ingest` only writes, inside the caller's write transaction, after checking
that the articles are still as the plan saw them (the corpus generation, bumped with every
change to them, has not moved) and deciding again under the lock when they are not. So other
writers wait for the writes alone, and the result is the one a single transaction would give.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
import math
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import aiosqlite
from rapidfuzz import fuzz, process

from bot.core import corpus
from bot.core.db import (
    GENERATION_KEY,
    bump_generation,
    execute_in,
    get_meta,
    stamp,
    transaction,
)
from bot.core.models import Article, ArticleDraft, ImportWarning
from bot.core.search.index import (
    Analyses,
    analyze_texts,
    index_articles,
    remove_articles,
    texts_of,
)
from bot.core.topics import Taxonomy, load_taxonomy, retag_all, sync_topics

log = logging.getLogger(__name__)

# An unmatched draft whose body is at least this similar to an article from the same origin is
# taken as an edit of that article (updated in place) rather than a new one.
EDIT_SIMILARITY = 70.0
# A feed's entry this long at most may be a teaser, which the feed can rewrite as the whole story
# under the same name (`grew_from`).
TEASER_CHARS = 1_000
# Batches above this size hash and tag in a worker thread so the event loop stays responsive.
_THREAD_THRESHOLD = 500

# The columns `articles_from_rows` reads (the search engine selects them too). The article's
# topics come along as "position:slug" pairs, so one query reads a whole page.
ARTICLE_COLUMNS = """
    id, title, body, published, date_inferred, source, url,
    (SELECT group_concat(p.position || ':' || t.topic, ' ')
       FROM article_topics AS t JOIN topics AS p ON p.slug = t.topic
      WHERE t.article_id = articles.id) AS topics
"""


@dataclass(slots=True)
class IngestReport:
    """What an ingest did, for the CLI and the logs."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: list[ImportWarning] = field(default_factory=list)
    replanned: bool = False  # the articles changed after the plan: decided again under the lock

    @property
    def changed(self) -> bool:
        """True when anything was written."""
        return bool(self.added or self.updated)


@dataclass(frozen=True, slots=True)
class _Prepared:
    draft: ArticleDraft
    content_hash: str
    topics: tuple[tuple[str, str], ...]  # (slug, assigned_by)

    def columns(self) -> tuple[object, ...]:
        """The values an import writes to an article's row, in `_WRITTEN` order."""
        draft = self.draft
        return (
            draft.origin,
            draft.source,
            self.content_hash,
            draft.title,
            int(draft.title_derived),
            draft.body,
            draft.published.isoformat(),
            int(draft.date_inferred),
            draft.url,
        )


# The columns of `_Prepared.columns`, which an insert and an update write alike.
_WRITTEN = (
    "origin", "source", "content_hash", "title", "title_derived", "body", "published",
    "date_inferred", "url",
)  # fmt: skip
_WRITTEN_COLUMNS = ", ".join(_WRITTEN)
_WRITTEN_MARKS = ", ".join("?" * len(_WRITTEN))


def content_hash(title: str, body: str) -> str:
    """The identity of an article's text: the same title and body are the same article."""
    digest = hashlib.sha256()
    digest.update(title.strip().encode("utf-8"))
    digest.update(b"\x1f")
    digest.update(body.strip().encode("utf-8"))
    return digest.hexdigest()


def _prepare(drafts: Sequence[ArticleDraft], taxonomy: Taxonomy) -> list[_Prepared]:
    prepared: list[_Prepared] = []
    for draft in drafts:
        # Files report unknown slugs with their line (`corpus`); here they are only dropped.
        topics = {slug: "source" for slug in draft.topics if taxonomy.get(slug) is not None}
        for slug in taxonomy.tag(draft.title, draft.body):
            topics.setdefault(slug, "rules")
        prepared.append(
            _Prepared(draft, content_hash(draft.title, draft.body), tuple(topics.items()))
        )
    return prepared


async def ids_by_hash(
    db: aiosqlite.Connection, hashes: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """The stored articles with these content hashes: hash → (id, origin)."""
    query = "SELECT content_hash, id, origin FROM articles WHERE content_hash IN ({marks})"
    return {row[0]: (int(row[1]), str(row[2])) for row in await execute_in(db, query, hashes)}


class _Unclaimed:
    """The articles of one origin that no draft of the batch has claimed yet, for edits."""

    def __init__(self, articles: Iterable[tuple[int, str, str, str | None]]) -> None:
        self._bodies: dict[int, str] = {}  # id → body, by id
        self._by_body: dict[str, int] = {}
        self._by_title: dict[str, int] = {}
        self._urls: dict[int, str] = {}
        self._by_url: dict[str, int] = {}
        for article_id, title, body, url in articles:
            self._bodies[article_id] = body
            self._by_body.setdefault(body, article_id)
            self._by_title.setdefault(title, article_id)
            if url:
                self._urls[article_id] = url
                self._by_url.setdefault(url, article_id)
        self._lengths = sorted((len(body), article_id) for article_id, body in self._bodies.items())

    def edit_of(self, draft: ArticleDraft, named: int | None = None) -> int | None:
        """Claim the article `draft` edits: the one whose body is most like the draft's (the
        oldest of equals), if at least EDIT_SIMILARITY and not at another link (unless it is
        the article the draft names: a feed entry's link may change with its text), or a
        teaser at the same link that the draft's body grew from; None when there is none.

        Reports of recurring events are written to a formula (北朝鮮、弾道ミサイル1発を発射): two
        at their own links are two articles, however alike. An article with the same body, or
        else the same title, is scored first: an edit usually keeps one of them, and the cutoff
        raised to its score leaves only bodies of about the same length to compare (1,000 long
        articles all edited took ~1 min comparing all).
        """
        teaser = self._by_url.get(draft.url) if draft.url else None
        if teaser in self._bodies and grew_from(self._bodies[teaser], draft.body):
            return self._claim(teaser)
        body = draft.body
        cutoff = EDIT_SIMILARITY
        likely = self._by_body.get(body, self._by_title.get(draft.title))
        if likely in self._bodies and self._may_be(likely, draft.url, named):
            score = fuzz.ratio(body, self._bodies[likely])
            if score == 100:
                return self._claim(likely)  # the same body: nothing can score higher
            # Just under the score: rapidfuzz rounds a cutoff to a whole edit distance.
            cutoff = max(cutoff, score - 0.01)
        # fuzz.ratio is at most 200 * shorter / (sum of lengths), so only these lengths can
        # reach the cutoff (one character of slack each way for rounding).
        size = len(body)
        low = bisect.bisect_left(self._lengths, (math.floor(size * cutoff / (200 - cutoff)) - 1,))
        high = bisect.bisect_left(self._lengths, (math.ceil(size * (200 - cutoff) / cutoff) + 2,))
        ids = sorted(article_id for _, article_id in self._lengths[low:high])
        pool = {
            article_id: self._bodies[article_id]
            for article_id in ids
            if self._may_be(article_id, draft.url, named)
        }
        best = process.extractOne(body, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        return None if best is None else self._claim(int(best[2]))

    def _may_be(self, article_id: int, url: str | None, named: int | None) -> bool:
        """Whether the article may be the one at `url`: one at another link is not, unless
        it is the one `named`."""
        return not url or article_id == named or self._urls.get(article_id, url) == url

    def _claim(self, article_id: int) -> int:
        body = self._bodies.pop(article_id)
        del self._lengths[bisect.bisect_left(self._lengths, (len(body), article_id))]
        return article_id


async def _unclaimed_in_origins(
    db: aiosqlite.Connection, origins: Iterable[str], claimed: set[int]
) -> dict[str, _Unclaimed]:
    """For each origin, its stored articles that no draft has claimed, to match edits to."""
    # Edits are also matched among articles stored under a seeds file's former origin (its bare
    # name). Not for other files: older versions stored every folder's `news.jsonl` under that
    # one name, and an edit must not take another folder's article.
    names = {o: _origins_of(o) if o.startswith(corpus.SEEDS_ORIGIN) else (o,) for o in origins}
    query = "SELECT id, title, body, url, origin FROM articles WHERE origin IN ({marks})"
    rows = await execute_in(db, query, [n for each in names.values() for n in each])
    stored: defaultdict[str, list[tuple[int, str, str, str | None]]] = defaultdict(list)
    for article_id, title, body, url, origin in rows:
        if int(article_id) not in claimed:
            link = None if url is None else str(url)
            stored[str(origin)].append((int(article_id), str(title), str(body), link))
    return {
        origin: _Unclaimed(sorted(a for name in each for a in stored.get(name, ())))
        for origin, each in names.items()
    }


async def _stored_state(
    db: aiosqlite.Connection, ids: Sequence[int]
) -> dict[int, tuple[tuple[object, ...], set[tuple[str, str]]]]:
    """Stored metadata and topics of articles, to tell unchanged ones from ones to refresh."""
    query = """
        SELECT id, title_derived, published, date_inferred, source, url
          FROM articles WHERE id IN ({marks})
    """
    state: dict[int, tuple[tuple[object, ...], set[tuple[str, str]]]] = {
        int(row[0]): (tuple(row[1:]), set()) for row in await execute_in(db, query, ids)
    }
    query = (
        "SELECT article_id, topic, assigned_by FROM article_topics WHERE article_id IN ({marks})"
    )
    for aid, slug, by in await execute_in(db, query, ids):
        state[int(aid)][1].add((str(slug), str(by)))
    return state


def _wanted_state(item: _Prepared) -> tuple[tuple[object, ...], set[tuple[str, str]]]:
    d = item.draft
    fields = (int(d.title_derived), d.published.isoformat(), int(d.date_inferred), d.source, d.url)
    return fields, set(item.topics)


@dataclass(slots=True)
class _Decision:
    """What a batch changes, decided from the stored articles."""

    updates: list[tuple[int, _Prepared]] = field(default_factory=list)  # (article id, new text)
    moved: list[tuple[str, int]] = field(default_factory=list)  # (origin, article id)
    new: list[_Prepared] = field(default_factory=list)
    skipped: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """An ingest decided and analyzed without the write lock; `apply_ingest` writes it."""

    taxonomy: Taxonomy
    unique: dict[str, _Prepared]  # by content hash
    repeats: int  # drafts whose text came earlier in the batch
    warnings: list[ImportWarning]
    generation: str | None  # the corpus generation the decision rests on
    decision: _Decision
    analyses: Analyses  # the index analyses of the texts it writes and of those it replaces
    edits: dict[str, int] = field(default_factory=dict)  # content hash → article it replaces
    prepare_seconds: float = 0.0

    @property
    def drafts(self) -> list[ArticleDraft]:
        """The batch's distinct drafts."""
        return [item.draft for item in self.unique.values()]


async def corpus_generation(db: aiosqlite.Connection) -> str | None:
    """The corpus generation: it moves with every committed change to the articles."""
    return await get_meta(db, GENERATION_KEY)


_ingesting: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def exclusive(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """One ingest at a time on a connection, from its plan to its commit.

    A plan is read outside any transaction; on a connection shared by tasks it would see
    another ingest's uncommitted rows, which that ingest may yet roll back. Other connections'
    changes are seen only once committed, and `apply_ingest` notices those.
    """
    async with _ingesting.setdefault(db, asyncio.Lock()):
        yield


async def plan_ingest(
    db: aiosqlite.Connection,
    drafts: Iterable[ArticleDraft],
    *,
    warnings: Iterable[ImportWarning] = (),
    known: Analyses | None = None,
    edits: Mapping[str, int] | None = None,
) -> IngestPlan:
    """Decide what `drafts` change and analyze their text, reading only (no write lock);
    `known`: analyses made before (an earlier plan's), not made again.

    `edits`: content hash of a draft → the article it may be a new version of (a feed entry's
    under the same GUID), which it updates in place if that is still stored under the draft's
    origin and the draft's text grew out of it (`grew_from`). Else it is matched like any
    draft: to an article of its origin at least EDIT_SIMILARITY alike, or new. Such a draft
    that updates an article keeps that article's date; one that is new keeps its own.

    Hold `exclusive(db)` from here to the commit of `apply_ingest`.
    """
    started = time.perf_counter()
    taxonomy = load_taxonomy()
    draft_list = list(drafts)
    if len(draft_list) > _THREAD_THRESHOLD:
        prepared = await asyncio.to_thread(_prepare, draft_list, taxonomy)
    else:
        prepared = _prepare(draft_list, taxonomy)

    # The same text twice in one batch is one article: keep the first (newest on a listing page).
    unique: dict[str, _Prepared] = {}
    for item in prepared:
        unique.setdefault(item.content_hash, item)
    # Read first: every read below then sees this generation's articles, or a later one's,
    # which `apply_ingest` finds out.
    generation = await corpus_generation(db)
    edits = dict(edits or {})
    decision = await _decide(db, unique, edits)
    analyses = await _analyze(db, decision, known)
    return IngestPlan(
        taxonomy=taxonomy,
        unique=unique,
        repeats=len(prepared) - len(unique),
        warnings=list(warnings),
        generation=generation,
        decision=decision,
        analyses=analyses,
        edits=edits,
        prepare_seconds=time.perf_counter() - started,
    )


async def still_current(db: aiosqlite.Connection, plan: IngestPlan) -> bool:
    """Inside the transaction that applies `plan`: bring the topics up to date, then tell
    whether the articles are still as the plan saw them."""
    current = await corpus_generation(db) == plan.generation
    if await sync_topics(db, plan.taxonomy):
        # A changed taxonomy re-tags what is stored (and moves the generation): a decision that
        # compared stored articles' topics is stale, one that found nothing stored is not.
        await retag_all(db, plan.taxonomy)
        current = current and len(plan.decision.new) == len(plan.unique)
    return current


async def apply_ingest(db: aiosqlite.Connection, plan: IngestPlan) -> IngestReport:
    """Write `plan` inside the caller's write transaction: new articles added, edited ones
    updated, the rest untouched. Decided again, here, if the articles changed since the plan.
    """
    decision, analyses = plan.decision, plan.analyses
    replanned = not await still_current(db, plan)
    if replanned:
        log.info("ingest: the articles changed since the plan; deciding again")
        decision = await _decide(db, plan.unique, plan.edits)
        analyses = await _analyze(db, decision, analyses)

    if decision.moved:
        await db.executemany("UPDATE articles SET origin = ? WHERE id = ?", decision.moved)
        await bump_generation(db)  # another ingest's plan may rest on the old origins
    updates, new = decision.updates, decision.new
    # The index forgets the old text while it is still stored (it decrements the vocabulary).
    await remove_articles(db, [article_id for article_id, _ in updates], known=analyses)
    await _apply_updates(db, updates)
    new_ids = await _insert(db, new)
    # After their topics are written: the index keeps a copy of them (a topic filter is part
    # of the full-text query).
    touched = [(aid, it.draft.title, it.draft.body) for aid, it in updates]
    touched += [(aid, it.draft.title, it.draft.body) for aid, it in zip(new_ids, new, strict=True)]
    if touched:
        await index_articles(db, touched, analyses)
    return IngestReport(
        added=len(new),
        updated=len(updates),
        unchanged=decision.unchanged,
        skipped=plan.repeats + decision.skipped,
        warnings=list(plan.warnings),
        replanned=replanned,
    )


async def ingest(
    db: aiosqlite.Connection,
    drafts: Iterable[ArticleDraft],
    *,
    warnings: Iterable[ImportWarning] = (),
) -> IngestReport:
    """Store drafts in one transaction: new ones added, edited ones updated, the rest untouched.

    Identity is the text: a draft whose title and body are already stored is unchanged (or has
    its date, source and topics refreshed). A draft with new text that closely resembles an
    article from the same origin replaces that article in place, keeping its id. The write lock
    is held for the writes only (see the module's docstring).
    """
    async with exclusive(db):
        plan = await plan_ingest(db, drafts, warnings=warnings)
        async with transaction(db):
            report = await apply_ingest(db, plan)

    for warning in report.warnings:
        log.warning("%s", warning)
    log.info(
        "ingest: %d added, %d updated, %d unchanged, %d skipped",
        report.added,
        report.updated,
        report.unchanged,
        report.skipped,
    )
    return report


async def _decide(
    db: aiosqlite.Connection, unique: dict[str, _Prepared], edits: Mapping[str, int]
) -> _Decision:
    """Which drafts are new, which update which article, and which change nothing."""
    decision = _Decision()
    existing = await ids_by_hash(db, list(unique))
    claimed = {article_id for article_id, _ in existing.values()}
    stored = await _stored_state(db, sorted(claimed))
    fresh: list[_Prepared] = []
    for digest, item in unique.items():
        if digest not in existing:
            fresh.append(item)
            continue
        article_id, origin = existing[digest]
        if item.draft.date_guessed and article_id in stored:
            # Inferred from the day of the read (an undated line, 8日 on a page without a full
            # date): the first read's guess is kept, not moved by every later one.
            item = _dated(item, *stored[article_id][0][1:3])
        if origin not in _origins_of(item.draft.origin):
            decision.skipped += 1  # the same text already came from elsewhere
        elif stored.get(article_id) != _wanted_state(item):
            decision.updates.append((article_id, item))
        else:
            decision.unchanged += 1
            if origin != item.draft.origin:
                decision.moved.append((item.draft.origin, article_id))

    # A draft that names the article it replaces (a feed entry edited in place) takes it when
    # its text grew out of the article's: a teaser rewritten as the full story, too unlike it
    # for EDIT_SIMILARITY. A name alone is not enough: a feed may reuse one for a new story.
    named = [edits[item.content_hash] for item in fresh if item.content_hash in edits]
    query = "SELECT id, origin, body FROM articles WHERE id IN ({marks})"
    still_stored = {
        int(row[0]): (str(row[1]), str(row[2])) for row in await execute_in(db, query, named)
    }
    unnamed: list[_Prepared] = []
    for item in fresh:
        target = edits.get(item.content_hash, -1)
        origin, body = still_stored.get(target, ("", ""))
        if (
            target not in claimed
            and origin in _origins_of(item.draft.origin)
            and grew_from(body, item.draft.body)
        ):
            claimed.add(target)
            decision.updates.append((target, item))
        else:
            unnamed.append(item)  # gone, moved elsewhere, another draft's, or another story

    # Edited articles: match leftover drafts to unclaimed articles of the same origin.
    fresh = unnamed
    candidates = await _unclaimed_in_origins(db, {it.draft.origin for it in fresh}, claimed)
    if len(fresh) > _THREAD_THRESHOLD:
        matched = await asyncio.to_thread(_match_edits, fresh, candidates, edits)
    else:
        matched = _match_edits(fresh, candidates, edits)
    for item, edited in zip(fresh, matched, strict=True):
        if edited is None:
            decision.new.append(item)
        else:
            decision.updates.append((edited, item))
    decision.updates = await _keeping_dates(db, decision.updates, edits)
    return decision


async def _keeping_dates(
    db: aiosqlite.Connection, updates: list[tuple[int, _Prepared]], edits: Mapping[str, int]
) -> list[tuple[int, _Prepared]]:
    """`updates`, those of a named draft (a feed entry's new version) or of a draft dated by
    the day of the read dated as the article they update: feeds rewrite dates on every edit, and
    the day of this read is no better a guess than the first read's. Decided here, once it is
    known which drafts update an article: one that is another story under a reused GUID is new,
    and keeps its own date."""
    keeping = [
        article_id
        for article_id, item in updates
        if item.content_hash in edits or item.draft.date_guessed
    ]
    if not keeping:
        return updates
    query = "SELECT id, published, date_inferred FROM articles WHERE id IN ({marks})"
    dates = {int(row[0]): (row[1], row[2]) for row in await execute_in(db, query, keeping)}
    return [
        (article_id, _dated(item, *dates[article_id]) if article_id in dates else item)
        for article_id, item in updates
    ]


def _dated(item: _Prepared, published: object, inferred: object) -> _Prepared:
    """`item` dated as its article is stored (`published` ISO text, `inferred` 0 or 1)."""
    day = date.fromisoformat(str(published))
    return replace(item, draft=replace(item.draft, published=day, date_inferred=bool(inferred)))


def grew_from(old: str, new: str) -> bool:
    """Whether `new` is `old` grown longer: a teaser (at most TEASER_CHARS) whose text is, at
    least EDIT_SIMILARITY alike, a part of `new`."""
    if not old or len(old) > TEASER_CHARS or len(new) <= len(old):
        return False
    return fuzz.partial_ratio(old, new, score_cutoff=EDIT_SIMILARITY) > 0


def _origins_of(origin: str) -> tuple[str, ...]:
    """The origins an article of `origin` may be stored under: that one, or its former."""
    former = corpus.former_origin(origin)
    return (origin, former) if former else (origin,)


def _match_edits(
    fresh: Sequence[_Prepared], candidates: dict[str, _Unclaimed], edits: Mapping[str, int]
) -> list[int | None]:
    """For each draft in turn, the article of its origin it edits (claimed), or None."""
    return [
        candidates[item.draft.origin].edit_of(item.draft, edits.get(item.content_hash))
        for item in fresh
    ]


async def _analyze(
    db: aiosqlite.Connection, decision: _Decision, known: Analyses | None = None
) -> Analyses:
    """The index analyses a decision's writes need: of the new texts, and of the old texts of
    the articles it updates (the index takes their words out of the vocabulary)."""
    ids = [article_id for article_id, _ in decision.updates]
    query = "SELECT id, title, body FROM articles WHERE id IN ({marks})"
    old = [(int(r[0]), str(r[1]), str(r[2])) for r in await execute_in(db, query, ids)]
    items = [it for _, it in decision.updates] + decision.new
    texts = texts_of(old) + [text for it in items for text in (it.draft.title, it.draft.body)]
    return await analyze_texts(texts, known or {})


async def _apply_updates(
    db: aiosqlite.Connection, updates: Sequence[tuple[int, _Prepared]]
) -> None:
    if not updates:
        return
    query = f"""
        UPDATE articles
           SET ({_WRITTEN_COLUMNS}) = ({_WRITTEN_MARKS}),
               updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         WHERE id = ?
    """  # noqa: S608
    await db.executemany(query, [(*it.columns(), article_id) for article_id, it in updates])
    ids = [article_id for article_id, _ in updates]
    await execute_in(db, "DELETE FROM article_topics WHERE article_id IN ({marks})", ids)
    await _insert_topics(db, [(article_id, it) for article_id, it in updates])


async def _insert(db: aiosqlite.Connection, items: Sequence[_Prepared]) -> list[int]:
    """Insert new articles oldest first, so ids grow with recency; return ids in `items` order."""
    if not items:
        return []
    rows = await db.execute_fetchall("SELECT coalesce(max(id), 0) FROM articles")
    next_id = int(next(iter(rows))[0]) + 1
    # Sorting by date (stable, from the reversed list) keeps a newest-first page's order among
    # same-day articles, so "newest first" by (published, id) matches the source.
    order = sorted(range(len(items)), key=lambda i: (items[i].draft.published, -i))
    ids = [0] * len(items)
    for offset, index in enumerate(order):
        ids[index] = next_id + offset
    query = f"""
        INSERT INTO articles (id, {_WRITTEN_COLUMNS}) VALUES (?, {_WRITTEN_MARKS})
    """  # noqa: S608
    await db.executemany(query, [(ids[i], *it.columns()) for i, it in enumerate(items)])
    await _insert_topics(db, list(zip(ids, items, strict=True)))
    return ids


async def _insert_topics(db: aiosqlite.Connection, pairs: Sequence[tuple[int, _Prepared]]) -> None:
    query = "INSERT INTO article_topics (article_id, topic, assigned_by) VALUES (?, ?, ?)"
    params = [(aid, slug, by) for aid, it in pairs for slug, by in it.topics]
    if params:
        await db.executemany(query, params)


async def ingest_paths(
    db: aiosqlite.Connection, paths: Sequence[Path], *, seeds: Path | None = None
) -> IngestReport:
    """Read seed, text and JSON Lines files (or folders of them) and ingest them together.

    `seeds` is the shipped seeds folder (see `corpus.file_origin`).
    """
    drafts: list[ArticleDraft] = []
    warnings: list[ImportWarning] = []
    for path in paths:
        read = await asyncio.to_thread(corpus.read_path, path, seeds=seeds)
        drafts.extend(read.drafts)
        warnings.extend(read.warnings)
    return await ingest(db, drafts, warnings=warnings)


async def ensure_seeded(db: aiosqlite.Connection, seeds_dir: Path) -> IngestReport | None:
    """Load the shipped seeds when the database holds no article yet."""
    if await count_articles(db):
        return None
    log.info("empty database: loading seeds from %s", seeds_dir)
    report = await ingest_paths(db, [seeds_dir], seeds=seeds_dir)
    if not await count_articles(db):
        # Said once here, or an operator whose ALLIANCE_SEEDS points at the wrong folder only
        # ever sees "no articles" and searches that find nothing.
        log.warning("no articles in the seeds folder %s: the database stays empty", seeds_dir)
    return report


def articles_from_rows(rows: Iterable[Sequence[object]]) -> list[Article]:
    """Articles from rows of `ARTICLE_COLUMNS`, topics in taxonomy order."""
    found: list[Article] = []
    for r in rows:
        pairs = [pair.partition(":") for pair in str(r[7] or "").split()]
        topics = tuple(slug for _, _, slug in sorted(pairs, key=lambda p: int(p[0])))
        found.append(
            Article(
                id=int(str(r[0])),
                title=str(r[1]),
                body=str(r[2]),
                published=date.fromisoformat(str(r[3])),
                date_inferred=bool(r[4]),
                source=str(r[5]),
                url=None if r[6] is None else str(r[6]),
                topics=topics,
            )
        )
    return found


async def get_article(db: aiosqlite.Connection, article_id: int) -> Article | None:
    """One article by id, or None."""
    found = await get_articles(db, [article_id])
    return found[0] if found else None


async def get_articles(db: aiosqlite.Connection, ids: Sequence[int]) -> list[Article]:
    """Articles by id, in the order given; ids that don't exist are skipped."""
    query = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id IN ({{marks}})"  # noqa: S608
    by_id = {a.id: a for a in articles_from_rows(await execute_in(db, query, ids))}
    return [by_id[i] for i in ids if i in by_id]


async def latest(
    db: aiosqlite.Connection, *, limit: int = 10, offset: int = 0, topic: str | None = None
) -> list[Article]:
    """The newest articles, optionally of one topic."""
    if topic is None:
        query = f"""
            SELECT {ARTICLE_COLUMNS} FROM articles
             ORDER BY published DESC, id DESC LIMIT ? OFFSET ?
        """  # noqa: S608
        rows = await db.execute_fetchall(query, (limit, offset))
    else:
        query = f"""
            SELECT {ARTICLE_COLUMNS} FROM articles
             WHERE id IN (SELECT article_id FROM article_topics WHERE topic = ?)
             ORDER BY published DESC, id DESC LIMIT ? OFFSET ?
        """  # noqa: S608
        rows = await db.execute_fetchall(query, (topic, limit, offset))
    return articles_from_rows(rows)


async def articles_between(
    db: aiosqlite.Connection,
    start: date,
    end: date,
    *,
    added_by: datetime | None = None,
    added_after: datetime | None = None,
) -> list[Article]:
    """Articles published from `start` to `end` inclusive, newest first; with `added_by`,
    only those stored by that moment, with `added_after` only those stored after it (in whole
    seconds, as stored: `added_by`'s second is in, `added_after`'s is out)."""
    # Stored as text that sorts as time does (`db.stamp`); "9" sorts after every one, "" before.
    by = "9" if added_by is None else stamp(added_by)
    after = "" if added_after is None else stamp(added_after)
    query = f"""
        SELECT {ARTICLE_COLUMNS} FROM articles
         WHERE published BETWEEN ? AND ? AND created_at <= ? AND created_at > ?
         ORDER BY published DESC, id DESC
    """  # noqa: S608
    rows = await db.execute_fetchall(query, (start.isoformat(), end.isoformat(), by, after))
    return articles_from_rows(rows)


async def count_articles(db: aiosqlite.Connection, *, topic: str | None = None) -> int:
    """How many articles are stored, optionally of one topic."""
    if topic is None:
        rows = await db.execute_fetchall("SELECT count(*) FROM articles")
    else:
        query = "SELECT count(*) FROM article_topics WHERE topic = ?"
        rows = await db.execute_fetchall(query, (topic,))
    return int(next(iter(rows))[0])
