"""Turning what a reader typed into a safe full-text query.

The reader's text never reaches FTS5 syntax: every word is analyzed into index forms and
quoted as a phrase, so `AND`, `*`, quotes, `column:` or SQL are just words to look for.
Space-separated words must all match; each word may match any of its variants (English
aliases, katakana for hiragana). A word written -中国 (or after NOT) must not match. English
function words and titles (the, and, of, Mr.) are left out when other words remain.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache
from importlib import resources

from bot.core.search.analyzer import (
    Noun,
    analyze,
    fold,
    index_forms,
    nouns,
    strip_invisible,
    touching,
)

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
_MAX_ALIAS_WORDS = 4
# Typographic quotes too: a reader who quotes “Taiwan” or ‘Taiwan’ means "Taiwan".
_EDGE_PUNCTUATION = string.punctuation + "、。，．！？「」『』（）・…“”‘’‚‛„‟«»‹›〝〞〟"
_BRACKETS = "()[]{}<>\"'`（）［］｛｝＜＞「」『』【】〈〉《》“”‘’‚‛„‟«»‹›〝〞〟"


class QueryProblem(Enum):
    """Why a query was refused, with a message per locale."""

    EMPTY = ("検索する言葉を入力してください。", "Type a word to search for.")
    TOO_LONG = (
        f"検索語が長すぎます（{MAX_QUERY_CHARS}文字まで）。",
        f"That query is too long (at most {MAX_QUERY_CHARS} characters).",
    )
    TOO_MANY_TERMS = (
        f"検索語が多すぎます（{MAX_TERMS}語まで）。",
        f"Too many words (at most {MAX_TERMS}).",
    )
    NOTHING_SEARCHABLE = (
        "検索できる文字が含まれていません（記号や絵文字だけでは検索できません）。",
        "There is nothing to search for in that (symbols and emoji alone can't be searched).",
    )
    ONLY_COMMON_WORDS = (
        "「の」「です」「the」「Mr.」のような語だけでは検索できません。名前や話題を加えてください。",
        "Words like “the”, “Mr.” or の are not searched alone: add a name or a topic.",
    )
    ONLY_EXCLUDED = (
        "除く語（-中国 のように - を付けた語）だけでは検索できません。探す語も入力してください。",
        "Words to leave out (written like -China) can't be searched alone: add a word to look for.",
    )

    def message(self, locale: str) -> str:
        """The message in Japanese for "ja…" locales, English otherwise."""
        ja, en = self.value
        return ja if locale.startswith("ja") else en


# How many words may come between the parts of a word typed without spaces (高市首相 finds
# 高市早苗首相): a name or title inside one phrase, not words anywhere in the article.
NEAR_WORDS = 3


@dataclass(frozen=True, slots=True)
class Term:
    """One thing that must match: the word as typed and the phrases that count as it.

    `near`: the phrases are instead the parts of one word typed without spaces, which must all
    occur within `NEAR_WORDS` of each other (see `loosened`).
    """

    text: str
    phrases: tuple[tuple[str, ...], ...]
    aliased: bool = False
    near: bool = False
    # The words of 核 OR 台湾, any of which may match (each loosened on its own).
    either: tuple[Term, ...] = ()

    def fts(self) -> str:
        """The term as an FTS5 expression."""
        if self.either:
            return "(" + " OR ".join(term.fts() for term in self.either) + ")"
        quoted = [_quote(p) for p in self.phrases]
        if self.near:
            return f"NEAR({' '.join(quoted)}, {NEAR_WORDS})"
        return "(" + " OR ".join(quoted) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every term must match, and no excluded one."""

    terms: tuple[Term, ...]
    excluded: tuple[Term, ...] = ()

    @property
    def text(self) -> str:
        """The query as the reader would write it."""
        return " ".join([*(t.text for t in self.terms), *(f"-{t.text}" for t in self.excluded)])

    def with_terms(self, terms: tuple[Term, ...]) -> Query:
        """The query with other terms to match, and the same ones excluded."""
        return Query(terms, self.excluded)

    def fts(self, *, column: str | None = None) -> str:
        """The FTS5 MATCH expression, optionally restricted to one column."""
        expr = " AND ".join(term.fts() for term in self.terms)
        if self.excluded:
            expr = f"({expr}) NOT ({' OR '.join(term.fts() for term in self.excluded)})"
        return f"{{{column}}} : ({expr})" if column else expr


def _quote(phrase: tuple[str, ...]) -> str:
    return '"' + " ".join(phrase).replace('"', '""') + '"'


@cache
def _alias_table() -> dict[str, list[str]]:
    raw = resources.files("bot.core.search").joinpath("data", "aliases.toml").read_bytes()
    table: dict[str, list[str]] = tomllib.loads(raw.decode("utf-8"))["aliases"]
    return table


@cache
def load_aliases() -> dict[str, tuple[str, ...]]:
    """The shipped English → Japanese alias table, keyed by folded English phrase."""
    return {fold(key): tuple(values) for key, values in _alias_table().items()}


@cache
def alias_spellings() -> dict[str, str]:
    """How the alias table writes each of its keys (Koizumi, USFJ), by folded key."""
    return {fold(key): key for key in _alias_table()}


def is_hiragana_word(word: str) -> bool:
    """Whether `word` is written in hiragana alone (Sudachi misreads unknown ones)."""
    return all("\u3041" <= ch <= "\u309f" or ch == "ー" for ch in word)


def _katakana(word: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in word)


def make_term(text: str, extra: tuple[str, ...] = ()) -> Term | None:
    """A term for `text` and its variants, or None when nothing in it is searchable."""
    # The brackets around a word are not searched, nor shown as part of it (台湾) → 台湾);
    # unless then it would be shown as what it was not read as: a word to leave out ("-中国"
    # searched as 中国, shown as -中国), or OR or NOT.
    bare = text.strip(_BRACKETS)
    if bare and bare[0] not in _MINUS and bare not in {"OR", "NOT"}:
        text = bare
    variants = [text, *extra]
    if is_hiragana_word(text):
        # Sudachi reads unknown hiragana as words (みさいる → みさ + いる); the katakana
        # spelling is what names and loanwords use.
        variants.append(_katakana(text))
    phrases: dict[tuple[str, ...], None] = {}
    for variant in variants:
        forms = tuple(index_forms(variant))
        if forms:
            phrases[forms] = None
    if not phrases:
        return None
    return Term(text, tuple(phrases), aliased=bool(extra))


def parse_query(text: str) -> Query | QueryProblem:
    """Parse a reader's query, or say why it cannot be searched."""
    # Readers repeat queries (and every keystroke of autocomplete parses one): the analyzer's
    # work is kept for recent short texts. A long text is parsed afresh rather than kept.
    if len(text) <= _PARSED_TEXT_CHARS:
        return _parse_recent(text)
    return _parse(text)


_PARSED_TEXT_CHARS = 2 * MAX_QUERY_CHARS


@lru_cache(maxsize=1024)
def _parse_recent(text: str) -> Query | QueryProblem:
    return _parse(text)


# An English possessive ("Trump's", "Japan’s"): the name is what is looked for.
_POSSESSIVE = re.compile(r"([A-Za-z][A-Za-z.\-]*)['’＇]s([,.;:!?]*)")


def _without_possessive(word: str) -> str:
    mark = minus_mark(word)  # -Trump's leaves out Trump
    bare = _typed(word[len(mark) :])  # Ｔｒｕｍｐ＇ｓ too
    found = _POSSESSIVE.fullmatch(bare)
    return mark + found[1] + found[2] if found else word


def _parse(text: str) -> Query | QueryProblem:
    words = [_without_possessive(w) for w in strip_invisible(text).split()]
    if not words:
        return QueryProblem.EMPTY
    if sum(map(len, words)) + len(words) - 1 > MAX_QUERY_CHARS:
        return QueryProblem.TOO_LONG
    terms: list[Term] = []
    excluded: list[Term] = []
    common = leaving_out = either = False
    i = 0
    while i < len(words):
        if _typed(words[i]) == "OR" and terms and i + 1 < len(words):
            # 台湾 OR 中国, as search engines write it: either word (English's "or" is a
            # common word).
            either, i = True, i + 1
            continue
        if (left_out := _excluded_word(words, i)) is not None:
            word, i = left_out
            # OR joins the words it stands between: not one to leave out (台湾 OR -中国 核).
            leaving_out, either = True, False
            # -Sea of Japan leaves out the name that Sea of Japan finds.
            if named := _aliased([word, *words[i:]], 0):
                term, after = named
                i += after - 1
            elif _is_common_word(word):
                continue
            else:
                term = make_term(word)
            if term is not None and term not in excluded:
                excluded.append(term)
            continue
        # Aliases first: a common word inside one (Sea of Japan, Secretary of Defense) is part
        # of its name.
        if named := _aliased(words, i):
            term, i = named
        else:
            word = words[i]
            if joined := _joined_names(word):
                words[i : i + 1] = joined
                continue
            i += 1
            if _is_common_word(word):
                common = True
                continue
            term = make_term(word)
        if term is not None and either:
            terms[-1] = _either(terms[-1], term)
        elif term is not None and term not in terms:
            terms.append(term)
        either = False
    if not terms:
        if leaving_out:
            return QueryProblem.ONLY_EXCLUDED
        return QueryProblem.ONLY_COMMON_WORDS if common else QueryProblem.NOTHING_SEARCHABLE
    if len(terms) + len(excluded) > MAX_TERMS:
        return QueryProblem.TOO_MANY_TERMS
    return Query(tuple(terms), tuple(excluded))


def _either(first: Term, second: Term) -> Term:
    """The term either one matches; an OR already in one adds its words (核 OR 台湾 OR 関税)."""
    parts = (*(first.either or (first,)), *(second.either or (second,)))
    return either_of(parts)


def either_of(parts: tuple[Term, ...]) -> Term:
    """The term any of `parts` matches (核 OR 台湾)."""
    phrases = tuple(dict.fromkeys(p for part in parts for p in part.phrases))
    return Term(" OR ".join(part.text for part in parts), phrases, either=parts)


def _aliased(words: list[str], i: int) -> tuple[Term | None, int] | None:
    """The term of the longest name of the alias table that starts at `i`, and where the words
    go on after it; None when no name starts there."""
    for n in range(min(_MAX_ALIAS_WORDS, len(words) - i), 0, -1):
        phrase = " ".join(words[i : i + n])
        if found := _alias(phrase):
            return make_term(phrase, found), i + n
    return None


# Dashes besides "-": hyphens, figure, en and em dashes, the minus sign.
_OTHER_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
# Any dash: an editor may turn - (or --) into – or —.
_MINUS = "-\uff0d" + _OTHER_DASHES


def minus_mark(word: str) -> str:
    """The dashes before `word` that mark it as a word to leave out (`-` of -中国), or ""."""
    return word[: len(word) - len(word.lstrip(_MINUS))]


def is_not(word: str) -> bool:
    """Whether `word` is the NOT before a word to leave out (ＮＯＴ too)."""
    return _typed(word) == "NOT"


def _excluded_word(words: list[str], i: int) -> tuple[str, int] | None:
    """The word at `i` to leave out, and where the words go on: -中国, or 中国 after NOT (as
    search engines write it); None when the word at `i` is none."""
    word = words[i]
    if (mark := minus_mark(word)) and (rest := word[len(mark) :]):
        return rest, i + 1
    if is_not(word) and i + 1 < len(words):
        return words[i + 1], i + 2
    return None


# Words that say nothing about what an article of this corpus is about, left out among other
# words. English function words and the titles written before a name (Mr. Koizumi, Secretary
# Hegseth) match nothing, as every article is in Japanese, and every word must match. Japanese
# particles and the copula are in nearly every article: a word to find they are not, and left
# out (台湾 -の) they would leave out everything. None is a key of the alias table, nor may be.
_COMMON_ENGLISH = (
    "a an the and or of in on at to for with by from about mr mrs ms dr secretary minister"
)
# Japanese particles, which stand beside nouns (台湾の, 日本から).
PARTICLES = (
    *("の", "は", "が", "を", "に", "へ", "と", "で", "や", "も", "か"),
    *("から", "まで", "より"),
)
_COMMON_JAPANESE = (
    *PARTICLES,
    *("には", "では", "とは", "にも", "でも", "への", "との", "での"),
    *("だ", "です", "ます"),  # the copula
)
COMMON_WORDS = frozenset((*_COMMON_ENGLISH.split(), *_COMMON_JAPANESE))


def _is_common_word(word: str) -> bool:
    """Whether `word` (as typed: "The", "Mr.", "ｔｈｅ") is one of `COMMON_WORDS`. Kana are
    compared as written: の and です are particles, ノ and デス are not."""
    return _typed(word).lower().strip(_EDGE_PUNCTUATION) in COMMON_WORDS


def _typed(word: str) -> str:
    """`word` with full-width letters as half-width ones (ＯＲ is OR)."""
    return unicodedata.normalize("NFKC", word)


# Spellings the table writes one way: dashes as "-" (US–Japan, Japan—US), U.S. as US before
# another word (U.S. forces, U.S.-Japan alliance).
_DASHES = str.maketrans(dict.fromkeys(_OTHER_DASHES, "-"))
_DOTTED_US = re.compile(r"\bu\.s\.(?=[\s-])")
# British spellings of the table's words, which it writes the American way (defence spending).
_BRITISH = {"defence": "defense", "programme": "program", "weaponisation": "weaponization"}
_BRITISH_WORD = re.compile(r"\b(?:" + "|".join(_BRITISH) + r")\b")


_JOINED = re.compile(r"[A-Za-z]+(?:[-/][A-Za-z]+)+")


def _joined_names(word: str) -> list[str] | None:
    """The names of the alias table that `word` joins with dashes or slashes (Takaichi-Trump,
    US/Japan), each to be searched as a word of its own; None when some part is not such a name
    (non-nuclear): joined, they are a word no article has."""
    bare = unicodedata.normalize("NFKC", word).strip(_EDGE_PUNCTUATION).translate(_DASHES)
    if not _JOINED.fullmatch(bare):
        return None
    parts = re.split(r"[-/]", bare)
    return parts if all(_alias(part) for part in parts) else None


def _alias(phrase: str) -> tuple[str, ...] | None:
    """The Japanese terms for `phrase` in the alias table, or None."""
    aliases = load_aliases()
    key = fold(phrase)
    # Punctuation at the edges is the sentence's ("Trump,"), unless the alias has it too (U.S.).
    bare = key.strip(_EDGE_PUNCTUATION)
    plain = _DOTTED_US.sub("us", bare.translate(_DASHES))
    plain = _BRITISH_WORD.sub(lambda word: _BRITISH[word[0]], plain)
    found = aliases.get(key) or aliases.get(bare) or aliases.get(plain)
    if found:
        return found
    # The table lists one number of most words: "nuclear weapon" is "nuclear weapons".
    other = other_number(plain)
    return aliases.get(other) if other else None


def other_number(key: str) -> str | None:
    """`key` (folded English) with its last word in the other number: plural for singular
    (destroyer → destroyers, strategy → strategies) and back, or None for no English word.

    Only the regular rule: an irregular plural, or a word ending in ss, us or is (Congress,
    Aegis), has no other number here; the table lists such words as they are written.
    """
    head, space, last = key.rpartition(" ")
    if len(last) < 3 or not last.isascii() or not last[-1].isalpha():
        return None
    if last.endswith("ies"):
        other = last[:-3] + "y"
    elif last.endswith(("ss", "us", "is")):
        return None
    elif last.endswith("s"):
        other = last[:-1]
    elif last.endswith("y") and last[-2] not in "aeiou":
        other = last[:-1] + "ies"
    else:
        other = last + "s"
    return head + space + other


def loosened(query: Query) -> Query | None:
    """The query with each word typed without spaces searched as its nouns, found close
    together rather than side by side (高市首相 finds 高市早苗首相), and with what is not a noun
    dropped (台湾について → 台湾); nouns apart stay apart (台湾、中国 → 台湾 中国). None if that
    changes nothing.

    English words, names from the alias table and hiragana words (read as katakana, see
    `make_term`) stay as they are.
    """
    terms: dict[Term, None] = {}
    for term in query.terms:
        for part in _loosened(term):
            terms[part] = None
    found = tuple(terms)[: MAX_TERMS - len(query.excluded)]
    return query.with_terms(found) if found != query.terms else None


def _loosened(term: Term) -> tuple[Term, ...]:
    if term.either:
        # Each word loosened on its own (高市首相 OR 小泉防衛相): one that loosens into words
        # apart (台湾、中国), all of which must match, stays as typed.
        loose = [_loosened(part) for part in term.either]
        kept = zip(loose, term.either, strict=True)
        return (either_of(tuple(found[0] if len(found) == 1 else part for found, part in kept)),)
    if term.aliased or fold(term.text).isascii() or is_hiragana_word(term.text):
        return (term,)
    found: list[Term] = []
    for group in touching(_words(term.text)):
        words = [term.text[noun.begin : noun.end] for noun in group]
        part = make_term(words[0]) if len(words) == 1 else _near(words)
        if part is not None:
            found.append(part)
    return tuple(found) or (term,)


def _words(text: str) -> list[Noun]:
    """The nouns of `text`, a code or a number kept whole with what it is written with (PAC3,
    PAC-3, F35A, 2025年度): split, they would be words found in almost any article."""
    merged: list[Noun] = []
    for noun in nouns(analyze(text)):
        if merged:
            last = merged[-1]
            before, word = fold(text[last.begin : last.end]), fold(text[noun.begin : noun.end])
            latin = before.isascii() and word.isascii()  # folded: ＰＡＣ３ is a code too
            # The analyzer drops a code's hyphen (B-52): without it, 52 would be taken for a
            # number counting the next word (52爆撃), a phrase no article has.
            hyphen = text[last.end : noun.begin] in _HYPHENS
            if (last.end == noun.begin and (last.number or latin)) or (hyphen and latin):
                merged[-1] = last._replace(end=noun.end, number=False)
                continue
        merged.append(noun)
    return merged


_HYPHENS = frozenset("-‐‑－")


def _near(words: list[str]) -> Term | None:
    # A word typed twice (台湾台湾) is one word to find, not two close together.
    found: dict[tuple[str, ...], str] = {}
    for word in words:
        if forms := tuple(index_forms(word)):
            found.setdefault(forms, word)
    if len(found) < 2:
        return make_term(next(iter(found.values()), "".join(words)))
    return Term(" ".join(found.values()), tuple(found), near=True)
