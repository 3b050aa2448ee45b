"""Self-test of the Discord double with a real, unmodified discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import discord.gateway
import discord.http
import discord.webhook.async_
import pytest
from discord import app_commands
from discord.webhook.async_ import async_context, interaction_response_params
from fake_discord import FakeDiscord, Overwrite, payloads, pointed_at
from fake_discord.validation import LOCALES, check_commands, check_message

HUGE_EMBED = discord.Embed(title="t" * 257, description="d" * 10)


class _Button(discord.ui.View):
    """A one-button view whose click edits the message in place (callback type 7)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Next", custom_id="page:next")
    async def next_page(
        self, interaction: discord.Interaction, _: discord.ui.Button[_Button]
    ) -> None:
        await interaction.response.edit_message(content="page 2")

    @discord.ui.select(
        custom_id="topic:pick",
        options=[discord.SelectOption(label=t, value=t) for t in ("defense", "economy")],
        max_values=2,
    )
    async def pick(
        self, interaction: discord.Interaction, select: discord.ui.Select[_Button]
    ) -> None:
        await interaction.response.send_message(",".join(select.values), ephemeral=True)


class _Feedback(discord.ui.Modal, title="Feedback"):
    """A modal with one text input."""

    text: discord.ui.TextInput[_Feedback] = discord.ui.TextInput(label="Text", custom_id="text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}")


class _Client(discord.Client):
    """A tiny bot: one embed reply, one defer + followup, one autocomplete, a few probes."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        super().__init__(
            intents=intents or discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.tree = app_commands.CommandTree(self)
        self.http_errors: list[discord.HTTPException] = []
        self.followups: list[discord.WebhookMessage] = []
        self.ready_guilds: list[int] = []
        tree, errors, followups = self.tree, self.http_errors, self.followups

        @tree.command(description="最新ニュース")
        @app_commands.describe(topic="Topic")
        async def news(interaction: discord.Interaction, topic: str) -> None:
            embed = discord.Embed(title=f"News: {topic}", description=interaction.locale.value)
            await interaction.response.send_message(embed=embed, view=_Button())

        @tree.command(description="Deferred search")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("done")

        @tree.command(description="Deferred, then answered privately")
        async def private(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.delete_original_response()
            sent = await interaction.followup.send("secret", ephemeral=True, wait=True)
            followups.append(sent)
            try:
                await interaction.original_response()
            except discord.NotFound as exc:
                errors.append(exc)

        @tree.command(description="Autocomplete")
        async def topic(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(name)

        @topic.autocomplete("name")
        async def topic_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = ["日米同盟", "防衛", "経済安全保障"]
            return [app_commands.Choice(name=n, value=n) for n in names if current in n]

        alliance = app_commands.Group(name="alliance", description="日米同盟ニュース")

        @alliance.command(description="Search")
        async def search(
            interaction: discord.Interaction, query: str, channel: discord.TextChannel | None = None
        ) -> None:
            where = channel.name if channel else "-"
            await interaction.response.send_message(f"{query} in {where}")

        tree.add_command(alliance)

        @tree.command(description="Opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(_Feedback())

        @tree.command(description="Oversized embed")
        async def big(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message(embed=HUGE_EMBED)
            except discord.HTTPException as exc:
                errors.append(exc)
                await interaction.response.send_message("too big", ephemeral=True)

        @tree.command(description="Answers twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            try:  # a second callback, bypassing discord.py's own InteractionResponded guard
                await async_context.get().create_interaction_response(
                    interaction.id,
                    interaction.token,
                    session=interaction._session,
                    params=interaction_response_params(4, {"content": "second"}),
                )
            except discord.HTTPException as exc:
                errors.append(exc)

    async def on_ready(self) -> None:
        self.ready_guilds = [g.id for g in self.guilds]


@contextlib.asynccontextmanager
async def _started(double: FakeDiscord) -> AsyncIterator[_Client]:
    """Run a `_Client` against `double` until the block ends."""
    with pointed_at(double):
        bot = _Client()
        task = asyncio.create_task(bot.start(double.token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 5)
            yield bot
        finally:
            await bot.close()
            await task


@pytest.fixture
async def client(fake_discord: FakeDiscord) -> AsyncIterator[_Client]:
    """A discord.py client logged in to the double, connected, with its tree synced."""
    async with _started(fake_discord) as bot:
        await bot.tree.sync()
        yield bot


async def test_pointed_at_sets_and_restores_the_urls(fake_discord: FakeDiscord) -> None:
    """pointed_at() redirects REST, webhooks and the gateway, then restores discord.py."""
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with pointed_at(fake_discord):
        assert discord.webhook.async_.Route is discord.http.Route  # one BASE for both
        assert discord.http.Route("GET", "/users/@me").url == fake_discord.api_url + "/users/@me"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake_discord.gateway_url
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


async def test_login_ready_and_guild_create_reach_the_client(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """The client logs in, gets READY with the bot user and the configured guild's channels."""
    assert client.user is not None
    assert client.user.id == fake_discord.bot_user.id
    assert client.application_id == fake_discord.application_id
    assert client.ready_guilds == [fake_discord.guild.id]
    guild = client.get_guild(fake_discord.guild.id)
    assert guild is not None
    assert guild.me is not None
    assert {c.name for c in guild.text_channels} == {"general", "alliance-news"}
    assert fake_discord.gateway.identify_count == 1
    assert fake_discord.gateway.compressions == ["zlib-stream"]
    assert any(p["op"] == 1 for p in fake_discord.gateway.received)  # heartbeat, answered
    assert [r.path for r in fake_discord.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


async def test_sync_stores_the_schema(fake_discord: FakeDiscord, client: _Client) -> None:
    """tree.sync() PUTs the global commands; the double stores and records them."""
    sync = await fake_discord.wait_sync()
    assert {c["name"] for c in sync.commands} == {
        "news",
        "slow",
        "private",
        "topic",
        "alliance",
        "feedback",
        "big",
        "twice",
    }
    news = next(c for c in fake_discord.commands[None] if c["name"] == "news")
    assert news["options"][0]["name"] == "topic"
    assert news["options"][0]["required"] is True
    fetched = await client.tree.fetch_commands()
    assert {c.id for c in fetched} == {int(c["id"]) for c in fake_discord.commands[None]}


async def test_command_reply_with_embed(fake_discord: FakeDiscord, client: _Client) -> None:
    """A slash command's embed reply arrives as callback type 4 with the invoker's locale."""
    sent = await fake_discord.send_command("news", {"topic": "同盟"}, locale="ja")
    record = await fake_discord.wait_response(sent.id)
    assert record.callback_type == 4
    assert record.data["embeds"][0]["title"] == "News: 同盟"
    assert record.data["embeds"][0]["description"] == "ja"
    assert record.original is not None
    assert record.original["author"]["bot"] is True
    assert fake_discord.channel_messages("general") == [record.original]
    assert fake_discord.mention_violations == []


async def test_defer_then_followup(fake_discord: FakeDiscord, client: _Client) -> None:
    """A deferred command is settled by its followup, which replaces the thinking message."""
    record = await fake_discord.wait_response(await fake_discord.send_command("slow"))
    assert [e.kind for e in record.events] == ["callback", "followup"]
    # Timestamps on the loop's clock, in order: dispatch, callback request, callback, followup.
    callback_request = fake_discord.find_requests("POST", "/interactions/*/callback")[-1]
    assert record.sent_at <= callback_request.at <= record.events[0].at <= record.events[1].at
    assert record.callback_type == 5
    assert record.original is not None
    assert record.original["content"] == "done"
    assert not record.original["flags"] & (1 << 7)


async def test_a_followup_after_deleting_the_placeholder_is_a_new_message(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """Defer, delete the thinking message, follow up privately: a new ephemeral message."""
    record = await fake_discord.wait_response(await fake_discord.send_command("private"))
    await fake_discord.wait_for(lambda: client.http_errors != [], 5, what="GET @original")
    assert [e.kind for e in record.events] == ["callback", "delete_original", "followup"]
    assert record.original is not None
    assert record.original["deleted"] is True
    assert record.original["content"] == ""  # the followup did not fill the deleted message
    (followup,) = record.followups
    assert followup["id"] != record.original["id"]
    assert followup["content"] == "secret"
    assert followup["flags"] & (1 << 6)
    assert not followup.get("deleted")
    assert fake_discord.messages_by_id[int(followup["id"])] is followup
    assert fake_discord.channel_messages("general") == []  # nothing public is left
    (sent,) = client.followups
    assert sent.id == int(followup["id"])
    assert sent.flags.ephemeral
    assert [type(e) for e in client.http_errors] == [discord.NotFound]  # @original is gone


async def test_autocomplete_choices(fake_discord: FakeDiscord, client: _Client) -> None:
    """Autocomplete gets callback type 8 with the bot's filtered choices."""
    sent = await fake_discord.send_autocomplete("topic", {"name": "安全"}, focused="name")
    record = await fake_discord.wait_response(sent)
    assert record.callback_type == 8
    assert record.choices == [{"name": "経済安全保障", "value": "経済安全保障"}]


async def test_button_click_updates_the_message(fake_discord: FakeDiscord, client: _Client) -> None:
    """Clicking the reply's button reaches the view, which edits the message (type 7)."""
    reply = await fake_discord.wait_response(
        await fake_discord.send_command("news", {"topic": "x"})
    )
    click = await fake_discord.wait_response(await fake_discord.send_component("page:next"))
    assert click.callback_type == 7
    assert reply.original is not None
    assert reply.original["content"] == "page 2"


async def test_select_values_reach_the_view(fake_discord: FakeDiscord, client: _Client) -> None:
    """Choosing select values dispatches them to the view's select callback."""
    await fake_discord.wait_response(await fake_discord.send_command("news", {"topic": "x"}))
    sent = await fake_discord.send_component("topic:pick", values=["economy", "defense"])
    record = await fake_discord.wait_response(sent)
    assert record.data["content"] == "economy,defense"
    assert record.ephemeral


async def test_subcommand_with_a_channel_option(fake_discord: FakeDiscord, client: _Client) -> None:
    """A "group sub" command path and a channel option resolve inside discord.py."""
    news = fake_discord.guild.channel("alliance-news")
    sent = await fake_discord.send_command("alliance search", {"query": "QUAD", "channel": news})
    record = await fake_discord.wait_response(sent)
    assert record.data["content"] == "QUAD in alliance-news"
    with pytest.raises(ValueError, match="required option 'query'"):
        await fake_discord.send_command("alliance search", {})


async def test_modal_round_trip(fake_discord: FakeDiscord, client: _Client) -> None:
    """A modal response (type 9) can be submitted back; the bot reads the text input."""
    shown = await fake_discord.wait_response(await fake_discord.send_command("feedback"))
    assert shown.callback_type == 9
    assert shown.modal is not None
    submitted = await fake_discord.send_modal_submit(shown.modal["custom_id"], {"text": "良い"})
    record = await fake_discord.wait_response(submitted)
    assert record.data["content"] == "thanks: 良い"


async def test_late_acknowledgement_is_unknown_interaction(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """A callback after the acknowledgement deadline gets 404 Unknown interaction."""
    fake_discord.interaction_ack_timeout = 0.0
    record = await fake_discord.send_command("slow")
    await fake_discord.wait_for(lambda: record.expired, 2, what="the late callback")
    assert record.callback is None
    [callback] = fake_discord.find_requests("POST", f"/interactions/{record.id}/*/callback")
    assert callback.status == 404


async def test_oversized_embed_is_refused(fake_discord: FakeDiscord, client: _Client) -> None:
    """An embed title over 256 characters gets Discord's 50035 Invalid Form Body."""
    record = await fake_discord.wait_response(await fake_discord.send_command("big"))
    [error] = client.http_errors
    assert error.status == 400
    assert error.code == 50035
    assert "data.embeds.0.title" in error.text
    assert record.ephemeral
    assert record.original is not None
    assert fake_discord.channel_messages("general") == []


async def test_second_response_is_already_acknowledged(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """A second callback to one interaction gets 400 with code 40060."""
    record = await fake_discord.wait_response(await fake_discord.send_command("twice"))
    await fake_discord.wait_for(lambda: bool(client.http_errors), 2, what="the second callback")
    [error] = client.http_errors
    assert (error.status, error.code) == (400, 40060)
    assert error.text == "Interaction has already been acknowledged."
    assert record.data["content"] == "first"


async def test_bad_token_fails_login(fake_discord: FakeDiscord) -> None:
    """A wrong token gets 401 on GET /users/@me, which discord.py turns into LoginFailure."""
    with pointed_at(fake_discord):
        async with _Client() as bot:
            with pytest.raises(discord.LoginFailure):
                await bot.login("not-the-token")
    assert fake_discord.requests[-1].status == 401


async def test_bad_token_on_the_gateway_closes_4004(fake_discord: FakeDiscord) -> None:
    """IDENTIFY with a token the gateway rejects closes the socket with 4004."""
    with pointed_at(fake_discord):
        async with _Client() as bot:
            await bot.login(fake_discord.token)
            fake_discord.token = "rotated"
            with pytest.raises(discord.ConnectionClosed) as caught:
                await asyncio.wait_for(bot.connect(), 5)
    assert caught.value.code == 4004


@pytest.mark.parametrize("is_global", [False, True])
async def test_rate_limit_is_retried(
    fake_discord: FakeDiscord, client: _Client, is_global: bool
) -> None:
    """A 429 with retry_after is waited out and retried by discord.py."""
    fake_discord.fail("POST", "/channels/*/messages", retry_after=0.05, is_global=is_global)
    channel = client.get_channel(fake_discord.guild.channel("alliance-news").id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("速報")
    attempts = fake_discord.find_requests("POST", "/channels/*/messages")
    assert [r.status for r in attempts] == [429, 200]
    assert fake_discord.channel_messages("alliance-news")[0]["id"] == str(message.id)


async def test_server_error_on_a_callback_is_retried(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """A 502 on the interaction callback is retried by discord.py's webhook adapter."""
    fake_discord.fail("POST", "/interactions/*/callback", status=502)
    record = await fake_discord.wait_response(await fake_discord.send_command("slow"))
    statuses = [r.status for r in fake_discord.find_requests("POST", "/interactions/*/callback")]
    assert statuses == [502, 200]
    assert record.original is not None
    assert record.original["content"] == "done"


async def test_mentions_that_can_ping_are_flagged(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """A message allowed to ping @everyone is recorded as a mention violation."""
    channel = client.get_channel(fake_discord.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("quiet")
    await channel.send("loud", allowed_mentions=discord.AllowedMentions(everyone=True))
    [violation] = fake_discord.mention_violations
    assert violation.allowed_mentions["parse"] == ["everyone"]


async def test_reconnect_resumes_the_session(fake_discord: FakeDiscord, client: _Client) -> None:
    """After op 7 RECONNECT the client RESUMEs and still receives interactions."""
    await fake_discord.gateway.request_reconnect()
    await fake_discord.wait_for(lambda: fake_discord.gateway.resume_count == 1, 5, what="RESUME")
    await fake_discord.wait_for(
        lambda: bool(fake_discord.gateway.live_sessions), 5, what="a live session"
    )
    record = await fake_discord.wait_response(await fake_discord.send_command("slow"))
    assert record.original is not None
    assert record.original["content"] == "done"
    assert fake_discord.gateway.identify_count == 1


async def test_history_is_newest_first(fake_discord: FakeDiscord, client: _Client) -> None:
    """GET /channels/{id}/messages honours limit and before, newest first like Discord."""
    channel = client.get_channel(fake_discord.guild.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    sent = [await channel.send(str(i)) for i in range(3)]
    latest = [m.content async for m in channel.history(limit=2)]
    older = [m.content async for m in channel.history(limit=5, before=sent[1])]
    assert (latest, older) == (["2", "1"], ["0"])


async def test_channel_overwrites_refuse_like_discord(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """A member overwrite reaches the client's cache (CHANNEL_UPDATE); posting then gets 50013."""
    news = fake_discord.guild.channel("alliance-news")
    channel = client.get_channel(news.id)
    assert isinstance(channel, discord.TextChannel)
    news.permission_overwrites.append(
        Overwrite(fake_discord.bot_user.id, type=1, deny=payloads.SEND_MESSAGES)
    )
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("x")
    assert refused.value.code == 50013
    await fake_discord.update_channel(news)
    await fake_discord.wait_for(
        lambda: not channel.permissions_for(channel.guild.me).send_messages, 2, what="the update"
    )
    news.permission_overwrites[0] = Overwrite(fake_discord.guild.id, deny=payloads.VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as hidden:
        await channel.history(limit=1).__anext__()
    assert hidden.value.code == 50001
    assert fake_discord.channel_messages("alliance-news") == []


async def test_an_outage_makes_a_guild_unavailable_then_available(
    fake_discord: FakeDiscord, client: _Client
) -> None:
    """GUILD_DELETE with `unavailable` leaves the guild in the client's cache, unavailable (not
    removed); the GUILD_CREATE that ends the outage makes the same guild available again."""
    guild = client.get_guild(fake_discord.guild.id)
    assert guild is not None
    await fake_discord.make_guild_unavailable(fake_discord.guild)
    await fake_discord.wait_for(lambda: guild.unavailable, 2, what="the outage")
    assert client.get_guild(guild.id) is guild
    await fake_discord.make_guild_available(fake_discord.guild)
    await fake_discord.wait_for(lambda: not guild.unavailable, 2, what="the guild's return")
    assert client.get_guild(guild.id) is guild
    assert {c.name for c in guild.text_channels} == {"general", "alliance-news"}


async def test_command_in_a_dm(fake_discord: FakeDiscord, client: _Client) -> None:
    """A global command used in a DM carries `user` instead of `member` and still works."""
    record = await fake_discord.send_command("topic", {"name": "x"}, guild=None)
    assert "member" not in record.payload
    assert record.payload["user"]["id"] == str(fake_discord.invoker.id)
    assert (await fake_discord.wait_response(record)).data["content"] == "x"


async def test_disallowed_privileged_intent_closes_4014() -> None:
    """Requesting an intent not enabled "in the portal" fails like Discord (close 4014)."""
    async with FakeDiscord(privileged_intents=0) as double:
        with pointed_at(double):
            intents = discord.Intents.default()
            intents.members = True
            async with _Client(intents) as bot:
                with pytest.raises(discord.PrivilegedIntentsRequired):
                    await asyncio.wait_for(bot.start(double.token), 5)


async def test_a_blocked_event_loop_shows_as_late_heartbeats() -> None:
    """Heartbeats delayed by a blocked client loop are recorded in gateway.late_heartbeats."""
    async with FakeDiscord(heartbeat_interval=0.1) as double, _started(double) as bot:
        bot.loop.call_soon(time.sleep, 0.4)  # blocks the loop, as sync work in a handler would
        # Waiting for that beat, not any late one: a loaded machine can delay a beat a little
        # before the block does.
        with contextlib.suppress(TimeoutError):
            await double.wait_for(
                lambda: max(double.gateway.late_heartbeats, default=0.0) >= 0.39, 2, what="it"
            )
    assert max(double.gateway.late_heartbeats, default=0.0) >= 0.39


async def test_unknown_routes_are_recorded(fake_discord: FakeDiscord, client: _Client) -> None:
    """Calls the double does not implement answer 404 and are listed in unknown_requests."""
    with pytest.raises(discord.NotFound):
        await client.fetch_guild_preview(fake_discord.guild.id)
    assert [r.path for r in fake_discord.unknown_requests] == [
        f"/guilds/{fake_discord.guild.id}/preview"
    ]


def test_message_limits() -> None:
    """Message validation covers content, embed, field and component limits."""
    assert check_message({"content": "x" * 2000}) == {}
    assert "content" in check_message({"content": "x" * 2001})
    assert "embeds" in check_message({"embeds": [{"title": "t"}] * 11})
    assert check_message({"embeds": [{"title": "t", "url": "https://ex.jp/a?b=%20"}]}) == {}
    fields = [{"name": "n", "value": "v" * 1024}] * 6
    assert check_message({"embeds": [{"fields": fields}]})["embeds"]["_errors"]
    too_many_buttons = {
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": str(i)}]}
            for i in range(6)
        ]
    }
    assert "components" in check_message(too_many_buttons)
    assert "content" in check_message({"content": " \n "})
    assert check_message({"embeds": [{"fields": [{"name": "\u200b", "value": "\u200b"}]}]}) == {}


SUBPROCESS_BOT = """
import asyncio, os, discord, discord.gateway, discord.http, discord.webhook.async_, yarl
from discord import app_commands

api, gateway = os.environ["ALLIANCE_DISCORD_API_URL"], os.environ["ALLIANCE_DISCORD_GATEWAY_URL"]
discord.http.Route.BASE = discord.webhook.async_.Route.BASE = api
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


class Bot(discord.Client):
    def __init__(self):
        quiet = discord.AllowedMentions.none()
        super().__init__(intents=discord.Intents.default(), allowed_mentions=quiet)
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self):
        @self.tree.command(description="ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        await self.tree.sync()


asyncio.run(Bot().start(os.environ["DISCORD_TOKEN"]))
"""


async def test_a_bot_subprocess_configured_by_env(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A separate process configured only by `env()` logs in, syncs and answers a command."""
    script = tmp_path / "bot.py"
    script.write_text(SUBPROCESS_BOT)
    env = {**os.environ, **fake_discord.env()}
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script), env=env)
    try:
        await fake_discord.wait_ready(timeout=10)
        await fake_discord.wait_sync(timeout=10)
        record = await fake_discord.wait_response(await fake_discord.send_command("ping"))
    finally:
        proc.terminate()
        await proc.wait()
    assert record.data["content"] == "pong"
    assert record.ephemeral
    assert fake_discord.mention_violations == []


def _embed(**fields: object) -> dict[str, object]:
    return {"embeds": [fields]}


def _row(*components: dict[str, object]) -> dict[str, object]:
    return {"type": 1, "components": list(components)}


def _in_row(*components: dict[str, object]) -> dict[str, object]:
    return {"components": [_row(*components)]}


def _button(custom_id: str = "b", label: str = "b") -> dict[str, object]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def _select(*options: dict[str, str], **overrides: object) -> dict[str, object]:
    listed = list(options) or [{"label": "o", "value": "o"}]
    return {"type": 3, "custom_id": "s", "options": listed, **overrides}


def _option(value: str = "o", **overrides: str) -> dict[str, str]:
    return {"label": value[:100], "value": value, **overrides}


ROW = "components.0.components.0"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (_embed(description="d" * 4097), "embeds.0.description"),
        (_embed(title="t", fields=[{"name": "n", "value": "v"}] * 26), "embeds.0.fields"),
        (_embed(fields=[{"name": "n" * 257, "value": "v"}]), "embeds.0.fields.0.name"),
        (_embed(fields=[{"name": "n", "value": "v" * 1025}]), "embeds.0.fields.0.value"),
        (_embed(fields=[{"name": "n", "value": " \n "}]), "embeds.0.fields.0.value"),
        (_embed(fields=[{"name": "\u3000", "value": "v"}]), "embeds.0.fields.0.name"),
        (_embed(footer={"text": "f" * 2049}), "embeds.0.footer.text"),
        (_embed(author={"name": "a" * 257}), "embeds.0.author.name"),
        (_embed(title="t", url="https://example.com/a b"), "embeds.0.url"),
        (_embed(title="t", url="javascript:alert(1)"), "embeds.0.url"),
        (_embed(author={"name": "a", "url": "example.com"}), "embeds.0.author.url"),
        (_in_row(*[_button(str(i)) for i in range(6)]), "components.0.components"),
        ({"components": [_row(_button(str(i))) for i in range(6)]}, "components"),
        (_in_row(_button(label="l" * 81)), f"{ROW}.label"),
        (_in_row(_button("c" * 101)), f"{ROW}.custom_id"),
        (_in_row(_button("same"), _button("same")), "components.0.components.1.custom_id"),
        (_in_row(_select(placeholder="p" * 151)), f"{ROW}.placeholder"),
        (_in_row(_select(*[_option(str(i)) for i in range(26)])), f"{ROW}.options"),
        (_in_row(_select(_option("v" * 101))), f"{ROW}.options.0.value"),
        (_in_row(_select(_option(description="d" * 101))), f"{ROW}.options.0.description"),
        (_in_row(_select(_option("a"), _option("b"), _option("a"))), f"{ROW}.options.2.value"),
    ],
)
def test_message_limit_table(body: dict[str, object], path: str) -> None:
    """Each over-limit field is reported at its JSON path, as Discord does."""
    node = check_message({"content": "c", **body})
    for key in path.split("."):
        node = node[key]
    assert node["_errors"]


def _cmd(**overrides: object) -> dict[str, object]:
    return {"name": "cmd", "description": "d", **overrides}


def _opt(name: str = "o", kind: int = 3, **overrides: object) -> dict[str, object]:
    return {"type": kind, "name": name, "description": "d", **overrides}


CHOICES_26 = [{"name": str(i), "value": str(i)} for i in range(26)]
NESTED_GROUP = _opt("inner", kind=2, options=[_opt("x", kind=1)])


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (_cmd(name="x" * 33), "0.name"),
        (_cmd(name="has space"), "0.name"),
        (_cmd(description=""), "0.description"),
        (_cmd(description="d" * 101), "0.description"),
        (_cmd(description_localizations={"ja": "説" * 101}), "0.description_localizations.ja"),
        (_cmd(name_localizations={"ja": "Upper"}), "0.name_localizations.ja"),
        (_cmd(options=[_opt(str(i)) for i in range(26)]), "0.options"),
        (_cmd(options=[_opt(choices=CHOICES_26)]), "0.options.0.choices"),
        (_cmd(options=[_opt(kind=1), _opt("s", kind=3)]), "0.options"),
        (_cmd(options=[_opt(kind=2, options=[NESTED_GROUP])]), "0.options.0.options"),
        (_cmd(options=[_opt(kind=1, options=[_opt("x", kind=1)])]), "0.options.0.options.0.type"),
    ],
)
def test_command_limit_table(command: dict[str, object], path: str) -> None:
    """Each invalid command schema is reported at its JSON path."""
    node = check_commands([command])
    for key in path.split("."):
        node = node[key]
    assert node["_errors"]


def test_command_schema_rules() -> None:
    """Command validation rejects bad names, locales and option order; accepts Japanese."""
    good = {"name": "検索", "description": "d", "name_localizations": {"ja": "けんさく"}}
    assert check_commands([good]) == {}
    bad = [
        {"name": "Search", "description": "d"},
        {"name": "a", "description": "d", "name_localizations": {"jp": "a"}},
        {
            "name": "b",
            "description": "d",
            "options": [
                {"type": 3, "name": "x", "description": "d"},
                {"type": 3, "name": "y", "description": "d", "required": True},
            ],
        },
    ]
    errors = check_commands(bad)
    assert set(errors) == {"0", "1", "2"}
    assert "jp" in errors["1"]["name_localizations"]


def test_every_discordpy_locale_is_accepted() -> None:
    """The double's locale list matches discord.py's Locale enum."""
    assert {locale.value for locale in discord.Locale} == LOCALES
