"""Snippets: a short window of an article's text around its first match (of several words,
the first where most of them are together), matches marked.

Matches are located with the article's stored index forms (what the full-text index holds), not
by analyzing the text again: running Sudachi over bodies at query time cost most of a page's
snippet time and touched much of its mapped dictionary. A search for the folded query text
("probe") finds candidates; a candidate counts when the index forms around the query's forms
agree with the text around it, so 核 inside 中核 (one word, 中核, in the index) is not marked.
When fewer candidates read so than the forms have occurrences (a word spelled otherwise, or
between words spelled otherwise), the forms are placed in the text one by one from its start,
and when that places none, the sentences around the first occurrence are analyzed again (only
then: each analysis maps more of the dictionary into the bot's memory).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache, partial
from itertools import islice

from bot.core.search import analyzer
from bot.core.search.query import Term

SNIPPET_CHARS = 200
# Characters that may sit inside a word in the text but not in its form (ゴールデン・ドーム, B-52);
# folding has already turned \u3000, ･ and － into space, ・ and -.
_SEPARATORS = "・-‐–—_."
_SENTENCE_ENDS = "。！？!?\n"
# Words the walk may fail to place in a row before it gives up (conjugated verbs, spelling
# variants: 述べ for 述べる, シュミレーション for シミュレーション).
_MAX_UNPLACED = 3

Span = tuple[int, int]


@lru_cache(maxsize=1024)
def _probe_pattern(phrase: tuple[str, ...]) -> re.Pattern[str]:
    # Separators (spaces, once the text is translated) may sit between any two characters. A
    # class of the separators themselves compiled ~13x slower (0.7 ms: non-ASCII classes are).
    return re.compile(" *".join(map(_probe_form, phrase)))


def _probe_form(form: str) -> str:
    # Separators inside a form (u.s.), a decimal's point (3.5) too, are spaces in the text
    # probed, like any other.
    kept = (c for c in form if c not in _SEPARATORS and c != analyzer.DECIMAL_POINT)
    spelled = " *".join(map(re.escape, kept))
    # The index reads % after a number as パーセント (see `analyzer`): the text has either.
    return f"(?:{spelled}|%)" if form == analyzer.PERCENT else spelled


# Characters NFKC leaves alone (ASCII, Japanese punctuation, kana, common kanji): the rest are
# folded one by one. NFKC over a whole text that is not already normalized (full-width letters
# or digits, …) took ~0.3 ms for 2,500 characters; its runs of other characters are short.
_OTHER = re.compile(
    "[^\t\n\r\x20-\x7e\u3001-\u3035\u3037\u303b-\u303f\u3041-\u3096\u309d\u309e"
    "\u30a1-\u30fa\u30fc-\u30fe\u4e00-\u9fff]+"
)
_KATAKANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(0x3041, 0x3097)})


def _fold_run(run: str, start: int) -> tuple[str, list[int]]:
    """A run of other characters folded, and each folded character's origin."""
    if len(run) <= 64:
        # Prefix by prefix, so that what NFKC composes (ｶﾞ → ガ) is composed here too.
        folded = analyzer.fold(run)
        lengths = [len(analyzer.fold(run[:i])) for i in range(len(run) + 1)]
        origin = [start + i for i in range(len(run)) for _ in range(lengths[i + 1] - lengths[i])]
        if len(origin) == len(folded):
            return folded, origin
    # Too long to fold prefix by prefix, or a prefix folds apart from the whole: character by
    # character (ｶﾞ stays カ and ゛).
    pieces = [analyzer.fold(c) for c in run]
    return "".join(pieces), [i for i, p in enumerate(pieces, start) for _ in p]


def _folded(text: str) -> tuple[str, list[int] | None]:
    """`text` folded as the index folds its words (`analyzer.fold`), and each folded
    character's origin when folding changed lengths (… → ..., ㎞ → km); None when it did not."""
    parts: list[str] = []
    origin: list[int] | None = None
    at = 0
    for run in _OTHER.finditer(text):
        begin = run.start()
        if begin > at and unicodedata.category(text[begin]).startswith("M"):
            begin -= 1  # a combining mark composes with the character before it (e + ◌́ → é)
        chars = text[begin : run.end()]
        parts.append(text[at:begin])
        folded = analyzer.fold(chars)
        if len(folded) == len(chars) and origin is None:
            parts.append(folded)
        else:
            folded, run_origin = _fold_run(chars, begin)
            if origin is None:
                origin = list(range(at))  # everything before kept its length
            origin.extend(range(at, begin))
            origin.extend(run_origin)
            parts.append(folded)
        at = run.end()
    parts.append(text[at:])
    if origin is not None:
        origin.extend(range(at, len(text)))
    # Lower case and katakana for the characters left alone (the folded ones already are).
    return "".join(parts).lower().translate(_KATAKANA), origin


def _occurrences(padded_forms: str, phrase: tuple[str, ...]) -> list[int]:
    """Where `phrase` starts in the index forms, as form positions."""
    needle = f" {' '.join(phrase)} "
    found: list[int] = []
    position = 0
    counted = 0
    at = padded_forms.find(needle)
    while at >= 0:
        position += padded_forms.count(" ", counted, at)
        counted = at
        found.append(position)
        at = padded_forms.find(needle, at + 1)
    return found


def _skip_separators(folded: str, at: int) -> int:
    while at < len(folded) and not folded[at].isalnum():
        at += 1
    return at


def _skip_separators_back(folded: str, at: int) -> int:
    while at > 0 and not folded[at - 1].isalnum():
        at -= 1
    return at


# A side of a candidate is read as at most this many words, of which all but the last may be
# spelled differently from their forms.
_CONTEXT_WORDS = 3

_Context = tuple[tuple[str | None, ...], tuple[str | None, ...]]  # words before, words after


# How a side of a candidate may read: only as its words' forms; with words spelled otherwise
# skipped (`_LOOSE`), but the last of them as its form; or with every word skipped (`_ANY`).
_EXACT, _LOOSE, _ANY = 0, 1, 2
# The most characters a word spelled otherwise is skipped as. Spellings differ by an ending or a
# kana (し for 為ル, シュミレーション for シミュレーション); a long run the index holds as one
# unknown word (half-width kana, a string of letters) would otherwise be skipped as any of
# thousands of lengths, each read on, for one snippet.
_MAX_SKIPPED = 12


def _reads_after(folded: str, at: int, words: Sequence[str | None], how: int) -> bool:
    """True when the text from `at` reads as `words` (None: the text ends there).

    Unless `_EXACT`, a word may be spelled differently from its form (し for 為ル, いる for 居ル,
    the copula で for ダ): it is then skipped as one to len(form) + 1 characters (at most
    `_MAX_SKIPPED`), and the words after it must fit.
    """
    # Every way of skipping the words so far, as the set of places it leads to: tried one way
    # after another, they cost the product of the words' lengths.
    places = {at}
    for word in words:
        reached: set[int] = set()
        for place in places:
            place = _skip_separators(folded, place)
            if word is None:
                if place == len(folded):
                    return True
            elif folded.startswith(word, place):
                return True
            elif how != _EXACT and place < len(folded):
                reached.update(range(place + 1, place + _skipped(word) + 1))
        if not reached:
            return False
        places = reached
    return how == _ANY


def _reads_before(folded: str, at: int, words: Sequence[str | None], how: int) -> bool:
    """True when the text up to `at` reads as `words`, nearest first (see `_reads_after`)."""
    places = {at}
    for word in words:
        reached: set[int] = set()
        for place in places:
            place = _skip_separators_back(folded, place)
            if word is None:
                if place == 0:
                    return True
            elif folded.endswith(word, 0, place):
                return True
            elif how != _EXACT and place > 0:
                reached.update(range(place - min(place, _skipped(word)), place))
        if not reached:
            return False
        places = reached
    return how == _ANY


def _skipped(word: str) -> int:
    """How many characters a word spelled otherwise may be skipped as, at most."""
    return min(len(word) + 1, _MAX_SKIPPED)


# How many times a snippet may read a candidate against an occurrence's words. Each candidate is
# read against every occurrence's: a text with many parts of words (核 in 中核) before many
# occurrences with words of their own around them cost the product, a million readings (~8 s on
# the event loop) for 15,000 characters. Past this the forms are walked instead (~8 ms at most).
_MAX_READINGS = 2000


class _Budget:
    """The readings a snippet has left (see `_MAX_READINGS`)."""

    __slots__ = ("left",)

    def __init__(self, left: int = _MAX_READINGS) -> None:
        self.left = left

    def take(self) -> bool:
        """Spend one reading; False when none was left."""
        self.left -= 1
        return self.left >= 0


def _is_occurrence(
    folded: str, start: int, end: int, contexts: set[_Context], budget: _Budget, how: int
) -> bool:
    """True when folded[start:end] reads as one of the occurrences, by the words around them
    read `how` (`_EXACT` or `_LOOSE`)."""
    for before, after in contexts:
        if not budget.take():
            return False
        if _reads_before(folded, start, before, how) and _reads_after(folded, end, after, how):
            return True
    return False


# Words a side must read as, in a row, for the other side to be passed over (`_is_one_sided`).
_ONE_SIDED_WORDS = 2


def _reads_words_after(folded: str, at: int, words: Sequence[str | None]) -> bool:
    """True when the text from `at` reads as each of `words` in turn, exactly."""
    for word in words:
        at = _skip_separators(folded, at)
        if word is None:
            return at == len(folded)
        if not folded.startswith(word, at):
            return False
        at += len(word)
    return True


def _reads_words_before(folded: str, at: int, words: Sequence[str | None]) -> bool:
    """True when the text up to `at` reads as each of `words` in turn, nearest first, exactly."""
    for word in words:
        at = _skip_separators_back(folded, at)
        if word is None:
            return at == 0
        if not folded.endswith(word, 0, at):
            return False
        at -= len(word)
    return True


def _is_one_sided(
    folded: str, start: int, end: int, contexts: set[_Context], budget: _Budget
) -> bool:
    """True when one side of folded[start:end] reads exactly as an occurrence's, two words in a
    row, and the other only with every word spelled otherwise (活用が議論 + され始め for
    為ル レル 始メル). Costly: only when no hit reads better."""
    # One word is too little: it is often a particle (の before 核 in 核心 reads as ノ before 核
    # elsewhere in the text), and then a part of a longer word would be marked.
    for before, after in contexts:
        if not budget.take():
            return False
        if _reads_words_before(folded, start, before[:_ONE_SIDED_WORDS]) and _reads_after(
            folded, end, after, _ANY
        ):
            return True
        if _reads_before(folded, start, before, _ANY) and _reads_words_after(
            folded, end, after[:_ONE_SIDED_WORDS]
        ):
            return True
    return False


def _walk(folded: str, forms: Sequence[str]) -> list[Span | None]:
    """Where each index form sits in the folded text, found by walking both in step.

    A word the text spells differently from its form (述べ for 述ベル, Washington for ワシントン)
    lies between its neighbours. Forms after the walk loses its place are None.
    """
    spans: list[Span | None] = [None] * len(forms)
    cursor = 0
    unplaced: list[int] = []
    for i, form in enumerate(forms):
        at = _skip_separators(folded, cursor)
        if folded.startswith(form, at) and not unplaced:
            found = at
        elif unplaced:
            # The walk starts where the text starts, so it can afford to look further ahead.
            slack = sum(2 * len(forms[k]) + 4 for k in unplaced)
            found = folded.find(form, at + 1, at + slack + len(form))
        else:
            found = -1
        if found < 0:
            unplaced.append(i)
            if len(unplaced) > _MAX_UNPLACED:
                break
            continue
        for k in unplaced:
            spans[k] = (at, _skip_separators_back(folded, found))
        unplaced.clear()
        spans[i] = (found, found + len(form))
        cursor = found + len(form)
    return spans


def _prepared(body: str) -> tuple[str, list[int] | None, str]:
    """`_folded(body)`, and the folded text with separators turned into spaces."""
    if len(body) <= _KEEP_CHARS and (kept := _kept(body)) is not None:
        return kept[0], None, kept[1]
    folded, origin = _folded(body)
    return folded, origin, _spaced(folded)


# The same articles come back in search after search (the newest, the most talked about), and
# folding a body costs more than finding the words in it. Only bodies folding leaves the same
# length are kept: the map of where each character came from takes ~36 bytes a character.
# At most ~10 MB: 256 bodies of 6,000 characters, each with its two folded copies.
_KEEP_CHARS = 6_000


@lru_cache(maxsize=256)
def _kept(body: str) -> tuple[str, str] | None:
    folded, origin = _folded(body)
    return None if origin is not None else (folded, _spaced(folded))


def _spaced(folded: str) -> str:
    for separator in _SEPARATORS:
        # str.replace is several times faster than str.translate, which looks up every character.
        folded = folded.replace(separator, " ")
    return folded


_Hit = tuple[int, int, set[_Context]]  # a candidate's span and its phrase's contexts


def _read(folded: str, hits: list[_Hit], wanted: int) -> list[Span]:
    """The spans of the hits that read as occurrences, until `wanted` do or the readings run
    out: every hit's exact neighbours first, then loose ones for the rest, and one side only
    (`_is_one_sided`) when no hit reads either way."""
    # Exact for all first: they usually account for every occurrence, loose readings cost
    # several steps a context, and they read more parts of words as words (米 in 日米).
    budget = _Budget()
    read: list[Span] = []
    exact, loose = (partial(_is_occurrence, how=how) for how in (_EXACT, _LOOSE))
    for reads in (exact, loose, _is_one_sided):
        if reads is _is_one_sided and read:
            break
        unread: list[_Hit] = []
        for start, end, contexts in hits:
            if reads(folded, start, end, contexts, budget):
                read.append((start, end))
            else:
                unread.append((start, end, contexts))
            if budget.left < 0:
                return read
        if len({start for start, _ in read}) >= wanted:
            break
        hits = unread
    return read


_Match = tuple[int, int, frozenset[int]]  # a span, and which of the terms it is


def _match_spans(body: str, forms: str, terms: Sequence[Term]) -> list[_Match]:
    """Spans of `body`, in order, where a phrase of a term occurs as the index sees it, each
    with the terms (their positions in `terms`) it is a phrase of."""
    padded = f" {forms} "
    phrases = list(dict.fromkeys(p for t in terms for p in t.phrases))
    occurring = [(p, at) for p in phrases if (at := _occurrences(padded, p))]
    if not occurring:
        return []
    term_ids = {p: frozenset(i for i, t in enumerate(terms) if p in t.phrases) for p in phrases}
    forms = forms.replace(analyzer.DECIMAL_POINT, ".")  # as the text around a match writes it
    words: list[str | None] = [None, *forms.split(" "), None]
    folded, origin, spaced = _prepared(body)

    def original(span: Span) -> Span:
        if origin is None:
            return span
        start, end = span
        # Up to where the next folded character's source begins: what folding composed
        # (ｸﾞ → グ, e + ◌́ → é) ends after its last part, not after its first.
        after = origin[end] if end < len(origin) else len(body)
        return origin[start], max(origin[end - 1] + 1, after)

    hits: list[_Hit] = []
    ids_of: dict[Span, frozenset[int]] = {}
    for phrase, positions in occurring:
        # Each occurrence's words before (nearest first) and after; None where the text ends.
        contexts = {
            (
                tuple(words[max(0, k + 1 - _CONTEXT_WORDS) : k + 1][::-1]),
                tuple(words[k + 1 + len(phrase) : k + 1 + len(phrase) + _CONTEXT_WORDS]),
            )
            for k in positions
        }
        probe = _probe_pattern(phrase)
        # `_read` spends a reading on each hit it reads, in order, and stops after
        # `_MAX_READINGS`: no hit past the first _MAX_READINGS + 1 of all phrases (each among the
        # first of its own phrase) is read. Found and sorted all the same, 400,000 occurrences
        # in a body held the event loop 1.5 s for each page of results.
        for m in islice(probe.finditer(spaced), _MAX_READINGS + 1):
            hits.append((*m.span(), contexts))
            ids_of[m.span()] = ids_of.get(m.span(), frozenset()) | term_ids[phrase]
    hits.sort(key=lambda h: (h[0], h[1]))
    # Every hit is read, not only those the window could show: an occurrence that does not
    # read (between words spelled otherwise: とりわけミサイルについて) or is spelled otherwise
    # (セキュリティ for セキュリティー, 三 for 3) is noticed only by the count falling short.
    starts = {k for _, positions in occurring for k in positions}
    found = {span: ids_of[span] for span in _read(folded, hits, len(starts))}
    if len({start for start, _ in found}) < len(starts):
        # Some occurrence was not read, or too many hits were read to find them all. Place the
        # forms in the text one by one, as far as the first occurrence's snippet could reach.
        first = min(starts)
        forms_list = forms.split(" ")
        spans = _walk(folded, forms_list[: first + SNIPPET_CHARS * 2])
        for phrase, positions in occurring:
            for k in positions:
                if k + len(phrase) <= len(spans):
                    head, tail = spans[k], spans[k + len(phrase) - 1]
                    if head is not None and tail is not None and tail[1] > head[0]:
                        span = (head[0], tail[1])
                        found[span] = found.get(span, frozenset()) | term_ids[phrase]
        if not found:
            # The walk lost its place before the first occurrence (a long text, many words
            # spelled otherwise). The text around where the forms put it is analyzed as the
            # index analyzed it.
            where = first / len(forms_list)
            placed = _analyzed(body, [p for p, _ in occurring], where)
            return sorted((start, end, term_ids[phrase]) for start, end, phrase in placed)
    return [(*original(span), ids) for span, ids in sorted(found.items())]


# Characters of text analyzed on either side of where an occurrence is expected (~1 ms).
_ANALYZED_CHARS = 600
# Characters that text analyzed is widened by, at most, on either side to end at a sentence's
# end. Unbounded, a text with no sentence end (English with only '.', one line) was analyzed
# whole: tens of milliseconds for 49,000 characters, on the event loop.
_WIDEN_CHARS = 200
# Where no sentence ends near enough: a word does not go on past these either.
_BREAKS = "、 \t\u3000"


def _analyzed_window(body: str, where: float) -> Span:
    """The part of `body` analyzed for an occurrence expected at `where` (a fraction of the
    text): whole sentences where they end near enough, so that they are split into words as in
    the whole text; else cut at a comma or a space, or where the widening stops."""
    middle = int(where * len(body))
    return (
        _window_start(body, max(0, middle - _ANALYZED_CHARS)),
        _window_end(body, min(len(body), middle + _ANALYZED_CHARS)),
    )


def _window_start(body: str, start: int) -> int:
    lowest = max(0, start - _WIDEN_CHARS)
    for breaks in (_SENTENCE_ENDS, _BREAKS):
        cut = max(body.rfind(ch, lowest, start) for ch in breaks)
        if cut >= 0 or lowest == 0:
            return cut + 1  # where none is found, the text's start begins a sentence (-1 + 1)
    return start


def _window_end(body: str, end: int) -> int:
    highest = min(len(body), end + _WIDEN_CHARS)
    for breaks in (_SENTENCE_ENDS, _BREAKS):
        cuts = [at + 1 for ch in breaks if (at := body.find(ch, end, highest)) >= 0]
        if cuts or highest == len(body):
            return min(cuts, default=len(body))
    return end


def _analyzed(
    body: str, phrases: Sequence[tuple[str, ...]], where: float
) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """Spans of `phrases` in the sentences around `where` (a fraction of the text), found by
    analyzing them, each with its phrase: slower than reading the forms, so only when those
    could not place them."""
    start, end = _analyzed_window(body, where)
    words = [(form, token) for token in analyzer.analyze(body[start:end]) for form in token.forms]
    forms = [form for form, _ in words]
    for phrase in phrases:
        for i in range(len(forms) - len(phrase) + 1):
            if tuple(forms[i : i + len(phrase)]) == phrase:
                first, last = words[i][1], words[i + len(phrase) - 1][1]
                yield start + first.begin, start + last.end, phrase


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _most_terms_from(matches: Sequence[_Match], width: int) -> int:
    """Where the match begins that the most of the terms follow closely (within most of a
    snippet's width), the first such: the snippet of a search for several words shows them
    together where the text has them together, not only the first one found."""
    reach = width - width // 5
    best, best_count = matches[0][0], 0
    counts: dict[int, int] = {}  # matches of each term in the window
    end = 0
    for begin, _, terms in matches:
        while end < len(matches) and matches[end][0] < begin + reach:
            for term in matches[end][2]:
                counts[term] = counts.get(term, 0) + 1
            end += 1
        if len(counts) > best_count:
            best, best_count = begin, len(counts)
        for term in terms:  # the window moves past this match
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
    return best


def snippet(
    body: str, terms: Sequence[Term], width: int = SNIPPET_CHARS, *, forms: str | None = None
) -> tuple[tuple[str, bool], ...]:
    """About `width` characters of `body` around its first match (see `_most_terms_from`),
    matches marked.

    `forms` is the body's stored index forms (space-separated); without them the body is
    analyzed here.
    """
    if forms is None:
        forms = " ".join(analyzer.index_forms(body))
    matches = _match_spans(body, forms, terms)
    marks: list[Span] = []
    start = 0
    if matches:
        first = _most_terms_from(matches, width)
        lead = max(body.rfind(ch, 0, first) for ch in _SENTENCE_ENDS) + 1
        # Start at the sentence when the match is near its beginning, else shortly before it.
        start = lead if first - lead <= width // 3 else first - width // 5
        # Other matches count only inside the window.
        marks = [(a, b) for a, b, _ in matches if b > start and a < start + width]
    end = min(len(body), start + width)
    for a, b in marks:
        if a < end < b:
            end = b  # a match is shown whole, never half in bold
    if end == len(body):
        start = max(0, min(start, end - width))
    window = body[start:end]
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    cursor = 0
    for a, b in _merge(marks):
        a, b = max(0, a - start), min(len(window), b - start)
        if b <= cursor or a >= len(window):
            continue
        a = max(a, cursor)
        if a > cursor:
            parts.append((window[cursor:a], False))
        parts.append((window[a:b], True))
        cursor = b
    if cursor < len(window):
        parts.append((window[cursor:], False))
    if end < len(body):
        parts.append(("…", False))
    return tuple((text.replace("\n", " "), marked) for text, marked in parts)
