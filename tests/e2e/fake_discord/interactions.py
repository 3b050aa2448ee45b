"""INTERACTION_CREATE payloads and the record of how the bot answered each interaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads
from .payloads import JSON, Channel, Guild, User, snowflake
from .records import now
from .validation import walk_components

if TYPE_CHECKING:
    from .server import FakeDiscord

# Application command option types.
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11
_DEFAULT = object()


@dataclass
class ResponseEvent:
    """One thing the bot did for an interaction.

    `kind` is "callback", "followup", "edit_original", "edit_followup", "delete_original"
    or "delete_followup"; `body` is the JSON the bot sent and `message` the resulting
    message object (None for callbacks that create no message); `at` is when the double
    recorded it, on the clock of `InteractionRecord.sent_at`.
    """

    kind: str
    body: JSON | None
    message: JSON | None
    at: float = field(default_factory=now)


@dataclass
class InteractionRecord:
    """An interaction sent to the bot and everything the bot answered, in order."""

    id: int
    token: str
    type: int
    payload: JSON
    sent_at: float
    events: list[ResponseEvent] = field(default_factory=list)
    callback: JSON | None = None
    """The body of the interaction callback: `{"type": ..., "data": ...}`."""
    original: JSON | None = None
    """The current state of the original response message (`"deleted": True` once deleted)."""
    followups: list[JSON] = field(default_factory=list)
    """Messages the followups created (one filling a "thinking" original edits that instead)."""
    source_message: JSON | None = None
    """For component interactions: the message whose component was used."""
    modal: JSON | None = None
    expired: bool = False
    """True when the bot answered after the acknowledgement deadline (Discord's 10062)."""

    @property
    def callback_type(self) -> int | None:
        """The callback type (4 message, 5 defer, 6 deferred update, 7 update, 8 choices …)."""
        return None if self.callback is None else int(self.callback["type"])

    @property
    def data(self) -> JSON:
        """The callback's `data` (message body, choices or modal)."""
        return (self.callback or {}).get("data") or {}

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices returned by the bot."""
        return list(self.data.get("choices") or [])

    @property
    def ephemeral(self) -> bool:
        """Whether the original response is only visible to the invoker."""
        return bool(self.original and self.original["flags"] & (1 << 6))

    @property
    def settled(self) -> bool:
        """Answered: a callback that is not a defer, or a defer followed by more."""
        if self.callback is None:
            return False
        return self.callback_type not in (5, 6) or len(self.events) > 1

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel"]["id"])

    def metadata(self) -> JSON:
        """The `interaction_metadata` attached to messages that answer this interaction."""
        user = self.payload.get("member", {}).get("user") or self.payload.get("user")
        meta: JSON = {
            "id": str(self.id),
            "type": self.type,
            "user": user,
            "authorizing_integration_owners": self.payload["authorizing_integration_owners"],
        }
        if self.type == 2:
            meta["name"] = self.payload["data"]["name"]
            meta["command_type"] = self.payload["data"].get("type", 1)
        return meta


def _has_type(kind: int, value: Any) -> bool:
    """Whether `value` fits a STRING, INTEGER or NUMBER option."""
    if isinstance(value, bool):
        return False
    if kind == STRING:
        return isinstance(value, str)
    if kind == INTEGER:
        return isinstance(value, int)
    return isinstance(value, int | float)


class InteractionBuilder:
    """Builds realistic INTERACTION_CREATE payloads from the double's state."""

    def __init__(self, double: FakeDiscord) -> None:
        self.double = double

    def _base(
        self,
        kind: int,
        *,
        guild: Any,
        channel: str | int | None,
        user: User | None,
        locale: str,
        permissions: int,
        app_permissions: int | None,
    ) -> tuple[JSON, Guild | None]:
        double = self.double
        user = user or double.invoker
        resolved_guild = double.guild if guild is _DEFAULT else self._guild(guild)
        payload: JSON = {
            "id": str(snowflake()),
            "application_id": str(double.application_id),
            "type": kind,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if resolved_guild is None:
            dm_id = snowflake()
            payload["channel"] = {
                "id": str(dm_id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.to_payload()],
            }
            payload["channel_id"] = str(dm_id)
            payload["user"] = user.to_payload()
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": str(double.application_id)}
            payload["app_permissions"] = str(app_permissions or 0)
            return payload, None
        target = resolved_guild.channels[0] if channel is None else resolved_guild.channel(channel)
        bot_permissions = double.bot_permissions(resolved_guild)
        payload.update(
            {
                "guild_id": str(resolved_guild.id),
                "guild": {
                    "id": str(resolved_guild.id),
                    "locale": resolved_guild.preferred_locale,
                    "features": [],
                },
                "guild_locale": resolved_guild.preferred_locale,
                "channel_id": str(target.id),
                "channel": {
                    **target.to_payload(resolved_guild.id),
                    "permissions": str(permissions),
                },
                "member": payloads.member_payload(user, role_ids=[], permissions=permissions),
                "app_permissions": str(
                    bot_permissions if app_permissions is None else app_permissions
                ),
                "context": 0,
                "authorizing_integration_owners": {"0": str(resolved_guild.id)},
            }
        )
        return payload, resolved_guild

    def _guild(self, guild: Guild | int | None) -> Guild | None:
        if guild is None or isinstance(guild, Guild):
            return guild
        return next(g for g in self.double.guilds if g.id == guild)

    def command(
        self,
        name: str,
        options: JSON,
        *,
        focused: str | None = None,
        guild: Any = _DEFAULT,
        channel: str | int | None = None,
        user: User | None = None,
        locale: str = "en-US",
        permissions: int = payloads.MEMBER_PERMISSIONS,
        app_permissions: int | None = None,
    ) -> JSON:
        """A slash command (type 2) or, with `focused`, an autocomplete (type 4) payload."""
        kind = 2 if focused is None else 4
        payload, resolved_guild = self._base(
            kind,
            guild=guild,
            channel=channel,
            user=user,
            locale=locale,
            permissions=permissions,
            app_permissions=app_permissions,
        )
        path = name.split()
        schema = self._find_command(path[0], resolved_guild)
        resolved: JSON = {}
        leaf = schema
        wrappers: list[JSON] = []
        for part in path[1:]:
            nested = [
                o
                for o in leaf.get("options") or []
                if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ]
            leaf = next((o for o in nested if o["name"] == part), {})
            if not leaf:
                raise LookupError(f"/{name}: no subcommand {part!r}")
            wrappers.append({"type": leaf["type"], "name": part, "options": []})
        if leaf.get("options") and leaf["options"][0]["type"] in (1, 2):
            raise ValueError(f"/{name} is a group; name a subcommand")
        values = self._options(name, leaf, options, focused, resolved_guild, resolved)
        for wrapper in reversed(wrappers):
            wrapper["options"] = values
            values = [wrapper]
        data: JSON = {"id": schema["id"], "name": schema["name"], "type": 1, "options": values}
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in schema:
            data["guild_id"] = schema["guild_id"]
        payload["data"] = data
        return payload

    def _find_command(self, name: str, guild: Guild | None) -> JSON:
        scopes: list[int | None] = [guild.id, None] if guild else [None]
        for scope in scopes:
            for command in self.double.commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        raise LookupError(f"/{name} was never synced to Discord (scopes {scopes})")

    def _options(
        self,
        name: str,
        schema: JSON,
        given: JSON,
        focused: str | None,
        guild: Guild | None,
        resolved: JSON,
    ) -> list[JSON]:
        declared = {o["name"]: o for o in schema.get("options") or []}
        unknown = set(given) - set(declared)
        if unknown:
            raise LookupError(f"/{name} has no options {sorted(unknown)}")
        out: list[JSON] = []
        for option_name, option in declared.items():
            if option_name not in given:
                if option.get("required") and focused is None:
                    raise ValueError(f"/{name}: required option {option_name!r} is missing")
                continue
            value = given[option_name]
            entry: JSON = {"name": option_name, "type": option["type"]}
            if option_name == focused:
                entry["value"] = str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._value(name, option, value, guild, resolved)
            out.append(entry)
        return out

    def _value(
        self, name: str, option: JSON, value: Any, guild: Guild | None, resolved: JSON
    ) -> Any:
        kind = option["type"]
        label = f"/{name} {option['name']}"
        if kind in (STRING, INTEGER, NUMBER):
            if not _has_type(kind, value):
                raise TypeError(f"{label}: {value!r} does not fit option type {kind}")
            choices = option.get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise ValueError(f"{label}: {value!r} is not one of the choices")
            low, high = (
                (option.get("min_length"), option.get("max_length"))
                if kind == STRING
                else (option.get("min_value"), option.get("max_value"))
            )
            measured = len(value) if isinstance(value, str) else value
            if (low is not None and measured < low) or (high is not None and measured > high):
                raise ValueError(f"{label}: {value!r} is outside {low}..{high}")
            return value
        if kind == BOOLEAN:
            return bool(value)
        if kind in (CHANNEL, ROLE, USER, MENTIONABLE) and guild is not None:
            return self._resolve(kind, value, guild, resolved)
        raise NotImplementedError(f"{label}: option type {kind} is not supported by the double")

    def _resolve(self, kind: int, value: Any, guild: Guild, resolved: JSON) -> str:
        if kind == CHANNEL:
            channel = value if isinstance(value, Channel) else guild.channel(value)
            entry = {
                **channel.to_payload(guild.id),
                "permissions": str(payloads.MEMBER_PERMISSIONS),
            }
            resolved.setdefault("channels", {})[str(channel.id)] = entry
            return str(channel.id)
        if isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.to_payload()
            member = payloads.member_payload(value, role_ids=[])
            del member["user"]
            member["permissions"] = str(payloads.MEMBER_PERMISSIONS)
            resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        role = next(r for r in guild.roles if value in (r.id, r.name))
        resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
        return str(role.id)

    def component(
        self,
        message: JSON,
        custom_id: str,
        values: list[str] | None,
        *,
        user: User | None = None,
        locale: str = "en-US",
        permissions: int = payloads.MEMBER_PERMISSIONS,
    ) -> JSON:
        """A component interaction (type 3) on `message`."""
        channel_id = int(message["channel_id"])
        found = self.double.find_channel(channel_id)
        payload, _ = self._base(
            3,
            guild=found[0] if found else None,
            channel=channel_id if found else None,
            user=user,
            locale=locale,
            permissions=permissions,
            app_permissions=None,
        )
        component = next(
            c
            for c in walk_components(message.get("components") or [])
            if c.get("custom_id") == custom_id
        )
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] == 2:
            if values is not None:
                raise ValueError("buttons take no values")
        else:
            chosen = values or []
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(chosen) <= high:
                raise ValueError(f"select {custom_id!r} takes {low}..{high} values")
            if component["type"] == 3:
                allowed = {o["value"] for o in component.get("options", [])}
                if not set(chosen) <= allowed:
                    raise ValueError(f"{sorted(set(chosen) - allowed)} are not options")
            data["values"] = chosen
        payload["data"] = data
        payload["message"] = message
        return payload

    def modal_submit(
        self,
        record: InteractionRecord,
        modal: JSON,
        values: dict[str, str],
        *,
        user: User | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """A modal submit (type 5) answering the modal `record` showed."""
        origin = record.payload
        payload = {
            **origin,
            "id": str(snowflake()),
            "type": 5,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "locale": locale,
        }
        if user is not None and "member" in payload:
            payload["member"] = {**payload["member"], "user": user.to_payload()}
        rows = []
        for row in modal.get("components") or []:
            inner = row.get("components") or [row.get("component")]
            submitted = [
                {
                    "type": c["type"],
                    "custom_id": c["custom_id"],
                    "value": values.get(c["custom_id"], ""),
                }
                for c in inner
                if c
            ]
            if "component" in row:  # a label (type 18) wraps exactly one component
                rows.append({"type": row["type"], "component": submitted[0]})
            else:
                rows.append({"type": row["type"], "components": submitted})
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        payload.pop("message", None)
        return payload
