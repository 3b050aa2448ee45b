"""News feeds end to end: the real bot process, the Discord double and a loopback feed server.

One bot serves the module. Its `feeds.toml` (the operator's file, where loopback is allowed)
lists two feeds on an aiohttp server bound to 127.0.0.1: one serving an RSS feed with a new
article about the alliance, one answering 500. The bot never contacts any other host: the URLs
the tests give `/alliance-feeds add` are refused before anything is stored, or (a name for this
machine, from /etc/hosts) when the bot resolves them to fetch them. An autouse
check fails any test during which the bot got a 4xx from Discord, allowed a mention or logged an
error; `bot_running` asserts exit code 0 and no traceback after SIGTERM.
"""

from __future__ import annotations

import asyncio
import socket
import string
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from bot_process import BotProcess, bot_running, hold_write_lock
from fake_discord import FakeDiscord, InteractionRecord
from fake_discord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS
from replies import KANA, embeds, text

from bot.core import db as database
from bot.core.feeds import store
from bot.core.feeds.fetch import is_public
from bot.core.feeds.reasons import ENGLISH, Reason
from bot.core.feeds.store import FeedState
from bot.exts.feeds import reason_text
from bot.i18n import FEED_REASONS_JA

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = dict[str, Any]
ADMIN = MEMBER_PERMISSIONS | MANAGE_GUILD
FETCH_TIMEOUT = 10.0
TITLE = "日米同盟、紫陽花作戦で共同訓練を拡大"
TERM = "紫陽花作戦"
GOOD_NAME = "同盟テスト通信"
BROKEN_NAME = "壊れたフィード"
# The broken feed's server words its error as Markdown: a masked link, bold, a role mention.
HOSTILE_REASON = "Internal [Server Error](https://evil.example/login) **now** <@&1>"
SHOWN_REASON = r"Internal \[Server Error](https://evil.example/login) \*\*now\*\* \<@&1>"
ACK_WITHIN = 3.0
"""Discord drops an interaction not acknowledged within this many seconds."""
HOLD = 3.5
"""Seconds a test holds SQLite's write lock, as a long feed ingest does: past `ACK_WITHIN`."""


def rss(base: str) -> str:
    """An RSS 2.0 feed with one article about the alliance, published now."""
    published = format_datetime(datetime.now(UTC), usegmt=True)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>{GOOD_NAME}</title><link>{base}/</link><description>テスト</description>
<item>
  <title>{TITLE}</title>
  <link>{base}/news/ajisai</link>
  <guid>{base}/news/ajisai</guid>
  <pubDate>{published}</pubDate>
  <description>&lt;p&gt;日米両政府は{TERM}と呼ぶ共同訓練を拡大し、同盟の抑止力を高めると発表した。&lt;/p&gt;</description>
</item>
</channel></rss>
"""


class FeedServer:
    """An aiohttp server on 127.0.0.1: `/alliance.xml` and `/lan.xml` serve the feed,
    `/broken.xml` a 500 whose reason phrase is Markdown."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.base = ""
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/alliance.xml", self._feed)
        app.router.add_get("/lan.xml", self._feed)
        app.router.add_get("/broken.xml", self._broken)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _feed(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(
            text=rss(self.base), content_type="application/rss+xml", charset="utf-8"
        )

    async def _broken(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.Response(status=500, reason=HOSTILE_REASON, text="boom")

    @property
    def good(self) -> str:
        return f"{self.base}/alliance.xml"

    @property
    def broken(self) -> str:
        return f"{self.base}/broken.xml"

    @property
    def article(self) -> str:
        return f"{self.base}/news/ajisai"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def feeds() -> AsyncIterator[FeedServer]:
    """The loopback feed server, for the module."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def double() -> AsyncIterator[FakeDiscord]:
    """One Discord double for the module."""
    async with FakeDiscord(heartbeat_interval=1.0) as fake:
        yield fake


async def feed_states(db: Path) -> dict[str, FeedState]:
    """The feeds' fetch states, read on a connection of the test's own."""
    conn = await database.connect(db)
    try:
        return await store.all_states(conn)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    double: FakeDiscord, feeds: FeedServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    """The real bot with both feeds in `feeds.toml`, returned once it has fetched each once."""
    root = tmp_path_factory.mktemp("feeds")
    db = root / "alliance.db"
    (root / "feeds.toml").write_text(
        f'[[feed]]\nurl = "{feeds.good}"\nname = "{GOOD_NAME}"\ninterval = 5\n\n'
        f'[[feed]]\nurl = "{feeds.broken}"\nname = "{BROKEN_NAME}"\n',
        encoding="utf-8",
    )
    async with bot_running(double, db) as process:
        deadline = asyncio.get_running_loop().time() + FETCH_TIMEOUT
        while True:  # the first fetches are staggered by 2 s and run right after start
            states = await feed_states(db)
            if all(
                url in states and states[url].last_fetch_at for url in (feeds.good, feeds.broken)
            ):
                break
            assert asyncio.get_running_loop().time() < deadline, (states, process.stderr)
            await asyncio.sleep(0.2)
        yield process


@pytest.fixture(autouse=True)
def within_discord_rules(double: FakeDiscord, bot: BotProcess) -> Iterator[None]:
    """Fail the test if, meanwhile, Discord refused a call, a mention was allowed, or the bot
    logged an error."""
    requests, mentions, log = len(double.requests), len(double.mention_violations), len(bot.stderr)
    yield
    assert [
        (r.method, r.path, r.status) for r in double.requests[requests:] if r.status >= 400
    ] == []
    assert double.mention_violations[mentions:] == []
    logged = bot.stderr[log:]
    assert "Traceback" not in logged
    assert " ERROR " not in logged


async def ask(
    double: FakeDiscord,
    name: str,
    options: JSON | None = None,
    *,
    locale: str = "en-US",
    permissions: int = ADMIN,
) -> InteractionRecord:
    """Run a slash command (as an admin by default) and wait for its settled answer."""
    sent = await double.send_command(name, options, locale=locale, permissions=permissions)
    return await double.wait_response(sent, 10)


async def followed_urls(double: FakeDiscord) -> str:
    """The text of `/alliance-feeds list` in English."""
    return text(await ask(double, "alliance-feeds list"))


# --- fetched articles ---------------------------------------------------------------------------


async def test_fetched_article_is_searchable_at_once_and_links_to_its_page(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """The file feed's new article is found by `/alliance search`, linked to its URL (ja, en)."""
    assert feeds.requests.count("/alliance.xml") == 1
    for locale, link in (("en-US", "Read"), ("ja", "記事を読む")):
        record = await ask(double, "alliance search", {"query": TERM}, locale=locale)
        shown = text(record)
        assert TITLE in shown
        assert f"[{link}]({feeds.article})" in shown
        assert record.ephemeral is False


async def test_list_shows_fetch_status_article_count_and_last_error(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """`/alliance-feeds list` shows both file feeds: last fetch, count and the 500, its server's
    reason phrase as typed, not as a link (ja, en)."""
    record = await ask(double, "alliance-feeds list")
    assert record.ephemeral
    fields = {f["name"]: f["value"] for e in embeds(record) for f in e["fields"]}
    good, broken = fields[GOOD_NAME], fields[BROKEN_NAME]
    assert good.startswith(feeds.good)
    assert "every 5 min · from: feeds.toml" in good
    assert "Last fetch: <t:" in good
    assert "articles: 1" in good
    assert "Last error" not in good
    assert broken.startswith(feeds.broken)
    assert "Last fetch: <t:" in broken
    assert "articles: 0" in broken
    assert f"Last error: HTTP 500 {SHOWN_REASON}" in broken
    assert "2 feeds (0 failing)" in text(record)
    ja = text(await ask(double, "alliance-feeds list", locale="ja"))
    assert "ニュースフィード" in ja
    assert "5分ごと · 設定元: feeds.toml" in ja
    assert "記事数: 1" in ja
    assert f"直近のエラー: サーバーの応答: HTTP 500 {SHOWN_REASON}" in ja
    assert "Last fetch" not in ja


# --- refused changes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "SERVER",  # the live loopback feed server itself
        "http://localhost/rss",
        "http://[::1]/rss",
        "http://192.168.1.10/rss",
        "http://127.1/rss",
        "http://localhost./rss",
    ],
)
async def test_add_refuses_local_and_private_addresses(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess, url: str
) -> None:
    """Admins can't add feeds on loopback or private addresses, however written (ja, en)."""
    url = feeds.good.replace("alliance", "other") if url == "SERVER" else url
    en = await ask(double, "alliance-feeds add", {"url": url})
    assert en.ephemeral
    assert text(en) == "Not done: feeds on local or private network addresses are not allowed"
    ja = await ask(double, "alliance-feeds add", {"url": url}, locale="ja")
    assert text(ja) == (
        "できませんでした: ローカルネットワークやプライベートアドレスのフィードは追加できません"
    )
    listed = await followed_urls(double)
    assert url not in listed
    assert "2 feeds (0 failing)" in listed


async def test_names_and_addresses_an_admin_typed_are_shown_as_typed(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """A feed's name and address with Markdown in them are echoed, and listed, as typed: no
    bold, no masked link, no mention chip."""
    host = name_for_this_machine()  # never fetched: it names this machine
    if host is None:
        pytest.skip("/etc/hosts names this machine on no local address")
    url = f"http://{host}:{feeds.port}/md.xml?q=<@&1>"
    shown_url = rf"http://{host}:{feeds.port}/md.xml?q=\<@&1>"
    name = "**速報** [login](https://evil.example) <@&1>"
    shown = r"\*\*速報\*\* \[login](https://evil.example) \<@&1>"
    added = await ask(double, "alliance-feeds add", {"url": url, "name": name})
    try:
        assert text(added) == f"Now following “{shown}” (fetched every 30 min)."
        again = text(await ask(double, "alliance-feeds add", {"url": url}))
        assert again == f"Not done: {shown_url} is already followed (in the database)"
        listed = await ask(double, "alliance-feeds list")
        fields = {f["name"]: f["value"] for e in embeds(listed) for f in e["fields"]}
        assert fields[shown].startswith(f"{shown_url}\n")
    finally:
        removed = await ask(double, "alliance-feeds remove", {"url": url})
    assert text(removed) == f"No longer following {shown_url}."
    gone = text(await ask(double, "alliance-feeds remove", {"url": f"  {url}||x|| "}))
    assert gone == rf"{shown_url}\|\|x\|\| is not followed."
    assert "/md.xml" not in feeds.requests


@pytest.mark.parametrize(
    ("url", "reason", "ja_reason"),
    [
        ("feeds.example.jp/rss", "must start with http:// or https://", "で始めてください"),
        ("ftp://127.0.0.1/rss", "must start with http:// or https://", "で始めてください"),
        ("http:///rss", "has no host", "ホスト名がありません"),
        (
            "http://%zz/rss",
            "%zz in the feed URL is not a host name",
            "ホスト名として正しくありません",
        ),
        ("http://127.0.0.1:99999/rss", "not a valid URL", "URL の形式が正しくありません"),
        ("http://a b/rss", "contains spaces", "空白か制御文字"),
    ],
)
async def test_add_refuses_malformed_urls(
    double: FakeDiscord, bot: BotProcess, url: str, reason: str, ja_reason: str
) -> None:
    """A malformed URL is refused with what is wrong with it, in the admin's language."""
    shown = text(await ask(double, "alliance-feeds add", {"url": url}))
    assert shown.startswith("Not done: ")
    assert reason in shown
    ja = text(await ask(double, "alliance-feeds add", {"url": url}, locale="ja"))
    assert ja.startswith("できませんでした: ")
    assert ja_reason in ja
    assert reason not in ja
    assert "2 feeds (0 failing)" in await followed_urls(double)


async def test_interval_out_of_range_cannot_be_sent(double: FakeDiscord, bot: BotProcess) -> None:
    """The synced `interval` option is bounded 5–1440, so the client refuses 4 and 1441."""
    [sync] = [s for s in double.command_syncs if s.guild_id is None]
    group = next(c for c in sync.commands if c["name"] == "alliance-feeds")
    add = next(o for o in group["options"] if o["name"] == "add")
    interval = next(o for o in add["options"] if o["name"] == "interval")
    assert (interval["min_value"], interval["max_value"]) == (5, 1440)
    for minutes in (4, 1441):
        with pytest.raises(ValueError, match=r"outside 5\.\.1440"):
            await double.send_command(
                "alliance-feeds add",
                {"url": "https://feeds.example.jp/rss", "interval": minutes},
                permissions=ADMIN,
            )


async def test_remove_of_a_file_feed_says_to_edit_the_file(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """Removing a feed listed in feeds.toml is refused with where to remove it (ja, en)."""
    en = text(await ask(double, "alliance-feeds remove", {"url": feeds.good}))
    assert en.startswith(f"Not done: {feeds.good} is listed in ")
    assert en.endswith("feeds.toml; remove it there")
    ja = text(await ask(double, "alliance-feeds remove", {"url": feeds.good}, locale="ja"))
    assert ja.startswith(f"できませんでした: {feeds.good} は ")
    assert ja.endswith("feeds.toml に書かれています。削除はそのファイルで行ってください")
    gone = text(await ask(double, "alliance-feeds remove", {"url": f"{feeds.base}/none.xml"}))
    assert gone == f"{feeds.base}/none.xml is not followed."
    assert GOOD_NAME in await followed_urls(double)


async def test_remove_autocomplete_lists_feeds_only_to_admins(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """Typing a URL for `remove` offers the added feed to an admin and nothing to a member,
    whom the command itself would refuse."""
    name = name_for_this_machine()
    if name is None:
        pytest.skip("/etc/hosts names this machine on no local address")
    url = f"http://{name}:{feeds.port}/offered.xml"  # refused when fetched: nothing leaves
    added = await ask(double, "alliance-feeds add", {"url": url}, permissions=ADMIN)
    assert text(added).startswith("Now following")
    try:
        offered = {}
        for who in (ADMIN, MEMBER_PERMISSIONS):
            typed = await double.send_autocomplete(
                "alliance-feeds remove", {"url": "offered"}, "url", permissions=who
            )
            offered[who] = [c["value"] for c in (await double.wait_response(typed)).choices]
        assert offered == {ADMIN: [url], MEMBER_PERMISSIONS: []}
    finally:
        await ask(double, "alliance-feeds remove", {"url": url}, permissions=ADMIN)


async def ask_while_locked(
    double: FakeDiscord, bot: BotProcess, name: str, options: JSON, *, locale: str
) -> InteractionRecord:
    """Run an admin command while the database is locked for `HOLD` seconds; check it was
    deferred privately in time and answered only once the lock was released."""
    held = await hold_write_lock(Path(bot.env["ALLIANCE_DB"]), HOLD)
    try:
        record = await double.wait_response(
            await double.send_command(name, options, locale=locale, permissions=ADMIN), 15
        )
    finally:
        await held
    assert record.callback_type == 5  # deferred: "thinking…"
    assert record.events[0].at - record.sent_at < ACK_WITHIN
    assert not record.expired
    assert record.ephemeral
    assert record.events[-1].at - record.sent_at >= HOLD - 0.5  # it did wait for the lock
    return record


async def test_remove_is_acknowledged_in_time_while_an_ingest_holds_the_database(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """`remove` waiting on the write lock longer than 3 s defers at once, then answers in the
    admin's language, its refusal too (ja, en)."""
    refused = await ask_while_locked(
        double, bot, "alliance-feeds remove", {"url": feeds.good}, locale="en-US"
    )
    assert text(refused).startswith(f"Not done: {feeds.good} is listed in ")
    unknown = f"{feeds.base}/none.xml"
    gone = await ask_while_locked(
        double, bot, "alliance-feeds remove", {"url": unknown}, locale="ja"
    )
    assert text(gone) == f"{unknown} は登録されていません。"
    assert "2 feeds (0 failing)" in await followed_urls(double)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("alliance-feeds list", {}),
        ("alliance-feeds add", {"url": "http://127.0.0.1/rss"}),
        ("alliance-feeds remove", {"url": "http://127.0.0.1/rss"}),
    ],
)
async def test_members_without_manage_server_are_refused(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess, name: str, options: JSON
) -> None:
    """Without Manage Server every subcommand is refused privately, in the member's language."""
    [sync] = [s for s in double.command_syncs if s.guild_id is None]
    group = next(c for c in sync.commands if c["name"] == "alliance-feeds")
    assert int(group["default_member_permissions"]) == MANAGE_GUILD
    en = await ask(double, name, options, permissions=MEMBER_PERMISSIONS)
    assert en.ephemeral
    assert text(en) == "You don't have permission to use this command (needs: Manage Server)."
    ja = await ask(double, name, options, permissions=MEMBER_PERMISSIONS, locale="ja")
    assert text(ja) == "このコマンドを使う権限がありません（必要: サーバー管理）。"
    assert feeds.base not in text(en) + text(ja)


async def test_every_reason_reads_in_japanese_and_english() -> None:
    """Each reason code has Japanese text using only its parameters; English is the CLI's."""

    def fields(template: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}

    assert set(FEED_REASONS_JA) == set(Reason)
    for reason in Reason:
        params = {name: "X" for name in fields(ENGLISH[reason])}
        assert fields(FEED_REASONS_JA[reason]) <= set(params), reason
        ja = reason_text(reason, params, "ja")
        assert KANA.search(ja), (reason, ja)
        assert reason_text(reason, params, "en") == ENGLISH[reason].format(**params).strip()


# --- feeds added from Discord reach public addresses only ----------------------------------------


def name_for_this_machine() -> str | None:
    """A name /etc/hosts gives this machine on local or private addresses only, if any.

    Read from the file rather than asked of DNS, so nothing leaves the machine; the bot's own
    lookup finds it there too. `localhost` names are left out: they are refused at add time.
    """
    try:
        lines = Path("/etc/hosts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    addresses: dict[str, set[str]] = {}
    for line in lines:
        address, *names = line.split("#", 1)[0].split() or [""]
        for name in names:
            addresses.setdefault(name.lower(), set()).add(address)
    for name in (socket.gethostname().lower(), *addresses):
        if name == "localhost" or name.endswith(".localhost") or "." in name.strip("."):
            continue  # a dotted name could be a real one elsewhere: only bare host names
        found = addresses.get(name)
        if found and not any(is_public(a) for a in found):
            return name
    return None


async def test_discord_feed_on_a_name_for_this_machine_is_never_fetched(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """A Discord-added feed whose name resolves to this machine is refused when fetched; the
    list says why (ja, en) and the server never sees the request."""
    name = name_for_this_machine()
    if name is None:
        pytest.skip("/etc/hosts names this machine on no local address")
    url = f"http://{name}:{feeds.port}/lan.xml"
    added = await ask(double, "alliance-feeds add", {"url": url, "name": "LAN"})
    assert text(added) == "Now following “LAN” (fetched every 30 min)."
    try:
        deadline = asyncio.get_running_loop().time() + FETCH_TIMEOUT
        while True:  # the first fetch of an added feed starts a second after it is added
            record = await ask(double, "alliance-feeds list")
            fields = {f["name"]: f["value"] for e in embeds(record) for f in e["fields"]}
            if "Last error" in fields["LAN"]:
                break
            assert asyncio.get_running_loop().time() < deadline, fields["LAN"]
            await asyncio.sleep(0.3)
        lan = fields["LAN"]
        assert "from: added by command" in lan
        assert f"Last error: {name} resolves only to local or private addresses" in lan
        ja = text(await ask(double, "alliance-feeds list", locale="ja"))
        assert "設定元: コマンドで追加" in ja
        assert (
            f"直近のエラー: {name} の接続先がローカルまたはプライベートなアドレスのため取得しません"
            in ja
        )
        assert "/lan.xml" not in feeds.requests
    finally:
        removed = await ask(double, "alliance-feeds remove", {"url": url})
    assert text(removed) == f"No longer following {url}."
    assert "2 feeds (0 failing)" in await followed_urls(double)


async def test_add_and_remove_are_acknowledged_in_time_while_an_ingest_holds_the_database(
    double: FakeDiscord, feeds: FeedServer, bot: BotProcess
) -> None:
    """`add` and `remove` waiting on the write lock longer than 3 s defer at once, then say
    what they did (en, ja); a second `add` of the same feed is refused after the defer."""
    name = name_for_this_machine()
    if name is None:
        pytest.skip("/etc/hosts names this machine on no local address")
    url = f"http://{name}:{feeds.port}/held.xml"
    added = await ask_while_locked(
        double, bot, "alliance-feeds add", {"url": url, "name": "Held"}, locale="en-US"
    )
    try:
        assert text(added) == "Now following “Held” (fetched every 30 min)."
        again = await ask_while_locked(double, bot, "alliance-feeds add", {"url": url}, locale="ja")
        assert text(again) == f"できませんでした: {url} はすでに登録されています"
    finally:
        removed = await ask_while_locked(
            double, bot, "alliance-feeds remove", {"url": url}, locale="ja"
        )
    assert text(removed) == f"フィード {url} の取得をやめました。"
    assert "/held.xml" not in feeds.requests
    assert "2 feeds (0 failing)" in await followed_urls(double)
