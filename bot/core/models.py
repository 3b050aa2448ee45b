"""Plain data types shared by the core, the CLI and the Discord layer."""

from __future__ import annotations

import unicodedata
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
    # Inferred from the day it was read, not from the text: each later read would guess again,
    # differently, so the first read's date is kept (see `articles.ingest`).
    date_guessed: bool = False


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

    @property
    def title_line(self) -> str:
        """The title on one line: one imported from JSON Lines may hold line breaks and tabs,
        which a list line, a menu option or a heading must not show."""
        return " ".join(self.title.split())

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


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Controls (C0, DEL, C1), format characters (bidi overrides, zero-width ones), line separators and
# lone surrogates (an undecodable file name byte): raw, they can drive or fool a terminal.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def counted(count: int, noun: str) -> str:
    """A count with its English noun, singular for one: "1 result", "3 results"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def visible(text: str, *, keep: str = "") -> str:
    """`text` safe to print: control and invisible characters shown as escapes like `\\x1b`,
    but for those in `keep` (an article's newlines and tabs)."""
    if text.isprintable():  # the usual case: no look-up per character
        return text
    return "".join(
        _escape(ch) if ch not in keep and unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """Something in an input file that could not be read; the rest still imports."""

    path: str
    line: int | None
    message: str
    # An empty file held nothing to import: said, but no failure to read one (a drop folder's
    # export may be empty today), so that an import of only such files exits 0.
    empty: bool = False

    def __str__(self) -> str:
        """`file:line: message`, every character visible (file names and messages are input)."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return visible(f"{where}: {self.message}")
