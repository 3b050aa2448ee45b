"""The fetcher on its own: redirects, and refusing the local network when asked to."""

from __future__ import annotations

import pytest
from feedkit import FeedServer, Route

from bot.core.feeds.fetch import Fetcher, FetchError


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
