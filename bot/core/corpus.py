"""Reading article files: the two seed text layouts and the JSON Lines format for operators.

Nothing here touches the database. A file that cannot be read becomes a warning naming the file
and line; the other files (and the other lines of a JSON Lines file) still import.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot.core.dates import (
    ARTICLE_YEARS,
    FUTURE_DAYS,
    DateMention,
    find_date,
    from_today,
    iso_day,
    latest_article_day,
    place_dates,
)
from bot.core.models import ArticleDraft, ImportWarning, visible
from bot.core.near_duplicates import first_similar
from bot.core.topics import load_taxonomy

TEXT_SUFFIXES = frozenset({".txt"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LISTING_BYTES = 1024 * 1024
SEEDS_ORIGIN = "seeds/"  # the origin of a seeds file is this and its name
MAX_TITLE = 80
# A repeated summary that differs only by a typo or a trailing phrase is the same article.
NEAR_DUPLICATE = 90.0

# The text may follow the date without a space, as Japanese text has none between words: only
# a digit or a Latin letter would make the date another one (2026-01-021, 2026-01-02T09:00).
# Full-width digits and dashes are read as half-width (NFKC), as a Japanese keyboard types them.
_HEADER = re.compile(r"^\s*date\s+(\d{4}[-－]\d{2}[-－]\d{2})(?![\dA-Za-zＡ-Ｚａ-ｚ_])[ \t]*(.*)$")
# A date written as the header's but followed by more: what the header's date became is named.
_HEADER_RUN_ON = re.compile(r"^\s*date\s+(\d{4}[-－]\d{2}[-－]\d{2}\S*)")
# A header meant but not written as `date YYYY-MM-DD` (Date:, 2026/1/2, no date): warned
# about, where read as a listing page each paragraph would become an article. Its spaces are
# matched possessively (`*+`): backtracking, `\s*[:：]?\s*` split a run of spaces between its
# two halves every way there is (a first line of "date", 40,000 spaces and "x" took 55 s).
_HEADER_MEANT = re.compile(
    r"^\s*date(?![a-z])\s*+[:：]?\s*+(?:$|[0-9０-９]{4}\s*(?:[-/.年－／]|$)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+[0-9])",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(r"^(本|この)ページ(では|は).*(掲載|紹介|まとめ)(しています|します)。?$")
_SENTENCE_END = ("。", "！", "？", "!", "?", "」", "』", ")", "）")
# Controls (category Cc, but for tab and newline) and invisible format characters (Cf: zero-width,
# bidi controls and isolates, the soft hyphen, tag characters) never belong in article text: a
# terminal obeys some, and all hide from the reader. Nor do lone surrogates, which only a JSON
# `\\ud800` escape can produce and which SQLite cannot store. Cf is listed (as of Unicode 15, and
# the whole tag block), not looked up: looking up every code point takes ~0.1 s at each start, and
# a fixed list cleans a text the same on every Python, so its identity (its hash) stays the same.
# Private-use characters are kept: they are a Japanese text's 外字, shown by its reader's font.
_JUNK_BMP = (
    r"\x00-\x08\x0b-\x1f\x7f-\x9f"
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
)
_JUNK_ASTRAL = (
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0000-\U000e007f"
)
_JUNK = re.compile(f"[{_JUNK_BMP}{_JUNK_ASTRAL}]")
_LEADING_JUNK = re.compile(rf"\A(?:{_JUNK.pattern})+")
# What `clean` looks for: those, and every character from the first astral one to the last, each
# then checked against `_JUNK`. Matching one range instead of six reads text ~3x faster, and text
# beyond the BMP (an emoji, 𠮷) is rare.
_MAYBE_JUNK = re.compile(rf"[{_JUNK_BMP}\U000110bd-\U000e007f]")


def _unless_kept(match: re.Match[str]) -> str:
    return "" if _JUNK.match(match.group()) else match.group()


def _line_breaks(text: str) -> str:
    """Line breaks as newlines: CRLF, a lone CR (which returns a terminal's cursor to the start
    of the line, so "Real headline\\rFAKE" shows as "FAKE"), U+2028; and U+2029 as a blank line,
    the paragraph break of the text layouts and of JSON Lines bodies."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u2028", "\n").replace("\u2029", "\n\n")


@dataclass(slots=True)
class CorpusRead:
    """What a file or folder held: the articles, and what could not be read."""

    drafts: list[ArticleDraft] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)

    def extend(self, other: CorpusRead) -> None:
        """Add another read's articles and warnings."""
        self.drafts.extend(other.drafts)
        self.warnings.extend(other.warnings)


def is_article_file_name(path: Path) -> bool:
    """Whether `path` is named as a file of articles (.txt, .jsonl, .ndjson)."""
    return path.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES


def _named(name: str) -> str:
    """A file or folder name as text: bytes that are not UTF-8 (which Python reads as lone
    surrogates, which SQLite and the terminal refuse) written as \\xff."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_path(path: Path, *, seeds: Path | None = None) -> CorpusRead:
    """Read a file, or every article file (.txt, .jsonl) in a folder, in name order.

    `seeds` is the shipped seeds folder, whose files get a location-independent origin.
    """
    if not os.path.isdir(path):  # unlike Path.is_dir, False (not an error) when it can't look
        return read_file(path, origin=file_origin(path, seeds))
    result = CorpusRead()
    try:
        children = sorted(path.iterdir())
    except OSError as exc:
        return _failed(_named(path.name or str(path)), f"cannot read folder: {exc.strerror or exc}")
    prefix = _origin_prefix(path, seeds)  # the folder resolved once, not once a file
    for child in children:
        if not is_article_file_name(child):
            continue
        try:
            is_file = child.is_file()
        except OSError as exc:  # a folder listed but not searchable (mode r--)
            result.warnings.append(
                ImportWarning(_named(child.name), None, f"cannot read file: {exc.strerror or exc}")
            )
            continue
        if is_file:
            result.extend(read_file(child, origin=prefix + _named(child.name)))
    return result


def file_origin(path: Path, seeds: Path | None = None) -> str:
    """The origin of a file's articles: `seeds/<name>` in the seeds folder, else the full path.

    The full path keeps two `news.jsonl` in different folders apart (edits are matched within an
    origin); the seeds' origin is the same wherever the bot is installed.
    """
    return _origin_prefix(path.parent, seeds) + _named(path.name)


def _origin_prefix(folder: Path, seeds: Path | None) -> str:
    # The folder is resolved, not the file: a link in the folder is that file, wherever it points.
    resolved = folder.resolve()
    if seeds is not None and resolved == seeds.resolve():
        return SEEDS_ORIGIN
    return _named(resolved.as_posix()).rstrip("/") + "/"  # the root folder is already "/"


def former_origin(origin: str) -> str | None:
    """The origin a file's articles had before origins were full paths: the bare file name."""
    if "://" in origin or "/" not in origin:
        return None  # a feed entry's origin, or already a bare name
    return origin.rsplit("/", 1)[1]


def read_file(path: Path, *, origin: str | None = None) -> CorpusRead:
    """Read one file in whichever supported layout it uses (origin: default `file_origin`)."""
    name = _named(path.name)
    origin = origin or file_origin(path)
    try:
        # Checked before reading: a device or FIFO would never end, a huge file fill memory.
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return _failed(name, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            return _failed(name, f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, skipped")
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # it may have grown since
    except OSError as exc:
        return _failed(name, f"cannot read file: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        return _failed(name, f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, skipped")
    encoding = _encoding_by_bom(raw)
    # UTF-16 and UTF-32 are full of NUL bytes; in a file without their BOM, a NUL means binary.
    if encoding == "utf-8-sig" and b"\x00" in raw:
        return _failed(name, "binary file, not text")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].decode(encoding, "replace").count("\n") + 1
        what = encoding.removesuffix("-sig").upper()
        return _failed(name, f"not {what} text (byte {exc.start})", line)
    if "\x00" in text:
        return _failed(name, "binary file, not text")
    if not text.strip():
        return CorpusRead(warnings=[ImportWarning(name, None, "empty file", empty=True)])
    # Invisible characters before the first line (a second BOM, a zero-width space) would
    # hide a `date` header and turn one article into a listing of its paragraphs.
    text = _LEADING_JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if path.suffix.lower() in JSONL_SUFFIXES:
        return _read_jsonl(name, origin, text)
    if path.suffix.lower() == ".json":
        # Read as a listing page, a JSON document would become one article of raw JSON.
        return _failed(name, "a .json file is not read: give articles as JSON Lines (.jsonl)")
    first = text.split("\n", 1)[0]
    if _HEADER.match(first):
        return _read_single(name, origin, text)
    if run_on := _HEADER_RUN_ON.match(first):
        value = run_on.group(1)
        shown = value if len(value) <= 30 else value[:30] + "…"
        message = f"invalid date in header: {shown!r}, expected `date YYYY-MM-DD` then the text"
        return _failed(name, message, 1)
    if _HEADER_MEANT.match(first):
        return _failed(name, "invalid date in header: expected `date YYYY-MM-DD` first", 1)
    # Measured as UTF-8, so that a page saved as UTF-16 has the same limit.
    size = len(raw) if encoding == "utf-8-sig" else len(text.encode("utf-8"))
    if size > MAX_LISTING_BYTES:
        # Each line is looked for among all the others (near duplicates); memory grows with the
        # page, ~40 MB a MB of varied text. A real listing page is far smaller.
        limit = MAX_LISTING_BYTES // (1024 * 1024)
        message = f"listing page larger than {limit} MB, skipped: split it, or use JSON Lines"
        return _failed(name, message)
    return _read_listing(name, origin, text)


# Byte order marks, longest first: UTF-32 LE's begins with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _encoding_by_bom(raw: bytes) -> str:
    """The encoding a byte order mark names (Windows editors save "Unicode" as UTF-16 with
    one); UTF-8, with or without its own mark, otherwise."""
    return next((encoding for bom, encoding in _BOMS if raw.startswith(bom)), "utf-8-sig")


def _source(name: str, line: int) -> str:
    """An article's default source, its file and line. Unlike a warning's file name, it is shown
    as stored (by the CLI, on Discord): a control character in the name is stored written out."""
    return f"{visible(name)}:{line}"


def _failed(name: str, message: str, line: int | None = None) -> CorpusRead:
    return CorpusRead(warnings=[ImportWarning(name, line, message)])


def clean(text: str) -> str:
    """Text with line breaks as newlines, other control and invisible characters removed, and
    spaces trimmed."""
    return _MAYBE_JUNK.sub(_unless_kept, _line_breaks(text)).strip()


# --- headlines --------------------------------------------------------------------------------


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


_SENTENCE_ENDS = re.compile("[。！？]")


def derive_title(text: str, limit: int = MAX_TITLE) -> str:
    """A headline from an article's lead sentence, at most `limit` characters.

    A long sentence is cut where a phrase ends (after punctuation, a space, or a run of
    hiragana before the next word) outside any brackets, never mid-word, and ends with `…`.
    """
    lines = clean(text).split("\n")
    # The first sentence with a word in it: a lead may open with a sentence's end (！速報、…, or
    # `date 2025-12-19 。日米…`), and what comes before that is no headline.
    sentences = (s.strip() for line in lines for s in _SENTENCE_ENDS.split(line))
    lead = next((s for s in sentences if any(ch.isalnum() for ch in s)), lines[0].strip())
    if len(lead) <= limit:
        return lead
    cuts: list[int] = []
    depth = 0
    for i, ch in enumerate(lead[:limit]):
        if ch in "「『（(【“":
            depth += 1
        elif ch in "」』）)】”":
            depth = max(0, depth - 1)
        if depth:
            continue
        nxt = lead[i + 1] if i + 1 < len(lead) else ""
        after_phrase = _is_hiragana(ch) and nxt and not _is_hiragana(nxt)
        if ch in "、，,・ \u3000" or (ch.isascii() and ch.isalnum() and nxt == " ") or after_phrase:
            cuts.append(i + 1)
    usable = [c for c in cuts if c <= limit - 1]
    cut = usable[-1] if usable else limit - 1
    return lead[:cut].rstrip("、，, \u3000") + "…"


# --- the listing layout -----------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    line: int
    body: str
    headline: str | None = None


def _listing_entries(name: str, text: str, warnings: list[ImportWarning]) -> list[_Entry]:
    lines = [(n, clean(raw)) for n, raw in enumerate(text.split("\n"), start=1)]
    lines = [(n, line) for n, line in lines if line]
    entries: list[_Entry] = []
    headline: str | None = None
    for index, (number, line) in enumerate(lines):
        if _BOILERPLATE.match(line):
            continue
        is_last = index == len(lines) - 1
        if _is_headline(line) and not is_last:
            if headline is not None:
                warnings.append(ImportWarning(name, number - 1, "headline without a summary"))
            headline = line
            continue
        entries.append(_Entry(number, line, headline))
        headline = None
    return entries


# How listing pages cut a line short, a headline or a summary.
_CUT_SHORT = ("…", "...", "‥")


def _is_headline(line: str) -> bool:
    """Whether a listing line is a headline: short, and no sentence ends at its end. A line cut
    short with … is a summary when it says on which day, as summaries do and headlines seldom
    do (防衛省は12月15日、…)."""
    if len(line) > 120 or line.endswith(_SENTENCE_END):
        return False
    return not line.endswith(_CUT_SHORT) or find_date(line) is None


def _dedupe(entries: list[_Entry]) -> list[_Entry]:
    kept: list[_Entry] = []
    alike = first_similar([entry.body for entry in entries], NEAR_DUPLICATE)
    first_of: dict[str, int] = {}
    for index, entry in enumerate(entries):
        first_of.setdefault(entry.body, index)
    for index, entry in enumerate(entries):
        similar = alike[index]
        if first_of[entry.body] < index:  # word for word, whatever else it is like
            repeated = first_of[entry.body]
        # Reports of recurring events are written to a formula: alike, but of other days.
        elif similar is not None and not _other_days(entry.body, entries[similar].body):
            repeated = similar
        else:
            kept.append(entry)
            continue
        if entries[repeated].headline is None:
            entries[repeated].headline = entry.headline
    return kept


def _other_days(text: str, other: str) -> bool:
    """Whether both texts say on which day, and not the same one."""
    day, other_day = find_date(text), find_date(other)
    return day is not None and other_day is not None and day != other_day


# A listing page is Japanese news: its "20日" is a day in Japan, whatever the bot's timezone
# (from midnight to 09:00 in Japan, the UTC date is still the day before).
LISTING_ZONE = ZoneInfo("Asia/Tokyo")


def _today() -> date:
    """Today in Japan, where the articles appear (ahead of most zones, so never too early)."""
    return datetime.now(LISTING_ZONE).date()


def _too_late(day: date) -> str | None:
    """Why `day` can't be an article's date, for the future beyond `FUTURE_DAYS`; else None."""
    latest = latest_article_day(_today())
    if day <= latest:
        return None
    return f"expected a date no later than {latest.isoformat()} ({FUTURE_DAYS} days from today)"


def _read_listing(name: str, origin: str, text: str) -> CorpusRead:
    warnings: list[ImportWarning] = []
    entries = _dedupe(_listing_entries(name, text, warnings))
    if not entries:
        warnings.append(ImportWarning(name, None, "no articles found"))
        return CorpusRead(warnings=warnings)
    today = _today()
    latest = latest_article_day(today)
    mentions: list[DateMention | None] = [find_date(e.body, latest=latest) for e in entries]
    placed = place_dates(mentions, today=today)
    guessed = from_today(mentions)  # every date inferred is today's guess
    drafts = [
        ArticleDraft(
            title=entry.headline or derive_title(entry.body),
            body=entry.body,
            published=published,
            date_inferred=inferred,
            origin=origin,
            source=_source(name, entry.line),
            title_derived=entry.headline is None,
            date_guessed=inferred and guessed,
        )
        for entry, (published, inferred) in zip(entries, placed, strict=True)
    ]
    return CorpusRead(drafts, warnings)


# --- the single-article layout ----------------------------------------------------------------


def _read_single(name: str, origin: str, text: str) -> CorpusRead:
    first, _, rest = text.partition("\n")
    header = _HEADER.match(first)
    assert header is not None  # checked by the caller
    published = iso_day(unicodedata.normalize("NFKC", header.group(1)))
    if published is None:
        return _failed(name, f"invalid date in header: {header.group(1)!r}", 1)
    if published.year not in ARTICLE_YEARS:
        # 0001-01-01 or 9999-12-31: a placeholder, which would sort first or last for ever.
        detail = f"expected a year between {ARTICLE_YEARS[0]} and {ARTICLE_YEARS[-1]}"
        return _failed(name, f"invalid date in header: {header.group(1)!r}, {detail}", 1)
    if (too_late := _too_late(published)) is not None:
        return _failed(name, f"invalid date in header: {header.group(1)!r}, {too_late}", 1)
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", header.group(2) + "\n" + rest):
        lines = [clean(line) for line in block.split("\n")]
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    if not paragraphs:
        return _failed(name, "article has a date but no text", 1)
    body = "\n\n".join(paragraphs)
    draft = ArticleDraft(
        title=derive_title(paragraphs[0]),
        body=body,
        published=published,
        date_inferred=False,
        origin=origin,
        source=_source(name, 1),
        title_derived=True,
    )
    return CorpusRead([draft], [])


# --- JSON Lines -------------------------------------------------------------------------------


def _visible(value: str) -> str:
    # Checked after cleaning: a title of zero-width spaces alone would be stored empty.
    cleaned = clean(value)
    if not cleaned:
        raise ValueError("must not be empty")
    return cleaned


_Text = Annotated[str, AfterValidator(_visible)]


def _shown_as_is(url: str) -> str:
    # A link is stored as written, not cleaned: one cleaned would lead elsewhere. But printed
    # (`show`) its escape sequences would drive the terminal, and a NUL or a direction override
    # hides where it leads, so a link holding any is refused, as one with a space is.
    if visible(url) != url:
        raise ValueError("expected a link without control or invisible characters")
    return url


_Link = Annotated[
    str, Field(max_length=2000, pattern=r"^https?://\S+$"), AfterValidator(_shown_as_is)
]


class JsonArticle(BaseModel):
    """One line of a JSON Lines article file (see docs/articles-jsonl.md)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[_Text, Field(max_length=300)]
    body: Annotated[_Text, Field(max_length=200_000)]
    published: date
    url: _Link | None = None
    source: Annotated[_Text, Field(max_length=200)] | None = None
    topics: Annotated[list[_Text], Field(max_length=10)] = []

    @field_validator("published", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> date:
        # Only ISO text: pydantic would read 0 or "86400" as a Unix time in 1970.
        if not isinstance(value, str):
            raise ValueError("expected a date as text, like 2026-02-01")
        day = iso_day(value[:10])
        if day is not None and len(value) > 10:
            # Feeds and exports often carry a full timestamp; the article's day is what we keep.
            try:
                day = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                day = None
        if day is None:
            raise ValueError("expected a date like 2026-02-01")
        if day.year not in ARTICLE_YEARS:
            first, last = ARTICLE_YEARS[0], ARTICLE_YEARS[-1]
            raise ValueError(f"expected a date between {first} and {last}")
        if (too_late := _too_late(day)) is not None:
            raise ValueError(too_late)
        return day


# What a field's pattern asks for, in words: pydantic would quote the regular expression.
_PATTERN_WORDS = {"url": "expected a link starting with http:// or https://, without spaces"}


def _describe(error: ValidationError) -> str:
    """The first problem in our own words (pydantic's are neither plain nor always right)."""
    problems = error.errors()
    text = _problem(problems[0])
    if len(problems) > 1:
        more = len(problems) - 1
        text += f" (and {more} more problem{'s' if more > 1 else ''})"
    return text


def _problem(detail: ErrorDetails) -> str:
    loc, kind = detail["loc"], detail["type"]
    ctx = detail.get("ctx", {})
    if kind == "extra_forbidden":
        return f"unknown field {str(loc[-1])!r}"
    if not loc:
        return "a field name is not valid text"
    where = str(loc[0])
    if len(loc) > 1 and isinstance(loc[1], int):
        where += f" item {loc[1] + 1}"
    if kind == "missing":
        what = "missing (required)"
    elif kind == "string_type":
        what = "expected text"
    elif kind == "string_unicode":
        what = "not valid text (an unpaired \\ud800-\\udfff escape)"
    elif kind == "list_type":
        what = 'expected a list of topic slugs, like ["taiwan"]'
    elif kind == "too_long" and ctx.get("field_type") == "List":
        what = f"too many, at most {ctx['max_length']}"
    elif kind in ("too_long", "string_too_long"):
        what = f"too long, at most {ctx['max_length']} characters"
    elif kind == "string_pattern_mismatch":
        what = _PATTERN_WORDS.get(where, "not in the expected form")
    elif kind == "value_error":
        what = str(ctx["error"])  # our own validators' words
    else:
        what = "not a valid value"
    return f"{where}: {what}"


class _RepeatedKey(Exception):
    """A JSON object names one key twice; json would quietly keep the last value."""


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return data


def _jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line


def _read_jsonl(name: str, origin: str, text: str) -> CorpusRead:
    result = CorpusRead()
    taxonomy = load_taxonomy()
    for number, line in _jsonl_lines(text):
        try:
            data = json.loads(line, object_pairs_hook=_object)
        except _RepeatedKey as exc:
            # Which of the two the writer meant is a guess; the line is refused, not half-read.
            key = str(exc.args[0])
            shown = repr(key if len(key) <= 40 else key[:40] + "…")
            message = f"invalid article: field {shown} given twice, keep one"
            result.warnings.append(ImportWarning(name, number, message))
            continue
        except json.JSONDecodeError as exc:
            # Some of json's messages end in "at", waiting for a position.
            what = exc.msg.removesuffix(" at")
            message = f"not valid JSON: {what[:1].lower()}{what[1:]} (column {exc.colno})"
            result.warnings.append(ImportWarning(name, number, message))
            continue
        except (ValueError, RecursionError) as exc:
            # Valid JSON that Python refuses to read: a number of thousands of digits, or
            # arrays nested thousands deep.
            why = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
            result.warnings.append(ImportWarning(name, number, f"not valid JSON: {why}"))
            continue
        if not isinstance(data, dict):
            result.warnings.append(ImportWarning(name, number, "expected a JSON object"))
            continue
        if "date" in data:
            if "published" in data:
                message = "invalid article: both published and date given, keep one"
                result.warnings.append(ImportWarning(name, number, message))
                continue
            data["published"] = data.pop("date")
        try:
            item = JsonArticle.model_validate(data)
        except ValidationError as exc:
            result.warnings.append(
                ImportWarning(name, number, f"invalid article: {_describe(exc)}")
            )
            continue
        topics: list[str] = []
        # A topic is named as `--topic` names it: by its slug or either label, in any case or
        # width (Taiwan, 台湾有事, ＴＡＩＷＡＮ); several names of one topic give it once.
        for named in dict.fromkeys(t.lower() for t in item.topics):
            if (topic := taxonomy.find(named)) is None:
                result.warnings.append(
                    ImportWarning(name, number, f"unknown topic {named!r} ignored")
                )
            elif topic.slug not in topics:
                topics.append(topic.slug)
        result.drafts.append(
            ArticleDraft(
                title=item.title,
                body=item.body,
                published=item.published,
                date_inferred=False,
                origin=origin,
                source=item.source or _source(name, number),
                url=item.url,
                topics=tuple(topics),
            )
        )
    return result
