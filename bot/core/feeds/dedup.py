"""Storing each story once: by GUID, then by URL, then by near-identical title and body.

1. GUID: an entry whose key (GUID, else link) this feed delivered before is known; a feed that
   rewrites its dates on every fetch therefore changes nothing.
2. URL: an entry whose link is an article's URL, or the link of an entry any feed delivered
   before, is that article (a GUID scheme change, or a story in two feeds with one link).
3. Text: an entry is the same story as an article published within `WINDOW` of it when their
   titles share at least half their character bigrams (the cheap filter), name the same
   numbers (第7回 and 第8回 are two stories, however alike the rest), and
   `rapidfuzz.fuzz.ratio` of the folded title and body is at least `NEAR_DUPLICATE`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import aiosqlite
from rapidfuzz import fuzz

from bot.core.topics import fold

NEAR_DUPLICATE = 90.0
WINDOW = timedelta(days=7)
# Enough text to tell two stories apart; comparing whole long bodies only costs time.
COMPARE_CHARS = 1000
# Bigrams shared by more titles than this (日米, 防衛) say little about identity: skipped.
_MAX_POSTING = 400
_MIN_SHARED = 0.5
_CANDIDATES = 10
_CHUNK = 900
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class Known:
    """An entry this feed delivered before, and the article it became."""

    article_id: int
    origin: str
    content_hash: str
    published: date
    date_inferred: bool


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def known_entries(
    db: aiosqlite.Connection, feed_id: int, keys: Sequence[str]
) -> dict[str, Known]:
    """Entries of this feed already stored, by entry key."""
    found: dict[str, Known] = {}
    for chunk in _chunks(list(dict.fromkeys(keys))):
        marks = ",".join("?" * len(chunk))
        query = f"""
            SELECT e.entry_key, a.id, a.origin, a.content_hash, a.published, a.date_inferred
              FROM feed_entries AS e JOIN articles AS a ON a.id = e.article_id
             WHERE e.feed_id = ? AND e.entry_key IN ({marks})
        """  # noqa: S608
        for key, aid, origin, digest, published, inferred in await db.execute_fetchall(
            query, (feed_id, *chunk)
        ):
            found[str(key)] = Known(
                int(aid), str(origin), str(digest), date.fromisoformat(published), bool(inferred)
            )
    return found


async def articles_by_url(db: aiosqlite.Connection, urls: Sequence[str]) -> dict[str, int]:
    """Articles whose URL, or whose entries' links in any feed, are among `urls`."""
    found: dict[str, int] = {}
    for chunk in _chunks(list(dict.fromkeys(urls))):
        marks = ",".join("?" * len(chunk))
        query = f"""
            SELECT url, article_id FROM feed_entries WHERE url IN ({marks})
            UNION ALL
            SELECT url, id FROM articles WHERE url IN ({marks})
        """  # noqa: S608
        for url, aid in await db.execute_fetchall(query, (*chunk, *chunk)):
            found.setdefault(str(url), int(aid))
    return found


@lru_cache(maxsize=8192)
def _title_key(title: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """A title's character bigrams and the numbers it names.

    Cached: each fetch indexes the same recent articles again, and this is most of the cost.
    """
    text = _SPACE.sub("", fold(title))
    grams = {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}
    return tuple(g for g in grams if g), frozenset(_NUMBER.findall(text))


def compare_text(title: str, body: str) -> str:
    """The text two stories are compared on: folded, spaces collapsed, body cut short."""
    return _SPACE.sub(" ", fold(f"{title}\n{body[:COMPARE_CHARS]}")).strip()


class NearIndex:
    """Titles and texts of stories, to find the one an entry nearly repeats."""

    def __init__(self) -> None:
        self._postings: dict[str, list[int]] = {}
        self._ids: list[int] = []
        self._stories: list[tuple[str, str]] = []
        self._texts: dict[int, str] = {}  # compare_text, made only for candidates

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ident: int, title: str, body: str) -> None:
        """Remember a story under `ident` (an article id, or any caller-chosen number)."""
        slot = len(self._ids)
        self._ids.append(ident)
        self._stories.append((title, body))
        postings = self._postings
        for gram in _title_key(title)[0]:
            if gram in postings:
                postings[gram].append(slot)
            else:
                postings[gram] = [slot]

    def _text(self, slot: int) -> str:
        text = self._texts.get(slot)
        if text is None:
            text = self._texts[slot] = compare_text(*self._stories[slot])
        return text

    def find(self, title: str, body: str) -> int | None:
        """The `ident` of a near-identical story, or None."""
        grams, numbers = _title_key(title)
        if not grams:
            return None
        shared: Counter[int] = Counter()
        for gram in grams:
            posting = self._postings.get(gram)
            if posting and len(posting) <= _MAX_POSTING:
                shared.update(posting)
        need = _MIN_SHARED * len(grams)
        text = compare_text(title, body)
        for slot, count in shared.most_common(_CANDIDATES):
            if count < need:
                break
            if numbers != _title_key(self._stories[slot][0])[1]:
                continue
            if fuzz.ratio(text, self._text(slot), score_cutoff=NEAR_DUPLICATE):
                return self._ids[slot]
        return None


async def recent_articles(
    db: aiosqlite.Connection, dates: Sequence[date]
) -> list[tuple[int, str, str]]:
    """(id, title, start of body) of the articles published within `WINDOW` of any of `dates`."""
    if not dates:
        return []
    start, end = min(dates) - WINDOW, max(dates) + WINDOW
    query = """
        SELECT id, title, substr(body, 1, ?) FROM articles
         WHERE published BETWEEN ? AND ?
    """
    rows = await db.execute_fetchall(query, (COMPARE_CHARS, start.isoformat(), end.isoformat()))
    return [(int(aid), str(title), str(body)) for aid, title, body in rows]


def match_stories(
    pool: Sequence[tuple[int, str, str]], stories: Sequence[tuple[str, str]]
) -> list[int | None]:
    """For each (title, body): the id of a near-identical article of `pool`, or `-1 - j` when it
    repeats the earlier story `j` of the same batch, or None when it is new.

    CPU-bound: callers run big batches in a worker thread.
    """
    index = NearIndex()
    for article_id, title, body in pool:
        index.add(article_id, title, body)
    matches: list[int | None] = []
    for j, (title, body) in enumerate(stories):
        match = index.find(title, body)
        if match is None:
            index.add(-1 - j, title, body)
        matches.append(match)
    return matches
