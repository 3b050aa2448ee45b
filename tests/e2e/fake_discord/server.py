"""`FakeDiscord`: a loopback double of Discord's REST API (under /api/v10) and gateway.

Start it with `async with FakeDiscord() as double:` and point a bot at `double.api_url`
and `double.gateway_url`. Everything the bot sends is recorded (`requests`,
`command_syncs`, `channel_messages()`, interaction records); tests drive the bot with
`send_command`, `send_autocomplete`, `send_component` and `send_modal_submit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from . import payloads, validation
from .gateway import PRIVILEGED_INTENTS, Gateway, Session
from .interactions import InteractionBuilder, InteractionRecord, ResponseEvent
from .payloads import JSON, Guild, User, error_body, snowflake

API_PREFIX = "/api/v10"
EPHEMERAL, LOADING = 1 << 6, 1 << 7
GUILD_MESSAGES_INTENT = 1 << 9
# Callback types each interaction type accepts (PING=1, COMMAND=2, COMPONENT=3,
# AUTOCOMPLETE=4, MODAL_SUBMIT=5).
ALLOWED_CALLBACKS = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
BODY = web.RequestKey("body", Any)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
class _Failure:
    method: str
    pattern: str
    status: int
    remaining: int
    retry_after: float
    is_global: bool


def _json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json" (no charset), as Discord sends and discord.py compares.
    text = json.dumps(body, ensure_ascii=False)
    response = web.Response(text=text, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> web.Response:
    return _json_response(error_body(code, message, errors), status)


def _form_error(errors: JSON) -> web.Response:
    return _error(400, 50035, "Invalid Form Body", errors)


def _not_found() -> web.Response:
    return _error(404, 0, "404: Not Found")


class FakeDiscord:
    """A Discord double on 127.0.0.1 serving REST and the gateway on one random port."""

    def __init__(
        self,
        *,
        token: str = "fake.bot.token",
        guilds: list[Guild] | None = None,
        heartbeat_interval: float = 1.0,
        interaction_ack_timeout: float = 3.0,
        privileged_intents: int = PRIVILEGED_INTENTS,
        bot_permissions: int = payloads.MEMBER_PERMISSIONS,
    ) -> None:
        self.token = token
        self.application_id = snowflake()
        self.bot_user = User("alliance-bot", id=self.application_id, bot=True)
        self.owner = User("owner")
        self.invoker = User("tester", global_name="Tester")
        """The default user who invokes commands and clicks buttons."""
        self.guilds = guilds if guilds is not None else [Guild()]
        self.privileged_intents = privileged_intents
        """Privileged intents enabled "in the developer portal"; others close with 4014."""
        self.interaction_ack_timeout = interaction_ack_timeout
        self._bot_roles: dict[int, payloads.Role] = {}
        for guild in self.guilds:
            role = payloads.Role(self.bot_user.username, bot_permissions, managed=True, position=1)
            guild.roles.append(role)
            self._bot_roles[guild.id] = role

        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.commands: dict[int | None, list[JSON]] = {}
        """Current command schema per scope (None = global), as returned by Discord."""
        self.command_syncs: list[CommandSync] = []
        self.mention_violations: list[MentionViolation] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self._messages: dict[int, list[JSON]] = {}
        self._by_id: dict[int, JSON] = {}
        self._failures: list[_Failure] = []
        self._changed = asyncio.Condition()
        self.gateway = Gateway(self, heartbeat_interval_ms=int(heartbeat_interval * 1000))
        self._builder = InteractionBuilder(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self.gateway.handle)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/users/@me", self._get_me),
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
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close gateway connections and the server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """Value for `discord.http.Route.BASE` / ALLIANCE_DISCORD_API_URL."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for `DiscordWebSocket.DEFAULT_GATEWAY` / ALLIANCE_DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """Environment variables that point a `python -m bot run` subprocess here."""
        return {
            "ALLIANCE_DISCORD_API_URL": self.api_url,
            "ALLIANCE_DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_TOKEN": self.token,
        }

    # --- test-side API ------------------------------------------------------------------------

    @property
    def guild(self) -> Guild:
        """The first configured guild (the default for interactions)."""
        return self.guilds[0]

    async def wait_ready(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - the timeout is part of the API
        """Wait until a client has identified and received READY and GUILD_CREATE."""
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    async def send_command(
        self, name: str, options: JSON | None = None, **kw: Any
    ) -> InteractionRecord:
        """Dispatch a slash command (type 2); `name` may be "group sub" for subcommands.

        Keyword arguments: guild (Guild, id or None for a DM), channel (name or id),
        user, locale ("ja", "en-US" …), permissions, app_permissions. The command must
        have been synced; option values are checked like the Discord client does.
        """
        payload = self._builder.command(name, options or {}, **kw)
        return await self.send_interaction(payload)

    async def send_autocomplete(
        self, name: str, options: JSON, focused: str, **kw: Any
    ) -> InteractionRecord:
        """Dispatch an autocomplete interaction (type 4) with `focused` being typed."""
        payload = self._builder.command(name, options, focused=focused, **kw)
        return await self.send_interaction(payload)

    async def send_component(
        self,
        custom_id: str,
        *,
        values: list[str] | None = None,
        message_id: int | None = None,
        **kw: Any,
    ) -> InteractionRecord:
        """Click a button or choose select `values` on the newest message carrying `custom_id`."""
        message = self._find_component_message(custom_id, message_id)
        payload = self._builder.component(message, custom_id, values, **kw)
        return await self.send_interaction(payload)

    async def send_modal_submit(
        self, custom_id: str, values: dict[str, str], **kw: Any
    ) -> InteractionRecord:
        """Submit the newest modal shown with `custom_id`, text inputs filled from `values`."""
        for record in reversed(self.interactions.values()):
            modal = record.modal
            if modal is not None and modal.get("custom_id") == custom_id:
                payload = self._builder.modal_submit(record, modal, values, **kw)
                return await self.send_interaction(payload)
        raise LookupError(f"no modal with custom_id {custom_id!r} was shown")

    async def send_interaction(self, payload: JSON) -> InteractionRecord:
        """Dispatch a ready-made INTERACTION_CREATE payload and start tracking it."""
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            sent_at=asyncio.get_running_loop().time(),
        )
        if payload.get("message"):
            record.source_message = self._by_id.get(int(payload["message"]["id"]))
        self.interactions[record.id] = record
        if not self.gateway.live_sessions:
            raise RuntimeError("no client is connected to the gateway")
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return record

    async def wait_response(
        self,
        interaction: int | InteractionRecord,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the API
        *,
        events: int | None = None,
    ) -> InteractionRecord:
        """Wait for the bot's answer to an interaction and return its record.

        By default this waits for the callback and, when it was a defer (type 5 or 6), for
        one more edit or followup. `events=n` waits for n recorded events instead.
        """
        iid = interaction if isinstance(interaction, int) else interaction.id
        record = self.interactions[iid]

        def done() -> bool:
            if events is not None:
                return len(record.events) >= events
            return record.settled

        await self.wait_for(done, timeout, what=f"a response to interaction {iid}")
        return record

    def channel_messages(self, channel: int | str) -> list[JSON]:
        """Messages in a channel (id or name), oldest first."""
        return list(self._messages.get(self._channel_id(channel), []))

    async def wait_message(
        self,
        channel: int | str,
        predicate: Callable[[JSON], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the API
    ) -> JSON:
        """Wait for a message matching `predicate` in `channel` and return it."""
        channel_id = self._channel_id(channel)

        def find() -> JSON | None:
            return next((m for m in self._messages.get(channel_id, []) if predicate(m)), None)

        await self.wait_for(lambda: find() is not None, timeout, what=f"a message in {channel}")
        found = find()
        assert found is not None
        return found

    async def wait_sync(self, guild_id: int | None = None, timeout: float = 5.0) -> CommandSync:  # noqa: ASYNC109 - the timeout is part of the API
        """Wait for a command sync in the scope (None = global) and return the newest."""

        def find() -> CommandSync | None:
            matching = [s for s in self.command_syncs if s.guild_id == guild_id]
            return matching[-1] if matching else None

        await self.wait_for(lambda: find() is not None, timeout, what="a command sync")
        found = find()
        assert found is not None
        return found

    async def wait_for(self, condition: Callable[[], bool], timeout: float, *, what: str) -> None:  # noqa: ASYNC109 - the timeout is part of the API
        """Wait until `condition()` holds, or raise TimeoutError.

        The condition is checked after every request the double serves and every 20 ms,
        so it may also look at state outside the double (e.g. the client's).
        """
        try:
            async with asyncio.timeout(timeout), self._changed:
                while not condition():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.02)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None

    def find_requests(self, method: str | None = None, path: str = "*") -> list[RecordedRequest]:
        """Recorded requests by method and path glob (e.g. "/channels/*/messages")."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and fnmatch.fnmatchcase(r.path, path)
        ]

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with 429 (rate limit) or a 5xx."""
        self._failures.append(_Failure(method, path, status, times, retry_after, is_global))

    def bot_member(self, guild: Guild) -> JSON:
        """The bot's member object in `guild`."""
        return payloads.member_payload(self.bot_user, role_ids=[self._bot_roles[guild.id].id])

    def bot_permissions(self, guild: Guild) -> int:
        """The bot's guild-level permissions (@everyone plus its managed role)."""
        everyone = next(r for r in guild.roles if r.id == guild.id)
        return everyone.permissions | self._bot_roles[guild.id].permissions

    def ready_payload(self, session: Session) -> JSON:
        """The READY dispatch for a new session."""
        user = {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False}
        ready: JSON = {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["japan", "hongkong"],
            "_trace": ["fake-gw"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        return ready

    def guild_create_payload(self, guild: Guild) -> JSON:
        """The GUILD_CREATE dispatch for `guild`."""
        return guild.to_payload(self.bot_member(guild))

    # --- plumbing -----------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _channel_id(self, channel: int | str) -> int:
        if isinstance(channel, int):
            return channel
        for guild in self.guilds:
            for c in guild.channels:
                if c.name == channel:
                    return c.id
        raise KeyError(channel)

    def find_channel(self, channel_id: int) -> tuple[Guild, payloads.Channel] | None:
        """The configured guild channel with this id, if any."""
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return guild, channel
        return None

    def _find_component_message(self, custom_id: str, message_id: int | None) -> JSON:
        candidates = [self._by_id[message_id]] if message_id else reversed(self._by_id.values())
        for message in candidates:
            if any(
                c.get("custom_id") == custom_id
                for c in validation.walk_components(message.get("components") or [])
            ):
                return message
        raise LookupError(f"no message carries a component with custom_id {custom_id!r}")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        body, files = await _read_body(request)
        request[BODY] = body
        record = RecordedRequest(request.method, path, dict(request.query), body, files=files)
        self.requests.append(record)
        response = self._injected_failure(request.method, path)
        needs_auth = not path.startswith(("/webhooks/", "/interactions/"))
        if response is None and needs_auth and not self._authorized(request):
            response = _error(401, 0, "401: Unauthorized")
        if response is None:
            response = await handler(request)
        record.status = response.status
        await self._notify()
        return response

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _injected_failure(self, method: str, path: str) -> web.Response | None:
        for failure in self._failures:
            if failure.remaining <= 0 or failure.method != method:
                continue
            if not fnmatch.fnmatchcase(path, failure.pattern):
                continue
            failure.remaining -= 1
            if failure.status != 429:
                return _error(failure.status, 0, f"{failure.status}: Server Error")
            headers = {
                "Retry-After": str(max(1, round(failure.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(failure.retry_after),
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "global" if failure.is_global else "user",
                "Via": "1.1 google",
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": failure.retry_after,
                "global": failure.is_global,
            }
            return _json_response(body, 429, headers)
        return None

    def _check_mentions(self, request: web.Request, body: JSON) -> None:
        allowed = body.get("allowed_mentions")
        if not isinstance(allowed, dict) or allowed.get("parse") != []:
            path = request.path[len(API_PREFIX) :]
            self.mention_violations.append(MentionViolation(request.method, path, allowed))

    def _store(self, message: JSON, *, listed: bool = True) -> JSON:
        self._by_id[int(message["id"])] = message
        if listed:
            self._messages.setdefault(int(message["channel_id"]), []).append(message)
        return message

    # --- REST: identity, gateway, application ---------------------------------------------------

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return _json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response(
            {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False}
        )

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json_response(
            payloads.application_payload(self.application_id, self.owner, self.bot_user)
        )

    def _scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        if request.match_info["app"] != str(self.application_id):
            return None, _error(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        if guild is None:
            return None, None
        if not any(str(g.id) == guild for g in self.guilds):
            return None, _error(403, 50001, "Missing Access")
        return int(guild), None

    async def _get_commands(self, request: web.Request) -> web.Response:
        scope, problem = self._scope(request)
        return problem or _json_response(self.commands.get(scope, []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, problem = self._scope(request)
        if problem:
            return problem
        body = request[BODY]
        errors = validation.check_commands(body)
        if errors:
            return _form_error(errors)
        previous = {(c["type"], c["name"]): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for command in body:
            kind = command.get("type", 1)
            stored.append(
                {
                    "id": previous.get((kind, command["name"])) or str(snowflake()),
                    "application_id": str(self.application_id),
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
        self.commands[scope] = stored
        self.command_syncs.append(CommandSync(scope, body))
        return _json_response(stored)

    # --- REST: interactions ---------------------------------------------------------------------

    def _interaction_for_webhook(self, request: web.Request) -> InteractionRecord | None:
        if request.match_info["app"] != str(self.application_id):
            return None
        token = request.match_info["token"]
        record = next((r for r in self.interactions.values() if r.token == token), None)
        if record is None or record.callback is None:
            return None  # Discord only accepts the webhook once the interaction is acknowledged
        return record

    async def _callback(self, request: web.Request) -> web.Response:
        record = self.interactions.get(int(request.match_info["id"]))
        if record is None or record.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        if record.callback is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = asyncio.get_running_loop().time() - record.sent_at
        if elapsed > self.interaction_ack_timeout:
            record.expired = True
            return _error(404, 10062, "Unknown interaction")
        body: JSON = request[BODY] or {}
        kind = body.get("type")
        data: JSON = body.get("data") or {}
        if kind not in ALLOWED_CALLBACKS.get(record.type, set()):
            return _form_error(
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
            return _form_error(errors)
        if kind in (4, 7):
            self._check_mentions(request, data)

        message = self._apply_callback(record, kind, data)
        record.events.append(ResponseEvent("callback", body, message))
        record.callback = body
        await self._notify()
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
        return _json_response(response)

    def _apply_callback(self, record: InteractionRecord, kind: int, data: JSON) -> JSON | None:
        """Create or update the message a callback produces; return it (None if none)."""
        if kind == 9:
            record.modal = data
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = payloads.message_payload(
                data if kind == 4 else {},
                channel_id=record.channel_id,
                author=self.bot_user,
                webhook_id=self.application_id,
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
            return _error(404, 10015, "Unknown Webhook")
        body: JSON = request[BODY] or {}
        errors = validation.check_message(body)
        if errors:
            return _form_error(errors)
        self._check_mentions(request, body)
        original = record.original
        if original is not None and original["flags"] & LOADING:
            # The first followup after a "thinking" defer edits the deferred message.
            original["flags"] &= ~LOADING
            message = payloads.apply_edit(original, {k: v for k, v in body.items() if k != "flags"})
        else:
            message = payloads.message_payload(
                body,
                channel_id=record.channel_id,
                author=self.bot_user,
                webhook_id=self.application_id,
                interaction_metadata=record.metadata(),
            )
            self._store(message, listed=not message["flags"] & EPHEMERAL)
            record.followups.append(message)
        record.events.append(ResponseEvent("followup", body, message))
        await self._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return _json_response(message)
        return web.Response(status=204)

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> JSON | None:
        if message_id == "@original":
            return record.original
        return next((m for m in record.followups if m["id"] == message_id), None)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._interaction_for_webhook(request)
        if record is None:
            return _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request.match_info["message"])
        if message is None or message.get("deleted"):
            return _error(404, 10008, "Unknown Message")
        return _json_response(message)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        record = self._interaction_for_webhook(request)
        if record is None:
            return _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request.match_info["message"])
        if message is None or message.get("deleted"):
            return _error(404, 10008, "Unknown Message")
        body: JSON = request[BODY] or {}
        errors = validation.check_message(body, require_content=False)
        if errors:
            return _form_error(errors)
        self._check_mentions(request, body)
        message["flags"] &= ~LOADING
        payloads.apply_edit(message, {k: v for k, v in body.items() if k != "flags"})
        kind = "edit_original" if request.match_info["message"] == "@original" else "edit_followup"
        record.events.append(ResponseEvent(kind, body, message))
        await self._notify()
        return _json_response(message)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._interaction_for_webhook(request)
        if record is None:
            return _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, request.match_info["message"])
        if message is None or message.get("deleted"):
            return _error(404, 10008, "Unknown Message")
        self._delete(message)
        kind = (
            "delete_original" if request.match_info["message"] == "@original" else "delete_followup"
        )
        record.events.append(ResponseEvent(kind, None, message))
        await self._notify()
        return web.Response(status=204)

    def _delete(self, message: JSON) -> None:
        message["deleted"] = True
        listed = self._messages.get(int(message["channel_id"]), [])
        if message in listed:
            listed.remove(message)

    # --- REST: channels, messages, guilds -------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        found = self.find_channel(int(request.match_info["channel"]))
        if found is None:
            return _error(404, 10003, "Unknown Channel")
        guild, channel = found
        return _json_response(channel.to_payload(guild.id))

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = next((g for g in self.guilds if str(g.id) == request.match_info["guild"]), None)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response(guild.to_rest_payload())

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = next((g for g in self.guilds if str(g.id) == request.match_info["guild"]), None)
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([c.to_payload(guild.id) for c in guild.channels])

    async def _create_message(self, request: web.Request) -> web.Response:
        found = self.find_channel(int(request.match_info["channel"]))
        if found is None:
            return _error(404, 10003, "Unknown Channel")
        guild, channel = found
        body: JSON = request[BODY] or {}
        errors = validation.check_message(body)
        if errors:
            return _form_error(errors)
        self._check_mentions(request, body)
        message = self._store(
            payloads.message_payload(body, channel_id=channel.id, author=self.bot_user)
        )
        event = {**message, "guild_id": str(guild.id), "member": self.bot_member(guild)}
        del event["member"]["user"]
        for session in self.gateway.live_sessions:
            if session.intents & GUILD_MESSAGES_INTENT:
                await self.gateway._dispatch(session, "MESSAGE_CREATE", event)
        return _json_response(message)

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if self.find_channel(channel_id) is None:
            return _error(404, 10003, "Unknown Channel")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return _form_error(
                {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "Must be 1-100."}]}}
            )
        messages = sorted(self._messages.get(channel_id, []), key=lambda m: -int(m["id"]))
        if "before" in request.query:
            messages = [m for m in messages if int(m["id"]) < int(request.query["before"])]
        if "after" in request.query:
            after = int(request.query["after"])
            messages = [m for m in messages if int(m["id"]) > after][-limit:]
        return _json_response(messages[:limit])

    def _channel_message(self, request: web.Request) -> JSON | None:
        message = self._by_id.get(int(request.match_info["message"]))
        if message is None or message.get("deleted"):
            return None
        if message["channel_id"] != request.match_info["channel"]:
            return None
        return message

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        return _json_response(message) if message else _error(404, 10008, "Unknown Message")

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if message["author"]["id"] != str(self.bot_user.id):
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body: JSON = request[BODY] or {}
        errors = validation.check_message(body, require_content=False)
        if errors:
            return _form_error(errors)
        self._check_mentions(request, body)
        return _json_response(payloads.apply_edit(message, body))

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        self._delete(message)
        return web.Response(status=204)

    async def _unknown(self, request: web.Request) -> web.Response:
        if request.path.startswith(API_PREFIX):
            record = self.requests[-1]  # recorded by the middleware just before
        else:  # e.g. a client still using another API version or host path
            record = RecordedRequest(request.method, request.path, dict(request.query), None, 404)
            self.requests.append(record)
        self.unknown_requests.append(record)
        return _not_found()


async def _read_body(request: web.Request) -> tuple[Any, list[str]]:
    """The JSON body (or multipart `payload_json`) and the names of any uploaded files."""
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[str] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                files.append(part.filename or part.name or "")  # type: ignore[union-attr]
                await part.read()  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []
