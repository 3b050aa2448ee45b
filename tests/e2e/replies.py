"""Reading the bot's answers out of the double's interaction records."""

from __future__ import annotations

import re
from typing import Any

from fake_discord import InteractionRecord
from fake_discord.validation import walk_components

JSON = dict[str, Any]

JA_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
EN_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
KANA = re.compile(r"[\u3040-\u30ff]")


def messages(record: InteractionRecord) -> list[JSON]:
    """The messages an interaction produced: the original response, then the followups."""
    found = [record.original] if record.original is not None else []
    return found + list(record.followups)


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


def text(record: InteractionRecord) -> str:
    """All visible text of the answer: contents, embeds, button labels, menu placeholders."""
    parts: list[str] = []
    for message in messages(record):
        parts.append(message.get("content") or "")
        parts += [embed_text(e) for e in message.get("embeds") or []]
    for component in components(record):
        parts += [component.get("label") or "", component.get("placeholder") or ""]
    return "\n".join(p for p in parts if p)


def date_lines(record: InteractionRecord) -> list[str]:
    """The date-and-topics lines of listed or shown articles (the first line of each field)."""
    return [f["value"].split("\n", 1)[0] for e in embeds(record) for f in e.get("fields") or []]
