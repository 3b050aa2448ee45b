"""The real bot process: restarts keep old buttons working, bad tokens, signals, no token leaks."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bot_process import (
    READY_TIMEOUT,
    BotProcess,
    bot_env,
    bot_running,
    run_command,
    wal_bytes,
)
from fake_discord import FakeDiscord
from replies import ask, custom_ids, embeds, enabled_button, text

from bot.core import db as database
from bot.core import saved_queries
from bot.core.saved_queries import SavedQuery

# Shaped like a real token (base64 id . timestamp . HMAC), so the HMAC part is checked too.
REAL_LOOKING_TOKEN = "MTQwMDAwMDAwMDAwMDAwMDAw.GxYzAb.q9Vn3kLr7TfW2sPd8HjQ5mZc1XeUoBi4AgNy6R"


async def test_buttons_and_menus_work_after_a_restart(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Previous/Next, the open-article menu, the topic menu and a saved long search still work
    after the bot process is restarted on the same database."""
    double, db = fake_discord, tmp_path / "alliance.db"
    long_query = " ".join(["日米同盟"] * 20)
    async with bot_running(double, db):
        search = await ask(double, "alliance search", {"query": "日米"}, locale="ja")
        long_search = await ask(double, "alliance search", {"query": long_query}, locale="en-US")
        topics = await ask(double, "alliance topics", locale="en-US")
    next_id = enabled_button(search)
    open_menu = next(c for c in custom_ids(search).values() if c["type"] == 3)
    long_next = enabled_button(long_search)
    (topic_id,) = custom_ids(topics)

    async with bot_running(double, db):
        opened = await double.wait_response(
            await double.send_component(
                open_menu["custom_id"],
                values=[open_menu["options"][0]["value"]],
                message_id=int(search.original["id"]),
            )
        )
        turned = await double.wait_response(
            await double.send_component(next_id, message_id=int(search.original["id"]))
        )
        long_turned = await double.wait_response(
            await double.send_component(long_next, message_id=int(long_search.original["id"]))
        )
        browsed = await double.wait_response(
            await double.send_component(
                topic_id, values=["taiwan"], message_id=int(topics.original["id"])
            )
        )
    assert turned.callback_type == 7
    assert re.search(r"件中 6–\d+件目", text(turned))
    assert opened.ephemeral
    assert embeds(opened)[0]["footer"]["text"].startswith(f"#{open_menu['options'][0]['value']} ")
    assert long_turned.callback_type == 7
    assert re.search(r"6–\d+ of \d+", text(long_turned))
    assert embeds(browsed)[0]["title"] == "Latest articles: Taiwan contingency"
    assert [r for r in double.requests if r.status >= 400] == []
    assert double.mention_violations == []


async def test_latest_pages_after_a_restart(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """The Next button of `/alliance latest count:3` still turns to articles 4–6 after the bot
    process is restarted on the same database."""
    double, db = fake_discord, tmp_path / "alliance.db"
    async with bot_running(double, db):
        latest = await ask(double, "alliance latest", {"count": 3}, locale="en-US")
    next_id = enabled_button(latest)
    async with bot_running(double, db):
        turned = await double.wait_response(
            await double.send_component(next_id, message_id=int(latest.original["id"]))
        )
    assert turned.callback_type == 7
    assert re.fullmatch(r"4–6 of \d+", embeds(turned)[0]["footer"]["text"])
    assert len(embeds(turned)[0]["fields"]) == 3
    assert [r for r in double.requests if r.status >= 400] == []


async def test_searches_saved_for_buttons_and_unused_for_months_are_forgotten(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """As it starts, the bot forgets long searches saved for buttons no one used for
    `KEEP_FOR`; those used since stay."""
    db = tmp_path / "alliance.db"
    conn = await database.connect(db)
    try:
        old = await saved_queries.save(conn, SavedQuery("日米同盟 " * 30, None, "relevance"))
        recent = await saved_queries.save(conn, SavedQuery("台湾 " * 30, None, "newest"))
        then = datetime.now(UTC) - saved_queries.KEEP_FOR - timedelta(days=1)
        stamp = then.strftime("%Y-%m-%dT%H:%M:%SZ")
        await conn.execute("UPDATE saved_queries SET last_used = ? WHERE key = ?", (stamp, old))
        await conn.commit()
    finally:
        await conn.close()
    async with bot_running(fake_discord, db, until_logged="forgot 1 saved searches"):
        pass
    conn = await database.connect(db)
    try:
        assert await saved_queries.load(conn, old) is None
        assert await saved_queries.load(conn, recent) is not None
    finally:
        await conn.close()


async def test_sigint_stops_the_bot_cleanly(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) closes the bot like SIGTERM: exit code 0, no traceback, DB closed."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db) as process:
        code = await process.stop(signal.SIGINT)
    assert code == 0, process.stderr
    assert "received SIGINT; shutting down" in process.stderr
    assert "Traceback" not in process.stderr
    assert wal_bytes(db) == 0


async def test_sigterm_while_loading_seeds_stops_cleanly(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """SIGTERM during start-up's seed import stops the bot there: exit code 0, no traceback,
    the database closed, and no half import (the articles are all there or none)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = [
        json.dumps(
            {
                "title": f"記事 {i}: 日米同盟と防衛協力の{i}番目の話題",
                "body": f"日米両政府は第{i}回の協議で、共同訓練と装備の共同生産の拡大で一致した。"
                * 3,
                "published": f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            },
            ensure_ascii=False,
        )
        for i in range(3000)
    ]
    (seeds / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "alliance.db"
    env = bot_env(fake_discord, db, {"ALLIANCE_SEEDS": str(seeds), "ALLIANCE_LOG_LEVEL": "INFO"})
    process = BotProcess(tmp_path / "run", ("run",), env)
    await process.start()
    await process.wait_logged("empty database: loading seeds from")
    code = await process.stop()
    assert code == 0, process.stderr
    assert "received SIGTERM; shutting down" in process.stderr
    assert "Traceback" not in process.output, process.output
    assert "loaded the shipped seeds" not in process.stderr  # stopped before the import ended
    assert fake_discord.gateway.identify_count == 0
    assert wal_bytes(db) == 0
    conn = await database.connect(db)
    try:
        rows = await conn.execute_fetchall("SELECT count(*) FROM articles")
        assert next(iter(rows))[0] in (0, 3000)
    finally:
        await conn.close()


async def test_a_gateway_unreachable_at_start_is_retried_and_health_waits_for_it(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Discord's gateway refusing connections as the bot starts: it keeps trying (discord.py's
    own AttributeError never stops it), `healthcheck` says unhealthy until it is connected and
    healthy once it is, and SIGTERM then stops it cleanly."""
    fake_discord.gateway.unavailable = True
    db = tmp_path / "alliance.db"
    process = BotProcess(tmp_path / "run", ("run",), bot_env(fake_discord, db))
    await process.start()
    try:
        await process.wait_logged("cannot reach Discord's gateway; trying again in 1 s")
        waiting = await run_command(fake_discord, db, tmp_path / "waiting", "healthcheck")
        assert waiting.returncode == 1
        assert "no heartbeat" in waiting.stderr
        fake_discord.gateway.unavailable = False
        await fake_discord.wait_ready(READY_TIMEOUT)
        for attempt in itertools.count():  # the first heartbeat follows READY at once
            health = await run_command(fake_discord, db, tmp_path / f"h{attempt}", "healthcheck")
            if health.returncode == 0 or attempt == 20:
                break
            await asyncio.sleep(0.1)
        assert health.returncode == 0, health.stderr
        code = await process.stop()
    finally:
        await process.kill()
    assert code == 0, process.stderr
    assert fake_discord.gateway.refused >= 1
    assert "AttributeError" not in process.stderr
    assert process.stderr.count("Traceback") == process.stderr.count("Attempting a reconnect")


async def test_sigterm_while_the_gateway_is_unreachable_stops_cleanly(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """SIGTERM while the bot keeps trying an unreachable gateway: exit 0, the database closed,
    and no AttributeError from discord.py."""
    fake_discord.gateway.unavailable = True
    db = tmp_path / "alliance.db"
    process = BotProcess(tmp_path / "run", ("run",), bot_env(fake_discord, db))
    await process.start()
    try:
        await process.wait_logged("cannot reach Discord's gateway; trying again in 2 s", 20)
        code = await process.stop()
    finally:
        await process.kill()
    assert code == 0, process.stderr
    assert "AttributeError" not in process.stderr
    assert wal_bytes(db) == 0


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("not-the-right-token", "Discord rejected DISCORD_TOKEN"),
        ("", "DISCORD_TOKEN is not set"),
        ("   ", "DISCORD_TOKEN is not set"),
        ("MTIz.abc.def\nX-Injected: 1", "DISCORD_TOKEN contains spaces or control characters"),
    ],
)
async def test_a_bad_or_missing_token_is_one_line_and_exit_2(
    fake_discord: FakeDiscord, tmp_path: Path, token: str, expected: str
) -> None:
    """A rejected or missing token: exit code 2, one `alliance-bot:` line, no traceback."""
    process = await run_command(
        fake_discord, tmp_path / "alliance.db", tmp_path, "run", env={"DISCORD_TOKEN": token}
    )
    assert process.returncode == 2
    problems = [line for line in process.stderr.splitlines() if line.startswith("alliance-bot:")]
    assert len(problems) == 1
    assert expected in problems[0]
    assert "Traceback" not in process.stderr
    # Log lines (discord.py says it is logging in) may come before; nothing else may.
    others = [line for line in process.stderr.splitlines() if line not in problems]
    assert all(re.match(r"\d{4}-\d\d-\d\dT\S+ (DEBUG|INFO) ", line) for line in others), others
    if token.strip():
        assert token not in process.stderr + process.stdout
    assert fake_discord.gateway.identify_count == 0


async def test_a_second_bot_on_the_same_database_is_refused(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """While a bot runs, another on its database exits 2 with one line, before it connects;
    once the first has stopped, a new one starts."""
    db = tmp_path / "alliance.db"
    async with bot_running(fake_discord, db):
        second = await run_command(fake_discord, db, tmp_path / "second", "run")
        assert second.returncode == 2
        (line,) = second.stderr.splitlines()
        assert line.startswith("alliance-bot: another alliance-bot is running on the database")
        assert fake_discord.gateway.identify_count == 1
    async with bot_running(fake_discord, db):
        assert fake_discord.gateway.identify_count == 2


async def test_a_lock_file_that_cannot_be_opened_stops_the_start(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A lock file the bot can't open (here a folder; as often another user's file) is one
    line and exit 2, not a warning and a bot running unlocked."""
    db = tmp_path / "alliance.db"
    (tmp_path / "alliance.db.lock").mkdir()
    process = await run_command(fake_discord, db, tmp_path / "run", "run")
    assert process.returncode == 2
    (line,) = process.stderr.splitlines()
    assert line.startswith(f"alliance-bot: cannot lock {tmp_path / 'alliance.db.lock'}: ")
    assert fake_discord.gateway.identify_count == 0


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_the_token_never_reaches_the_logs(tmp_path: Path, log_format: str) -> None:
    """At DEBUG, through login, sync, commands, a button and shutdown, no token is printed."""
    async with FakeDiscord(token=REAL_LOOKING_TOKEN, heartbeat_interval=0.2) as double:
        env = {"ALLIANCE_LOG_LEVEL": "DEBUG", "ALLIANCE_LOG_FORMAT": log_format}
        async with bot_running(double, tmp_path / "alliance.db", env=env) as bot:
            page = await ask(double, "alliance search", {"query": "日米"})
            await double.wait_response(
                await double.send_component(
                    enabled_button(page), message_id=int(page.original["id"])
                )
            )
            await double.wait_response(
                await double.send_autocomplete("alliance search", {"query": "日"}, "query")
            )
            await asyncio.sleep(0.5)  # a few heartbeats
    output = bot.output
    assert "DEBUG" in output  # the level really was DEBUG
    assert "IDENTIFY" in output or "identify" in output.lower()
    for secret in (REAL_LOOKING_TOKEN, REAL_LOOKING_TOKEN.split(".")[2]):
        assert secret not in output


async def test_reconnects_never_resync(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """A RESUME and a fresh IDENTIFY (new READY) trigger no command sync; commands still work."""
    double = fake_discord
    async with bot_running(double, tmp_path / "alliance.db"):
        assert len(double.command_syncs) == 1
        await double.gateway.request_reconnect()
        await double.wait_for(lambda: double.gateway.resume_count == 1, 10, what="RESUME")
        await double.gateway.invalidate_sessions(resumable=False)
        await double.wait_ready(10, identifies=2)
        record = await ask(double, "alliance help")
        assert record.original is not None
        assert record.original["embeds"]
    assert len(double.command_syncs) == 1


async def test_invite_url_asks_for_the_two_scopes_and_minimal_permissions(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """`invite-url` prints one link: the bot's id from its token, both scopes, four permissions."""
    process = await run_command(
        fake_discord,
        tmp_path / "alliance.db",
        tmp_path,
        "invite-url",
        env={"DISCORD_TOKEN": REAL_LOOKING_TOKEN},
    )
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    query = parse_qs(urlsplit(line).query)
    assert query["client_id"] == ["140000000000000000"]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
    # View Channel, Send Messages, Embed Links, Read Message History: nothing else.
    assert int(query["permissions"][0]) == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)
    assert REAL_LOOKING_TOKEN.split(".")[2] not in process.stdout + process.stderr
