"""Helpers for the feed tests: feed documents, a loopback HTTP server and a loopback DNS."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

DATA = Path(__file__).resolve().parent / "data"
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Item:
    """One RSS item."""

    title: str
    body: str
    link: str | None = None
    guid: str | None = None
    published: datetime | None = None


def rss(items: Sequence[Item], *, title: str = "テスト", encoding: str = "UTF-8") -> bytes:
    """An RSS 2.0 document in the given encoding (declared in the XML declaration)."""
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>']
    parts.append(f"<title>{escape(title)}</title><link>https://t.example.jp/</link>")
    for item in items:
        parts.append(f"<item><title>{escape(item.title)}</title>")
        parts.append(f"<description>{escape(item.body)}</description>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode(encoding)


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    etag: str | None = None
    delay: float = 0.0
    stream_bytes: int = 0  # stream this much filler instead of `body`
    location: str | None = None  # answer 301 to this path instead
    headers: dict[str, str] = field(default_factory=dict)  # more response headers, as given


@dataclass
class FeedServer:
    """A loopback aiohttp server with per-path canned answers; records every request."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    streamed: int = 0
    server: TestServer | None = None
    host: str = "127.0.0.1"  # any loopback address: 127.0.0.2 stands in for a public host

    @property
    def port(self) -> int:
        assert self.server is not None
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str, *, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        self.requests.append((request.path, dict(request.headers), loop.time()))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404)
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.location:
            return web.Response(status=301, headers={"Location": route.location})
        if route.etag and request.headers.get("If-None-Match") == route.etag:
            return web.Response(status=304, headers={"ETag": route.etag})
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            headers["ETag"] = route.etag
        if route.stream_bytes:
            response = web.StreamResponse(headers=headers)
            await response.prepare(request)
            chunk = b"<!-- filler -->" * 4096
            try:
                while self.streamed < route.stream_bytes:
                    await response.write(chunk)
                    self.streamed += len(chunk)
            except ConnectionError:
                pass  # the client hung up: what the test wants
            return response
        return web.Response(status=route.status, body=route.body, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        self.server = TestServer(app, host=self.host)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


class LoopbackDNS(AbstractResolver):
    """DNS that knows only `names` (name → loopback address): nothing leaves the machine."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"{host}: unknown name")
        address = self.names[host]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass
