"""The feeds an operator follows: `feeds.toml` next to the database, plus feeds added at runtime.

```toml
[[feed]]
url = "https://example.jp/rss/politics.xml"   # http or https
name = "Example 政治"                          # optional; shown as the articles' source
interval = 30                                  # minutes between fetches: default 30, minimum 5
kind = "general"                               # "alliance" (default) or "general"
```

An `alliance` feed is about the alliance already and keeps every entry; a `general` feed keeps
only entries about the US–Japan alliance (see `bot.core.feeds.filter`).

Merge rule. The bot never writes `feeds.toml`: it is the operator's file, read at start-up and on
reload. Feeds added at runtime (`alliance-bot feeds add`, `/alliance-feeds add`) are stored in
the database (`runtime_feeds`). The feeds followed are the union of both, and when a URL is in
both the file's settings win. `feeds remove` only removes runtime feeds; a feed from the file is
removed by editing the file. Each feed's status lives in the database whatever its origin.

The local network. Feeds the operator writes (`feeds.toml`, `alliance-bot feeds add`) may be on
loopback or private addresses. Feeds added from Discord may not: their URL is refused if it
names such an address, and each fetch refuses any host that resolves to one, at every redirect
(`runtime_feeds.allow_private`, see `bot.core.feeds.fetch.Fetcher`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from bot.core.feeds.reasons import FeedError, Reason

FeedKind = Literal["alliance", "general"]
KINDS: tuple[FeedKind, ...] = ("alliance", "general")

FILE_NAME = "feeds.toml"
DEFAULT_INTERVAL = 30
MIN_INTERVAL = 5
MAX_INTERVAL = 24 * 60
MAX_URL_LENGTH = 2000
MAX_NAME_LENGTH = 100


class FeedConfigError(FeedError, ValueError):
    """A feed setting or the feeds file is invalid; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One followed feed."""

    url: str  # canonical (see `canonical_url`): the feed's identity everywhere
    name: str | None = None
    interval: int = DEFAULT_INTERVAL  # minutes
    kind: FeedKind = "alliance"

    @property
    def display_name(self) -> str:
        """The name, or the feed's host when it has none."""
        return self.name or urlsplit(self.url).hostname or self.url


@dataclass(slots=True)
class LoadedFeeds:
    """The feeds read from the file and the entries that were skipped, with why."""

    feeds: list[FeedConfig] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def get(self, url: str) -> FeedConfig | None:
        """The feed with this URL (in any spelling `canonical_url` accepts), or None."""
        try:
            wanted = canonical_url(url)
        except FeedConfigError:
            return None
        return next((f for f in self.feeds if f.url == wanted), None)


def feeds_path(db_path: Path) -> Path:
    """Where the feeds file lives: beside the database."""
    return db_path.parent / FILE_NAME


def canonical_url(raw: str, *, allow_private: bool = True) -> str:
    """A feed URL checked and spelled one way (lower-case scheme and host, no fragment).

    `allow_private=False` also refuses loopback, private and link-local hosts written as
    addresses or `localhost`, for URLs typed by Discord admins rather than the operator.
    """
    url = raw.strip()
    if not url:
        raise FeedConfigError(Reason.URL_EMPTY)
    if len(url) > MAX_URL_LENGTH:
        raise FeedConfigError(Reason.URL_TOO_LONG, limit=MAX_URL_LENGTH)
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise FeedConfigError(Reason.URL_SPACES)
    if any(unicodedata.category(ch) == "Cs" for ch in url):
        # A terminal's bytes that are not UTF-8, which no request could carry.
        raise FeedConfigError(Reason.URL_INVALID, detail="not UTF-8 text")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FeedConfigError(Reason.URL_INVALID, detail=str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise FeedConfigError(Reason.URL_SCHEME)
    host = (parts.hostname or "").lower()
    if not host:
        raise FeedConfigError(Reason.URL_NO_HOST)
    if parts.username is not None or parts.password is not None:
        # They would be shown by `/alliance-feeds list` and written to the logs.
        raise FeedConfigError(Reason.URL_CREDENTIALS)
    if not allow_private and _is_private_host(host):
        raise FeedConfigError(Reason.URL_PRIVATE)
    netloc = f"[{host}]" if ":" in host else host
    default_port = 80 if scheme == "http" else 443
    if port is not None and port != default_port:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# A DNS label as hosts spell them (underscores, which some hosts have, included).
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def is_host_name(host: str) -> bool:
    """Whether `host` (lower-case, from a URL) can name a host: an IP address, or a name
    whose labels, in their ASCII form (IDNA for 日本.jp), are DNS labels."""
    if ":" in host:  # only an IPv6 address has colons; urlsplit took out the brackets
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _is_private_host(host: str) -> bool:
    host = host.removesuffix(".")  # "localhost." and "127.0.0.1." name the same hosts
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The short and numeric IPv4 spellings resolvers accept: 127.1, 2130706433, 0x7f.1.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def clean_name(raw: str | None) -> str | None:
    """A display name without control characters, or None when nothing is left."""
    if raw is None:
        return None
    name = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_NAME_LENGTH:
        raise FeedConfigError(Reason.NAME_TOO_LONG, limit=MAX_NAME_LENGTH)
    return name or None


def check_interval(value: object) -> int:
    """Minutes between fetches, within the allowed range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FeedConfigError(Reason.INTERVAL_NOT_INT)
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise FeedConfigError(Reason.INTERVAL_RANGE, low=MIN_INTERVAL, high=MAX_INTERVAL)
    return value


def check_kind(value: object) -> FeedKind:
    """`alliance` or `general`."""
    for kind in KINDS:
        if value == kind:
            return kind
    raise FeedConfigError(Reason.KIND_INVALID)


def make_feed(
    url: str,
    *,
    name: str | None = None,
    interval: object = DEFAULT_INTERVAL,
    kind: object = "alliance",
    allow_private: bool = True,
) -> FeedConfig:
    """A checked feed from user input; raises `FeedConfigError` with a readable reason."""
    checked = canonical_url(url, allow_private=allow_private)
    # Checked here, not in `canonical_url`, which also finds feeds stored before this check.
    host = urlsplit(checked).hostname or ""
    if not is_host_name(host):
        raise FeedConfigError(Reason.URL_BAD_HOST, host=host)
    return FeedConfig(
        url=checked,
        name=clean_name(name),
        interval=check_interval(interval),
        kind=check_kind(kind),
    )


def _feed_from_table(table: object) -> FeedConfig:
    if not isinstance(table, dict):
        raise FeedConfigError(Reason.ENTRY_NOT_TABLE)
    unknown = set(table) - {"url", "name", "interval", "kind"}
    if unknown:
        raise FeedConfigError(Reason.ENTRY_UNKNOWN_KEYS, keys=", ".join(sorted(unknown)))
    url = table.get("url")
    if not isinstance(url, str):
        raise FeedConfigError(Reason.ENTRY_NO_URL)
    name = table.get("name")
    if name is not None and not isinstance(name, str):
        raise FeedConfigError(Reason.ENTRY_NAME_TYPE)
    return make_feed(
        url,
        name=name,
        interval=table.get("interval", DEFAULT_INTERVAL),
        kind=table.get("kind", "alliance"),
    )


def parse_feeds(text: str, *, where: str = FILE_NAME) -> LoadedFeeds:
    """Feeds from the text of a feeds file; bad entries are skipped and reported."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FeedConfigError(Reason.FILE_NOT_TOML, file=where, detail=str(exc)) from None
    loaded = LoadedFeeds()
    tables = data.get("feed", [])
    if not isinstance(tables, list):
        raise FeedConfigError(Reason.FILE_LAYOUT, file=where)
    seen: set[str] = set()
    for number, table in enumerate(tables, start=1):
        try:
            feed = _feed_from_table(table)
        except FeedConfigError as exc:
            loaded.problems.append(f"{where}: feed #{number} skipped: {exc}")
            continue
        if feed.url in seen:
            loaded.problems.append(f"{where}: feed #{number} skipped: {feed.url} is listed twice")
            continue
        seen.add(feed.url)
        loaded.feeds.append(feed)
    # A misspelt table ([[feeds]]) would follow nothing, without a word, like an empty file.
    unknown = sorted(set(data) - {"feed"})
    if unknown:
        keys = ", ".join(unknown)
        loaded.problems.append(f"{where}: unknown key(s) {keys} ignored: feeds are [[feed]] tables")
    return loaded


def load_feeds(path: Path) -> LoadedFeeds:
    """The feeds in `path`; a missing file means no feeds."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedFeeds()
    except OSError as exc:
        raise FeedConfigError(
            Reason.FILE_UNREADABLE, file=str(path), detail=exc.strerror or type(exc).__name__
        ) from None
    try:
        # utf-8-sig: Windows editors (Notepad) save UTF-8 with a BOM, which TOML refuses.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedConfigError(Reason.FILE_NOT_UTF8, file=str(path)) from None
    return parse_feeds(text, where=str(path))
