"""Builders for the JSON objects Discord sends: users, guilds, messages, interactions, errors.

Shapes follow Discord's API v10 documentation; only fields discord.py reads (plus a few
that make assertions readable) are filled in.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits used by the defaults below (see Discord's "Permissions" topic).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
)

_lock = threading.Lock()
_last_id = 0
_increment = itertools.count()


def snowflake() -> int:
    """Return a new, strictly increasing snowflake built from the current time."""
    global _last_id
    with _lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (ms << 22) | (1 << 17) | (next(_increment) & 0xFFF)
        _last_id = max(candidate, _last_id + 1)
        return _last_id


def iso_now() -> str:
    """Return the current time as Discord formats timestamps."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def error_body(code: int, message: str, errors: JSON | None = None) -> JSON:
    """Discord's error JSON: `{"code", "message"}` plus `errors` for form errors."""
    body: JSON = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int = 0
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> JSON:
        """The overwrite object inside a channel's `permission_overwrites`."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    """A guild channel (type 0 = text, 2 = voice, 4 = category, 5 = announcement)."""

    name: str
    type: int = 0
    id: int = field(default_factory=snowflake)
    topic: str | None = None
    parent_id: int | None = None
    position: int = 0
    permission_overwrites: list[Overwrite] = field(default_factory=list)

    def to_payload(self, guild_id: int) -> JSON:
        """The channel object as returned by GET /channels/{id} and in GUILD_CREATE."""
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.permission_overwrites],
            "nsfw": False,
            "topic": self.topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role shares the guild's id."""

    name: str
    permissions: int = 0
    id: int = field(default_factory=snowflake)
    position: int = 0
    managed: bool = False

    def to_payload(self) -> JSON:
        """The role object as it appears in guilds and resolved data."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class User:
    """A Discord user (the bot or a human invoking commands)."""

    username: str
    id: int = field(default_factory=snowflake)
    bot: bool = False
    global_name: str | None = None

    def to_payload(self) -> JSON:
        """The user object."""
        payload: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if self.bot:
            payload["bot"] = True
        return payload


def member_payload(user: User, *, role_ids: list[int], permissions: int | None = None) -> JSON:
    """A guild member object; `permissions` is set only where Discord sends it (interactions)."""
    payload: JSON = {
        "user": user.to_payload(),
        "nick": None,
        "avatar": None,
        "roles": [str(r) for r in role_ids],
        "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


@dataclass
class Guild:
    """A guild the bot is in, with its channels, roles and the bot's member entry."""

    name: str = "Alliance Test Guild"
    id: int = field(default_factory=snowflake)
    preferred_locale: str = "ja"
    channels: list[Channel] = field(
        default_factory=lambda: [Channel("general"), Channel("alliance-news")]
    )
    roles: list[Role] = field(default_factory=list)
    owner_id: int = field(default_factory=snowflake)

    def __post_init__(self) -> None:
        if not any(r.id == self.id for r in self.roles):
            self.roles.insert(0, Role("@everyone", MEMBER_PERMISSIONS, id=self.id))

    def channel(self, name_or_id: str | int) -> Channel:
        """Find a channel by name or id."""
        for channel in self.channels:
            if name_or_id in (channel.name, channel.id):
                return channel
        raise KeyError(name_or_id)

    def to_payload(self, bot_member: JSON) -> JSON:
        """The full guild object sent in GUILD_CREATE."""
        return {
            **self.to_rest_payload(),
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 1,
            "members": [bot_member],
            "channels": [c.to_payload(self.id) for c in self.channels],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def to_rest_payload(self) -> JSON:
        """The guild object returned by GET /guilds/{id}."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [r.to_payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
        }


def application_payload(app_id: int, owner: User, bot: User) -> JSON:
    """The application object returned by GET /applications/@me."""
    return {
        "id": str(app_id),
        "name": bot.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": owner.to_payload(),
        "team": None,
        "bot": bot.to_payload(),
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "install_params": None,
        "integration_types_config": {"0": {}},
        "redirect_uris": [],
        "approximate_guild_count": 1,
    }


def message_payload(
    body: JSON,
    *,
    channel_id: int,
    author: User,
    message_id: int | None = None,
    webhook_id: int | None = None,
    interaction_metadata: JSON | None = None,
    flags: int = 0,
) -> JSON:
    """A message object as Discord returns it after creating `body` (a create payload)."""
    embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
    message: JSON = {
        "id": str(message_id or snowflake()),
        "type": 20 if interaction_metadata and interaction_metadata["type"] == 2 else 0,
        "channel_id": str(channel_id),
        "author": author.to_payload(),
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds,
        "components": body.get("components") or [],
        "pinned": False,
        "flags": (int(body.get("flags") or 0)) | flags,
    }
    if body.get("nonce") is not None:
        message["nonce"] = body["nonce"]
    if webhook_id is not None:
        message["webhook_id"] = str(webhook_id)
        message["application_id"] = str(webhook_id)
    if interaction_metadata is not None:
        message["interaction_metadata"] = interaction_metadata
    if "message_reference" in body:
        message["message_reference"] = body["message_reference"]
    return message


def apply_edit(message: JSON, body: JSON) -> JSON:
    """Apply a PATCH body to a stored message object and return it (null clears a field)."""
    cleared: JSON = {"content": "", "components": [], "flags": 0, "embeds": []}
    for key in cleared:
        if key in body:
            message[key] = body[key] if body[key] is not None else cleared[key]
    if body.get("embeds"):
        message["embeds"] = [{"type": "rich", **e} for e in body["embeds"]]
    message["edited_timestamp"] = iso_now()
    return message
