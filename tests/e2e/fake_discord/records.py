"""What the double records about the bot's requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .payloads import JSON


@dataclass
class RecordedRequest:
    """One HTTP request the bot made (path is relative to /api/v10)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    files: list[str] = field(default_factory=list)


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
