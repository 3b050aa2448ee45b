"""Search, typo correction and autocomplete over the full-text index.

Ranking looks at a bounded window of candidates, the newest matches, instead of scoring every
match of a common word: words in the title first, then how often they occur in the text, then
recency. SQLite ranks the window in the statement that counts the matches; matches beyond the
window follow, newest first.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import aiosqlite
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core import articles
from bot.core.db import transaction
from bot.core.models import Article
from bot.core.search import analyzer
from bot.core.search.index import (
    article_id_of,
    index_is_current,
    index_version,
    rebuild_index,
    topic_token,
)
from bot.core.search.query import (
    PARTICLES,
    Query,
    QueryProblem,
    Term,
    alias_spellings,
    either_of,
    is_hiragana_word,
    is_not,
    load_aliases,
    loosened,
    make_term,
    minus_mark,
    parse_query,
)
from bot.core.search.snippets import SNIPPET_CHARS as SNIPPET_CHARS
from bot.core.search.snippets import snippet as snippet

Sort = Literal["relevance", "newest"]

MAX_LIMIT = 100
MAX_OFFSET = 10_000
# Matches are counted up to one past this. Paging ends here, so a larger total could not be paged
# to, and counting every match of a common word was most of a search (~70% at 100k articles).
COUNT_LIMIT = MAX_OFFSET
MAX_SUGGESTIONS = 25
# How many of the newest matches are ranked by relevance; each costs a read of its analyzed text
# (~5 µs at 100k articles). Older matches with the words in their title are not looked for:
# finding them took a second pass over every match when the words rarely share a title (~3 ms,
# up to 10 ms, for two common words at 100k articles).
RANK_WINDOW = 60
# A query that finds fewer articles than this as typed also finds, after them, what it finds
# loosened (see `loosened`): 高市首相 as typed misses the articles that only say 高市早苗首相.
# More than this, and the reader has pages of what they typed; the loosened search would cost
# a second pass over common words for matches shown only pages later.
SUPPLEMENT_BELOW = 10
_MIN_CORRECTABLE = 3
# Typos are scored by edits (a character changed, added, dropped, or two swapped counts one)
# over the longer word's length: トランブ is as close to トランプ as to トラン, and the commoner
# word wins.
_TYPO_CUTOFF = 0.7
_ALIAS_CUTOFF = 0.8
_MAX_NAME_WORDS = 4  # the most words of a name autocomplete looks back over


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the article, a marked snippet and its place in the ranking."""

    article: Article
    snippet_parts: tuple[tuple[str, bool], ...]  # (text, is_match)

    @property
    def snippet(self) -> str:
        """The snippet with matches in **bold** (Markdown)."""
        return "".join(f"**{text}**" if hit else text for text, hit in self.snippet_parts)


@dataclass(slots=True)
class SearchResult:
    """A page of results; never an exception for anything a reader typed."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0  # counted up to COUNT_LIMIT + 1 (see `total_exact`)
    corrected: str | None = None  # the query actually searched, after typo correction
    near: tuple[str, ...] = ()  # words typed together, searched close together (高市, 首相)
    # Set when `corrected` was searched besides the query as typed, not instead: how many
    # matched as typed (by relevance, they come first).
    typed_total: int | None = None
    # Set when only some words of an OR matched nothing (トランブ of トランブ OR 関税): those
    # words, which `corrected` corrects, as typed.
    unmatched: tuple[str, ...] = ()
    suggestions: list[str] = field(default_factory=list)
    problem: QueryProblem | None = None

    @classmethod
    def refused(cls, query: str, problem: QueryProblem) -> SearchResult:
        """The answer to a query that cannot be searched."""
        return cls(query=query[:100], problem=problem)

    @property
    def total_exact(self) -> bool:
        """False when more than COUNT_LIMIT articles match: `total` is then COUNT_LIMIT + 1."""
        return self.total <= COUNT_LIMIT

    @property
    def shown_total(self) -> int:
        """The count a reader is shown: `total`, or COUNT_LIMIT ("more than") when not exact."""
        return min(self.total, COUNT_LIMIT)

    @property
    def error(self) -> str | None:
        """Why the query was refused (an English message), or None."""
        return self.problem.message("en") if self.problem else None

    def error_message(self, locale: str) -> str:
        """Why the query was refused, in the reader's language ("" when it was not)."""
        return self.problem.message(locale) if self.problem else ""


# Connections whose index was seen built by this index version: only a process with another
# analyzer or index format would rebuild it, so asking the database again on every query is
# wasted time.
_index_checked: weakref.WeakKeyDictionary[aiosqlite.Connection, str] = weakref.WeakKeyDictionary()


async def _ensure_index(db: aiosqlite.Connection) -> None:
    version = index_version()
    if _index_checked.get(db) == version:
        return
    if not await index_is_current(db):
        async with transaction(db):
            if not await index_is_current(db):
                await rebuild_index(db)
    _index_checked[db] = version


async def search(
    db: aiosqlite.Connection,
    query: str,
    *,
    topic: str | None = None,
    limit: int = 5,
    offset: int = 0,
    sort: Sort = "relevance",
) -> SearchResult:
    """Find articles for a reader's query (Japanese or English), one page at a time.

    `cache.ResultCache` answers pages asked for again from memory.
    """
    parsed = parse_query(query)
    if isinstance(parsed, QueryProblem):
        return SearchResult.refused(query, parsed)
    return await search_parsed(db, parsed, topic=topic, limit=limit, offset=offset, sort=sort)


async def search_parsed(
    db: aiosqlite.Connection,
    parsed: Query,
    *,
    topic: str | None = None,
    limit: int = 5,
    offset: int = 0,
    sort: Sort = "relevance",
) -> SearchResult:
    """`search` for a query already parsed (by `parse_query`)."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, min(offset, MAX_OFFSET))
    await _ensure_index(db)
    result = await _run(db, parsed, topic, limit, offset, sort)
    if result.total and any(term.either for term in parsed.terms):
        # トランブ OR 関税 finds what 関税 finds: its typo must not go unnoticed.
        fixed = await _with_either_corrected(db, result, parsed, topic, limit, offset, sort)
        if fixed is not None:
            return fixed
    if result.total >= SUPPLEMENT_BELOW:
        return result
    # Words typed without spaces, then typos, then without the words no article has: a word
    # split into words it already spells keeps its meaning, where the closest word (米国務長官 →
    # 米国防長官) may not, and a word left out says nothing.
    loose = loosened(parsed)
    if result.total:
        if loose is None:
            return result
        return await _supplemented(db, result, parsed, loose, topic, limit, offset, sort)
    if loose is not None:
        found = await _run(db, loose, topic, limit, offset, sort)
        if found.total:
            found.query, found.corrected = parsed.text, loose.text
            found.near = _near_words(parsed, loose)
            return found
    corrected, suggestions = await _correct(db, parsed)
    if corrected is not None:
        result = await _run(db, corrected, topic, limit, offset, sort)
        if result.total:
            result.corrected = corrected.text
            return result
    found_words = await _without_unfound(db, corrected or parsed)
    if found_words is not None:
        found = await _run(db, found_words, topic, limit, offset, sort)
        if found.total:
            found.query, found.corrected = parsed.text, found_words.text
            return found
    # Offered to be searched alone, in the same topic: each must find something there.
    result.suggestions = [word for word in suggestions if await _finds(db, word, topic)]
    return result


async def _with_either_corrected(
    db: aiosqlite.Connection,
    typed_page: SearchResult,
    typed: Query,
    topic: str | None,
    limit: int,
    offset: int,
    sort: Sort,
) -> SearchResult | None:
    """The page of `typed` with the words of its ORs that match nothing corrected, when that
    finds more than `typed_page` does; else None. (Its other words all match: it found some.)"""
    corrected, _ = await _correct(db, typed)
    if corrected is None:
        return None
    result = await _run(db, corrected, topic, limit, offset, sort)
    if result.total <= typed_page.total:
        return None
    result.query, result.corrected = typed.text, corrected.text
    result.unmatched = tuple(
        part.text
        for before, after in zip(typed.terms, corrected.terms, strict=True)
        for part, fixed in zip(before.either, after.either, strict=True)
        if part != fixed
    )
    return result


async def _supplemented(
    db: aiosqlite.Connection,
    typed_page: SearchResult,
    typed: Query,
    loose: Query,
    topic: str | None,
    limit: int,
    offset: int,
    sort: Sort,
) -> SearchResult:
    """`typed_page` (a page of the few matches of `typed`) with the matches of `loose` that
    `typed` misses: after all of typed's by relevance, among them newest first."""
    typed_total = typed_page.total
    if sort == "newest":
        either = f"({typed.fts()}) OR ({loose.fts()})"
        marked = tuple(dict.fromkeys((*typed.terms, *loose.terms)))
        result = await _run(db, loose, topic, limit, offset, sort, words=either, marked=marked)
        if result.total <= typed_total:
            return typed_page
    else:
        only_loose = f"({loose.fts()}) NOT ({typed.fts()})"
        # The page goes on into loose's matches where typed's end; limit 0 only counts them.
        rest_limit, rest_offset = limit - len(typed_page.hits), max(0, offset - typed_total)
        rest = await _run(db, loose, topic, rest_limit, rest_offset, sort, words=only_loose)
        if not rest.total:
            return typed_page
        result = typed_page
        result.hits = [*typed_page.hits, *rest.hits]
        result.total = min(typed_total + rest.total, COUNT_LIMIT + 1)
    result.query, result.corrected, result.typed_total = typed.text, loose.text, typed_total
    result.near = _near_words(typed, loose)
    return result


def _near_words(typed: Query, loose: Query) -> tuple[str, ...]:
    """The words of the one word typed together that `loose` searches close together, when
    that is all loosening changed; () otherwise, where `loose` is said as the query searched."""
    near = [term for term in loose.terms if term.near]
    kept = [term for term in loose.terms if not term.near]
    if len(near) != 1 or len(loose.terms) != len(typed.terms):
        return ()
    if not all(term in typed.terms for term in kept):
        return ()
    (joined,) = [term for term in typed.terms if term not in kept]
    words = near[0].text.split()
    # What loosening left out must be particles (高市首相について): a verb or an adjective (日米同盟
    # はつぶれる) is not searched, and the query would seem searched in full.
    return tuple(words) if _only_particles_between(joined.text, words) else ()


# Particles, also those of several characters, one or more in a row (にも, についての): what a
# word typed together may add to its nouns.
_PARTICLES = (
    *("について", "における", "に対して", "に対する", "に関して", "に関する", "によって"),
    *("による", "として", "をめぐる", "を巡る", "など", *PARTICLES),
)
_PARTICLE_RUN = re.compile("(?:" + "|".join(_PARTICLES) + ")*")  # none at all, too


def _only_particles_between(text: str, words: Sequence[str]) -> bool:
    """Whether `words` are found in `text` in order with nothing else around them but
    particles, spaces and punctuation."""
    left: list[str] = []
    start = 0
    for word in words:
        at = text.find(word, start)
        if at < 0:
            return False
        left.append(text[start:at])
        start = at + len(word)
    left.append(text[start:])
    return all(_PARTICLE_RUN.fullmatch(_bare(piece)) for piece in left)


def _bare(piece: str) -> str:
    return "".join(ch for ch in piece if ch.isalnum())


def _match(words: str, topic: str | None) -> str:
    """The MATCH expression: the reader's `words` (an FTS5 expression) and, with a topic, its
    token.

    FTS5 then finds the articles of the topic itself, intersecting the words' and the topic's
    lists of articles, instead of SQL looking each match's topics up. The words are not limited
    to title and body: no word matches a topic token (see `topic_token`).
    """
    if topic is None:
        return words
    return f'({words}) AND "{topic_token(topic)}"'


@cache
def _page_columns() -> str:
    """A page's article: its analyzed text (for the snippet), then the columns `articles` reads
    (one statement instead of a second one through `articles.get_articles`).

    article_index_content is FTS5's own table of the indexed text (id = the index key, c0 =
    title, c1 = body): read directly, a row costs a fraction of a read through the index. (c2
    holds the topics.)
    """
    # Read on first use: `articles` imports this package.
    forms = "(SELECT c1 FROM article_index_content WHERE id = articles.index_key) AS forms"
    return f"{forms}, {articles.ARTICLE_COLUMNS}"


_PageRows = list[Sequence[object]]  # rows of _page_columns()
_MATCHES_COUNTED = "SELECT 1 FROM article_index WHERE article_index MATCH ? LIMIT ?"
_COUNT = f"SELECT count(*) FROM ({_MATCHES_COUNTED})"  # noqa: S608


async def _run(
    db: aiosqlite.Connection,
    query: Query,
    topic: str | None,
    limit: int,
    offset: int,
    sort: Sort,
    *,
    words: str | None = None,
    marked: Sequence[Term] | None = None,
) -> SearchResult:
    """A page of the articles `query` finds (or the FTS5 expression `words`, ranked by
    `query`), with snippets marking `query`'s terms (or `marked`)."""
    expr = _match(query.fts() if words is None else words, topic)
    terms = query.terms if marked is None else marked
    result = SearchResult(query=query.text)
    if sort == "newest":
        result.total, rows = await _newest_page(db, expr, limit, offset)
    else:
        result.total, rows = await _ranked_page(db, query, expr, limit, offset)
    found = articles.articles_from_rows(row[1:] for row in rows)
    result.hits = [
        SearchHit(article, snippet(article.body, terms, forms=str(row[0])))
        for article, row in zip(found, rows, strict=True)
    ]
    return result


async def _newest_page(
    db: aiosqlite.Connection, expr: str, limit: int, offset: int
) -> tuple[int, _PageRows]:
    """How many articles match `expr`, and the page's rows by publication date."""
    rows = await db.execute_fetchall(_COUNT, (expr, COUNT_LIMIT + 1))
    total = int(next(iter(rows))[0])
    if not total or offset >= total:
        return total, []
    return total, await _newest_rows(db, expr, limit, offset)


async def _newest_rows(db: aiosqlite.Connection, expr: str, limit: int, offset: int) -> _PageRows:
    """Rows of the matches of `expr`, newest first: FTS5's own order (the index is keyed by
    date), so no match is sorted or looked up in the date index."""
    rows = await db.execute_fetchall(
        f"""
        WITH page AS (
            SELECT rowid AS key FROM article_index WHERE article_index MATCH ?
             ORDER BY rowid DESC LIMIT ? OFFSET ?
        )
        SELECT {_page_columns()} FROM page
          JOIN articles ON articles.id = {article_id_of("page.key")}
         ORDER BY page.key DESC
        """,  # noqa: S608
        (expr, limit, offset),
    )
    return list(rows)


def _scores(query: Query) -> tuple[str, str, list[str | int]]:
    """SQL for how many terms a candidate's title has, and how often its text has each (at most
    twice: a second mention says the article is about the word; more says little more).

    Over the analyzed text padded with spaces (`c.title`, `c.body`), a phrase is a run of whole
    forms; occurrences are counted as the length the text loses when they are removed.
    """
    in_title: list[str] = []
    mentions: list[str] = []
    title_params: list[str | int] = []
    mention_params: list[str | int] = []
    for term in query.terms:
        needles = [f" {' '.join(p)} " for p in term.phrases]
        in_title.append("(" + " OR ".join(["instr(c.title, ?) > 0"] * len(needles)) + ")")
        title_params.extend(needles)
        counts = ["(length(c.body) - length(replace(c.body, ?, ''))) / ?"] * len(needles)
        mentions.append(f"min(2, {' + '.join(counts)})")
        for needle in needles:
            mention_params.extend((needle, len(needle)))
    return " + ".join(in_title), " + ".join(mentions), [*title_params, *mention_params]


async def _ranked_page(
    db: aiosqlite.Connection, query: Query, expr: str, limit: int, offset: int
) -> tuple[int, _PageRows]:
    """How many articles match `expr`, and the page's rows by relevance to `query`."""
    in_title, mentions, score_params = _scores(query)
    # One statement: the count, the window ranked, and the page's articles. The texts are read
    # only for the page: carried through the sort, they doubled the statement's cost. `total
    # LEFT JOIN`: the count comes back even when the page is past the window. A window that is
    # not full holds every match, so the matches are counted again only when it is (CASE runs
    # that subquery only then): one pass over them instead of two for a rare word, or none.
    rows = await db.execute_fetchall(
        f"""
        WITH candidates AS MATERIALIZED (
            SELECT rowid AS key FROM article_index WHERE article_index MATCH ?
             ORDER BY rowid DESC LIMIT ?
        ), total AS (
            SELECT CASE WHEN (SELECT count(*) FROM candidates) < ?
                        THEN (SELECT count(*) FROM candidates)
                        ELSE (SELECT count(*) FROM ({_MATCHES_COUNTED})) END AS n
        ), scored AS (
            SELECT c.id AS key, {in_title} AS in_title, {mentions} AS mentions
              FROM (SELECT id, ' ' || c0 || ' ' AS title, ' ' || c1 || ' ' AS body
                      FROM article_index_content WHERE id IN (SELECT key FROM candidates)) AS c
        ), page AS (
            SELECT key, in_title, mentions FROM scored
             ORDER BY in_title DESC, mentions DESC, key DESC
             LIMIT ? OFFSET ?
        )
        SELECT total.n, {_page_columns()} FROM total
          LEFT JOIN page
          LEFT JOIN articles ON articles.id = {article_id_of("page.key")}
         ORDER BY page.in_title DESC, page.mentions DESC, page.key DESC
        """,  # noqa: S608
        (expr, RANK_WINDOW, RANK_WINDOW, expr, COUNT_LIMIT + 1, *score_params, limit, offset),
    )
    rows = list(rows)
    total = int(rows[0][0])
    page: _PageRows = [row[1:] for row in rows if row[2] is not None]
    window = min(total, RANK_WINDOW)
    if len(page) == limit or offset + len(page) >= total:
        return total, page
    # Past the ranked window: the remaining matches, newest first. They are the matches after
    # the window's in the same order, so positions carry over.
    start = max(offset, window)
    return total, [*page, *await _newest_rows(db, expr, offset + limit - start, start)]


# --- vocabulary: typo correction and autocomplete ---------------------------------------------
#
# Read from the vocab table as needed, never held in memory: a large corpus has hundreds of
# thousands of words (300k words took ~97 MB and 0.5 s of the event loop to load, once per
# connection after every import).

# Not hiragana only (とも, こと): grammar, not something a reader looks for.
_SUGGESTIBLE = "display GLOB '*[^ぁ-ゟ]*'"
# Above every character: `key < prefix || _TOP` bounds the keys that start with the prefix.
_TOP = "\U0010ffff"


async def _in_index(db: aiosqlite.Connection, form: str) -> bool:
    """Whether some article has the index form `form`: a real word, though maybe only inside a
    longer one (国務 in 国務省), which the vocabulary keeps whole."""
    return await _matches_alone(db, Term(form, ((form,),)))


async def _matches_alone(db: aiosqlite.Connection, term: Term, topic: str | None = None) -> bool:
    rows = await db.execute_fetchall(
        "SELECT 1 FROM article_index WHERE article_index MATCH ? LIMIT 1",
        (_match(term.fts(), topic),),
    )
    return bool(list(rows))


async def _finds(db: aiosqlite.Connection, word: str, topic: str | None) -> bool:
    """Whether `word` searched alone (in `topic`) finds an article: a word of the vocabulary
    may be in no article of the topic, and an alias in none at all."""
    term = _vocabulary_term(word)
    return term is not None and await _matches_alone(db, term, topic)


def _vocabulary_term(word: str) -> Term | None:
    """How a word of the vocabulary (an alias key among them) is searched: with its aliases."""
    return make_term(word, load_aliases().get(analyzer.fold(word), ()))


# Words sharing only a typo's first and last character can be very many (ス…ー): read a bounded
# number, enough for the short words whose two-character ends a swap changes.
_ENDS_CANDIDATES = 2000


_DOUBLED = re.compile(r"(.)\1+")


def _undoubled(word: str) -> str:
    """`word` with each run of one letter written once (tarrif and tariff are tarif)."""
    return _DOUBLED.sub(r"\1", word)


async def _closest(db: aiosqlite.Connection, word: str, limit: int = 5) -> list[str]:
    """The vocabulary's words closest to `word` (a typo), closest first.

    Candidates share its first two characters, its last two, or its first and its last: one
    typo (a character changed, added or dropped, two swapped) leaves one of these alone in any
    word it leaves close enough, and reading only those keeps a correction to a few thousand
    words, however large the vocabulary.
    """
    shortest, longest = len(word) - 2, len(word) + 2
    # The first and the last character: two swapped in the middle of four (トンラプ for
    # トランプ) change the first two and the last two (migration 0010 indexes these).
    rows = await db.execute_fetchall(
        """
        SELECT key, display, df FROM vocab
         WHERE key >= ? AND key < ? AND length(key) BETWEEN ? AND ?
        UNION
        SELECT key, display, df FROM vocab
         WHERE substr(key, -2) = ? AND length(key) BETWEEN ? AND ?
        UNION
        SELECT * FROM (
            SELECT key, display, df FROM vocab
             WHERE substr(key, -1) = ? AND key >= ? AND key < ? AND length(key) BETWEEN ? AND ?
             LIMIT ?
        )
        """,
        (
            *(word[:2], word[:2] + _TOP, shortest, longest),
            *(word[-2:], shortest, longest),
            *(word[-1], word[0], word[0] + _TOP, shortest, longest, _ENDS_CANDIDATES),
        ),
    )
    display = {str(k): str(d) for k, d, _ in rows}
    df = {str(k): int(n) for k, _, n in rows}
    similarity = OSA.normalized_similarity
    found = process.extract(
        word, list(display), scorer=similarity, limit=limit * 3, score_cutoff=_TYPO_CUTOFF
    )
    # Equally close words: the more common one is the likelier intent.
    found.sort(key=lambda m: (-m[1], -df[m[0]]))
    heads = [] if found or word.isascii() else await _closest_heads(db, word)
    single = _undoubled(word)
    aliases = [
        (spelling, score)
        for key, spelling in alias_spellings().items()
        if abs(len(key) - len(word)) <= 2
        # A letter doubled or not (tarrif, Hegsseth) is English's commonest slip: two edits in
        # tarrif, none with each letter written once. Only that slip is forgiven: with another
        # edit on top, hidden (hiden) would be Biden.
        and (score := 1.0 if single == _undoubled(key) else similarity(word, key)) >= _ALIAS_CUTOFF
    ]
    ranked = [(display[k], s) for k, s, _ in found] + heads + aliases
    ranked.sort(key=lambda m: -m[1])
    # The same word from the vocabulary and the alias table (koizumi, Koizumi) is offered once.
    closest: dict[str, str] = {}
    for text, _ in ranked:
        closest.setdefault(analyzer.fold(text), text)
    for text, _ in aliases:  # in the table's spelling
        closest[analyzer.fold(text)] = text
    return list(closest.values())[:limit]


async def _closest_heads(db: aiosqlite.Connection, word: str) -> list[tuple[str, float]]:
    """Words close to `word` that the vocabulary only has at the head of a longer one, most
    common first: a name always written with its title (小泉進次朗 for the 小泉進次郎 of
    小泉進次郎防衛相), mistyped."""
    rows = await db.execute_fetchall(
        """
        SELECT key, display FROM vocab WHERE key >= ? AND key < ? AND length(key) > ?
         ORDER BY df DESC LIMIT ?
        """,
        (word[:2], word[:2] + _TOP, len(word), _ENDS_CANDIDATES),
    )
    heads: dict[str, float] = {}
    for key, display in rows:
        head = str(display)[: len(word)]
        if len(str(key)) != len(str(display)) or head in heads:
            continue  # folding changed its length: no head to cut
        score = OSA.normalized_similarity(word, analyzer.fold(head))
        if score < _TYPO_CUTOFF:
            continue
        # The head must end where a word of the longer one ends (小泉進次郎|防衛相).
        forms = analyzer.index_forms(head)
        if forms == analyzer.index_forms(str(display))[: len(forms)]:
            heads[head] = score
    return sorted(heads.items(), key=lambda h: -h[1])


async def _correct(db: aiosqlite.Connection, query: Query) -> tuple[Query | None, list[str]]:
    """A corrected query (each unmatched word replaced by its closest vocabulary word)."""
    terms: list[Term] = []
    suggestions: list[str] = []
    for term in query.terms:
        if term.either:
            # トランブ OR 関税: each word of an OR is corrected as it would be alone.
            parts = [await _corrected(db, part, suggestions) or part for part in term.either]
            fixed = either_of(tuple(parts)) if parts != list(term.either) else None
        else:
            fixed = await _corrected(db, term, suggestions)
        terms.append(fixed or term)
    changed = tuple(terms) != query.terms
    return (query.with_terms(tuple(terms)) if changed else None), suggestions[:MAX_SUGGESTIONS]


async def _corrected(db: aiosqlite.Connection, term: Term, suggestions: list[str]) -> Term | None:
    """`term` corrected, or None when it matches, or has no correction; the words close to it
    are added to `suggestions`."""
    word = analyzer.fold(term.text)
    if term.aliased or len(word) < _MIN_CORRECTABLE or await _matches_alone(db, term):
        return None
    close = await _closest(db, word)
    suggestions.extend(close)
    if not word.isascii() and not is_hiragana_word(term.text) and await _spelled_right(db, term):
        # Every word in it is a real word (米国務長官): a different kanji is another meaning,
        # not a typo, so the close word is only suggested.
        return None
    return _vocabulary_term(close[0]) if close else await _correct_parts(db, term)


async def _without_unfound(db: aiosqlite.Connection, query: Query) -> Query | None:
    """`query` without the words no article has, or None when none or all are such.

    An English word outside the alias table (Takaichi Trump call) is in no article of a
    Japanese corpus, and every word must match: without it, the others still find what the
    reader is after, and the reply names the query searched.
    """
    kept = tuple([term for term in query.terms if await _matches_alone(db, term)])
    return query.with_terms(kept) if 0 < len(kept) < len(query.terms) else None


async def _spelled_right(db: aiosqlite.Connection, term: Term) -> bool:
    """Whether each word of a term typed without spaces is in some article (国務 is, in
    国務省), so that the term is no typo, only words never written together."""
    forms = term.phrases[0]
    if len(forms) < 2:
        return False
    for form in forms:
        if not await _in_index(db, form):
            return False
    return True


async def _correct_parts(db: aiosqlite.Connection, term: Term) -> Term | None:
    """The term with each unknown word inside it corrected (イージズ艦 → イージス艦), or None.

    A compound such as イージス艦 may only be in the vocabulary as part of a longer run, so
    when the whole word has no close match, its analyzed parts are corrected one by one.
    """
    forms = list(term.phrases[0])
    changed = False
    for i, form in enumerate(forms):
        if len(form) >= _MIN_CORRECTABLE and not await _in_index(db, form):
            close = await _closest(db, form, limit=1)
            if close:
                forms[i] = analyzer.fold(close[0])
                changed = True
    return make_term("".join(forms)) if changed and len(forms) > 1 else None


_Completion = tuple[int, int, str, int]  # (tier, -df, display, typed words it replaces)


async def suggest(
    db: aiosqlite.Connection, prefix: str, *, limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """Completions for what a reader is typing: words and names, most useful first.

    The last word is completed, or the last few when they begin a name of several words
    ("North Ko" → "North Korea"), a word to leave out too (-中 → -中国); the words before are
    kept as typed, and nothing they already say is offered again, nor a search of words to
    leave out alone (-North Ko), which would be refused. Topic labels are not offered: as
    words they find little, and the `topic` option is how a search keeps to a topic.
    """
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    text = analyzer.strip_invisible(prefix)[:MAX_OFFSET]
    # Any space ends a word: a Japanese IME types U+3000 between words.
    typed = text.split()
    completing = bool(typed) and not text[-1].isspace()
    word = analyzer.fold(_unmarked(typed[-1])) if completing else ""
    await _ensure_index(db)

    # Typing a name of several words, its last word alone would complete wrongly.
    if completing:
        names = _name_completions(typed)
        found = _completions(typed, names, limit)
        if found:
            return found
        if any(_leaves_out_only(_completed(typed, name, n)) for _, _, name, n in names):
            return []  # a name to leave out, alone: not one word of it searched instead
    # A minus alone ("台湾 -") is a word to leave out begun: completed like an empty one.
    replacing = 1 if completing else 0
    return _completions(typed, await _word_completions(db, word, limit, replacing), limit)


def _completions(typed: list[str], ranked: list[_Completion], limit: int) -> list[str]:
    """The typed words with each completion in place of the ones it completes, best first.

    A completion's words after those it completes are its own; one that adds a word already
    typed is left out ("Shinjiro Koi" → "Shinjiro Koizumi Shinjiro", "台湾 " → "台湾 台湾").
    A word to leave out keeps its minus (-North Ko → -North Korea); a search of only words to
    leave out, which would be refused, is not offered.
    """
    ranked.sort()
    said: dict[int, set[str]] = {}  # the words kept before a completion, by how many it replaces
    results: list[str] = []
    seen: set[str] = set()
    for _, _, shown, replaced in ranked:
        kept = typed[: len(typed) - replaced]
        if replaced not in said:
            said[replaced] = {analyzer.fold(w) for w in kept}
        added = shown.split()[replaced:]  # after the words it completes
        if any(analyzer.fold(w) in said[replaced] for w in added):
            continue
        mark = minus_mark(typed[len(kept)]) if replaced else ""
        if mark and analyzer.fold(shown) in said[replaced]:
            continue  # 台湾 -台湾 leaves out every article it finds
        full = _completed(typed, shown, replaced)
        if _leaves_out_only(full):
            continue  # -Sea of Japan, NOT Korea: the search would be refused
        if len(full) <= 100 and analyzer.fold(full) not in seen:
            seen.add(analyzer.fold(full))
            results.append(full)
        if len(results) == limit:
            break
    return results


def _completed(typed: list[str], shown: str, replaced: int) -> str:
    """The typed words with `shown` in place of the last `replaced`, keeping a minus."""
    kept = typed[: len(typed) - replaced]
    mark = minus_mark(typed[len(kept)]) if replaced else ""
    return " ".join([*kept, mark + shown])


def _leaves_out_only(text: str) -> bool:
    """Whether `text` would be refused as only words to leave out (parsed only when it begins
    with a minus or NOT: a word searched first never is)."""
    words = text.split(maxsplit=1)
    if not words or not (minus_mark(words[0]) or is_not(words[0])):
        return False
    return parse_query(text) is QueryProblem.ONLY_EXCLUDED


def _unmarked(word: str) -> str:
    """A typed word without the minus that leaves it out."""
    return word[len(minus_mark(word)) :]


def _name_completions(typed: list[str]) -> list[_Completion]:
    """Names of several words that the last few typed words begin ("North Ko", "-North Ko"):
    a minus begins a name, so a word after it ("North -Ko") is a word of its own."""
    found: list[_Completion] = []
    for n in range(min(_MAX_NAME_WORDS, len(typed)), 1, -1):
        words = typed[-n:]
        if any(minus_mark(word) for word in words[1:]):
            continue
        start = analyzer.fold(" ".join([_unmarked(words[0]), *words[1:]]))
        found.extend(
            (0, 0, name, n) for key, name in alias_spellings().items() if key.startswith(start)
        )
    return found


async def _word_completions(
    db: aiosqlite.Connection, word: str, limit: int, replacing: int = 1
) -> list[_Completion]:
    """Words and names that start with `word` (folded), or the most used words when it's empty
    (`replacing` the typed words they take the place of: none after a space)."""
    if not word:
        rows = await db.execute_fetchall(
            f"SELECT key, display, df FROM vocab WHERE length(key) > 1 AND {_SUGGESTIBLE}"  # noqa: S608
            " ORDER BY df DESC, key LIMIT ?",
            (limit * 2,),
        )
        return [(2, -int(df), str(display), replacing) for _, display, df in rows]
    rows = await db.execute_fetchall(
        f"SELECT key, display, df FROM vocab WHERE key >= ? AND key < ? AND {_SUGGESTIBLE}"  # noqa: S608
        " ORDER BY df DESC, key LIMIT ?",
        (word, word + _TOP, limit * 2),
    )
    found = [(0 if key == word else 2, -int(df), str(display), 1) for key, display, df in rows]
    found.extend((3, 0, name, 1) for key, name in alias_spellings().items() if key.startswith(word))
    return found


async def warm_up(db: aiosqlite.Connection) -> None:
    """Build the index if needed and load the analyzer, so no reader waits."""
    await _ensure_index(db)
    analyzer.analyze("日米同盟")
