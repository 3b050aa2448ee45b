"""The REST API under /api/v10: identity, commands, interaction callbacks, webhooks, channels.

Handlers validate bodies like Discord (see `validation`), answer with Discord's JSON and
error shapes, and keep their state on the owning `FakeDiscord`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from . import payloads, validation
from .interactions import InteractionRecord, ResponseEvent
from .payloads import JSON, error_body, snowflake
from .records import CommandSync, MentionViolation, RecordedRequest

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = "/api/v10"
EPHEMERAL, LOADING = 1 << 6, 1 << 7
GUILD_MESSAGES_INTENT = 1 << 9
# Callback types each interaction type accepts (PING=1, COMMAND=2, COMPONENT=3,
# AUTOCOMPLETE=4, MODAL_SUBMIT=5).
ALLOWED_CALLBACKS = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
BODY = web.RequestKey("body", object)
"""Where the middleware leaves the parsed request body for handlers."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json" (no charset), as Discord sends and discord.py compares.
    response = web.Response(body=orjson.dumps(body), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def error(status: int, code: int, message: str, errors: JSON | None = None) -> web.Response:
    return json_response(error_body(code, message, errors), status)


def form_error(errors: JSON) -> web.Response:
    return error(400, 50035, "Invalid Form Body", errors)


def not_found() -> web.Response:
    return error(404, 0, "404: Not Found")


def json_object(request: web.Request) -> JSON:
    """The request's JSON object body ({} when absent or not an object)."""
    body = request[BODY]
    return body if isinstance(body, dict) else {}


class RestApi:
    """The REST routes; handlers read and update the state of their `FakeDiscord`."""

    def __init__(self, double: FakeDiscord) -> None:
        self.double = double

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path under /api/v10, handler) for every implemented endpoint."""
        return [
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._open_dm),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("POST", "/interactions/{id}/{token}/callback", self._callback),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._delete_webhook_message),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/channels/{channel}", self._get_channel),
            ("GET", "/channels/{channel}/messages", self._get_messages),
            ("POST", "/channels/{channel}/messages", self._create_message),
            ("GET", "/channels/{channel}/messages/{message}", self._get_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self._edit_message),
            ("DELETE", "/channels/{channel}/messages/{message}", self._delete_message),
            ("GET", "/guilds/{guild}", self._get_guild),
            ("GET", "/guilds/{guild}/channels", self._get_guild_channels),
        ]

    def _message_body(self, request: web.Request) -> tuple[JSON, web.Response | None]:
        """A message's body and, if Discord would refuse it, the 400 it answers; the mentions
        it allows are checked."""
        body = json_object(request)
        errors = validation.check_message(body)
        if errors:
            return body, form_error(errors)
        self._check_mentions(request, body)
        return body, None

    def _check_mentions(self, request: web.Request, body: JSON) -> None:
        allowed = body.get("allowed_mentions")
        if not isinstance(allowed, dict) or allowed.get("parse") != []:
            path = request.path[len(API_PREFIX) :]
            self.double.mention_violations.append(MentionViolation(request.method, path, allowed))

    def _store(self, message: JSON, *, listed: bool = True) -> JSON:
        self.double.messages_by_id[int(message["id"])] = message
        if listed:
            self.double.channel_history.setdefault(int(message["channel_id"]), []).append(message)
        return message

    # --- identity, gateway, application ---------------------------------------------------

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.double.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response(
            {"url": self.double.gateway_url, "shards": 1, "session_start_limit": limit}
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response(
            {**self.double.bot_user.to_payload(), "verified": True, "mfa_enabled": False}
        )

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
            payloads.application_payload(
                self.double.application_id, self.double.owner, self.double.bot_user
            )
        )

    def _scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        if request.match_info["app"] != str(self.double.application_id):
            return None, error(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        if guild is None:
            return None, None
        if not any(str(g.id) == guild for g in self.double.guilds):
            return None, error(403, 50001, "Missing Access")
        return int(guild), None

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope, problem = self._scope(request)
        return problem or json_response(self.double.commands.get(scope, []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, problem = self._scope(request)
        if problem:
            return problem
        body = request[BODY]
        errors = validation.check_commands(body)
        if errors or not isinstance(body, list):
            return form_error(errors)
        previous = {(c["type"], c["name"]): c["id"] for c in self.double.commands.get(scope, [])}
        stored = []
        for command in body:
            kind = command.get("type", 1)
            stored.append(
                {
                    "id": previous.get((kind, command["name"])) or str(snowflake()),
                    "application_id": str(self.double.application_id),
                    "version": str(snowflake()),
                    "type": kind,
                    "name": command["name"],
                    "name_localizations": command.get("name_localizations"),
                    "description": command.get("description", ""),
                    "description_localizations": command.get("description_localizations"),
                    "options": command.get("options", []),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "contexts": command.get("contexts"),
                    "integration_types": command.get("integration_types", [0]),
                    "nsfw": command.get("nsfw", False),
                    **({"guild_id": str(scope)} if scope else {}),
                }
            )
        self.double.commands[scope] = stored
        self.double.command_syncs.append(CommandSync(scope, body))
        return json_response(stored)

    # --- interactions ---------------------------------------------------------------------

    def _interaction_for_webhook(self, request: web.Request) -> InteractionRecord | None:
        if request.match_info["app"] != str(self.double.application_id):
            return None
        token = request.match_info["token"]
        record = next((r for r in self.double.interactions.values() if r.token == token), None)
        if record is None or record.callback is None:
            return None  # Discord only accepts the webhook once the interaction is acknowledged
        return record

    async def _callback(self, request: web.Request) -> web.Response:
        record = self.double.interactions.get(int(request.match_info["id"]))
        if record is None or record.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        if record.callback is not None:
            return error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = asyncio.get_running_loop().time() - record.sent_at
        if elapsed > self.double.interaction_ack_timeout:
            record.expired = True
            return error(404, 10062, "Unknown interaction")
        body = json_object(request)
        kind = body.get("type")
        data: JSON = body.get("data") or {}
        if kind not in ALLOWED_CALLBACKS.get(record.type, set()):
            return form_error(
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": f"Response type {kind} is not valid here",
                            }
                        ]
                    }
                }
            )
        errors: JSON = {}
        if kind in (4, 7):
            errors = validation.check_message(data, require_content=kind == 4)
            errors = {"data": errors} if errors else {}
        elif kind == 8:
            errors = validation.check_autocomplete_result(data)
        elif kind == 9:
            errors = validation.check_modal(data)
        if errors:
            return form_error(errors)
        if kind in (4, 7):
            self._check_mentions(request, data)

        message = self._apply_callback(record, kind, data)
        record.events.append(ResponseEvent("callback", body, message))
        record.callback = body
        await self.double.notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        response: JSON = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": kind, "message": message}
        else:
            response["resource"] = {"type": kind}
        return json_response(response)

    def _apply_callback(self, record: InteractionRecord, kind: int, data: JSON) -> JSON | None:
        """Create or update the message a callback produces; return it (None if none)."""
        if kind == 9:
            record.modal = data
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = payloads.message_payload(
                data if kind == 4 else {},
                channel_id=record.channel_id,
                author=self.double.bot_user,
                webhook_id=self.double.application_id,
                interaction_metadata=record.metadata(),
                flags=flags,
            )
            record.original = self._store(message, listed=not flags & EPHEMERAL)
            return message
        if kind in (6, 7) and record.source_message is not None:
            record.original = record.source_message
            if kind == 7:
                payloads.apply_edit(record.original, data)
            return record.original
        return None

    async def _followup(self, request: web.Request) -> web.Response:
        record = self._interaction_for_webhook(request)
        if record is None:
            return error(404, 10015, "Unknown Webhook")
        body, refused = self._message_body(request)
        if refused is not None:
            return refused
        original = record.original
        if original is not None and original["flags"] & LOADING and not original.get("deleted"):
            # The first followup after a "thinking" defer edits the deferred message, if it
            # still exists; once deleted, a followup is a new message like any other.
            original["flags"] &= ~LOADING
            message = payloads.apply_edit(original, {k: v for k, v in body.items() if k != "flags"})
        else:
            message = payloads.message_payload(
                body,
                channel_id=record.channel_id,
                author=self.double.bot_user,
                webhook_id=self.double.application_id,
                interaction_metadata=record.metadata(),
            )
            self._store(message, listed=not message["flags"] & EPHEMERAL)
            record.followups.append(message)
        record.events.append(ResponseEvent("followup", body, message))
        await self.double.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message)
        return web.Response(status=204)

    def _webhook_message(
        self, request: web.Request
    ) -> tuple[InteractionRecord, JSON, str] | web.Response:
        """The interaction and live message a webhook message route names, and which one it is
        ("original" or "followup"); Discord's 404s otherwise."""
        record = self._interaction_for_webhook(request)
        if record is None:
            return error(404, 10015, "Unknown Webhook")
        message_id = request.match_info["message"]
        if message_id == "@original":
            message, which = record.original, "original"
        else:
            message = next((m for m in record.followups if m["id"] == message_id), None)
            which = "followup"
        if message is None or message.get("deleted"):
            return error(404, 10008, "Unknown Message")
        return record, message, which

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        return found if isinstance(found, web.Response) else json_response(found[1])

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        record, message, which = found
        body = json_object(request)
        errors = validation.check_message(body, require_content=False)
        if errors:
            return form_error(errors)
        self._check_mentions(request, body)
        message["flags"] &= ~LOADING
        payloads.apply_edit(message, {k: v for k, v in body.items() if k != "flags"})
        record.events.append(ResponseEvent(f"edit_{which}", body, message))
        await self.double.notify()
        return json_response(message)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        record, message, which = found
        self._delete(message)
        record.events.append(ResponseEvent(f"delete_{which}", None, message))
        await self.double.notify()
        return web.Response(status=204)

    def _delete(self, message: JSON) -> None:
        message["deleted"] = True
        listed = self.double.channel_history.get(int(message["channel_id"]), [])
        if message in listed:
            listed.remove(message)

    # --- channels, messages, guilds -------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        found = self.double.find_channel(int(request.match_info["channel"]))
        if found is None:
            return error(404, 10003, "Unknown Channel")
        guild, channel = found
        return json_response(channel.to_payload(guild.id))

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = next(
            (g for g in self.double.guilds if str(g.id) == request.match_info["guild"]), None
        )
        if guild is None:
            return error(404, 10004, "Unknown Guild")
        return json_response(guild.to_rest_payload())

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = next(
            (g for g in self.double.guilds if str(g.id) == request.match_info["guild"]), None
        )
        if guild is None:
            return error(404, 10004, "Unknown Guild")
        return json_response([c.to_payload(guild.id) for c in guild.channels])

    async def _open_dm(self, request: web.Request) -> web.Response:
        recipient = json_object(request).get("recipient_id")
        user = self.double.find_user(int(recipient)) if str(recipient).isdigit() else None
        if user is None:
            return error(400, 50033, "Invalid Recipients")
        channel_id = self.double.dm_channels.setdefault(user.id, snowflake())
        dm = {"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0}
        return json_response({**dm, "recipients": [user.to_payload()]})

    async def _create_dm_message(self, request: web.Request, user_id: int) -> web.Response:
        if user_id in self.double.closed_dms:
            return error(403, 50007, "Cannot send messages to this user")
        body, refused = self._message_body(request)
        if refused is not None:
            return refused
        channel_id = self.double.dm_channels[user_id]
        message = payloads.message_payload(body, channel_id=channel_id, author=self.double.bot_user)
        return json_response(self._store(message))

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        for user_id, dm_id in self.double.dm_channels.items():
            if dm_id == channel_id:
                return await self._create_dm_message(request, user_id)
        found = self.double.find_channel(channel_id)
        if found is None:
            return error(404, 10003, "Unknown Channel")
        guild, channel = found
        problem = self._channel_access(guild, channel, payloads.SEND_MESSAGES)
        if problem is not None:
            return problem
        body, refused = self._message_body(request)
        if refused is not None:
            return refused
        message = self._store(
            payloads.message_payload(body, channel_id=channel.id, author=self.double.bot_user)
        )
        if self.double.on_message_created is not None:
            await self.double.on_message_created(message)
        event = {**message, "guild_id": str(guild.id), "member": self.double.bot_member(guild)}
        del event["member"]["user"]
        await self.double.gateway.dispatch("MESSAGE_CREATE", event, intent=GUILD_MESSAGES_INTENT)
        return json_response(message)

    def _channel_access(
        self, guild: payloads.Guild, channel: payloads.Channel, needed: int
    ) -> web.Response | None:
        """Discord's 403s: 50001 without VIEW_CHANNEL, 50013 without the `needed` permission."""
        allowed = self.double.channel_permissions(guild, channel)
        if not allowed & payloads.VIEW_CHANNEL:
            return error(403, 50001, "Missing Access")
        if not allowed & needed:
            return error(403, 50013, "Missing Permissions")
        return None

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        found = self.double.find_channel(channel_id)
        if found is None:
            return error(404, 10003, "Unknown Channel")
        problem = self._channel_access(*found, payloads.READ_MESSAGE_HISTORY)
        if problem is not None:
            return problem
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return form_error(
                {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "Must be 1-100."}]}}
            )
        messages = sorted(
            self.double.channel_history.get(channel_id, []), key=lambda m: -int(m["id"])
        )
        if "before" in request.query:
            messages = [m for m in messages if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            after = int(request.query["after"])
            messages = [m for m in messages if int(m["id"]) > after][-limit:]
        return json_response(messages[:limit])

    def _channel_message(self, request: web.Request) -> JSON | None:
        message = self.double.messages_by_id.get(int(request.match_info["message"]))
        if message is None or message.get("deleted"):
            return None
        if message["channel_id"] != request.match_info["channel"]:
            return None
        return message

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        return json_response(message) if message else error(404, 10008, "Unknown Message")

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return error(404, 10008, "Unknown Message")
        if message["author"]["id"] != str(self.double.bot_user.id):
            return error(403, 50005, "Cannot edit a message authored by another user")
        body = json_object(request)
        errors = validation.check_message(body, require_content=False)
        if errors:
            return form_error(errors)
        self._check_mentions(request, body)
        return json_response(payloads.apply_edit(message, body))

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return error(404, 10008, "Unknown Message")
        self._delete(message)
        return web.Response(status=204)

    async def unknown(self, request: web.Request) -> web.Response:
        """Catch-all: record the call and answer 404 like Discord does for unknown routes."""
        if request.path.startswith(API_PREFIX):
            record = self.double.requests[-1]  # recorded by the middleware just before
        else:  # e.g. a client still using another API version or host path
            record = RecordedRequest(request.method, request.path, dict(request.query), None, 404)
            self.double.requests.append(record)
        self.double.unknown_requests.append(record)
        return not_found()


async def read_body(request: web.Request) -> tuple[Any, list[str]]:
    """The JSON body (or multipart `payload_json`) and the names of any uploaded files."""
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[str] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = orjson.loads(await part.text())  # type: ignore[union-attr]
            else:
                files.append(part.filename or part.name or "")  # type: ignore[union-attr]
                await part.read()  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return orjson.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []
