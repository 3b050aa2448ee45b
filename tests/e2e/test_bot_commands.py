"""The member-facing /alliance commands, through the real bot process and the Discord double.

One bot process serves the whole module (seed corpus plus one long article); each test sends
its own interactions, and an autouse check fails any test during which the bot got a 4xx from
Discord, allowed a mention, answered late or logged an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from bot_process import (
    LONG_ARTICLE_TITLE,
    READY_TIMEOUT,
    BotProcess,
    bot_env,
    bot_running,
    long_article_paragraphs,
    run_command,
    seeds_with_long_article,
)
from fake_discord import FakeDiscord, InteractionRecord
from fake_discord.validation import check_commands, is_valid_command_name
from replies import (
    EN_DATE,
    JA_DATE,
    KANA,
    custom_ids,
    date_lines,
    embed_text,
    embeds,
    forge_custom_id,
    messages,
    text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = dict[str, Any]
ACK_WITHIN = 3.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def double() -> AsyncIterator[FakeDiscord]:
    """One Discord double for the module."""
    async with FakeDiscord(heartbeat_interval=1.0) as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    double: FakeDiscord, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    """The real bot, started once for the module on a fresh database."""
    root = tmp_path_factory.mktemp("commands")
    seeds = seeds_with_long_article(root / "seeds")
    env = {"ALLIANCE_SEEDS": str(seeds)}
    async with bot_running(double, root / "alliance.db", env=env) as process:
        yield process


@pytest.fixture(autouse=True)
def within_discord_rules(double: FakeDiscord, bot: BotProcess) -> Iterator[None]:
    """Fail the test if, meanwhile, Discord refused a call, a mention was allowed, an answer
    came too late, or the bot logged an error."""
    requests, mentions, log = len(double.requests), len(double.mention_violations), len(bot.stderr)
    known = set(double.interactions)
    yield
    refused = [(r.method, r.path, r.status, r.json) for r in double.requests[requests:]]
    assert [r for r in refused if r[2] >= 400] == []
    assert double.mention_violations[mentions:] == []
    late = [i for i, r in double.interactions.items() if i not in known and r.expired]
    assert late == []
    logged = bot.stderr[log:]
    assert "Traceback" not in logged
    assert " ERROR " not in logged


async def ask(double: FakeDiscord, name: str, options: JSON | None = None, **kw: Any) -> Any:
    """Run a slash command and wait for its settled answer."""
    return await double.wait_response(await double.send_command(name, options, **kw))


def acknowledged_in(record: InteractionRecord) -> float:
    """Seconds from dispatch to the bot's first answer (callback)."""
    return record.events[0].at - record.sent_at


def clear_reply(record: InteractionRecord) -> str:
    """The answer's visible text, asserting there is some."""
    shown = text(record)
    assert shown.strip(), record.events
    return shown


# --- the synced schema ------------------------------------------------------------------------


def _walk(node: JSON) -> Iterator[JSON]:
    """A command and all its subcommands, options and choices."""
    yield node
    for option in node.get("options") or []:
        yield from _walk(option)
    yield from node.get("choices") or []


async def test_synced_schema_is_valid(double: FakeDiscord) -> None:
    """The global sync passes Discord's checks; every name and text is localized ja + en-US."""
    syncs = [s for s in double.command_syncs if s.guild_id is None]
    assert len(syncs) == 1
    commands = syncs[0].commands
    assert check_commands(commands) == {}
    alliance = next(c for c in commands if c["name"] == "alliance")
    subcommands = {o["name"] for o in alliance["options"]}
    assert subcommands == {"search", "latest", "topics", "article", "digest", "help"}
    for command in commands:
        if command.get("type", 1) != 1:
            continue
        for node in _walk(command):
            names = node.get("name_localizations") or {}
            assert {"ja", "en-US"} <= set(names), node["name"]
            if "description" in node:  # commands, subcommands and options; not choices
                assert 1 <= len(node["description"]) <= 100
                descriptions = node.get("description_localizations") or {}
                assert {"ja", "en-US"} <= set(descriptions), node["name"]
                assert all(1 <= len(d) <= 100 for d in descriptions.values())
                assert is_valid_command_name(node["name"])
                assert all(is_valid_command_name(n) for n in names.values())
            assert len(node.get("options") or []) <= 25
            assert len(node.get("choices") or []) <= 25
    assert alliance["name_localizations"]["ja"] == "日米同盟"
    search = next(o for o in alliance["options"] if o["name"] == "search")
    query = next(o for o in search["options"] if o["name"] == "query")
    assert query["autocomplete"] is True
    assert 1 <= query["min_length"] <= query["max_length"] <= 6000


# --- every command in both locales ------------------------------------------------------------

# name, options, (Japanese texts, English texts), private, which lines carry dates
COMMANDS: dict[str, tuple[str, JSON, tuple[list[str], list[str]], bool, str | None]] = {
    "search": (
        "alliance search",
        {"query": "日米"},
        (["「日米」の検索結果", "件中", "次へ", "記事を開く"], ["Results for", "Next", "Open an"]),
        False,
        "fields",
    ),
    "latest": (
        "alliance latest",
        {"count": 5},
        (["最新の記事", "記事を開く"], ["Latest articles", "Open an article"]),
        False,
        "fields",
    ),
    "topics": (
        "alliance topics",
        {},
        (["トピック一覧", "件", "トピックを選ぶ"], ["Topics", "articles", "Choose a topic"]),
        False,
        None,
    ),
    "article": (
        "alliance article",
        {"id": 12},
        (["トピック", "出典"], ["Topics", "Source"]),
        False,
        "fields",
    ),
    "digest": (
        "alliance digest",
        {"week_of": "2025-12-17"},
        (["2025年12月15日〜21日"], ["Dec 15 – 21, 2025"]),
        True,
        None,
    ),
    "help": (
        "alliance help",
        {},
        (["使い方", "/日米同盟 検索"], ["How to use", "/alliance search"]),
        True,
        None,
    ),
}


@pytest.mark.parametrize("locale", ["ja", "en-US"])
@pytest.mark.parametrize("command", list(COMMANDS))
async def test_command_replies_in_the_members_language(
    double: FakeDiscord, command: str, locale: str
) -> None:
    """Each command answers within 3 s, in Japanese for ja and English for en-US, dates included."""
    name, options, (ja_texts, en_texts), private, dated = COMMANDS[command]
    record = await ask(double, name, options, locale=locale)
    assert acknowledged_in(record) < ACK_WITHIN
    assert record.ephemeral is private
    shown = clear_reply(record)
    expected, other = (ja_texts, en_texts) if locale == "ja" else (en_texts, ja_texts)
    for piece in expected:
        assert piece in shown
    assert not [p for p in other if p not in expected and p in shown]
    if locale == "ja":
        assert "approx." not in shown
        assert not EN_DATE.search(shown)
    else:
        assert "頃" not in "\n".join(date_lines(record))
    if dated == "fields":
        lines = date_lines(record)
        assert lines
        pattern = JA_DATE if locale == "ja" else EN_DATE
        assert all(pattern.search(line) for line in lines), lines
        if locale != "ja":
            assert not any(JA_DATE.search(line) for line in lines)


def _localized(node: JSON, locale: str) -> str:
    """A command, option or choice name as a client in `locale` shows it."""
    return str((node.get("name_localizations") or {}).get(locale) or node["name"])


def _check_example(commands: list[JSON], example: str, locale: str) -> list[str]:
    """What in `example` ("/alliance search query:台湾 topic:…") the client in `locale` would not
    take: an unknown command, subcommand or option, or a value none of the option's choices."""
    words = example[1:].split(" ")
    node = next((c for c in commands if _localized(c, locale) == words[0]), None)
    if node is None:
        return [f"no command {words[0]!r}"]
    rest = " ".join(words[1:])
    subcommands = [o for o in node.get("options") or [] if o["type"] in (1, 2)]
    if subcommands:
        name, _, rest = rest.partition(" ")
        node = next((o for o in subcommands if _localized(o, locale) == name), {})
        if not node:
            return [f"no subcommand {name!r} in {example!r}"]
    problems = []
    for match in re.finditer(r"(\S+?):(.+?)(?=\s+\S+?:|$)", rest):
        option_name, value = match[1], match[2].strip()
        option = next(
            (o for o in node.get("options") or [] if _localized(o, locale) == option_name), None
        )
        if option is None:
            problems.append(f"no option {option_name!r} in {example!r}")
        elif option.get("choices") and value not in [
            _localized(c, locale) for c in option["choices"]
        ]:
            problems.append(f"{option_name}:{value} is none of the choices in {example!r}")
    return problems


@pytest.mark.parametrize("locale", ["ja", "en-US"])
async def test_help_examples_are_commands_the_member_can_run(
    double: FakeDiscord, locale: str
) -> None:
    """Every example in /alliance help names a command, options and choices as the member's
    client shows them: `topic:X` must be a topic the picker offers, not a shortened label;
    the admins' commands, feeds among them, are named too."""
    (sync,) = [s for s in double.command_syncs if s.guild_id is None]
    record = await ask(double, "alliance help", locale=locale)
    examples = re.findall(r"`(/[^`]+)`", clear_reply(record))
    assert len(examples) >= 10
    if locale == "ja":
        feeds = {"/同盟フィード設定 一覧", "/同盟フィード設定 追加", "/同盟フィード設定 削除"}
    else:
        feeds = {"/alliance-feeds list", "/alliance-feeds add", "/alliance-feeds remove"}
    assert feeds <= set(examples)
    problems = [p for example in examples for p in _check_example(sync.commands, example, locale)]
    assert problems == []


async def test_dates_read_2025年12月19日_and_Dec_19_2025(double: FakeDiscord) -> None:
    """An article dated 2025-12-19 shows as 2025年12月19日 (ja) and Dec 19, 2025 (en-US)."""
    ja = await ask(double, "alliance search", {"query": "核保有"}, locale="ja")
    en = await ask(double, "alliance search", {"query": "核保有"}, locale="en-US")
    assert any(line.startswith("2025年12月19日 ") for line in date_lines(ja))
    assert any(line.startswith("Dec 19, 2025 ") for line in date_lines(en))


async def test_inferred_dates_are_marked_approximate(double: FakeDiscord) -> None:
    """Dates inferred from neighbours read 頃 in Japanese and approx. in English."""
    ja = await ask(double, "alliance latest", {"count": 10}, locale="ja")
    en = await ask(double, "alliance latest", {"count": 10}, locale="en-US")
    assert any(re.search(r"日頃 ", line) for line in date_lines(ja))
    assert any(line.startswith("approx. ") for line in date_lines(en))


async def test_latest_honours_count_and_topic(double: FakeDiscord) -> None:
    """`latest count:3 topic:taiwan` lists three Taiwan articles, newest first."""
    record = await ask(double, "alliance latest", {"count": 3, "topic": "taiwan"})
    (embed,) = embeds(record)
    assert embed["title"] == "Latest articles: Taiwan contingency"
    assert len(embed["fields"]) == 3
    assert all("Taiwan contingency" in line for line in date_lines(record))


@pytest.mark.parametrize("topic", ["Taiwan", "台湾有事"])
async def test_latest_topic_sent_raw_by_name(double: FakeDiscord, topic: str) -> None:
    """A topic named as the CLI's --topic takes it (a hand-made request: the client sends only
    the slug), not silently every topic."""
    payload = double.command_payload("alliance latest", {"count": 3, "topic": "taiwan"})
    (option,) = [o for o in payload["data"]["options"][0]["options"] if o["name"] == "topic"]
    option["value"] = topic
    record = await double.wait_response(await double.send_interaction(payload))
    (embed,) = embeds(record)
    assert embed["title"] == "Latest articles: Taiwan contingency"


async def test_unknown_article_is_a_clear_private_reply(double: FakeDiscord) -> None:
    """An article id that does not exist gets a short private note, in the member's language."""
    record = await ask(double, "alliance article", {"id": 987654}, locale="ja")
    assert record.ephemeral
    assert "#987654" in clear_reply(record)
    assert "見つかりませんでした" in text(record)


async def test_search_without_results_is_friendly(double: FakeDiscord) -> None:
    """A search that matches nothing says so privately and suggests what to try."""
    record = await ask(double, "alliance search", {"query": "qqqzzzxxyy"})
    assert record.ephemeral
    shown = clear_reply(record)
    assert "No articles match" in shown
    assert "/alliance topics" in shown


# --- autocomplete -----------------------------------------------------------------------------


def _assert_choices_fit(record: InteractionRecord, value_type: type) -> list[JSON]:
    choices = record.choices
    assert record.callback_type == 8
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100
        assert isinstance(choice["value"], value_type)
        if isinstance(choice["value"], str):
            assert 1 <= len(choice["value"]) <= 100
    return choices


@pytest.mark.parametrize("typed", ["日", "taiw", "ｐａｃ", "", "'\"*()%_\\", "a" * 250])
async def test_query_autocomplete(double: FakeDiscord, typed: str) -> None:
    """Query suggestions come back within 3 s, at most 25, each within Discord's limits."""
    sent = await double.send_autocomplete("alliance search", {"query": typed}, "query")
    record = await double.wait_response(sent)
    assert acknowledged_in(record) < ACK_WITHIN
    choices = _assert_choices_fit(record, str)
    if typed == "日":
        assert choices
        assert all(c["value"].startswith("日") for c in choices)


async def test_article_id_autocomplete(double: FakeDiscord) -> None:
    """Article choices: the newest when empty, by number, and by words; all within limits."""

    async def complete(typed: str) -> list[JSON]:
        sent = await double.send_autocomplete("alliance article", {"id": typed}, "id")
        return _assert_choices_fit(await double.wait_response(sent), int)

    newest = await complete("")
    assert len(newest) >= 20
    assert [c["value"] for c in await complete("12")] == [12]
    assert [c["value"] for c in await complete("#12")] == [12]
    assert [c["value"] for c in await complete("# 12 ")] == [12]
    assert [c["value"] for c in await complete("１２")] == [12]  # full-width digits
    assert len(await complete("²")) <= 25  # a digit int() refuses: searched as text
    by_words = await complete("台湾")
    assert by_words
    assert all(c["name"].startswith(f"#{c['value']} ") for c in by_words)
    assert await complete("99999999999999999999") == []
    assert len(await complete("\u200b\x00")) <= 25


@pytest.mark.parametrize(
    ("command", "option", "value_type"),
    [("alliance search", "query", str), ("alliance article", "id", int)],
)
async def test_autocomplete_of_a_value_that_is_not_text(
    double: FakeDiscord, command: str, option: str, value_type: type
) -> None:
    """A focused value sent as a number, not text, still gets choices (12 finds article 12)."""
    payload = double.command_payload(command, {option: "12"}, focused=option)
    [focused] = payload["data"]["options"][0]["options"]
    focused["value"] = 12
    record = await double.wait_response(await double.send_interaction(payload))
    choices = _assert_choices_fit(record, value_type)
    if option == "id":
        assert [c["value"] for c in choices] == [12]


@pytest.mark.parametrize("locale", ["ja", "en-US"])
async def test_a_command_the_bot_no_longer_has_gets_told_to_reload(
    double: FakeDiscord, locale: str
) -> None:
    """A subcommand an out-of-date client still offers is answered privately with "reload
    Discord", and its autocomplete with no choices (a message there is refused)."""
    payload = double.command_payload("alliance topics", {}, locale=locale)
    payload["data"]["options"][0]["name"] = "oldcmd"
    record = await double.wait_response(await double.send_interaction(payload))
    assert record.ephemeral
    assert "Ctrl+R" in clear_reply(record)
    assert ("再読み込み" in text(record)) is (locale == "ja")

    typed = double.command_payload("alliance search", {"query": "日米"}, focused="query")
    typed["data"]["options"][0]["name"] = "oldcmd"
    completed = await double.wait_response(await double.send_interaction(typed))
    assert completed.callback_type == 8
    assert completed.data["choices"] == []


@pytest.mark.parametrize(
    ("command", "options", "focused"),
    [
        ("alliance latest", {"count": "3"}, "count"),
        ("alliance search", {"query": "日米", "sort": "newest"}, "sort"),
        ("alliance search", {"query": "日米"}, "no_such_option"),
    ],
)
async def test_an_option_the_bot_no_longer_completes_gets_no_choices(
    double: FakeDiscord, command: str, options: JSON, focused: str
) -> None:
    """An out-of-date client completing an option that has no autocomplete (or no longer
    exists) is answered with no choices, not left unanswered with a traceback logged."""
    payload = double.command_payload(command, options, focused=next(iter(options)))
    for option in payload["data"]["options"][0]["options"]:
        option.pop("focused", None)
        if option["name"] == focused or focused == "no_such_option":
            option["name"], option["value"], option["focused"] = focused, "x", True
            break
    record = await double.wait_response(await double.send_interaction(payload))
    assert acknowledged_in(record) < ACK_WITHIN
    assert record.callback_type == 8
    assert record.data["choices"] == []


# --- buttons and menus ------------------------------------------------------------------------


def _buttons(record: InteractionRecord) -> tuple[JSON, JSON]:
    found = [c for c in custom_ids(record).values() if c["type"] == 2]
    assert len(found) == 2, found
    return found[0], found[1]


def _footer_count(record: InteractionRecord) -> str:
    (embed,) = embeds(record)
    return str(embed["description"]).splitlines()[-1]


async def test_previous_and_next_buttons_turn_pages(double: FakeDiscord) -> None:
    """Next shows results 6–10 in place; Previous goes back to 1–5; labels follow the locale."""
    first = await ask(double, "alliance search", {"query": "日米"}, locale="en-US")
    previous, after = _buttons(first)
    assert (previous["label"], previous["disabled"]) == ("Previous", True)
    assert (after["label"], after["disabled"]) == ("Next", False)
    assert _footer_count(first).startswith("1–5 of ")
    message_id = int(first.original["id"])

    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=message_id)
    )
    assert turned.callback_type == 7  # the message is updated in place
    assert _footer_count(turned).startswith("6–10 of ")
    back, _ = _buttons(turned)
    assert back["disabled"] is False
    again = await double.wait_response(
        await double.send_component(back["custom_id"], message_id=message_id)
    )
    assert _footer_count(again).startswith("1–5 of ")
    assert embeds(again)[0]["fields"] == embeds(first)[0]["fields"]


def _dates(record: InteractionRecord) -> list[datetime]:
    """The publication dates of a page's results, from an English reply."""
    found = [re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", line) for line in date_lines(record)]
    return [datetime.strptime(m[0], "%b %d, %Y") for m in found if m]


async def test_search_sorted_newest_first_stays_so_across_pages(double: FakeDiscord) -> None:
    """sort:newest lists matches by date, says so, and its Next button keeps that order."""
    first = await ask(
        double, "alliance search", {"query": "日米", "sort": "newest"}, locale="en-US"
    )
    assert _footer_count(first).startswith("1–5 of ")
    assert _footer_count(first).endswith(", newest first")
    dates = _dates(first)  # read now: turning the page edits this very message
    _, after = _buttons(first)
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(first.original["id"]))
    )
    assert _footer_count(turned).startswith("6–10 of ")
    assert _footer_count(turned).endswith(", newest first")
    dates += _dates(turned)
    assert len(dates) == 10
    assert dates == sorted(dates, reverse=True)
    relevant = await ask(double, "alliance search", {"query": "日米"}, locale="en-US")
    assert "newest" not in _footer_count(relevant)
    assert _dates(relevant) != dates[:5]  # the default order is not by date


async def test_open_article_menu_shows_the_article_privately(double: FakeDiscord) -> None:
    """Choosing an article in a page's menu shows it in full, only to the member."""
    page = await ask(double, "alliance search", {"query": "日米"}, locale="ja")
    (menu,) = [c for c in custom_ids(page).values() if c["type"] == 3]
    assert menu["placeholder"] == "記事を開く"
    chosen = menu["options"][1]
    record = await double.wait_response(
        await double.send_component(
            menu["custom_id"],
            values=[chosen["value"]],
            message_id=int(page.original["id"]),
            locale="ja",
        )
    )
    assert record.ephemeral
    shown = embeds(record)[0]
    assert shown["footer"]["text"].startswith(f"#{chosen['value']} · 出典")
    assert chosen["label"].split(" ", 1)[1].rstrip("…")[:40] in shown["title"]


async def test_menus_answer_each_member_in_their_own_language(double: FakeDiscord) -> None:
    """A menu on a Japanese reply answers an English-client member in English, and the other
    way round: what it shows is private, for that member."""
    page = await ask(double, "alliance search", {"query": "日米"}, locale="ja")
    (menu,) = [c for c in custom_ids(page).values() if c["type"] == 3]
    chosen = menu["options"][0]["value"]
    opened = await double.wait_response(
        await double.send_component(
            menu["custom_id"], values=[chosen], message_id=int(page.original["id"]), locale="en-US"
        )
    )
    assert embeds(opened)[0]["footer"]["text"].startswith(f"#{chosen} · Source")
    topics = await ask(double, "alliance topics", locale="en-US")
    (topic_menu,) = custom_ids(topics).values()
    listed = await double.wait_response(
        await double.send_component(
            topic_menu["custom_id"],
            values=["nuclear"],
            message_id=int(topics.original["id"]),
            locale="ja",
        )
    )
    assert embeds(listed)[0]["title"] == "最新の記事: 核・抑止"


async def test_topic_menu_lists_that_topics_articles(double: FakeDiscord) -> None:
    """Choosing a topic in /alliance topics lists its newest articles, privately."""
    topics = await ask(double, "alliance topics", locale="en-US")
    (menu,) = custom_ids(topics).values()
    assert len(menu["options"]) <= 25
    record = await double.wait_response(
        await double.send_component(
            menu["custom_id"], values=["nuclear"], message_id=int(topics.original["id"])
        )
    )
    assert record.ephemeral
    (embed,) = embeds(record)
    assert embed["title"] == "Latest articles: Nuclear & deterrence"
    assert all("Nuclear & deterrence" in line for line in date_lines(record))


async def test_a_topics_list_pages_privately(double: FakeDiscord) -> None:
    """The private list a topic menu opens has its own Next button, which turns that list."""
    topics = await ask(double, "alliance topics", locale="en-US")
    (menu,) = custom_ids(topics).values()
    listed = await double.wait_response(
        await double.send_component(
            menu["custom_id"], values=["us-politics"], message_id=int(topics.original["id"])
        )
    )
    assert listed.ephemeral
    assert listed.original is not None
    _, after = _buttons(listed)
    assert after["custom_id"] == "al:p:en:1:us-politics:r:l"
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(listed.original["id"]))
    )
    assert turned.callback_type == 7
    (embed,) = embeds(turned)
    assert embed["title"] == "Latest articles: US policy & Congress"
    assert embed["footer"]["text"].startswith("6–")


async def test_latest_pages_by_its_count(double: FakeDiscord) -> None:
    """`latest count:3` has Previous / Next: Next shows articles 4–6 in place, Previous 1–3."""
    first = await ask(double, "alliance latest", {"count": 3}, locale="en-US")
    previous, after = _buttons(first)
    assert (previous["label"], previous["disabled"]) == ("Previous", True)
    assert (after["label"], after["disabled"]) == ("Next", False)
    assert after["custom_id"] == "al:p:en:1::r:l3"
    (shown,) = embeds(first)
    assert re.fullmatch(r"1–3 of \d+", shown["footer"]["text"])
    message_id = int(first.original["id"])

    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=message_id)
    )
    assert turned.callback_type == 7  # the message is updated in place
    (page,) = embeds(turned)
    assert page["title"] == "Latest articles"
    assert re.fullmatch(r"4–6 of \d+", page["footer"]["text"])
    assert len(page["fields"]) == 3
    assert not {f["name"] for f in page["fields"]} & {f["name"] for f in shown["fields"]}
    back, _ = _buttons(turned)
    again = await double.wait_response(
        await double.send_component(back["custom_id"], message_id=message_id)
    )
    assert embeds(again)[0]["footer"]["text"] == shown["footer"]["text"]
    assert embeds(again)[0]["fields"] == shown["fields"]


async def test_latest_of_a_topic_pages_within_that_topic(double: FakeDiscord) -> None:
    """`latest count:2 topic:taiwan` turns to the next two Taiwan articles, in Japanese."""
    first = await ask(double, "alliance latest", {"count": 2, "topic": "taiwan"}, locale="ja")
    _, after = _buttons(first)
    assert after["custom_id"] == "al:p:ja:1:taiwan:r:l2"
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(first.original["id"]))
    )
    (page,) = embeds(turned)
    assert page["title"] == "最新の記事: 台湾有事"
    assert re.fullmatch(r"\d+件中 3–4件目", page["footer"]["text"])
    assert all("台湾有事" in line for line in date_lines(turned))


async def test_a_page_of_one_article_names_it_alone(double: FakeDiscord) -> None:
    """`latest count:1` reads "N件中 1件目", then "N件中 2件目" after Next: not "1–1件目"."""
    first = await ask(double, "alliance latest", {"count": 1}, locale="ja")
    assert re.fullmatch(r"\d+件中 1件目", embeds(first)[0]["footer"]["text"])
    _, after = _buttons(first)
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(first.original["id"]))
    )
    assert re.fullmatch(r"\d+件中 2件目", embeds(turned)[0]["footer"]["text"])


async def test_commands_and_buttons_work_in_a_dm(double: FakeDiscord) -> None:
    """In a DM with the bot, a search answers and its Next button turns the page."""
    page = await ask(double, "alliance search", {"query": "日米"}, guild=None)
    assert "guild_id" not in page.payload
    _, after = _buttons(page)
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(page.original["id"]))
    )
    assert _footer_count(turned).startswith("6–10 of ")


async def test_a_search_sees_articles_another_process_just_imported(
    double: FakeDiscord, bot: BotProcess, tmp_path: Path
) -> None:
    """Repeated searches are cached, yet an article imported by the CLI is found at once."""
    query = "ポンデリングス協定"
    for _ in range(2):  # the second one is answered from the bot's search cache
        assert "No articles match" in clear_reply(
            await ask(double, "alliance search", {"query": query})
        )
    article = tmp_path / "new.txt"
    article.write_text(f"date 2026-11-20 {query}の締結で日米が合意した。\n", encoding="utf-8")
    db = Path(bot.env["ALLIANCE_DB"])
    imported = await run_command(double, db, tmp_path / "cli", "ingest", str(article))
    assert imported.returncode == 0, imported.output
    record = await ask(double, "alliance search", {"query": query})
    assert not record.ephemeral
    assert query in text(record)


@pytest.mark.parametrize("url", ["https://ex.jp/a b", "https:///no-host", "https://?q=1"])
async def test_an_article_whose_link_discord_refuses_still_opens(
    double: FakeDiscord, bot: BotProcess, tmp_path: Path, url: str
) -> None:
    """An article stored with a link Discord calls malformed (a feed's with a space, an
    imported file's with no host) opens in full, without the link."""
    article = tmp_path / "spaced.txt"
    article.write_text("date 2026-11-21 リンク不正テストの記事の本文。\n", encoding="utf-8")
    db = Path(bot.env["ALLIANCE_DB"])
    imported = await run_command(double, db, tmp_path / "cli", "ingest", str(article))
    assert imported.returncode == 0, imported.output
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        query = "SELECT id FROM articles WHERE body LIKE '%リンク不正テスト%'"
        (article_id,) = conn.execute(query).fetchone()
        conn.execute("UPDATE articles SET url = ? WHERE id = ?", (url, article_id))
    record = await ask(double, "alliance article", {"id": article_id})
    (embed,) = embeds(record)
    assert not record.ephemeral
    assert "url" not in embed
    assert "リンク不正テスト" in embed["description"]


async def test_concurrent_searches_are_all_answered_in_time(double: FakeDiscord) -> None:
    """Forty-eight searches at once: every one is answered, each well within 3 s."""
    queries = ["日米", "台湾", "核", "PAC3", "Koizumi", "トランプ"] * 8
    sent = await asyncio.gather(
        *[double.send_command("alliance search", {"query": q}) for q in queries]
    )
    records = await asyncio.gather(*[double.wait_response(r, timeout=10) for r in sent])
    assert all(r.settled for r in records)
    assert max(acknowledged_in(r) for r in records) < ACK_WITHIN


async def test_a_long_query_pages_through_a_saved_search(double: FakeDiscord) -> None:
    """A query too long for a custom_id still pages: the buttons carry a saved-search key."""
    query = " ".join(["日米同盟"] * 20)
    assert len(query) > 90
    first = await ask(double, "alliance search", {"query": query}, locale="ja")
    previous, after = _buttons(first)
    assert all(len(b["custom_id"]) <= 100 for b in (previous, after))
    assert re.fullmatch(r"al:p:ja:1::r:#\w+", after["custom_id"])
    assert re.search(r"件中 1–5件目", _footer_count(first))
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(first.original["id"]))
    )
    assert turned.callback_type == 7
    assert re.search(r"件中 6–\d+件目", _footer_count(turned))
    assert embeds(turned)[0]["title"] == embeds(first)[0]["title"]


async def test_forged_menu_values_get_a_clear_reply(double: FakeDiscord) -> None:
    """Hand-made values in the open-article menu (not numbers, no such article) say so."""
    page = await ask(double, "alliance search", {"query": "日米"})
    menu = next(c for c in custom_ids(page).values() if c["type"] == 3)
    for value in ["0", "-1", "abc", "9" * 30, "'; DROP TABLE articles; --"]:
        payload = double.component_payload(
            menu["custom_id"],
            values=[menu["options"][0]["value"]],
            message_id=int(page.original["id"]),
        )
        payload["data"]["values"] = [value]
        record = await double.wait_response(await double.send_interaction(payload))
        assert record.ephemeral
        assert "not found" in clear_reply(record)


async def _press_forged_pager(
    double: FakeDiscord,
    forged: str,
    *,
    locale: str = "en-US",
    command: str = "alliance search",
    options: JSON | None = None,
) -> InteractionRecord:
    """Press a pager button of `command`'s page (a search's by default) with its custom_id
    replaced by `forged`, as a member whose client speaks `locale`."""
    page = await ask(double, command, {"query": "日米"} if options is None else options)
    button = next(c for c in custom_ids(page).values() if c["type"] == 2 and not c["disabled"])
    message_id = int(page.original["id"])
    payload = double.component_payload(button["custom_id"], message_id=message_id, locale=locale)
    forge_custom_id(payload, button["custom_id"], forged)
    return await double.wait_response(await double.send_interaction(payload))


@pytest.mark.parametrize(
    ("forged", "expected"),
    [
        ("al:p:en:9999::r:=日米", "Results for"),  # past the end: the last page
        ("al:p:en:1::r:#0123456789abcdef", "out of date"),  # no such saved search
        ("al:p:en:1:no-such-topic:r:=日米", "out of date"),
        ("al:p:en:1::r:", "out of date"),
        ("al:p:ja:0::n:l", "最新の記事"),
        # Ours, but in no item's form (forged, or from an older version): still answered.
        ("al:p:en:12345::r:=日米", "out of date"),
        ("al:p:de:1::r:=日米", "out of date"),
        ("al:p:en:1::x:=日米", "out of date"),
        ("al:open:de", "out of date"),
        ("al:", "out of date"),
    ],
)
async def test_forged_pager_ids_get_a_clear_reply(
    double: FakeDiscord, forged: str, expected: str
) -> None:
    """Hand-made paging custom_ids (bad page, unknown saved search or topic) never break it."""
    record = await _press_forged_pager(double, forged)
    assert expected in clear_reply(record)
    if "9999" in forged:
        previous, after = _buttons(record)
        assert (previous["disabled"], after["disabled"]) == (False, True)


@pytest.mark.parametrize(
    ("forged", "expected"),
    [
        ("al:p:en:9999::r:l1", "Latest articles"),  # past the end: the last page
        ("al:p:en:1::r:l3", "Latest articles"),
        ("al:p:en:1::r:l0", "out of date"),
        ("al:p:en:1::r:l11", "out of date"),
        ("al:p:en:1::r:l3x", "out of date"),
        ("al:p:en:1::r:l-3", "out of date"),
        ("al:p:en:1:no-such-topic:r:l3", "out of date"),
        ("al:p:en:12345::r:l3", "out of date"),
    ],
)
async def test_forged_latest_pager_ids_get_a_clear_reply(
    double: FakeDiscord, forged: str, expected: str
) -> None:
    """Hand-made ids on /alliance latest's buttons (bad page size, page or topic) never break
    it: a page of the newest, or a private note."""
    record = await _press_forged_pager(double, forged, command="alliance latest", options={})
    assert expected in clear_reply(record)
    assert record.ephemeral is (expected == "out of date")
    if "9999" in forged:
        previous, after = _buttons(record)
        assert (previous["disabled"], after["disabled"]) == (False, True)
        assert len(embeds(record)[0]["fields"]) == 1
        assert re.fullmatch(r"(\d+) of \1", embeds(record)[0]["footer"]["text"])


@pytest.mark.parametrize("forged", ["al:p:en:0::r:=", "al:p:en:1::r:=zzqqxxvv"])
async def test_a_refusal_or_no_results_never_replaces_the_shared_message(
    double: FakeDiscord, forged: str
) -> None:
    """A button whose search is refused or finds nothing answers privately; the page stays."""
    record = await _press_forged_pager(double, forged)
    assert (record.callback_type, record.ephemeral) == (4, True)
    assert clear_reply(record)


@pytest.mark.parametrize("forged", ["al:p:ja:0::r:=", "al:p:ja:1::r:=zzqqxxvv"])
async def test_a_private_note_from_a_button_is_in_the_pressers_language(
    double: FakeDiscord, forged: str
) -> None:
    """A Japanese page's button pressed by an English-speaking member: the private note (query
    refused, nothing found) is written in English, for the member who reads it."""
    record = await _press_forged_pager(double, forged, locale="en-US")
    assert record.ephemeral
    note = clear_reply(record)
    assert note
    assert not any("\u3040" <= ch <= "\u30ff" for ch in note), note
    japanese = await _press_forged_pager(double, forged, locale="ja")
    assert any("\u3040" <= ch <= "\u30ff" for ch in clear_reply(japanese))


# --- hostile input ----------------------------------------------------------------------------

HOSTILE_QUERIES = [
    '"日米',
    "'台湾' OR '1'='1",
    "日米*",
    "*",
    "AND",
    "台湾 AND OR NOT 核",
    "NEAR(日米 台湾, 2)",
    "((日米)",
    "title:台湾",
    "body:* OR rowid:1",
    "'; DROP TABLE articles; --",
    "%",
    "_",
    "100% 日米_同盟",
    "\\",
    "C:\\path\\日米\\",
    "🇯🇵🇺🇸 同盟 🤝",
    "日\u200b米\u200d同\ufeff盟",
    "\u200b",
    "日米\x00\x07\x1b[31m",
    "@everyone <@123> <@&456> <#789>",
    "**bold** __u__ `code` ||spoiler|| > quote",
    "\u202e台湾\u202c",
    "　",
    '^-:"\'"{}[]~',
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_query_gets_a_clear_reply(double: FakeDiscord, query: str) -> None:
    """Operators, quotes, SQL, wildcards and odd characters: a clear answer, never an error."""
    record = await ask(double, "alliance search", {"query": query}, locale="ja")
    assert acknowledged_in(record) < ACK_WITHIN
    shown = clear_reply(record)
    assert "エラーが発生しました" not in shown  # the generic error: never for a query
    assert KANA.search(shown)  # answered in Japanese


@pytest.mark.parametrize("value", [2**63, "abc", "12x", 1.5, True])
async def test_article_id_past_the_declared_range_sent_raw(
    double: FakeDiscord, value: object
) -> None:
    """An article id beyond Discord's integer range, or not an integer (a hand-made request),
    is simply not found."""
    payload = double.command_payload("alliance article", {"id": 1}, locale="en-US")
    payload["data"]["options"][0]["options"][0]["value"] = value
    record = await double.wait_response(await double.send_interaction(payload))
    assert record.ephemeral
    assert "not found" in clear_reply(record)


@pytest.mark.parametrize("week_of", ["9999-12-31", "0001-01-01", "2025-02-30", "'; --"])
async def test_digest_preview_of_odd_weeks(double: FakeDiscord, week_of: str) -> None:
    """A week at the calendar's ends or a non-date gets a private answer, never an error."""
    record = await ask(double, "alliance digest", {"week_of": week_of}, locale="en-US")
    assert record.ephemeral
    assert "Something went wrong" not in clear_reply(record)
    if week_of == "9999-12-31":
        assert "past the last date there is" in clear_reply(record)
    if week_of in ("2025-02-30", "'; --"):
        said = clear_reply(record)
        assert f"“{week_of}” is not a date: give a real one as YYYY-MM-DD" in said


@pytest.mark.parametrize(
    ("week_of", "week"),
    [
        ("2025/12/17", "Dec 15 – 21, 2025"),
        ("2026-1-5", "Jan 5 – 11, 2026"),
        ("2025年12月17日", "Dec 15 – 21, 2025"),
        ("２０２６年１月５日", "Jan 5 – 11, 2026"),
    ],
)
async def test_digest_week_of_reads_common_date_spellings(
    double: FakeDiscord, week_of: str, week: str
) -> None:
    """week_of with slashes, without zero padding or in 年月日 shows that week, not "not a date"."""
    record = await ask(double, "alliance digest", {"week_of": week_of}, locale="en-US")
    assert week in clear_reply(record)


@pytest.mark.parametrize("length", [201, 10_000])
async def test_oversized_query_past_the_client_gets_a_clear_reply(
    double: FakeDiscord, length: int
) -> None:
    """A raw interaction longer than the declared max_length (no client check) is refused kindly."""
    payload = double.command_payload("alliance search", {"query": "x"}, locale="en-US")
    option = payload["data"]["options"][0]["options"][0]
    assert option["name"] == "query"
    option["value"] = ("日米同盟" * length)[:length]
    record = await double.wait_response(await double.send_interaction(payload))
    assert acknowledged_in(record) < ACK_WITHIN
    assert record.ephemeral
    assert "too long" in clear_reply(record)


@pytest.mark.parametrize("count", [0, -3, 10_000])
async def test_raw_options_outside_their_range_get_a_clear_reply(
    double: FakeDiscord, count: int
) -> None:
    """A count outside 1–10 and a topic outside the choices, sent raw, still list 1–10 articles."""
    payload = double.command_payload("alliance latest", {"count": 2, "topic": "taiwan"})
    for option in payload["data"]["options"][0]["options"]:
        option["value"] = count if option["name"] == "count" else "no-such-topic"
    record = await double.wait_response(await double.send_interaction(payload))
    (embed,) = embeds(record)
    assert embed["title"] == "Latest articles"
    assert 1 <= len(embed["fields"]) <= 10


# --- long articles ----------------------------------------------------------------------------


async def test_a_long_article_is_split_across_embeds_without_loss(double: FakeDiscord) -> None:
    """A 7,700-character article comes in several embeds whose text holds every paragraph."""
    sent = await double.send_autocomplete("alliance article", {"id": "長大記事テスト"}, "id")
    choices = (await double.wait_response(sent)).choices
    (article_id,) = [c["value"] for c in choices if LONG_ARTICLE_TITLE in c["name"]]
    record = await double.wait_response(
        await double.send_command("alliance article", {"id": article_id}), events=2
    )
    parts = re.search(r"\(continued 2/(\d+)\)", embeds(record)[1]["title"])
    assert parts is not None
    record = await double.wait_response(record, events=int(parts[1]))
    shown = embeds(record)
    assert len(shown) == int(parts[1])
    assert [len(m["embeds"]) for m in messages(record)] == [1] * len(shown)
    assert all(len(e.get("description") or "") <= 4096 for e in shown)
    body = "".join(e.get("description") or "" for e in shown)
    body = re.sub(r"\s+", "", body)
    for paragraph in long_article_paragraphs():
        assert paragraph in body


# --- answers deferred first -------------------------------------------------------------------

EPHEMERAL = 1 << 6


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def deferring(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DeferringBot]:
    """A second double and a bot that defers every answer first (ALLIANCE_DEFER_AFTER_S=0).

    Not `bot_running`: one test makes a send fail on purpose, so this bot logs a traceback.
    """
    root = tmp_path_factory.mktemp("deferring")
    async with FakeDiscord(heartbeat_interval=1.0) as fake:
        env = bot_env(fake, root / "alliance.db", {"ALLIANCE_DEFER_AFTER_S": "0"})
        process = BotProcess(root / "run", ("run",), env)
        await process.start()
        try:
            await fake.wait_ready(READY_TIMEOUT)
            yield DeferringBot(fake, process)
        finally:
            code = await process.stop()
        assert code == 0, process.stderr


class DeferringBot:
    """The deferring bot's double and process."""

    def __init__(self, double: FakeDiscord, process: BotProcess) -> None:
        self.double = double
        self.process = process

    async def ask(self, name: str, options: JSON | None = None, **kw: Any) -> InteractionRecord:
        """Run a command and wait until its answer followed the defer (and any delete)."""
        double = self.double
        requests = len(double.requests)
        record = await double.send_command(name, options, **kw)
        await double.wait_for(lambda: _answered(record), 10, what=f"{name}: an answer")
        assert acknowledged_in(record) < ACK_WITHIN
        assert not record.expired
        mine = f"/interactions/{record.id}/"
        callbacks = [r for r in double.requests[requests:] if r.path.startswith(mine)]
        assert len(callbacks) == 1  # one interaction response, whatever followed it
        assert double.mention_violations == []
        return record


def _answered(record: InteractionRecord) -> bool:
    return any(e.kind == "followup" for e in record.events)


def _kinds(record: InteractionRecord) -> list[str]:
    return [e.kind for e in record.events]


def _followup(record: InteractionRecord) -> JSON:
    (body,) = [e.body for e in record.events if e.kind == "followup"]
    assert body is not None
    return body


def _private_answer(double: FakeDiscord, record: InteractionRecord) -> JSON:
    """The message the followup created: private, with the placeholder gone and none public."""
    assert record.original is not None
    assert record.original["deleted"] is True
    (message,) = record.followups
    assert message["flags"] & EPHEMERAL
    assert not message.get("deleted")
    assert double.messages_by_id[int(message["id"])] is message
    public = double.channel_messages(record.channel_id)
    assert not [m for m in public if m.get("interaction_metadata", {}).get("id") == str(record.id)]
    return message


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_every_command_deferred_first_fills_its_placeholder(
    deferring: DeferringBot, command: str
) -> None:
    """Each command, deferred at once, then fills its "thinking" message, once, no mentions:
    public or private as the command's answer is, from the start."""
    name, options, (expected, _), private, _ = COMMANDS[command]
    record = await deferring.ask(name, options, locale="ja")
    assert _kinds(record) == ["callback", "followup"]
    assert record.callback_type == 5
    assert bool(int(record.data.get("flags") or 0) & EPHEMERAL) is private
    assert _followup(record)["allowed_mentions"] == {"parse": []}
    assert record.ephemeral is private
    shown = clear_reply(record)
    for piece in expected:
        assert piece in shown
    public = deferring.double.channel_messages(record.channel_id)
    assert (record.original in public) is not private
    assert record.followups == []  # the followup filled the placeholder, no second message


async def test_a_missing_article_deferred_is_said_privately(deferring: DeferringBot) -> None:
    """An article id that is not there, deferred first: the public placeholder goes and the
    note is private."""
    record = await deferring.ask("alliance article", {"id": 987654}, locale="en-US")
    assert _kinds(record) == ["callback", "delete_original", "followup"]
    assert "987654" in _private_answer(deferring.double, record)["content"]


async def test_buttons_of_a_deferred_page_turn_it(deferring: DeferringBot) -> None:
    """The Next button, deferred too, acknowledges at once and then shows results 6–10 in
    place, in the same message."""
    first = await deferring.ask("alliance search", {"query": "日米"}, locale="en-US")
    _, after = _buttons(first)
    assert first.original is not None
    double = deferring.double
    turned = await double.wait_response(
        await double.send_component(after["custom_id"], message_id=int(first.original["id"]))
    )
    assert _kinds(turned) == ["callback", "edit_original"]
    assert turned.callback_type == 6
    assert acknowledged_in(turned) < ACK_WITHIN
    assert turned.original is first.original
    assert _footer_count(turned).startswith("6–10 of ")


async def test_a_deferred_topic_menu_answers_privately_throughout(
    deferring: DeferringBot,
) -> None:
    """A topic chosen when answers are deferred: the placeholder is private from the start, and
    the list fills it; nothing public is posted."""
    double = deferring.double
    topics = await deferring.ask("alliance topics", locale="en-US")
    (menu,) = custom_ids(topics).values()
    assert topics.original is not None
    public = len(double.channel_messages(topics.channel_id))
    listed = await double.wait_response(
        await double.send_component(
            menu["custom_id"], values=["nuclear"], message_id=int(topics.original["id"])
        )
    )
    assert _kinds(listed) == ["callback", "followup"]
    assert listed.callback_type == 5
    assert int(listed.data["flags"]) & EPHEMERAL
    assert listed.ephemeral
    assert embeds(listed)[0]["title"] == "Latest articles: Nuclear & deterrence"
    assert len(double.channel_messages(topics.channel_id)) == public


async def test_an_article_opened_from_a_deferred_page_is_private_throughout(
    deferring: DeferringBot,
) -> None:
    """An article chosen in a page's menu when answers are deferred: the placeholder is
    private from the start and the article fills it; nothing public is posted."""
    double = deferring.double
    page = await deferring.ask("alliance search", {"query": "日米"}, locale="en-US")
    menu = next(c for c in custom_ids(page).values() if c["type"] == 3)
    assert page.original is not None
    public = len(double.channel_messages(page.channel_id))
    opened = await double.wait_response(
        await double.send_component(
            menu["custom_id"],
            values=[menu["options"][0]["value"]],
            message_id=int(page.original["id"]),
        )
    )
    assert _kinds(opened)[:2] == ["callback", "followup"]
    assert opened.callback_type == 5
    assert int(opened.data["flags"]) & EPHEMERAL
    assert opened.ephemeral
    assert "Source" in embeds(opened)[0]["footer"]["text"]
    assert len(double.channel_messages(page.channel_id)) == public


async def test_a_deferred_private_answer_replaces_the_placeholder(
    deferring: DeferringBot,
) -> None:
    """A private page after a defer: the public placeholder is deleted, the answer is private."""
    record = await deferring.ask("alliance search", {"query": "qqqzzzxxyy"}, locale="en-US")
    assert _kinds(record) == ["callback", "delete_original", "followup"]
    body = _followup(record)
    assert int(body["flags"]) & EPHEMERAL
    assert body["allowed_mentions"] == {"parse": []}
    assert "No articles match" in embed_text(body["embeds"][0])
    answer = _private_answer(deferring.double, record)
    assert "No articles match" in embed_text(answer["embeds"][0])


async def test_an_error_after_a_defer_is_answered_privately(deferring: DeferringBot) -> None:
    """A send that fails after the defer: the placeholder goes, the error note is private."""
    double = deferring.double
    double.fail("POST", f"/webhooks/{double.application_id}/*", status=400)
    log = len(deferring.process.stderr)
    record = await deferring.ask("alliance search", {"query": "日米"}, locale="ja")
    assert _kinds(record) == ["callback", "delete_original", "followup"]
    body = _followup(record)
    assert int(body["flags"]) & EPHEMERAL
    assert body["allowed_mentions"] == {"parse": []}
    assert "エラーが発生しました" in body["content"]
    assert "エラーが発生しました" in _private_answer(double, record)["content"]
    assert "command 'alliance search' failed" in deferring.process.stderr[log:]


@pytest.mark.parametrize("value", ["2.6", "-1", "soon"])
async def test_a_defer_threshold_past_discords_limit_is_refused(
    double: FakeDiscord, tmp_path: Path, value: str
) -> None:
    """ALLIANCE_DEFER_AFTER_S must leave time to defer within 3 s: others stop the start."""
    env = {"ALLIANCE_DEFER_AFTER_S": value}
    process = await run_command(double, tmp_path / "alliance.db", tmp_path, "run", env=env)
    assert process.returncode == 2
    assert "invalid setting ALLIANCE_DEFER_AFTER_S" in process.stderr
    assert "Traceback" not in process.stderr


# --- large counts -----------------------------------------------------------------------------


async def test_article_counts_are_written_as_search_counts_are(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Past a thousand, /alliance topics (list and menu) and /alliance help write a count with
    separators (1,050), as the search page beside them does; not 1050 in one place and 1,050
    in the other."""
    root = tmp_path_factory.mktemp("counts")
    seeds = root / "seeds"
    seeds.mkdir()
    lines = [
        json.dumps(
            {
                "title": f"日米同盟の記事 {i}",
                "body": f"日米同盟について {i} 番目の記事。",
                "published": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "topics": ["taiwan"],
            },
            ensure_ascii=False,
        )
        for i in range(1050)
    ]
    (seeds / "many.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with (
        FakeDiscord(heartbeat_interval=1.0) as fake,
        bot_running(fake, root / "alliance.db", env={"ALLIANCE_SEEDS": str(seeds)}),
    ):
        for locale, listed, footer, searched in [
            ("en-US", "**Taiwan contingency** — 1,050 articles", "Articles: 1,050", "of 1,050"),
            ("ja", "**台湾有事** — 1,050件", "記事数: 1,050", "1,050件中"),
        ]:
            search = await ask(fake, "alliance search", {"query": "日米同盟"}, locale=locale)
            assert searched in clear_reply(search)
            topics = await ask(fake, "alliance topics", locale=locale)
            assert listed in clear_reply(topics)
            (menu,) = custom_ids(topics).values()
            assert menu["options"][0]["description"] == listed.rsplit("— ", 1)[1]
            shown = await ask(fake, "alliance help", locale=locale)
            assert footer in clear_reply(shown)
