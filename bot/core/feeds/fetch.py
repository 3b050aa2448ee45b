"""Polite HTTP for feeds: conditional requests, timeouts, per-host spacing and a size cap.

A `Fetcher` owns one aiohttp session. Requests to the same host run one at a time, with at
least `spacing` seconds between the end of one and the start of the next. The body is read in
chunks and the download stops as soon as it passes `max_bytes` (after decompression, so a
small gzip bomb is caught too). Every failure is a `FetchError` with a readable message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 30.0  # seconds for the whole request, body included
CONNECT_TIMEOUT = 10.0
HOST_SPACING = 2.0  # seconds between requests to one host
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
USER_AGENT = "alliance-bot/0.1 (news digest; self-hosted feed reader)"
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


class FetchError(Exception):
    """A fetch failed; `retry_after` is the server's requested wait in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A response worth reading: 200 with a body, or 304 Not Modified."""

    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    url: str  # after redirects

    @property
    def not_modified(self) -> bool:
        """True for 304: the feed is as it was at the last fetch."""
        return self.status == 304


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HostSpacing:
    """One request at a time per host, `spacing` seconds apart."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_end: dict[str, float] = {}

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        """Wait for this host's turn, hold it for the block, then start its quiet period."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self._last_end.get(host, -1e9) + self.spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last_end[host] = time.monotonic()


class Fetcher:
    """Fetches feed documents; create inside the event loop, `close()` when done."""

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
        spacing: float = HOST_SPACING,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.spacing = HostSpacing(spacing)
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout, sock_connect=min(CONNECT_TIMEOUT, self.timeout)
                ),
                headers={"User-Agent": self.user_agent, "Accept": _ACCEPT},
                # Feeds are public: never send or keep cookies between feeds.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed, conditionally when validators from the last fetch are given."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = (urlsplit(url).hostname or "").lower()
        async with self.spacing.turn(host):
            try:
                return await self._get(url, headers)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(f"timed out after {self.timeout:g} s") from None
            except aiohttp.TooManyRedirects:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"connection failed: {exc or type(exc).__name__}") from None

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        session = self._get_session()
        async with session.get(url, headers=headers, max_redirects=MAX_REDIRECTS) as resp:
            final_url = str(resp.url)
            if resp.status == 304:
                return FetchResult(
                    304,
                    b"",
                    None,
                    resp.headers.get("ETag"),
                    resp.headers.get("Last-Modified"),
                    final_url,
                )
            if resp.status != 200:
                raise FetchError(
                    f"HTTP {resp.status} {resp.reason or ''}".strip(),
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                )
            length = resp.content_length
            if length is not None and length > self.max_bytes:
                raise FetchError(f"too large: {length} bytes (limit {self.max_bytes})")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    # Leaving the block unread closes the connection: the rest is never read.
                    raise FetchError(f"too large: over {self.max_bytes} bytes")
            return FetchResult(
                200,
                bytes(body),
                resp.headers.get("Content-Type"),
                resp.headers.get("ETag"),
                resp.headers.get("Last-Modified"),
                final_url,
            )
