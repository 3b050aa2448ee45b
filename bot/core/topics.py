"""The topic taxonomy (shipped as data in `bot/core/data/topics.toml`) and tagging by rules."""

from __future__ import annotations

import asyncio
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import aiosqlite

from bot.core.db import bump_generation, get_meta, set_meta

_VERSION_KEY = "taxonomy_version"


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic: a stable slug and its labels."""

    slug: str
    label_ja: str
    label_en: str

    def label(self, locale: str) -> str:
        """The label for a locale ("ja" or anything else for English)."""
        return self.label_ja if locale.startswith("ja") else self.label_en


class TaxonomyError(ValueError):
    """The taxonomy data file is malformed."""


def fold(text: str) -> str:
    """Text as the rules see it: NFKC (full-width to half-width and back) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _name_key(name: str) -> str:
    """A topic's name as looked up: folded, with spaces and underscores read as the slugs' -."""
    return re.sub(r"[\s_]+", "-", fold(name).strip())


class Taxonomy:
    """The topics and the keyword rules that assign them."""

    def __init__(self, data: dict[str, Any], version: str) -> None:
        try:
            self.threshold = float(data.get("threshold", 3))
            self.max_topics = int(data.get("max_topics", 3))
            self.min_share = float(data.get("min_share", 0.0))
            entries = data["topic"]
            self.topics = tuple(Topic(e["slug"], e["label_ja"], e["label_en"]) for e in entries)
            weights: dict[str, list[tuple[int, float]]] = {}
            self._patterns: list[tuple[re.Pattern[str], int, float]] = []
            for index, entry in enumerate(entries):
                for keyword, weight in entry.get("keywords", {}).items():
                    weights.setdefault(fold(keyword), []).append((index, float(weight)))
                for pattern, weight in entry.get("patterns", {}).items():
                    self._patterns.append((re.compile(pattern), index, float(weight)))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise TaxonomyError(f"invalid topic taxonomy: {exc!r}") from exc
        slugs = [t.slug for t in self.topics]
        if len(set(slugs)) != len(slugs):
            raise TaxonomyError("invalid topic taxonomy: duplicate slug")
        self.version = version
        self._by_slug = {t.slug: t for t in self.topics}
        # Slugs first: a label spelled like another topic's slug never takes that slug.
        self._by_name: dict[str, Topic] = {}
        named = [(t.slug, t) for t in self.topics] + [
            (label, t) for t in self.topics for label in (t.label_ja, t.label_en)
        ]
        for name, topic in named:
            self._by_name.setdefault(_name_key(name), topic)
        self._weights = weights
        # Longest keyword first, so 台湾有事 is one hit rather than also a hit for 台湾.
        alternation = "|".join(re.escape(k) for k in sorted(weights, key=len, reverse=True))
        self._keywords = re.compile(alternation)

    def get(self, slug: str) -> Topic | None:
        """The topic with this slug, or None."""
        return self._by_slug.get(slug)

    def find(self, name: str) -> Topic | None:
        """The topic a person named, by its slug or either label, in any case and full- or
        half-width (`Taiwan`, `ＴＡＩＷＡＮ`, `台湾有事`, `taiwan contingency`), or None."""
        return self._by_name.get(_name_key(name))

    def label(self, slug: str, locale: str) -> str:
        """A topic's label in a locale; the slug itself for an unknown topic."""
        topic = self._by_slug.get(slug)
        return topic.label(locale) if topic else slug

    def scores(self, title: str, body: str) -> list[float]:
        """The rule score of every topic for a text, in taxonomy order."""
        scores = [0.0] * len(self.topics)
        for text, factor in ((fold(title), 2.0), (fold(body), 1.0)):
            for match in self._keywords.finditer(text):
                for index, weight in self._weights[match.group()]:
                    scores[index] += weight * factor
            for pattern, index, weight in self._patterns:
                scores[index] += weight * factor * len(pattern.findall(text))
        return scores

    def tag(self, title: str, body: str) -> tuple[str, ...]:
        """Every topic the text supports, strongest first (at most `max_topics`)."""
        scores = self.scores(title, body)
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        floor = max(self.threshold, scores[ranked[0]] * self.min_share) if ranked else 0.0
        chosen = [i for i in ranked if scores[i] >= floor][: self.max_topics]
        return tuple(self.topics[i].slug for i in chosen)


def parse_taxonomy(raw: bytes) -> Taxonomy:
    """A taxonomy from the bytes of a TOML file."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError(f"invalid topic taxonomy: {exc}") from exc
    return Taxonomy(data, hashlib.sha256(raw).hexdigest()[:16])


@cache
def load_taxonomy() -> Taxonomy:
    """The shipped taxonomy (read once per process)."""
    raw = resources.files("bot.core").joinpath("data", "topics.toml").read_bytes()
    return parse_taxonomy(raw)


async def sync_topics(db: aiosqlite.Connection, taxonomy: Taxonomy) -> bool:
    """Write the taxonomy to the topics table; True when it changed since the last sync.

    Runs inside the caller's transaction, so a failed ingest also keeps the old taxonomy.
    """
    if await get_meta(db, _VERSION_KEY) == taxonomy.version:
        return False
    await db.executemany(
        """
        INSERT INTO topics (slug, label_ja, label_en, position) VALUES (?, ?, ?, ?)
        ON CONFLICT (slug) DO UPDATE
           SET label_ja = excluded.label_ja, label_en = excluded.label_en,
               position = excluded.position
        """,
        [(t.slug, t.label_ja, t.label_en, i) for i, t in enumerate(taxonomy.topics)],
    )
    slugs = [t.slug for t in taxonomy.topics]
    marks = ",".join("?" * len(slugs))
    query = f"SELECT DISTINCT article_id FROM article_topics WHERE topic NOT IN ({marks})"  # noqa: S608
    losing = [int(r[0]) for r in await db.execute_fetchall(query, slugs)]
    # Topics dropped from the taxonomy go, with their assignments (ON DELETE CASCADE).
    await db.execute(f"DELETE FROM topics WHERE slug NOT IN ({marks})", slugs)  # noqa: S608
    if losing:
        await _refresh_index_topics(db, losing)
    await set_meta(db, _VERSION_KEY, taxonomy.version)
    return True


async def retag_all(db: aiosqlite.Connection, taxonomy: Taxonomy) -> None:
    """Re-run the rules on every article (topics named by a source file are kept).

    The search index's topics follow; only the entries of articles whose topics changed are
    rewritten.
    """
    await db.execute("DELETE FROM article_topics WHERE assigned_by = 'rules'")
    rows = [
        (int(aid), str(title), str(body))
        for aid, title, body in await db.execute_fetchall("SELECT id, title, body FROM articles")
    ]

    def tag_all() -> list[tuple[int, str]]:
        return [(aid, slug) for aid, title, body in rows for slug in taxonomy.tag(title, body)]

    # The rules take ~50 µs an article: many articles are tagged off the event loop.
    params = await asyncio.to_thread(tag_all) if len(rows) > 500 else tag_all()
    await db.executemany(
        """
        INSERT INTO article_topics (article_id, topic, assigned_by) VALUES (?, ?, 'rules')
        ON CONFLICT DO NOTHING
        """,
        params,
    )
    await _refresh_index_topics(db)
    await bump_generation(db)


async def _refresh_index_topics(db: aiosqlite.Connection, ids: list[int] | None = None) -> None:
    """The search index's copy of the articles' topics, made equal to article_topics again."""
    # Imported here: bot.core.search imports this module.
    from bot.core.search.index import refresh_topics

    await refresh_topics(db, ids)


async def topic_counts(db: aiosqlite.Connection) -> list[tuple[Topic, int]]:
    """Every topic, in taxonomy order, with how many articles it has."""
    taxonomy = load_taxonomy()
    rows = await db.execute_fetchall("SELECT topic, count(*) FROM article_topics GROUP BY topic")
    counts = {str(slug): int(n) for slug, n in rows}
    return [(t, counts.get(t.slug, 0)) for t in taxonomy.topics]
