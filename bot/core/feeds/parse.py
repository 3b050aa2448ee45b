"""Feed bytes to entries (RSS 2.0, Atom, RDF; UTF-8, Shift_JIS, EUC-JP), entries to drafts.

feedparser reads the XML, but the text is decoded here first: real Japanese feeds declare
`Shift_JIS` and use Windows-31J characters (①, ㈱), or are served as `text/xml` with no charset,
and feedparser then falls back to windows-1252 and produces mojibake.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import (
    parse_qsl,
    quote,
    unquote_plus,
    urlencode,
    urljoin,
    urlsplit,
    urlunsplit,
)

from bot.core.corpus import clean
from bot.core.dates import ARTICLE_YEARS
from bot.core.feeds.moments import feed_moment
from bot.core.feeds.reasons import FeedError, Reason
from bot.core.models import ArticleDraft

# More entries than this in one document is not a news feed; the rest are ignored.
MAX_ENTRIES = 500
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 20_000
MAX_KEY_CHARS = 1_000
# A date further ahead than this is a feed's mistake: such entries get the fetch time instead.
FUTURE_SLACK = timedelta(days=1)

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_ENCODING_TEXT = re.compile(r"""^(\s*<\?xml[^>]*?\s)encoding\s*=\s*["'][^"']*["']""")
# Numeric character references. One to a character XML forbids (a lone surrogate such as
# &#xD800;) made feedparser's fallback parser fail on the whole feed.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# Names Japanese servers use that Python's codec registry does not know, or maps too narrowly:
# Shift_JIS on the web is Windows-31J (cp932), a superset with NEC and IBM extensions.
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "cseucpkdfmtjapanese": "euc_jp",
}
# Single-byte charsets decode any bytes, so a server's default `charset=ISO-8859-1` would hide
# the document's own declaration: those are tried after it.
_WEAK = {"latin_1", "iso8859-1", "cp1252", "ascii"}
_FALLBACKS = ("utf-8", "cp932", "euc_jp", "euc_jis_2004")

_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}
)
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"[^\S\n]+")
_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|yclid|mc_eid|mc_cid)$", re.IGNORECASE)


class FeedParseError(FeedError):
    """The document is not a feed we can read; the message says why."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed, as plain text."""

    # Identity within the feed: the GUID, else the link, else a hash of the title. Entries
    # without a GUID sharing a link (see `link_shared`) add a hash of their title to it.
    key: str
    guid: str | None
    url: str | None
    title: str
    title_derived: bool
    body: str
    # Aware; naive when the feed gave no zone (its clock time, read in the feed's timezone);
    # None when it gave no usable date.
    published: datetime | None
    # Other entries of the document without a GUID, with other texts, link where this one does
    # (an index page): the link tells neither the entry nor its story apart.
    link_shared: bool = False

    @property
    def story_url(self) -> str | None:
        """The link, when it tells the entry's story apart (not a link other entries share)."""
        return None if self.link_shared else self.url


@dataclass(slots=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str | None
    version: str
    encoding: str
    entries: list[FeedEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- decoding ----------------------------------------------------------------------------------


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _mostly_clean(text: str) -> bool:
    """Whether a text decoded with replacement characters has few of them: one in five of its
    non-ASCII characters at most (Shift_JIS or EUC-JP read as UTF-8 has more bad than good)."""
    bad = text.count("\ufffd")
    return bad * 4 <= sum(1 for ch in text if ch > "\x7f") - bad


def _halfwidth_kana(text: str) -> int:
    return sum(1 for ch in text if "\uff61" <= ch <= "\uff9f")


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The document's text and the encoding used: BOM (or UTF-16's byte order), then HTTP
    charset and XML declaration.

    Each candidate must decode strictly. When none does, UTF-8 is still used, with replacement
    characters, if only a few of its characters are bad: a stray byte in a UTF-8 feed can
    leave cp932 the one encoding that decodes it whole, into nonsense. (Only UTF-8: its
    multi-byte characters rarely form by chance, while an EUC-JP feed read as cp932 has few
    bad characters.) Else an undeclared one that decodes is used, and failing those the first
    declared one with replacement characters rather than dropping the feed.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if body.startswith(bom):
            return body[len(bom) :].decode(name, "replace"), name
    if body.startswith(codecs.BOM_UTF16_BE):
        return body[2:].decode("utf-16-be", "replace"), "utf-16-be"
    # UTF-16 without a BOM, which XML allows when the declaration names it: the declaration's
    # "<?" tells the byte order (XML 1.0, appendix F). No other encoding puts NULs beside them;
    # read as UTF-8 they decode without an error, into a document no parser reads.
    for start, name in ((b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be")):
        if body.startswith(start):
            return body.decode(name, "replace"), name

    header_match = _CHARSET.search(content_type or "")
    header = _codec(header_match.group(1)) if header_match else None
    declared_match = _XML_ENCODING.match(body[:1024])
    declared = _codec(declared_match.group(1).decode("ascii")) if declared_match else None
    ordered = [declared, header] if header in _WEAK else [header, declared]
    explicit = [name for name in ordered if name]
    candidates = list(dict.fromkeys([*explicit, *(_codec(n) for n in _FALLBACKS)]))

    decoded: list[tuple[str, str]] = []
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            text = body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if candidate in explicit or candidate == "utf-8":
            return text, candidate
        decoded.append((text, candidate))
    text = body.decode("utf-8", "replace")
    if _mostly_clean(text):
        return text, "utf-8"
    if decoded:
        # Undeclared and not UTF-8: EUC-JP bytes also decode as cp932, into half-width kana.
        return min(decoded, key=lambda pair: _halfwidth_kana(pair[0]))
    fallback = explicit[0] if explicit else None
    fallback = fallback or "utf-8"
    return body.decode(fallback, "replace"), fallback


# --- HTML to text ------------------------------------------------------------------------------


_TAG = re.compile(r"<[^<>]*>?")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<script/>` opens nothing, so it must not start skipping.
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def tidy_text(text: str) -> str:
    """Control and invisible characters removed, runs of spaces collapsed, lines trimmed, blank
    lines dropped."""
    text = clean(text).replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment: tags dropped, scripts and styles removed entirely."""
    if "<" not in html and "&" not in html:
        return tidy_text(html)
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        if extractor.rawdata.startswith("<"):
            # What the parser waits for more of: a tag, comment or declaration left open to the
            # end, which HTML drops (as Python does from 3.11.13, 3.12.11 and 3.13.4). Closed
            # over it, an older Python's parser read the rest again from each "<" in it: 72 KB
            # of "<a x='" in an entry took 12 s of a worker thread holding the GIL.
            extractor.rawdata = ""
        extractor.close()
    except AssertionError:
        # An older Python's parser asserts on a malformed declaration (`a <![ b`); the entry,
        # and with it the whole feed, would fail on every fetch. Its tags are cut out instead.
        return tidy_text(unescape(_TAG.sub(" ", html)))
    return tidy_text("".join(extractor.parts))


# --- entries -----------------------------------------------------------------------------------


# A feed's link may hold what no URL may (a space) or what would end a Markdown link early: sent
# as given, Discord refused the embed. Percent-encoded, it names the same page.
_UNSAFE_IN_LINK = re.compile(r"[\s()<>\[\]\"'`{}|\\^]")


def well_formed(url: str) -> str:
    """`url` with the characters a URL can't hold, or a Markdown link can't, percent-encoded."""
    return _UNSAFE_IN_LINK.sub(lambda m: quote(m.group(), safe=""), url)


def normalize_link(link: str, base: str) -> str | None:
    """An entry's link made absolute, without fragment and tracking parameters; None if unusable."""
    try:
        parts = urlsplit(urljoin(base, link.strip()))
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    query = urlencode([pair for piece in parts.query.split("&") for pair in _untracked(piece)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _untracked(piece: str) -> Iterator[tuple[str, str]]:
    """A query's `key=value` piece, decoded, unless its key is a tracking one. Where a literal
    `;` separates parameters after a tracking one (`utm_source=rss;id=5`), those after it are
    the link's own: kept. Read raw, so each is decoded once and an escaped `;` separates none."""
    key, _, value = piece.partition("=")
    if not _TRACKING_PARAMS.match(unquote_plus(key)):
        yield from parse_qsl(piece, keep_blank_values=True)
        return
    for rest in value.split(";")[1:]:
        yield from _untracked(rest)


def _text_of(detail: Any, fallback: Any) -> str:
    """Text of a feedparser text construct: HTML stripped only when it is HTML."""
    value = detail.get("value") if isinstance(detail, dict) else None
    if not isinstance(value, str):
        value = fallback if isinstance(fallback, str) else ""
    kind = detail.get("type", "") if isinstance(detail, dict) else ""
    if "html" in str(kind) or not kind:
        return html_to_text(value)
    return tidy_text(value)


# A CMS writes a date it lacks as 0 seconds since the epoch: no date, not an article of 1970.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _is_epoch(moment: datetime) -> bool:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) == _EPOCH


def _date_of(entry: Any) -> datetime | None:
    moment = _written_date(entry)
    return None if moment is None or _is_epoch(moment) else moment


def _written_date(entry: Any) -> datetime | None:
    for name in ("published", "updated", "created"):
        # dict.get: feedparser's own get() answers a missing updated_parsed with the published
        # date (with a deprecation warning), which may be the one just refused.
        raw = dict.get(entry, name)
        moment = feed_moment(raw) if isinstance(raw, str) else None
        if moment is not None and moment.year in ARTICLE_YEARS:
            return moment
        parsed = dict.get(entry, f"{name}_parsed")
        if isinstance(parsed, time.struct_time) and parsed.tm_year in ARTICLE_YEARS:
            try:
                return datetime(*parsed[:6], tzinfo=UTC)  # feedparser gives UTC
            except (ValueError, OverflowError):
                continue
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _entry(raw: Any, base: str) -> FeedEntry | None:
    title = _text_of(raw.get("title_detail"), raw.get("title")).replace("\n", " ")
    bodies = [_text_of(raw.get("summary_detail"), raw.get("summary"))]
    for content in raw.get("content") or ():
        bodies.append(_text_of(content, None))
    body = max(bodies, key=len)
    title_derived = False
    if not title:
        if not body:
            return None
        title = body.split("\n", 1)[0]
        title = re.split(r"(?<=。)", title, maxsplit=1)[0]
        title = _clip(title, 60)
        title_derived = True
    title = _clip(title, MAX_TITLE_CHARS)
    body = _clip(body, MAX_BODY_CHARS)

    link = raw.get("link")
    url = normalize_link(link, base) if isinstance(link, str) and link.strip() else None
    guid_raw = raw.get("id")
    guid = guid_raw.strip()[:MAX_KEY_CHARS] if isinstance(guid_raw, str) else None
    guid = guid or None
    if guid:
        key = guid
    elif url:
        key = url[:MAX_KEY_CHARS]  # as before links were encoded: keys already stored still match
    else:
        key = "title:" + hashlib.sha256(title.encode("utf-8")).hexdigest()
    link_url = well_formed(url) if url else None
    return FeedEntry(key, guid, link_url, title, title_derived, body, _date_of(raw))


def _xml_char_or_nothing(ref: re.Match[str]) -> str:
    """The reference itself when XML allows its character, else nothing."""
    digits = (ref[1] or ref[2]).lstrip("0") or "0"
    if len(digits) > 8:  # past the last character there is (and int() would refuse 5,000 digits)
        return ""
    code = int(digits, 16) if ref[1] else int(digits)
    allowed = (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
    return ref[0] if allowed else ""


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Entries of a feed document; raises `FeedParseError` when there is no feed to read.

    CPU-bound (feedparser): run it in a worker thread from async code.
    """
    import feedparser

    text, encoding = decode_document(body, content_type)
    text = _XML_ENCODING_TEXT.sub(r'\1encoding="utf-8"', text.lstrip("\ufeff"), count=1)
    text = _CHAR_REF.sub(_xml_char_or_nothing, text)
    try:
        result = feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers={
                "content-type": "application/xml; charset=utf-8",
                "content-location": url,
            },
            # The text is stripped to plain text below, scripts included; feedparser's own
            # sanitizer and link rewriting would only cost time.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:
        # feedparser's fallback parsers raise whatever a hostile document makes them meet:
        # the feed is unreadable, not our code broken.
        raise FeedParseError(Reason.UNREADABLE_FEED, detail=type(exc).__name__) from exc
    raw_entries = list(result.get("entries") or ())
    version = str(result.get("version") or "")
    problems: list[str] = []
    if result.get("bozo"):
        reason = result.get("bozo_exception")
        if not raw_entries and not version:
            raise FeedParseError(Reason.UNREADABLE_FEED, detail=str(reason))
        problems.append(f"malformed feed, read what could be read: {reason}")
    if not version and not raw_entries:
        raise FeedParseError(Reason.NOT_A_FEED)
    if len(raw_entries) > MAX_ENTRIES:
        problems.append(f"{len(raw_entries)} entries; only the first {MAX_ENTRIES} were read")
        raw_entries = raw_entries[:MAX_ENTRIES]

    feed_info = result.get("feed") or {}
    title = _text_of(feed_info.get("title_detail"), feed_info.get("title")) or None
    parsed = ParsedFeed(title=title, version=version, encoding=encoding, problems=problems)
    skipped = 0
    for raw in raw_entries:
        entry = _entry(raw, url)
        if entry is None:
            skipped += 1
        else:
            parsed.entries.append(entry)
    if skipped:
        parsed.problems.append(f"{skipped} entries without title or text skipped")
    parsed.entries = _keyed_apart(parsed.entries)
    return parsed


def _keyed_apart(entries: list[FeedEntry]) -> list[FeedEntry]:
    """Entries without a GUID that share a link with other texts (an index page) are marked
    `link_shared` and known by link and title instead of the link (by their text too where
    the title is shared as well)."""
    texts: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)  # by link
    for entry in entries:
        if entry.guid is None and entry.url:
            texts[entry.key].add((entry.title, entry.body))
    keyed: list[FeedEntry] = []
    for entry in entries:
        told = texts.get(entry.key, ()) if entry.guid is None else ()
        if len(told) > 1:
            one_text = sum(title == entry.title for title, _ in told) == 1
            text = entry.title if one_text else entry.title + "\x1f" + entry.body
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
            key = f"{entry.key[: MAX_KEY_CHARS - 33]}#{digest}"
            entry = replace(entry, key=key, link_shared=True)
        keyed.append(entry)
    return keyed


def entry_draft(
    entry: FeedEntry,
    *,
    feed_url: str,
    source: str,
    tz: tzinfo,
    fetched_at: datetime,
) -> ArticleDraft:
    """The article for an entry, dated in `tz`; undated (or far-future) entries get the fetch time.

    The origin is the feed URL plus the entry's key, so `ingest` only ever takes an article as an
    edit of the same entry, never of another story from the same feed.
    """
    published = entry.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=tz)
    inferred = published is None or published > fetched_at + FUTURE_SLACK
    moment = fetched_at if inferred or published is None else published
    return ArticleDraft(
        title=entry.title,
        body=entry.body,
        published=moment.astimezone(tz).date(),
        date_inferred=inferred,
        date_guessed=inferred,  # the fetch time
        origin=entry_origin(feed_url, entry.key),
        source=source,
        title_derived=entry.title_derived,
        url=entry.url,
    )


def entry_origin(feed_url: str, key: str) -> str:
    """The `origin` of an entry's article."""
    return f"{feed_url}#{key}"
