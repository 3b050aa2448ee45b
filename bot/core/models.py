"""Plain data types shared by the core, the CLI and the Discord layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article as read from a seed file, JSON Lines file or feed, before it is stored."""

    title: str
    body: str
    published: date
    date_inferred: bool
    origin: str  # the file or feed it came from, e.g. "seeds/000_ec138bacc4a23740.txt"
    source: str  # where exactly, e.g. "000_ec138bacc4a23740.txt:2"
    title_derived: bool = False
    url: str | None = None
    topics: tuple[str, ...] = ()  # topics the source itself names (JSON Lines)


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article."""

    id: int
    title: str
    body: str
    published: date
    date_inferred: bool
    source: str
    url: str | None = None
    topics: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape used by `--json` output and the digest."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "published": self.published.isoformat(),
            "date_inferred": self.date_inferred,
            "topics": list(self.topics),
            "source": self.source,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """Something in an input file that could not be read; the rest still imports."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"
