"""The fetcher on its own: redirects, and refusing the local network when asked to.

Every server is on loopback. Where a test needs a public host, 127.0.0.2 plays one (see
`front_is_public`), so a refused request to 127.0.0.1 proves the block, not a missing server.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from feedkit import FeedServer, LoopbackDNS, Route

from bot.core.feeds.fetch import Fetcher, FetchError, _public_socket, is_public
from bot.core.feeds.reasons import Reason

FRONT = "127.0.0.2"


async def test_redirects_are_followed_to_the_final_url(server: FeedServer) -> None:
    """A 301 is followed; the result names the final URL (the base for relative links)."""
    server.routes["/old"] = Route(location="/new")
    server.routes["/new"] = Route(body=b"<rss/>", etag='"n"')
    fetcher = Fetcher(spacing=0.0)
    try:
        result = await fetcher.fetch(server.url("/old"))
    finally:
        await fetcher.close()
    assert result.url == server.url("/new")
    assert (result.body, result.etag) == (b"<rss/>", '"n"')


async def test_redirect_loops_stop(server: FeedServer) -> None:
    """A redirect loop ends with an error instead of spinning."""
    server.routes["/loop"] = Route(location="/loop")
    fetcher = Fetcher(spacing=0.0)
    try:
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.fetch(server.url("/loop"))
    finally:
        await fetcher.close()
    assert server.hits("/loop") == 6


@pytest.mark.parametrize(
    "location",
    [
        "http://[::1/x",
        "http://a..b/x",  # an empty DNS label: the resolver raised UnicodeError
        f"http://{'a' * 64}.jp/x",  # a label over 63 characters, likewise
        "http://127.0.0.1:99999/x",
    ],
)
async def test_a_redirect_to_a_malformed_url_is_a_fetch_error(
    server: FeedServer, location: str
) -> None:
    """A Location no request can be made to (an unclosed IPv6 address, a host no DNS name
    can be, a port out of range) fails the fetch with the redirect's reason, not an internal
    error."""
    server.routes["/odd"] = Route(location=location)
    fetcher = Fetcher(spacing=0.0)
    try:
        with pytest.raises(FetchError) as failed:
            await fetcher.fetch(server.url("/odd"))
    finally:
        await fetcher.close()
    assert failed.value.reason is Reason.REDIRECT_SCHEME


async def test_a_feed_url_with_a_bad_host_is_a_fetch_error() -> None:
    """A feed stored before hosts were checked (http://a..b/) fails with the host's reason."""
    fetcher = Fetcher(spacing=0.0)
    try:
        with pytest.raises(FetchError) as failed:
            await fetcher.fetch("http://a..b/rss")
    finally:
        await fetcher.close()
    assert failed.value.reason is Reason.URL_BAD_HOST


async def test_block_private_refuses_loopback_by_address_and_name(server: FeedServer) -> None:
    """With block_private, neither 127.0.0.1 nor a name resolving to it is fetched."""
    server.routes["/feed"] = Route(body=b"<rss/>")
    fetcher = Fetcher(spacing=0.0, block_private=True)
    by_name = server.url("/feed").replace("127.0.0.1", "localhost")
    try:
        with pytest.raises(FetchError, match="private"):
            await fetcher.fetch(server.url("/feed"))
        with pytest.raises(FetchError, match="private"):
            await fetcher.fetch(by_name)
    finally:
        await fetcher.close()
    assert server.hits("/feed") == 0


@pytest.fixture
async def front() -> AsyncIterator[FeedServer]:
    """A second server, on 127.0.0.2: the tests treat that address as a public host."""
    feed_server = FeedServer(host=FRONT)
    await feed_server.start()
    yield feed_server
    await feed_server.close()


def front_is_public(address: str) -> bool:
    """The address policy of these tests: 127.0.0.2 plays a public host, the rest as usual."""
    return address == FRONT or is_public(address)


async def test_redirect_from_a_public_host_to_a_private_one_is_refused(
    front: FeedServer, server: FeedServer
) -> None:
    """A public feed redirecting to 127.0.0.1 or to localhost is refused before that request."""
    server.routes["/secret"] = Route(body=b"<rss/>")
    front.routes["/by-address"] = Route(location=server.url("/secret"))
    front.routes["/by-name"] = Route(location=server.url("/secret", host="localhost"))
    blocked = Fetcher(spacing=0.0, block_private=True, public=front_is_public)
    try:
        with pytest.raises(FetchError, match=r"127\.0\.0\.1 is a local or private") as first:
            await blocked.fetch(front.url("/by-address"))
        with pytest.raises(FetchError, match="localhost resolves only to local") as second:
            await blocked.fetch(front.url("/by-name"))
    finally:
        await blocked.close()
    assert (first.value.reason, second.value.reason) == (
        Reason.PRIVATE_ADDRESS,
        Reason.PRIVATE_NAME,
    )
    assert (front.hits("/by-address"), front.hits("/by-name")) == (1, 1)
    assert server.hits("/secret") == 0
    # The same redirect does reach the private server when the LAN is allowed.
    operator = Fetcher(spacing=0.0, public=front_is_public)
    try:
        result = await operator.fetch(front.url("/by-name"), block_private=False)
    finally:
        await operator.close()
    assert result.body == b"<rss/>"
    assert server.hits("/secret") == 1


async def test_block_private_is_chosen_per_fetch(server: FeedServer) -> None:
    """One fetcher serves both kinds of feed: the flag of each fetch decides, not the last one."""
    server.routes["/feed"] = Route(body=b"<rss/>")
    fetcher = Fetcher(spacing=0.0)
    try:
        assert (await fetcher.fetch(server.url("/feed"), block_private=False)).body == b"<rss/>"
        with pytest.raises(FetchError, match="private"):
            await fetcher.fetch(server.url("/feed"), block_private=True)
        assert (await fetcher.fetch(server.url("/feed"))).body == b"<rss/>"
    finally:
        await fetcher.close()
    assert server.hits("/feed") == 2


async def test_a_name_is_checked_where_it_resolves(server: FeedServer) -> None:
    """A name that passed no check but resolves to loopback when fetched is never connected to."""
    server.routes["/feed"] = Route(body=b"<rss/>")
    dns = LoopbackDNS({"news.example.test": "127.0.0.1"})
    fetcher = Fetcher(spacing=0.0, block_private=True, resolver=dns)
    try:
        with pytest.raises(FetchError, match=r"news\.example\.test resolves only to local"):
            await fetcher.fetch(server.url("/feed", host="news.example.test"))
    finally:
        await fetcher.close()
    assert dns.asked == ["news.example.test"]
    assert server.hits("/feed") == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("fec0::1", False),  # site-local
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("not an address", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    """Only global unicast addresses are public, also when IPv6 wraps a private IPv4 one."""
    assert is_public(address) is public


def test_socket_guard_refuses_private_peers() -> None:
    """The connect-time guard makes no socket for a private peer, whatever produced it."""
    guard = _public_socket(is_public)
    with pytest.raises(OSError, match=r"127\.0\.0\.1 is a local or private address"):
        guard((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    with guard((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))) as sock:
        assert sock.family == socket.AF_INET
