"""Reading the bot's answers out of the double's interaction records."""

from __future__ import annotations

import copy
import re
from typing import Any

from fake_discord import FakeDiscord, InteractionRecord
from fake_discord.validation import walk_components

JSON = dict[str, Any]

JA_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
EN_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
KANA = re.compile(r"[\u3040-\u30ff]")


async def ask(
    double: FakeDiscord,
    name: str,
    options: JSON | None = None,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
    **kw: Any,
) -> InteractionRecord:
    """Run a slash command (`send_command`'s keywords: locale, permissions …) and wait for its
    settled answer."""
    return await double.wait_response(await double.send_command(name, options, **kw), timeout)


def messages(record: InteractionRecord) -> list[JSON]:
    """The messages an interaction produced: the original response, then the followups."""
    found = [record.original] if record.original is not None else []
    return found + list(record.followups)


def forge_custom_id(payload: JSON, old: str, new: str) -> None:
    """Give a component interaction another custom_id, on a copy of the message as well
    (discord.py only runs components the message carries)."""
    message = copy.deepcopy(payload["message"])
    for component in walk_components(message["components"]):
        if component.get("custom_id") == old:
            component["custom_id"] = new
    payload["message"] = message
    payload["data"]["custom_id"] = new


def embeds(record: InteractionRecord) -> list[JSON]:
    """Every embed of every message the interaction produced, in order."""
    return [e for m in messages(record) for e in m.get("embeds") or []]


def components(record: InteractionRecord) -> list[JSON]:
    """Every button and select of the original response."""
    original = record.original or {}
    return list(walk_components(original.get("components") or []))


def custom_ids(record: InteractionRecord) -> dict[str, JSON]:
    """The original response's interactive components by custom_id."""
    return {c["custom_id"]: c for c in components(record) if "custom_id" in c}


def embed_text(embed: JSON) -> str:
    """All visible text of one embed, one piece per line."""
    parts = [embed.get("title") or "", embed.get("description") or ""]
    for field in embed.get("fields") or []:
        parts += [field["name"], field["value"]]
    parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


def message_text(message: JSON) -> str:
    """All visible text of one message: its content, then its embeds."""
    parts = [message.get("content") or ""]
    parts += [embed_text(e) for e in message.get("embeds") or []]
    return "\n".join(p for p in parts if p)


def enabled_button(record: InteractionRecord) -> str:
    """The custom_id of the original response's first enabled button (on a first page: Next)."""
    return next(i for i, c in custom_ids(record).items() if c["type"] == 2 and not c["disabled"])


def text(record: InteractionRecord) -> str:
    """All visible text of the answer: contents, embeds, button labels, menu placeholders."""
    parts = [message_text(m) for m in messages(record)]
    for component in components(record):
        parts += [component.get("label") or "", component.get("placeholder") or ""]
    return "\n".join(p for p in parts if p)


def date_lines(record: InteractionRecord) -> list[str]:
    """The date-and-topics lines of listed or shown articles (the first line of each field)."""
    return [f["value"].split("\n", 1)[0] for e in embeds(record) for f in e.get("fields") or []]
