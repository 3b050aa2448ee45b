"""Japanese-aware text analysis shared by indexing and querying.

Text is split into words with Sudachi (split mode A: the shortest units, so 核 is found inside
核武装 but not inside 中核, which is one word). Each word is reduced to one index form: Sudachi's
normalized form (とらんぷ → トランプ, ﾐｻｲﾙ → ミサイル), NFKC-folded, lower-cased, hiragana
as katakana, and Latin-digit codes split at the boundary (PAC3MSE → pac 3 mse, B52 → b 52).
Punctuation and spaces produce no form, so ゴールデン・ドーム and ゴールデンドーム agree; but %
after a number is a word, パーセント (2% is not any 2), and a number written with 万, 億 or 兆
keeps that unit as a word beside its value (5000億円 → 500000000000 億 円): 億円 finds it.

Sudachi is imported on first use: commands that never search don't pay for it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# Bump when the rules below change: the index is rebuilt when its recorded version differs.
RULES_VERSION = "3"  # 3: % after a number is a word; 億 of 5000億 is one beside the number

_SKIP_POS = frozenset({"補助記号", "空白", "記号"})
# Words worth suggesting or correcting to: nouns (names, places, things), not particles.
_VOCAB_POS = frozenset({"名詞", "形状詞"})
# Suffixes that make a noun another noun (自衛 + 隊, 国務 + 省, インド太平 + 洋, 防衛 + 相), not
# honorifics or plurals: トランプ氏 is トランプ.
_NOUN_SUFFIX = ("接尾辞", "名詞的")
_NOT_WORD_SUFFIXES = frozenset(
    {"氏", "さん", "様", "さま", "君", "くん", "ちゃん", "殿", "ら", "たち", "達", "等", "ども"}
)
_ALNUM_RUNS = re.compile(r"[a-z]+|[0-9]+|[^a-z0-9]+")
_HIRAGANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(0x3041, 0x3097)})
# Control characters other than whitespace (tab, newline…, which separate words like spaces).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
    r"\ud800-\udfff]"
)

_local = threading.local()


class Token(NamedTuple):
    """One word: its index forms, where it sits in the analyzed text, and whether it is a noun
    or a suffix that makes the noun before it another noun (see `nouns`)."""

    forms: tuple[str, ...]
    begin: int
    end: int
    noun: bool
    suffix: bool = False


def fold(text: str) -> str:
    """NFKC, lower case, hiragana as katakana: the form both index and queries compare in."""
    return unicodedata.normalize("NFKC", text).lower().translate(_HIRAGANA)


def strip_invisible(text: str) -> str:
    """Text without control and zero-width characters (they split or hide words), nor lone
    surrogates (a terminal's undecodable bytes; no encoding can carry them).

    Whitespace controls (tab, newline, U+0085) are kept: `str.split` treats them as spaces.
    """
    return _INVISIBLE.sub("", text)


def _split_codes(form: str) -> tuple[str, ...]:
    if form.isascii() and any(c.isdigit() for c in form) and any(c.isalpha() for c in form):
        return tuple(p for p in _ALNUM_RUNS.findall(form) if p.isalnum())
    return (form,)


@cache
def version() -> str:
    """The analyzer's identity: rules plus the installed Sudachi and dictionary versions."""
    parts = [RULES_VERSION]
    for dist in ("sudachipy", "sudachidict-small"):
        try:
            parts.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append("?")
    return "/".join(parts)


def _tokenizer() -> Any:
    # A tokenizer per thread: ingest analyzes in a worker thread while queries run on the loop.
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import SplitMode

        tokenizer = _dictionary().tokenizer(mode=SplitMode.A)
        _local.tokenizer = tokenizer
    return tokenizer


@cache
def _dictionary() -> Any:
    from sudachipy import Dictionary

    # The small dictionary splits news text the same way in mode A (the relevance table passes
    # unchanged) while mapping ~35 MB instead of the core dictionary's ~82 MB into the bot.
    return Dictionary(dict="small")


def _morphemes(text: str) -> Iterator[Any]:
    # Sudachi refuses inputs over ~49 KB; analyze long text in paragraph-sized pieces.
    if len(text) < 8000:
        yield from (m for m in _tokenizer().tokenize(text))
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + 4000)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind("。", start, end))
            end = cut + 1 if cut > start else end
        for m in _tokenizer().tokenize(text[start:end]):
            yield _Shifted(m, start)
        start = end


class _Shifted:
    """A morpheme of a piece of a longer text, with offsets into the whole text."""

    __slots__ = ("_m", "_shift")

    def __init__(self, morpheme: Any, shift: int) -> None:
        self._m = morpheme
        self._shift = shift

    def surface(self) -> str:
        return str(self._m.surface())

    def normalized_form(self) -> str:
        return str(self._m.normalized_form())

    def part_of_speech_id(self) -> int:
        return int(self._m.part_of_speech_id())

    def begin(self) -> int:
        return int(self._m.begin()) + self._shift

    def end(self) -> int:
        return int(self._m.end()) + self._shift


_SKIP, _NOUN, _SUFFIX, _OTHER, _NUMERAL = 0, 1, 2, 3, 4
_UNITS = "万億兆"  # written after a number, gone from its normalized form (5000億 → 500000000000)
PERCENT = "パーセント"  # the form of % after a number
# A decimal's point in its form (3.5): a character the index's tokenizer keeps inside a word
# (private use, which no text means as a point), so that 5 is not found inside 3.5.
DECIMAL_POINT = "\U000f0000"
_DECIMAL = re.compile(r"(?<=[0-9])\.(?=[0-9])")


@cache
def _pos_class(pos_id: int) -> int:
    pos = _dictionary().pos_of(pos_id)
    if pos[0] in _SKIP_POS:
        return _SKIP
    if tuple(pos[:2]) == ("名詞", "数詞"):
        return _NUMERAL
    if pos[0] in _VOCAB_POS:
        return _NOUN
    return _SUFFIX if tuple(pos[:2]) == _NOUN_SUFFIX else _OTHER


@lru_cache(maxsize=131_072)
def _forms_of(normalized: str) -> tuple[str, ...]:
    return tuple(f for f in _split_codes(fold(normalized)) if any(c.isalnum() for c in f))


def analyze(text: str) -> list[Token]:
    """The words of `text` with their index forms and offsets (punctuation dropped)."""
    tokens: list[Token] = []
    morphemes = _tokenizer().tokenize(text) if len(text) < 8000 else _morphemes(text)
    number_end = -1
    for m in morphemes:
        kind = _pos_class(m.part_of_speech_id())
        if kind == _SKIP:
            continue
        normalized = m.normalized_form()
        if kind == _NUMERAL:
            forms = _number_forms(m.surface(), normalized)
            number_end = m.end()
        elif normalized == "%" and m.begin() == number_end:
            forms = (PERCENT,)
        else:
            forms = _forms_of(normalized)
        if forms:
            suffix = kind == _SUFFIX and m.surface() not in _NOT_WORD_SUFFIXES
            noun = kind in (_NOUN, _NUMERAL)
            tokens.append(Token(forms, m.begin(), m.end(), noun, suffix))
    return tokens


def _number_forms(surface: str, normalized: str) -> tuple[str, ...]:
    """A number's forms: its value, and the unit it ends with (万, 億, 兆) when it has one."""
    forms = tuple(_DECIMAL.sub(DECIMAL_POINT, f) for f in _forms_of(normalized))
    if surface[-1] in _UNITS and forms and forms[-1] != surface[-1]:
        return (*forms, surface[-1])
    return forms


def _is_number(forms: tuple[str, ...]) -> bool:
    return all(f.replace(DECIMAL_POINT, "", 1).isdigit() or f in _UNITS for f in forms)


class Noun(NamedTuple):
    """Where a noun is, with the suffixes that make it another noun (自衛隊, not 自衛)."""

    begin: int
    end: int
    number: bool  # 2025, or 50 in 50人: no word to suggest


def nouns(tokens: list[Token]) -> list[Noun]:
    """The nouns among `tokens`, each with its suffixes."""
    found: list[Noun] = []
    for token in tokens:
        if token.noun:
            number = _is_number(token.forms)
            found.append(Noun(token.begin, token.end, number))
        elif token.suffix and found and found[-1].end == token.begin:
            found[-1] = found[-1]._replace(end=token.end)
    return found


def touching(found: Iterable[Noun]) -> list[list[Noun]]:
    """Nouns grouped where each ends where the next begins: the parts of one written word
    (日米同盟, 高市首相)."""
    groups: list[list[Noun]] = []
    for noun in found:
        if groups and groups[-1][-1].end == noun.begin:
            groups[-1].append(noun)
        else:
            groups.append([noun])
    return groups


def analyze_document(text: str) -> tuple[str, set[tuple[str, str]]]:
    """One pass over a text: its index forms (space-joined) and its vocabulary."""
    tokens = analyze(text)
    return " ".join(f for t in tokens for f in t.forms), _vocabulary(text, tokens)


def index_forms(text: str) -> list[str]:
    """The sequence of index forms of `text`, as stored in the full-text index."""
    return [form for token in analyze(text) for form in token.forms]


@lru_cache(maxsize=131_072)
def _vocab_entry(surface: str) -> tuple[str, str]:
    return fold(surface), unicodedata.normalize("NFKC", surface)


def _vocabulary(text: str, tokens: list[Token]) -> set[tuple[str, str]]:
    """Words of `text` worth suggesting, as (key, display): nouns (with their suffixes, 自衛隊)
    and runs of them.

    A run such as 日米同盟 or 小泉進次郎防衛相 is suggested whole, besides its parts.
    """
    found: set[tuple[str, str]] = set()
    # A number is no word to suggest, and parts a number separates are no run.
    for run in touching(noun for noun in nouns(tokens) if not noun.number):
        for begin, end, _ in run:
            key, surface = _vocab_entry(text[begin:end])
            if len(surface) > 1 or not surface.isascii():
                found.add((key, surface))
        if len(run) > 1:
            display = text[run[0].begin : run[-1].end]
            if len(display) <= 12 and "\n" not in display:
                found.add((fold(display), unicodedata.normalize("NFKC", display)))
    return found
