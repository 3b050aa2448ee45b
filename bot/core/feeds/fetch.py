"""Polite HTTP for feeds: conditional requests, timeouts, per-host spacing and a size cap.

A `Fetcher` owns one aiohttp session. Requests to the same host run one at a time, with at
least `spacing` seconds between the end of one and the start of the next. The body is read in
chunks and the download stops as soon as it passes `max_bytes` (after decompression, so a
small gzip bomb is caught too). Every failure is a `FetchError` with a readable message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 30.0  # seconds for the whole request, body included
CONNECT_TIMEOUT = 10.0
HOST_SPACING = 2.0  # seconds between requests to one host
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
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


def _is_public(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_global
    except ValueError:
        return False


class _PrivateAddressError(OSError):
    """A host name resolved only to addresses a feed may not use."""


class _PublicResolver(AbstractResolver):
    """DNS that refuses to hand out loopback, private and link-local addresses."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = [r for r in await self._inner.resolve(host, port, family) if _is_public(r["host"])]
        if not found:
            raise _PrivateAddressError(f"{host} resolves only to local or private addresses")
        return found

    async def close(self) -> None:
        await self._inner.close()


class Fetcher:
    """Fetches feed documents; create inside the event loop, `close()` when done.

    `block_private=True` refuses hosts on loopback, private and link-local addresses, by name
    or literal, on every redirect hop too: for a bot whose Discord admins add feeds, so a feed
    URL cannot reach the machine's own network.
    """

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
        spacing: float = HOST_SPACING,
        user_agent: str = USER_AGENT,
        block_private: bool = False,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.spacing = HostSpacing(spacing)
        self.user_agent = user_agent
        self.block_private = block_private
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = _PublicResolver() if self.block_private else None
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver),
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
                return await self._follow(url, headers)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(f"timed out after {self.timeout:g} s") from None
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, _PrivateAddressError):
                    raise FetchError(str(exc.os_error)) from None
                raise FetchError(f"connection failed: {exc}") from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"connection failed: {exc or type(exc).__name__}") from None

    async def _follow(self, url: str, headers: dict[str, str]) -> FetchResult:
        # Redirects are followed here rather than by aiohttp, so every hop's host is checked.
        for _ in range(MAX_REDIRECTS + 1):
            target = urlsplit(url)
            if target.scheme not in {"http", "https"}:
                raise FetchError(f"redirected to an unsupported URL: {url}")
            if self.block_private and _is_literal_private(target.hostname or ""):
                raise FetchError(f"{target.hostname} is a local or private address")
            result = await self._get(url, headers)
            if isinstance(result, FetchResult):
                return result
            url = result
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    async def _get(self, url: str, headers: dict[str, str]) -> FetchResult | str:
        """The response, or the URL it redirects to."""
        session = self._get_session()
        async with session.get(url, headers=headers, allow_redirects=False) as resp:
            location = resp.headers.get("Location")
            if resp.status in _REDIRECTS and location:
                return urljoin(url, location)
            if resp.status == 304:
                return FetchResult(
                    304,
                    b"",
                    None,
                    resp.headers.get("ETag"),
                    resp.headers.get("Last-Modified"),
                    url,
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
                url,
            )


def _is_literal_private(host: str) -> bool:
    """True for an IP literal that is not public (names are checked by the resolver)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not _is_public(host.strip("[]"))
