"""Storing each story once: by GUID, then by URL, then by near-identical title and body.

1. GUID: an entry whose key (GUID, else link) this feed delivered before is known; a feed that
   rewrites its dates on every fetch therefore changes nothing.
2. URL: an entry whose link is an article's URL, or the link of an entry any feed delivered
   before, is that article (a GUID scheme change, or a story in two feeds with one link).
3. Text: an entry is the same story as an article published within `WINDOW` of it when their
   titles share at least half their character bigrams (the cheap filter), name the same
   numbers (第7回 and 第8回 are two stories, however alike the rest), and
   `rapidfuzz.fuzz.ratio` of the folded title and body is at least `NEAR_DUPLICATE`. The
   articles compared are those published within `WINDOW` of the batch's entries (from the
   earliest entry's date − WINDOW to the latest's + WINDOW), and the batch's earlier entries.

`RecentArticles` keeps those articles indexed across the batches of one run of fetches.
"""

from __future__ import annotations

import asyncio
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import aiosqlite
from rapidfuzz import fuzz

from bot.core.db import execute_in
from bot.core.topics import fold

NEAR_DUPLICATE = 90.0
WINDOW = timedelta(days=7)
# Enough text to tell two stories apart; comparing whole long bodies only costs time.
COMPARE_CHARS = 1000
# Bigrams shared by more titles than this (日米, 防衛) say little about identity: skipped.
_MAX_POSTING = 400
_MIN_SHARED = 0.5
_CANDIDATES = 10
# Indexing more articles than this for a batch runs in a worker thread, off the event loop: a
# batch whose entries' dates lie years apart covers every article between (40,000 took 1.6 s).
_THREAD_ROWS = 2000
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
    url: str | None = None  # the article's link


async def known_entries(
    db: aiosqlite.Connection, feed_id: int, keys: Sequence[str]
) -> dict[str, Known]:
    """Entries of this feed already stored, by entry key."""
    query = """
        SELECT e.entry_key, a.id, a.origin, a.content_hash, a.published, a.date_inferred, a.url
          FROM feed_entries AS e JOIN articles AS a ON a.id = e.article_id
         WHERE e.feed_id = ? AND e.entry_key IN ({marks})
    """
    return {
        str(key): Known(
            int(aid),
            str(origin),
            str(digest),
            date.fromisoformat(published),
            bool(inferred),
            None if url is None else str(url),
        )
        for key, aid, origin, digest, published, inferred, url in await execute_in(
            db, query, keys, before=(feed_id,)
        )
    }


async def articles_by_url(db: aiosqlite.Connection, urls: Sequence[str]) -> dict[str, int]:
    """Articles whose URL, or whose entries' links in any feed, are among `urls`."""
    query = """
        SELECT url, article_id FROM feed_entries WHERE url IN ({marks})
        UNION ALL
        SELECT url, id FROM articles WHERE url IN ({marks})
    """
    found: dict[str, int] = {}
    for url, aid in await execute_in(db, query, urls):
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
    """Titles and texts of stories, to find the one an entry nearly repeats.

    A story may carry a day (an ordinal date); `find` limited to a range of days then sees only
    the stories of those days, counting only them for the common-bigram cutoff too, as if the
    index held nothing else.
    """

    def __init__(self) -> None:
        # gram → (days, slots), both sorted by day, so the stories of a range of days are a slice.
        self._postings: dict[str, tuple[list[int], list[int]]] = {}
        self._ids: list[int] = []
        self._stories: list[tuple[str, str]] = []
        self._days: list[int] = []
        self._slot_of: dict[int, int] = {}
        self._texts: dict[int, str] = {}  # compare_text, made only for candidates

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, ident: object) -> bool:
        return ident in self._slot_of

    def add(self, ident: int, title: str, body: str, day: int = 0) -> None:
        """Remember a story under `ident` (an article id, or any caller-chosen number).

        A story already under `ident` is replaced.
        """
        self.remove(ident)
        slot = len(self._ids)
        self._ids.append(ident)
        self._stories.append((title, body))
        self._days.append(day)
        self._slot_of[ident] = slot
        postings = self._postings
        for gram in _title_key(title)[0]:
            posting = postings.get(gram)
            if posting is None:
                postings[gram] = ([day], [slot])
            else:
                days, slots = posting
                at = bisect_right(days, day)
                days.insert(at, day)
                slots.insert(at, slot)

    def remove(self, ident: int) -> None:
        """Forget the story under `ident`, if any."""
        slot = self._slot_of.pop(ident, None)
        if slot is None:
            return
        day = self._days[slot]
        for gram in _title_key(self._stories[slot][0])[0]:
            days, slots = self._postings[gram]
            at = slots.index(slot, bisect_left(days, day), bisect_right(days, day))
            del days[at], slots[at]
        self._stories[slot] = ("", "")
        self._texts.pop(slot, None)

    def _text(self, slot: int) -> str:
        text = self._texts.get(slot)
        if text is None:
            text = self._texts[slot] = compare_text(*self._stories[slot])
        return text

    def find(self, title: str, body: str, days: tuple[int, int] | None = None) -> int | None:
        """The `ident` of a near-identical story (of `days`, first and last, when given)."""
        grams, numbers = _title_key(title)
        if not grams:
            return None
        shared: Counter[int] = Counter()
        for gram in grams:
            posting = self._postings.get(gram)
            if posting is None:
                continue
            dates, slots = posting
            lo, hi = (0, len(slots)) if days is None else _between(dates, days)
            if 0 < hi - lo <= _MAX_POSTING:
                shared.update(slots[lo:hi])
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


def _between(dates: list[int], days: tuple[int, int]) -> tuple[int, int]:
    return bisect_left(dates, days[0]), bisect_right(dates, days[1])


class RecentArticles:
    """The articles near-duplicates are looked for among, indexed once for a run of fetches.

    Each batch of entries needs the articles published within `WINDOW` of its entries; `cover`
    loads only those not indexed yet, so the feeds of one `fetch_all` share one index instead
    of each reloading and reindexing the same recent articles. It stays what the database
    holds: `store_entries` refreshes the articles it stores or edits on this connection, and a
    commit from any other connection (`PRAGMA data_version` changes) empties it.
    """

    def __init__(self) -> None:
        self.index = NearIndex()
        self._span: tuple[int, int] | None = None  # the days loaded, as ordinals
        self._version: int | None = None

    def forget(self) -> None:
        """Drop everything: the next `cover` reloads from the database."""
        self.index, self._span, self._version = NearIndex(), None, None

    async def cover(self, db: aiosqlite.Connection, dates: Sequence[date]) -> tuple[int, int]:
        """Index the articles published within `WINDOW` of `dates`; return those days."""
        wanted = first, last = _window(dates)
        rows = await db.execute_fetchall("PRAGMA data_version")
        version = int(next(iter(rows))[0])
        if version != self._version:
            self.forget()
            self._version = version
        if self._span is None:
            gaps = [(first, last)]
        else:
            low, high = self._span
            gaps = [(first, low - 1)] if first < low else []
            if last > high:
                gaps.append((high + 1, last))
            first, last = min(first, low), max(last, high)
        for start, end in gaps:
            query = """
                SELECT id, title, substr(body, 1, ?), published FROM articles
                 WHERE published BETWEEN ? AND ?
            """
            bounds = (date.fromordinal(start).isoformat(), date.fromordinal(end).isoformat())
            rows = list(await db.execute_fetchall(query, (COMPARE_CHARS, *bounds)))
            if len(rows) > _THREAD_ROWS:
                # Into this index, whatever `forget` puts in its place if the task is cancelled.
                await asyncio.to_thread(_add_rows, self.index, rows)
            else:
                _add_rows(self.index, rows)
        self._span = (first, last)
        return wanted

    async def refresh(self, db: aiosqlite.Connection, ids: Iterable[int]) -> None:
        """Re-read articles this connection just stored or changed."""
        query = (
            "SELECT id, title, substr(body, 1, ?), published FROM articles WHERE id IN ({marks})"
        )
        for aid, title, body, published in await execute_in(
            db, query, ids, before=(COMPARE_CHARS,)
        ):
            day = date.fromisoformat(str(published)).toordinal()
            if self._span is not None and self._span[0] <= day <= self._span[1]:
                self.index.add(int(aid), str(title), str(body), day)
            else:
                self.index.remove(int(aid))  # loaded with its day when a batch needs it


def _add_rows(index: NearIndex, rows: Iterable[aiosqlite.Row]) -> None:
    """Index the articles of rows (id, title, body, published) that it does not hold yet."""
    for aid, title, body, published in rows:
        if int(aid) not in index:  # stored by this run after it covered its day
            day = date.fromisoformat(str(published)).toordinal()
            index.add(int(aid), str(title), str(body), day)


def _window(dates: Sequence[date]) -> tuple[int, int]:
    return (min(dates) - WINDOW).toordinal(), (max(dates) + WINDOW).toordinal()


def match_stories(
    index: NearIndex, stories: Sequence[tuple[str, str, date]], days: tuple[int, int]
) -> list[int | None]:
    """For each (title, body, published): the id of a near-identical article of `index` among
    `days`, or `-1 - j` when it repeats the earlier story `j` of the same batch, or None.

    The batch's stories are in `index` only while it runs. CPU-bound: callers run big batches
    in a worker thread, and change `index` meanwhile in no other way.
    """
    matches: list[int | None] = []
    added: list[int] = []
    try:
        for j, (title, body, published) in enumerate(stories):
            match = index.find(title, body, days)
            if match is None:
                index.add(-1 - j, title, body, published.toordinal())
                added.append(-1 - j)
            matches.append(match)
    finally:
        for ident in added:
            index.remove(ident)
    return matches
