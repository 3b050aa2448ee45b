"""Point an in-process discord.py client at a `FakeDiscord` (and restore it afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import discord.gateway
import discord.http
import yarl

if TYPE_CHECKING:
    from .server import FakeDiscord


@contextmanager
def pointed_at(double: FakeDiscord) -> Iterator[None]:
    """Set the class attributes discord.py reads its URLs from, as the bot does.

    `Route.BASE` covers every REST call, interaction callbacks and webhooks included
    (discord.webhook.async_ and .sync import this same `Route` class); `DEFAULT_GATEWAY`
    is where `Client.connect` opens the websocket; READY's `resume_gateway_url` (the
    double's own URL) covers resumes.
    """
    route, gateway = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = (route.BASE, gateway.DEFAULT_GATEWAY)
    route.BASE = double.api_url
    gateway.DEFAULT_GATEWAY = yarl.URL(double.gateway_url)
    try:
        yield
    finally:
        route.BASE, gateway.DEFAULT_GATEWAY = saved
