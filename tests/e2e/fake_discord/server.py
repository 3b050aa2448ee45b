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
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Self

from aiohttp import web

from . import payloads, validation
from .gateway import PRIVILEGED_INTENTS, Gateway, Session
from .interactions import InteractionBuilder, InteractionRecord
from .payloads import JSON, Guild, User, snowflake
from .records import CommandSync, Failure, MentionViolation, RecordedRequest
from .rest import API_PREFIX, BODY, Handler, RestApi, error, json_response, read_body

__all__ = ["CommandSync", "FakeDiscord", "MentionViolation", "RecordedRequest"]

DROP = 0
"""The `status` of a failure (`FakeDiscord.fail`) that closes the connection, answering nothing."""
GUILDS_INTENT = 1 << 0


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
        """Message payloads whose `allowed_mentions` was not `{"parse": []}`."""
        self.interactions: dict[int, InteractionRecord] = {}
        self.channel_history: dict[int, list[JSON]] = {}
        """Visible messages per channel id, oldest first (ephemeral and deleted ones left out)."""
        self.messages_by_id: dict[int, JSON] = {}
        # Direct messages: the DM channel opened with each user, and users whose DMs are closed.
        self.dm_channels: dict[int, int] = {}
        self.closed_dms: set[int] = set()
        self.on_message_created: Callable[[JSON], Awaitable[None]] | None = None
        """Awaited with each message the bot creates in a server's channel, stored but not yet
        answered: e.g. to kill the bot between Discord making its post and the bot hearing so."""
        """Every message the bot created, by id (ephemeral and deleted ones included)."""
        self._failures: list[Failure] = []
        self._changed = asyncio.Condition()
        self.gateway = Gateway(self, heartbeat_interval_ms=int(heartbeat_interval * 1000))
        self._builder = InteractionBuilder(self)
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self.gateway.handle)
        for method, path, handler in self.rest.routes():
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_route("*", "/{tail:.*}", self.rest.unknown)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

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

    async def wait_ready(self, timeout: float = 5.0, *, identifies: int = 1) -> None:  # noqa: ASYNC109
        """Wait until a client is connected and has received READY and GUILD_CREATE.

        `identifies=2` waits for a second IDENTIFY, e.g. after restarting the bot.
        """
        gateway = self.gateway
        await self.wait_for(
            lambda: gateway.identify_count >= identifies and bool(gateway.live_sessions),
            timeout,
            what=f"IDENTIFY #{identifies}",
        )

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

    def command_payload(self, name: str, options: JSON | None = None, **kw: Any) -> JSON:
        """The INTERACTION_CREATE payload `send_command` would dispatch, for a test to alter.

        Send it with `send_interaction`, e.g. with an option value the client would refuse.
        """
        return self._builder.command(name, options or {}, **kw)

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
        return await self.send_interaction(
            self.component_payload(custom_id, values=values, message_id=message_id, **kw)
        )

    def component_payload(
        self,
        custom_id: str,
        *,
        values: list[str] | None = None,
        message_id: int | None = None,
        **kw: Any,
    ) -> JSON:
        """The payload `send_component` would dispatch, for a test to alter (e.g. forge ids)."""
        message = self._find_component_message(custom_id, message_id)
        return self._builder.component(message, custom_id, values, **kw)

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
            record.source_message = self.messages_by_id.get(int(payload["message"]["id"]))
        self.interactions[record.id] = record
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload):
            del self.interactions[record.id]
            raise RuntimeError("no client is connected to the gateway")
        return record

    async def wait_response(
        self,
        interaction: int | InteractionRecord,
        timeout: float = 5.0,  # noqa: ASYNC109
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
        return list(self.channel_history.get(self._channel_id(channel), []))

    async def wait_message(
        self,
        channel: int | str,
        predicate: Callable[[JSON], bool] = lambda m: True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """Wait for a message matching `predicate` in `channel` and return it."""
        channel_id = self._channel_id(channel)

        def find() -> JSON | None:
            return next((m for m in self.channel_history.get(channel_id, []) if predicate(m)), None)

        await self.wait_for(lambda: find() is not None, timeout, what=f"a message in {channel}")
        found = find()
        assert found is not None
        return found

    async def wait_sync(self, guild_id: int | None = None, timeout: float = 5.0) -> CommandSync:  # noqa: ASYNC109
        """Wait for a command sync in the scope (None = global) and return the newest."""

        def find() -> CommandSync | None:
            matching = [s for s in self.command_syncs if s.guild_id == guild_id]
            return matching[-1] if matching else None

        await self.wait_for(lambda: find() is not None, timeout, what="a command sync")
        found = find()
        assert found is not None
        return found

    async def wait_for(self, condition: Callable[[], bool], timeout: float, *, what: str) -> None:  # noqa: ASYNC109
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
        after: int = 0,
        message: str = "",
    ) -> None:
        """Answer the next `times` requests matching `method` and `path` (globs) with `status`,
        once `after` of them have been answered as usual. `status` `DROP` (0) closes the
        connection without an answer instead, as a proxy or a network failure would. `message`
        is the error body's message (other than 429), "<status>: Server Error" by default.

        429 comes with Discord's body and headers (`retry_after`, `global`, `Via`), so
        discord.py waits and retries; 500/502/504 are retried by discord.py after ~1 s.
        """
        failure = Failure(
            method, path, status, times, retry_after, is_global, passes=after, message=message
        )
        self._failures.append(failure)

    def add_message(self, channel: int | str, body: JSON, *, author: User | None = None) -> JSON:
        """Store a message in a channel's history as if posted earlier (by the bot by default).

        E.g. the bot's own post that Discord created just before the bot crashed.
        """
        message = payloads.message_payload(
            body, channel_id=self._channel_id(channel), author=author or self.bot_user
        )
        self.messages_by_id[int(message["id"])] = message
        self.channel_history.setdefault(int(message["channel_id"]), []).append(message)
        return message

    def bot_member(self, guild: Guild) -> JSON:
        """The bot's member object in `guild`."""
        return payloads.member_payload(self.bot_user, role_ids=[self._bot_roles[guild.id].id])

    def bot_permissions(self, guild: Guild) -> int:
        """The bot's guild-level permissions (@everyone plus its managed role)."""
        everyone = next(r for r in guild.roles if r.id == guild.id)
        return everyone.permissions | self._bot_roles[guild.id].permissions

    def channel_permissions(self, guild: Guild, channel: payloads.Channel) -> int:
        """The bot's permissions in `channel`, overwrites applied in Discord's order.

        @everyone's overwrite first, then the bot's roles' (denies, then allows), then the
        bot's own member overwrite; ADMINISTRATOR bypasses them all.
        """
        allowed = self.bot_permissions(guild)
        if allowed & payloads.ADMINISTRATOR:
            return allowed
        by_id = {(o.type, o.id): o for o in channel.permission_overwrites}
        everyone = by_id.get((0, guild.id))
        if everyone is not None:
            allowed = (allowed & ~everyone.deny) | everyone.allow
        role = by_id.get((0, self._bot_roles[guild.id].id))
        if role is not None:
            allowed = (allowed & ~role.deny) | role.allow
        member = by_id.get((1, self.bot_user.id))
        if member is not None:
            allowed = (allowed & ~member.deny) | member.allow
        return allowed

    async def update_channel(self, channel: payloads.Channel) -> None:
        """Tell connected clients that `channel` changed (CHANNEL_UPDATE), e.g. its overwrites."""
        found = self.find_channel(channel.id)
        if found is None:
            raise KeyError(channel.id)
        await self.gateway.dispatch(
            "CHANNEL_UPDATE", channel.to_payload(found[0].id), intent=GUILDS_INTENT
        )

    async def delete_channel(self, channel: payloads.Channel) -> None:
        """Delete `channel` from its guild and tell connected clients (CHANNEL_DELETE)."""
        found = self.find_channel(channel.id)
        if found is None:
            raise KeyError(channel.id)
        found[0].channels.remove(channel)
        await self.gateway.dispatch(
            "CHANNEL_DELETE", channel.to_payload(found[0].id), intent=GUILDS_INTENT
        )

    async def remove_guild(self, guild: payloads.Guild) -> None:
        """Take the bot out of `guild` (kicked, or the server deleted) and tell connected
        clients (GUILD_DELETE without `unavailable`)."""
        self.guilds.remove(guild)
        await self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, intent=GUILDS_INTENT)

    async def make_guild_unavailable(self, guild: payloads.Guild) -> None:
        """Tell connected clients that `guild` is unavailable, as a Discord outage does
        (GUILD_DELETE with `unavailable`): the bot is still in it, and it stays in `guilds`.
        `make_guild_available` ends the outage."""
        data = {"id": str(guild.id), "unavailable": True}
        await self.gateway.dispatch("GUILD_DELETE", data, intent=GUILDS_INTENT)

    async def make_guild_available(self, guild: payloads.Guild) -> None:
        """Tell connected clients that `guild` is available again after an outage
        (GUILD_CREATE with the whole guild, as at a connection)."""
        payload = self.guild_create_payload(guild)
        await self.gateway.dispatch("GUILD_CREATE", payload, intent=GUILDS_INTENT)

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

    async def notify(self) -> None:
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

    def find_user(self, user_id: int) -> User | None:
        """The owner or the invoker with this id, if either has it."""
        return next((u for u in (self.owner, self.invoker) if u.id == user_id), None)

    def direct_messages(self, user: User) -> list[JSON]:
        """The messages the bot sent `user` directly, oldest first."""
        channel_id = self.dm_channels.get(user.id)
        return [] if channel_id is None else self.channel_history.get(channel_id, [])

    def find_channel(self, channel_id: int) -> tuple[Guild, payloads.Channel] | None:
        """The configured guild channel with this id, if any."""
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return guild, channel
        return None

    def _find_component_message(self, custom_id: str, message_id: int | None) -> JSON:
        candidates = (
            [self.messages_by_id[message_id]]
            if message_id
            else reversed(self.messages_by_id.values())
        )
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
        body, files = await read_body(request)
        request[BODY] = body
        record = RecordedRequest(request.method, path, dict(request.query), body, files=files)
        self.requests.append(record)
        injected = self._injected_failure(request.method, path)
        if injected == DROP:
            record.status = DROP
            assert request.transport is not None
            request.transport.close()  # the bot's aiohttp raises ServerDisconnectedError
            await self.notify()
            return web.Response(status=HTTPStatus.BAD_GATEWAY)  # written to no one
        response: web.StreamResponse | None = injected
        needs_auth = not path.startswith(("/webhooks/", "/interactions/"))
        if response is None and needs_auth and not self._authorized(request):
            response = error(401, 0, "401: Unauthorized")
        if response is None:
            response = await handler(request)
        record.status = response.status
        await self.notify()
        return response

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _injected_failure(self, method: str, path: str) -> web.Response | int | None:
        for failure in self._failures:
            if failure.remaining <= 0 or not fnmatch.fnmatchcase(method, failure.method):
                continue
            if not fnmatch.fnmatchcase(path, failure.pattern):
                continue
            if failure.passes > 0:
                failure.passes -= 1
                continue
            failure.remaining -= 1
            if failure.status == DROP:
                return DROP
            if failure.status != 429:
                message = failure.message or f"{failure.status}: Server Error"
                return error(failure.status, 0, message)
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
            return json_response(body, 429, headers)
        return None
