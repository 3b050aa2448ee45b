"""What the double records about the bot's requests."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from .payloads import JSON


def now() -> float:
    """The running loop's clock (as `InteractionRecord.sent_at`), else `time.monotonic()`."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


@dataclass
class RecordedRequest:
    """One HTTP request the bot made (path is relative to /api/v10)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    files: list[str] = field(default_factory=list)
    at: float = field(default_factory=now)
    """When the double received it (the loop's clock, like `InteractionRecord.sent_at`)."""


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (`guild_id` None for global)."""

    guild_id: int | None
    commands: list[JSON]


@dataclass
class MentionViolation:
    """A message payload without `allowed_mentions: {"parse": []}`."""

    method: str
    path: str
    allowed_mentions: Any


@dataclass
class Failure:
    """A failure injected with `FakeDiscord.fail`."""

    method: str
    pattern: str
    status: int
    remaining: int
    retry_after: float
    is_global: bool
    passes: int = 0  # matching requests let through before the failures begin
    message: str = ""  # the error body's message; "<status>: Server Error" when empty
