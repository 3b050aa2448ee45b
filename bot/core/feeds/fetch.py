"""Polite HTTP for feeds: conditional requests, timeouts, per-host spacing and a size cap.

A `Fetcher` owns its aiohttp sessions. Requests to the same host run one at a time, with at
least `spacing` seconds between the end of one and the start of the next. The body is read in
chunks and the download stops as soon as it passes `max_bytes` (after decompression, so a
small gzip bomb is caught too). Every failure is a `FetchError` with a readable message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urljoin, urlsplit

import aiohttp
from aiohttp import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.core.feeds.config import is_host_name
from bot.core.feeds.reasons import FeedError, Param, Reason, english

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


class FetchError(FeedError):
    """A fetch failed; `retry_after` is the server's requested wait in seconds, if it gave one."""

    def __init__(
        self, reason: Reason, *, retry_after: float | None = None, **params: Param
    ) -> None:
        super().__init__(reason, **params)
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
    if value.isascii() and value.isdigit():  # not "²", which is a digit too
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


# IPv6 ranges that carry an IPv4 address, which is what such a connection really reaches.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # the deprecated ::a.b.c.d form
# Local-use NAT64 (RFC 8215) reaches whatever IPv4 network the site chooses: never public.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def is_public(address: str) -> bool:
    """True for an address on the public internet.

    Not loopback, private, link-local, shared, reserved, multicast or unspecified, nor an IPv6
    address wrapping such an IPv4 one (::ffff:127.0.0.1, ::127.0.0.1, 6to4, NAT64), nor
    site-local or local-use NAT64.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # Python 3.11's is_global counts these as global.
        if ip.is_site_local or ip in _LOCAL_NAT64:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or ip in _IPV4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            # What such a connection really reaches is the IPv4 address inside.
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


class _PrivateAddressError(OSError):
    """A host or address a feed may not reach; `reason` and `host` say which."""

    def __init__(self, reason: Reason, host: str) -> None:
        super().__init__(english(reason, {"host": host}))
        self.reason = reason
        self.host = host


class _PublicResolver(AbstractResolver):
    """DNS that hands out only public addresses: the connector connects to nothing else."""

    def __init__(self, inner: AbstractResolver, public: Callable[[str], bool]) -> None:
        self._inner = inner
        self._public = public

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        found = [r for r in answers if self._public(r["host"])]
        if not found:
            raise _PrivateAddressError(Reason.PRIVATE_NAME, host)
        return found

    async def close(self) -> None:
        await self._inner.close()


def _public_socket(public: Callable[[str], bool]) -> Callable[[AddrInfoType], socket.socket]:
    """A socket factory that refuses non-public peers: the last check, made as it connects."""

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = addr_info
        if not public(str(address[0])):
            raise _PrivateAddressError(Reason.PRIVATE_ADDRESS, str(address[0]))
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


class Fetcher:
    """Fetches feed documents; create inside the event loop, `close()` when done.

    A fetch with `block_private=True` (the default is the constructor's `block_private`) may
    reach public addresses only: for feeds that Discord admins add, so a feed URL cannot reach
    the machine's own network. That is checked where it cannot be dodged: on every redirect
    hop, on every address DNS returns (a mixed answer keeps only the public addresses), and on
    the address each socket is about to connect to. There is no earlier check that a DNS
    answer could change before the connection (DNS rebinding): the addresses checked are the
    ones connected to. Such fetches use a session of their own, so they never reuse a pooled
    connection (or a DNS cache entry) made for an operator's feed on the LAN.

    `resolver` replaces the system DNS and `public` decides which addresses count as public;
    tests use them to give names loopback addresses.
    """

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
        spacing: float = HOST_SPACING,
        user_agent: str = USER_AGENT,
        block_private: bool = False,
        resolver: AbstractResolver | None = None,
        public: Callable[[str], bool] = is_public,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.spacing = HostSpacing(spacing)
        self.user_agent = user_agent
        self.block_private = block_private
        self._resolver = resolver
        self._public = public
        self._sessions: dict[bool, aiohttp.ClientSession] = {}  # by block_private

    def _get_session(self, block_private: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(block_private)
        if session is None or session.closed:
            if block_private:
                inner = self._resolver or ThreadedResolver()
                connector = aiohttp.TCPConnector(
                    resolver=_PublicResolver(inner, self._public),
                    socket_factory=_public_socket(self._public),
                )
            else:
                connector = aiohttp.TCPConnector(resolver=self._resolver)
            session = self._sessions[block_private] = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout, sock_connect=min(CONNECT_TIMEOUT, self.timeout)
                ),
                headers={"User-Agent": self.user_agent, "Accept": _ACCEPT},
                # Feeds are public: never send or keep cookies between feeds.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return session

    async def close(self) -> None:
        """Close the HTTP sessions."""
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        block_private: bool | None = None,
    ) -> FetchResult:
        """GET a feed, conditionally when validators from the last fetch are given."""
        block = self.block_private if block_private is None else block_private
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = (urlsplit(url).hostname or "").lower()
        async with self.spacing.turn(host):
            try:
                return await self._follow(url, headers, block)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError(Reason.TIMEOUT, seconds=f"{self.timeout:g}") from None
            except aiohttp.ClientConnectorError as exc:
                refused = exc.os_error
                if isinstance(refused, _PrivateAddressError):
                    raise FetchError(refused.reason, host=refused.host) from None
                raise FetchError(Reason.CONNECTION, detail=str(exc)) from None
            except aiohttp.ClientError as exc:
                raise FetchError(Reason.CONNECTION, detail=str(exc) or type(exc).__name__) from None

    async def _follow(self, url: str, headers: dict[str, str], block: bool) -> FetchResult:
        # Redirects are followed here rather than by aiohttp, so every hop's host is checked.
        for hop in range(MAX_REDIRECTS + 1):
            target = urlsplit(url)
            if target.scheme not in {"http", "https"}:
                raise FetchError(Reason.REDIRECT_SCHEME, url=url)
            host = target.hostname or ""
            # A name DNS can't be asked about (http://a..b/) fails deep in the resolver with a
            # UnicodeError, which would be reported as our bug; a bad port, as a bare URL.
            if not is_host_name(host) or not _has_valid_port(target):
                if hop == 0:
                    raise FetchError(Reason.URL_BAD_HOST, host=target.netloc[:200])
                raise FetchError(Reason.REDIRECT_SCHEME, url=url[:200])
            if block and _is_ip_literal(host) and not self._public(host.strip("[]")):
                raise FetchError(Reason.PRIVATE_ADDRESS, host=host)
            result = await self._get(url, headers, block)
            if isinstance(result, FetchResult):
                return result
            url = result
        raise FetchError(Reason.TOO_MANY_REDIRECTS, limit=MAX_REDIRECTS)

    async def _get(self, url: str, headers: dict[str, str], block: bool) -> FetchResult | str:
        """The response, or the URL it redirects to."""
        session = self._get_session(block)
        async with session.get(url, headers=headers, allow_redirects=False) as resp:
            location = resp.headers.get("Location")
            if resp.status in _REDIRECTS and location:
                try:
                    return urljoin(url, location)
                except ValueError:  # e.g. an unclosed IPv6 address, "http://[::1/x"
                    raise FetchError(Reason.REDIRECT_SCHEME, url=location[:200]) from None
            etag = _validator(resp.headers.get("ETag"))
            last_modified = _validator(resp.headers.get("Last-Modified"))
            if resp.status == 304:
                return FetchResult(304, b"", None, etag, last_modified, url)
            if resp.status != 200:
                raise FetchError(
                    Reason.HTTP_STATUS,
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                    status=resp.status,
                    phrase=resp.reason or "",
                )
            length = resp.content_length
            if length is not None and length > self.max_bytes:
                raise FetchError(Reason.TOO_LARGE, limit=self.max_bytes)
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    # Leaving the block unread closes the connection: the rest is never read.
                    raise FetchError(Reason.TOO_LARGE, limit=self.max_bytes)
            return FetchResult(
                200, bytes(body), resp.headers.get("Content-Type"), etag, last_modified, url
            )


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth keeping: printable ASCII, as HTTP writes them.

    A server's stray byte (aiohttp hands it on as a lone surrogate) could be neither stored in
    SQLite nor sent back: every fetch of the feed failed after storing its entries.
    """
    if value is None or not value.isascii() or not value.isprintable():
        return None
    return value


def _is_ip_literal(host: str) -> bool:
    """True for an IP address written as one (names are checked as they resolve)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _has_valid_port(target: SplitResult) -> bool:
    """False when the URL's port is not a number from 0 to 65535."""
    try:
        return target.port is None or target.port >= 0
    except ValueError:
        return False
