"""Which entries of a general news feed are about the US–Japan alliance.

An `alliance` feed keeps every entry. A `general` feed keeps an entry when its title or text

1. names the alliance itself: one of `ALLIANCE_TERMS` (日米, 在日米軍, 普天間, 地位協定, …, or
   in English "U.S.-Japan", "USFJ", …), not counting sports phrases such as 日米通算; or
2. names the United States side (one of `US_TERMS`: 米国, 米軍, 国防総省, トランプ, "Pentagon", …)
   *and* the topic taxonomy (`bot/core/data/topics.toml`) tags it with at least one topic, i.e.
   it is about security, defence, diplomacy or the economy rather than, say, baseball or rice.

Terms match the NFKC-folded, lower-cased text, like the taxonomy's keywords, so full-width and
half-width spellings are the same. English-language feeds have no topic rules, so only rule 1
keeps their entries.
"""

from __future__ import annotations

import re

from bot.core.feeds.config import FeedKind
from bot.core.topics import Taxonomy, fold, load_taxonomy

# Enough on their own: these phrases only appear when the alliance is the subject.
ALLIANCE_TERMS: tuple[str, ...] = (
    "日米",  # 日米同盟, 日米首脳会談, 日米地位協定, 日米豪印 …
    "在日米軍",
    "米軍基地",
    "安保条約",
    "地位協定",
    "思いやり予算",
    "拡大抑止",
    "核の傘",
    "2プラス2",
    "普天間",
    "辺野古",
    "嘉手納",
    "横田基地",
    "横須賀基地",
    "岩国基地",
    "三沢基地",
    "佐世保基地",
    "u.s.-japan",
    "us-japan",
    "japan-u.s.",
    "japan-us",
    "u.s. forces japan",
    "u.s. forces in japan",
    "usfj",
    "futenma",
    "henoko",
    "kadena",
)

# The United States side: enough together with a topic from the taxonomy.
US_TERMS: tuple[str, ...] = (
    "米国",
    "米軍",
    "米政府",
    "米側",
    "米大統領",
    "米国防",
    "米国務",
    "米海軍",
    "米空軍",
    "米陸軍",
    "米海兵隊",
    "米議会",
    "米中",
    "米韓",
    "米比",
    "米豪",
    "訪米",
    "駐日米",
    "アメリカ",
    "合衆国",
    "ホワイトハウス",
    "ペンタゴン",
    "国防総省",
    "国務省",
    "トランプ",
    "バイデン",
    "united states",
    "pentagon",
    "white house",
)

# Phrases containing an alliance term that are not about the alliance (sports records).
EXCLUDED_PHRASES: tuple[str, ...] = ("日米通算", "日米野球", "日米大学野球", "日米対抗")


def _alternation(terms: tuple[str, ...]) -> re.Pattern[str]:
    # ASCII terms need word boundaries ("usfj" but not in a longer word); Japanese has none.
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        escaped = re.escape(fold(term))
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if term.isascii() else escaped)
    return re.compile("|".join(parts))


_ALLIANCE = _alternation(ALLIANCE_TERMS)
_US = _alternation(US_TERMS)
_EXCLUDED = re.compile("|".join(re.escape(fold(p)) for p in EXCLUDED_PHRASES))


def is_about_alliance(title: str, body: str, taxonomy: Taxonomy | None = None) -> bool:
    """True when the text is about the alliance by the rules in this module's docstring."""
    text = _EXCLUDED.sub(" ", fold(f"{title}\n{body}"))
    if _ALLIANCE.search(text):
        return True
    if not _US.search(text):
        return False
    return bool((taxonomy or load_taxonomy()).tag(title, body))


def keep_entry(kind: FeedKind, title: str, body: str, taxonomy: Taxonomy | None = None) -> bool:
    """Whether a feed of this kind keeps the entry."""
    return kind == "alliance" or is_about_alliance(title, body, taxonomy)
