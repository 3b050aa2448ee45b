"""Search, typo correction, snippets and autocomplete over the full-text index.

Ranking looks at a bounded window of candidates (the newest matches of the title and of the
whole text) instead of scoring every match of a common word: titles first, then how often the
words occur, then recency. Matches beyond the window follow, newest first.
"""

from __future__ import annotations

import bisect
import heapq
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, NamedTuple

import aiosqlite
from rapidfuzz import fuzz, process

from bot.core import articles
from bot.core.db import get_meta, transaction
from bot.core.models import Article
from bot.core.search import analyzer
from bot.core.search.index import GENERATION_KEY, index_is_current, rebuild_index
from bot.core.search.query import Query, QueryProblem, Term, load_aliases, make_term, parse_query
from bot.core.topics import load_taxonomy

Sort = Literal["relevance", "newest"]

MAX_LIMIT = 100
MAX_OFFSET = 10_000
SNIPPET_CHARS = 200
MAX_SUGGESTIONS = 25
# How many of the newest matches (per title and per text) are ranked by relevance: reading
# their text is most of a query's cost (about 0.15 ms per 10 candidates at 100k articles).
RANK_WINDOW = 30
_MIN_CORRECTABLE = 3
_TYPO_CUTOFF = 70.0
_SQUASH_CHARS = frozenset(" \u3000・･-‐－–—_.")
_FULL_SCAN_CHARS = 1000
# Characters analyzed either side of a probe hit to confirm it: far more than a word's length.
_CONFIRM_MARGIN = 12
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n|$)")


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
    total: int = 0
    corrected: str | None = None  # the query actually searched, after typo correction
    suggestions: list[str] = field(default_factory=list)
    problem: QueryProblem | None = None

    @property
    def error(self) -> str | None:
        """Why the query was refused (an English message), or None."""
        return self.problem.message("en") if self.problem else None

    def error_message(self, locale: str) -> str:
        """Why the query was refused, in the reader's language ("" when it was not)."""
        return self.problem.message(locale) if self.problem else ""


# Connections whose index was seen built by this analyzer version: only a process with another
# analyzer would rebuild it, so asking the database again on every query is wasted time.
_index_checked: weakref.WeakKeyDictionary[aiosqlite.Connection, str] = weakref.WeakKeyDictionary()


async def _ensure_index(db: aiosqlite.Connection) -> None:
    version = analyzer.version()
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
    """Find articles for a reader's query (Japanese or English), one page at a time."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, min(offset, MAX_OFFSET))
    parsed = parse_query(query)
    if isinstance(parsed, QueryProblem):
        return SearchResult(query=query[:100], problem=parsed)
    await _ensure_index(db)
    result = await _run(db, parsed, topic, limit, offset, sort)
    if result.total:
        return result
    corrected, suggestions = await _correct(db, parsed)
    if corrected is not None:
        result = await _run(db, corrected, topic, limit, offset, sort)
        if result.total:
            result.corrected = corrected.text
            return result
    result.suggestions = suggestions
    return result


def _topic_filter(topic: str | None) -> tuple[str, tuple[str, ...]]:
    if topic is None:
        return "", ()
    # `+rowid`: a bare `rowid IN (...)` becomes a constraint FTS5 serves by running the MATCH
    # again for each article of the topic (seconds at 100k articles); `+` makes SQLite run the
    # MATCH once and check the topic for each match.
    return " AND +rowid IN (SELECT article_id FROM article_topics WHERE topic = ?)", (topic,)


async def _run(
    db: aiosqlite.Connection, query: Query, topic: str | None, limit: int, offset: int, sort: Sort
) -> SearchResult:
    where, extra = _topic_filter(topic)
    expr = query.fts()
    result = SearchResult(query=query.text)
    if sort == "newest":
        rows = await db.execute_fetchall(
            f"SELECT count(*) FROM article_index WHERE article_index MATCH ?{where}",  # noqa: S608
            (expr, *extra),
        )
        result.total = int(next(iter(rows))[0])
        if not result.total or offset >= result.total:
            return result
        rows = await db.execute_fetchall(
            f"""
            SELECT id FROM articles
             WHERE id IN (SELECT rowid FROM article_index WHERE article_index MATCH ?{where})
             ORDER BY published DESC, id DESC LIMIT ? OFFSET ?
            """,  # noqa: S608
            (expr, *extra, limit, offset),
        )
        ids = [int(r[0]) for r in rows]
    else:
        window, result.total = await _ranked_window(db, query, where, extra)
        if not result.total or offset >= result.total:
            return result
        ids = await _ranked_page(db, query, where, extra, window, limit, offset)
    found = await articles.get_articles(db, ids)
    result.hits = [SearchHit(a, snippet(a.body, query.terms)) for a in found]
    return result


def _occurrences(forms: str, term: Term) -> int:
    padded = f" {forms} "
    return sum(padded.count(f" {' '.join(p)} ") for p in term.phrases)


async def _ranked_window(
    db: aiosqlite.Connection, query: Query, where: str, extra: tuple[str, ...]
) -> tuple[list[int], int]:
    """The newest matches in titles and anywhere, ranked; and how many articles match."""
    # One statement: the count, and the candidates with their analyzed text.
    expr = query.fts()
    rows = await db.execute_fetchall(
        f"""
        WITH total AS (
            SELECT count(*) AS n FROM article_index WHERE article_index MATCH ?{where}
        ), in_title AS (
            SELECT rowid AS id FROM article_index WHERE article_index MATCH ?{where}
             ORDER BY rowid DESC LIMIT ?
        ), anywhere AS (
            SELECT rowid AS id FROM article_index WHERE article_index MATCH ?{where}
             ORDER BY rowid DESC LIMIT ?
        )
        SELECT i.rowid, i.title, i.body, a.published, total.n FROM article_index AS i
          JOIN articles AS a ON a.id = i.rowid, total
         WHERE i.rowid IN (SELECT id FROM in_title UNION SELECT id FROM anywhere)
        """,  # noqa: S608
        (expr, *extra, query.fts(column="title"), *extra, RANK_WINDOW, expr, *extra, RANK_WINDOW),
    )
    rows = list(rows)
    scored: list[tuple[tuple[int, int, str, int], int]] = []
    for article_id, title, body, published, _ in rows:
        in_title_terms = sum(1 for t in query.terms if _occurrences(title, t))
        # A second mention says the article is about the word; more says little more.
        hits = sum(min(_occurrences(body, t), 2) for t in query.terms)
        key = (in_title_terms, hits, str(published), int(article_id))
        scored.append((key, int(article_id)))
    scored.sort(reverse=True)
    # Every match of the window holds the count; no row means no match.
    total = int(rows[0][4]) if rows else 0
    return [article_id for _, article_id in scored], total


async def _ranked_page(
    db: aiosqlite.Connection,
    query: Query,
    where: str,
    extra: tuple[str, ...],
    window: list[int],
    limit: int,
    offset: int,
) -> list[int]:
    ids = window[offset : offset + limit]
    if len(ids) == limit:
        return ids
    # Past the ranked window: the remaining matches, newest first.
    marks = ",".join("?" * len(window))
    rows = await db.execute_fetchall(
        f"""
        SELECT rowid FROM article_index
         WHERE article_index MATCH ?{where} AND rowid NOT IN ({marks})
         ORDER BY rowid DESC LIMIT ? OFFSET ?
        """,  # noqa: S608
        (query.fts(), *extra, *window, limit - len(ids), max(0, offset - len(window))),
    )
    return ids + [int(r[0]) for r in rows]


# --- snippets ---------------------------------------------------------------------------------


def _matches(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Character spans in `text` where any phrase of any term occurs, as the index sees it."""
    flat = [(form, tok.begin, tok.end) for tok in analyzer.analyze(text) for form in tok.forms]
    forms = [f for f, _, _ in flat]
    spans: list[tuple[int, int]] = []
    for phrase in {p for t in terms for p in t.phrases}:
        size = len(phrase)
        for i in range(len(forms) - size + 1):
            if tuple(forms[i : i + size]) == phrase:
                spans.append((flat[i][1], flat[i + size - 1][2]))
    return _merge(spans)


@lru_cache(maxsize=1024)
def _probe_pattern(probes: frozenset[str]) -> re.Pattern[str]:
    separators = "[" + re.escape("".join(sorted(_SQUASH_CHARS))) + "]*"
    alternatives = sorted(probes, key=len, reverse=True)
    return re.compile("|".join(separators.join(map(re.escape, p)) for p in alternatives))


def _probe_spans(text: str, probes: frozenset[str]) -> list[tuple[int, int]]:
    """Spans where a probe occurs in the folded text, separators ignored (ゴールデン・ドーム)."""
    folded = analyzer.fold(text)
    pattern = _probe_pattern(probes)
    if len(folded) == len(text):
        return [m.span() for m in pattern.finditer(folded)]
    # NFKC changed lengths (e.g. ｶﾞ → ガ): fold character by character to keep positions.
    origin = [i for i, c in enumerate(text) for _ in analyzer.fold(c)]
    folded = "".join(analyzer.fold(c) for c in text)
    return [
        (origin[m.start()], origin[m.end() - 1] + 1)
        for m in pattern.finditer(folded)
        if m.end() > m.start()
    ]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class _FirstMatch(NamedTuple):
    start: int  # where the first confirmed match begins
    lead: int  # where its sentence begins
    region: tuple[int, int]  # the analyzed text: inside it, only confirmed spans count
    spans: list[tuple[int, int]]  # confirmed matches in the body


def _confirm(body: str, terms: Sequence[Term], begin: int, end: int) -> list[tuple[int, int]]:
    """Confirmed matches in body[begin:end], as the index sees that text."""
    return [(begin + a, begin + b) for a, b in _matches(body[begin:end], terms)]


def _script(ch: str) -> str:
    folded = analyzer.fold(ch)[:1]
    if folded.isascii() and folded.isalnum():
        return "latin"
    if "\u30a1" <= folded <= "\u30fa" or folded == "ー":
        return "katakana"
    return "other"


def _clearly_bounded(text: str, begin: int, end: int) -> bool:
    """True when a katakana or Latin hit is a whole word: its neighbours are another script.

    Such a hit (トランプ in トランプ氏, B-52 in B-52戦略) needs no analysis to confirm. Kanji
    and kana hits always do: 核 in 中核, 強 in 強い look bounded by script and are not words.
    """
    kinds = {_script(ch) for ch in text[begin:end] if analyzer.fold(ch).isalnum()}
    if len(kinds) != 1 or (kind := kinds.pop()) == "other":
        return False
    before = _script(text[begin - 1]) if begin > 0 else None
    after = _script(text[end]) if end < len(text) else None
    return kind not in (before, after)


def _first_match(body: str, terms: Sequence[Term]) -> _FirstMatch | None:
    """The first match that analysis confirms, with what was analyzed around it."""
    sentences = [m.span() for m in _SENTENCE.finditer(body) if m.group().strip()]
    probes = frozenset("".join(p) for t in terms for p in t.phrases)
    # Probes are cheap but can hit inside longer words (核 in 中核): analyzing the text around
    # a candidate (its sentence, cut to a margin either side) confirms it. Normalized forms
    # (Washington → ワシントン) don't probe, so a short body without a confirmed candidate is
    # analyzed whole, sentence by sentence.
    analyzed_to = -1
    for begin, finish in _probe_spans(body, probes):
        if finish <= analyzed_to:
            continue
        s, e = next(((s, e) for s, e in sentences if s <= begin < e), (begin, finish))
        if _clearly_bounded(body, begin, finish):
            return _FirstMatch(begin, s, (begin, finish), [(begin, finish)])
        region = (max(s, begin - _CONFIRM_MARGIN), min(e, finish + _CONFIRM_MARGIN))
        analyzed_to = region[1]
        if spans := _confirm(body, terms, *region):
            return _FirstMatch(spans[0][0], s, region, spans)
    if len(body) <= _FULL_SCAN_CHARS:
        for s, e in sentences:
            if spans := _confirm(body, terms, s, e):
                return _FirstMatch(spans[0][0], s, (s, e), spans)
    return None


def snippet(
    body: str, terms: Sequence[Term], width: int = SNIPPET_CHARS
) -> tuple[tuple[str, bool], ...]:
    """About `width` characters of `body` around its first match, matches marked."""
    found = _first_match(body, terms)
    start = 0
    if found is not None:
        # Start at the sentence when the match is near its beginning, else shortly before it.
        start = found.lead if found.start - found.lead <= width // 3 else found.start - width // 5
    end = min(len(body), start + width)
    if end == len(body):
        start = max(0, min(start, end - width))
    window = body[start:end]
    marks: list[tuple[int, int]] = []
    if found is not None:
        confirmed = [(a - start, b - start) for a, b in found.spans]
        low, high = found.region[0] - start, found.region[1] - start
        # Inside the analyzed text only confirmed matches count; elsewhere, the probes.
        marks = confirmed + [
            (a, b)
            for a, b in _probe_spans(
                window, frozenset("".join(p) for t in terms for p in t.phrases)
            )
            if a >= high or b <= low
        ]
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    cursor = 0
    for a, b in _merge(
        [(max(0, a), min(len(window), b)) for a, b in marks if b > 0 and a < len(window)]
    ):
        if a > cursor:
            parts.append((window[cursor:a], False))
        parts.append((window[a:b], True))
        cursor = b
    if cursor < len(window):
        parts.append((window[cursor:], False))
    if end < len(body):
        parts.append(("…", False))
    return tuple((text.replace("\n", " "), marked) for text, marked in parts)


# --- vocabulary: typo correction and autocomplete ---------------------------------------------


@dataclass(slots=True)
class _Vocabulary:
    generation: str | None
    keys: list[str]  # sorted, for prefix lookups
    display: dict[str, str]
    df: dict[str, int]
    by_length: dict[int, list[str]]
    top: list[str]  # most frequent words, for an empty prefix


_vocab_cache: weakref.WeakKeyDictionary[aiosqlite.Connection, _Vocabulary] = (
    weakref.WeakKeyDictionary()
)


def _suggestible(display: str) -> bool:
    """False for hiragana-only nouns (とも, こと): grammar, not something a reader looks for."""
    return not all("\u3041" <= ch <= "\u309f" for ch in display)


async def _vocabulary(db: aiosqlite.Connection) -> _Vocabulary:
    generation = await get_meta(db, GENERATION_KEY)
    cached = _vocab_cache.get(db)
    if cached is not None and cached.generation == generation:
        return cached
    rows = await db.execute_fetchall("SELECT key, display, df FROM vocab")
    display = {str(k): str(d) for k, d, _ in rows}
    df = {str(k): int(n) for k, _, n in rows}
    by_length: dict[int, list[str]] = {}
    for key in display:
        by_length.setdefault(len(key), []).append(key)
    top = heapq.nlargest(
        200, (k for k in display if len(k) > 1 and _suggestible(display[k])), key=lambda k: df[k]
    )
    vocab = _Vocabulary(generation, sorted(display), display, df, by_length, top)
    _vocab_cache[db] = vocab
    return vocab


async def _matches_alone(db: aiosqlite.Connection, term: Term) -> bool:
    rows = await db.execute_fetchall(
        "SELECT 1 FROM article_index WHERE article_index MATCH ? LIMIT 1",
        (Query((term,)).fts(),),
    )
    return bool(list(rows))


def _closest(word: str, vocab: _Vocabulary, limit: int = 5) -> list[str]:
    pool = [k for n in range(len(word) - 2, len(word) + 3) for k in vocab.by_length.get(n, ())]
    found = process.extract(
        word, pool, scorer=fuzz.ratio, limit=limit * 3, score_cutoff=_TYPO_CUTOFF
    )
    # Equally close words: the more common one is the likelier intent.
    found.sort(key=lambda m: (-m[1], -vocab.df.get(m[0], 0)))
    aliases = [
        (key, fuzz.ratio(word, key))
        for key in load_aliases()
        if abs(len(key) - len(word)) <= 2 and fuzz.ratio(word, key) >= 80
    ]
    ranked = [(vocab.display[k], s) for k, s, _ in found] + aliases
    ranked.sort(key=lambda m: -m[1])
    return list(dict.fromkeys(text for text, _ in ranked))[:limit]


async def _correct(db: aiosqlite.Connection, query: Query) -> tuple[Query | None, list[str]]:
    """A corrected query (each unmatched word replaced by its closest vocabulary word)."""
    vocab = await _vocabulary(db)
    terms: list[Term] = []
    suggestions: list[str] = []
    changed = False
    for term in query.terms:
        word = analyzer.fold(term.text)
        if term.aliased or len(word) < _MIN_CORRECTABLE or await _matches_alone(db, term):
            terms.append(term)
            continue
        close = _closest(word, vocab)
        suggestions.extend(close)
        fixed = (
            make_term(close[0], load_aliases().get(analyzer.fold(close[0]), ()))
            if close
            else _correct_parts(term, vocab)
        )
        if fixed is None:
            terms.append(term)
        else:
            terms.append(fixed)
            changed = True
    return (Query(tuple(terms)) if changed else None), suggestions[:MAX_SUGGESTIONS]


def _correct_parts(term: Term, vocab: _Vocabulary) -> Term | None:
    """The term with each unknown word inside it corrected (イージズ艦 → イージス艦), or None.

    A compound such as イージス艦 may only be in the vocabulary as part of a longer run, so
    when the whole word has no close match, its analyzed parts are corrected one by one.
    """
    forms = list(term.phrases[0])
    changed = False
    for i, form in enumerate(forms):
        if len(form) >= _MIN_CORRECTABLE and form not in vocab.df:
            close = _closest(form, vocab, limit=1)
            if close:
                forms[i] = analyzer.fold(close[0])
                changed = True
    return make_term("".join(forms)) if changed and len(forms) > 1 else None


async def suggest(
    db: aiosqlite.Connection, prefix: str, *, limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """Completions for what a reader is typing: words, names and topics, most useful first.

    Only the last word is completed; the words before it are kept as typed.
    """
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    text = analyzer.strip_invisible(prefix)[:MAX_OFFSET]
    head, _, last = text.rpartition(" ") if text.rstrip() == text else (text.strip(), "", "")
    head = " ".join(head.split())[:80]
    word = analyzer.fold(last.strip())
    await _ensure_index(db)
    vocab = await _vocabulary(db)

    ranked: list[tuple[int, int, str]] = []  # (tier, -df, display); lower sorts first
    for topic in load_taxonomy().topics:
        for label in (topic.label_ja, topic.label_en):
            if word and analyzer.fold(label).startswith(word):
                ranked.append((1, 0, label))
    if not word:
        ranked.extend((2, -vocab.df[k], vocab.display[k]) for k in vocab.top[: limit * 2])
    else:
        start = bisect.bisect_left(vocab.keys, word)
        matches: list[str] = []
        for key in vocab.keys[start : start + 5000]:
            if not key.startswith(word):
                break
            if _suggestible(vocab.display[key]):
                matches.append(key)
        best = heapq.nlargest(limit * 2, matches, key=lambda k: vocab.df[k])
        ranked.extend((0 if k == word else 2, -vocab.df[k], vocab.display[k]) for k in best)
        ranked.extend((3, 0, key) for key in load_aliases() if key.startswith(word))
    ranked.sort()
    results: list[str] = []
    seen: set[str] = set()
    for _, _, shown in ranked:
        full = f"{head} {shown}".strip() if head else shown
        if len(full) <= 100 and analyzer.fold(full) not in seen:
            seen.add(analyzer.fold(full))
            results.append(full)
        if len(results) == limit:
            break
    return results


async def warm_up(db: aiosqlite.Connection) -> None:
    """Build the index if needed and load the analyzer and vocabulary, so no reader waits."""
    await _ensure_index(db)
    await _vocabulary(db)
    analyzer.analyze("日米同盟")
