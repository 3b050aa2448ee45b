"""Near-duplicate texts, found without comparing every pair.

Two texts with `fuzz.ratio(a, b) >= cutoff` are at most a bounded Indel distance `d` apart, and
each insertion or deletion destroys at most `Q` of a text's `Q`-grams, so the two share at least
`len(grams) - Q * d` of them. Prefix filtering (Chaudhuri, Ganti and Kaushik, "A primitive
operator for similarity joins in data cleaning", 2006) turns that bound into an index: with all
grams in one order, rarest first, two texts that share at least `t` grams share one among each
text's first `len - t + 1`. Only texts that do are compared in full, so no pair at the cutoff is
missed, and the common grams every article has ("した。") never make anything a candidate.

Lengths narrow the search further. Two different texts of one length are at least 2 apart, so
below some length (10 characters at 90) a text is at the cutoff with no other text of its own
length: such texts are indexed by gram and length, and a text looks only at the lengths it can
be at the cutoff with. A text the same as one kept is found by a dictionary instead. Texts so
short that they may share no gram with a text at the cutoff are found by length alone, among
themselves (at 90, texts of 5 characters or fewer, none at the cutoff with another).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from fractions import Fraction

from rapidfuzz import fuzz

Q = 3


def _grams(text: str) -> list[str]:
    return [text[i : i + Q] for i in range(len(text) - Q + 1)]


def _partner_lengths(length: int, p: int, q: int) -> tuple[int, int]:
    """The lengths a text can have and still be at the cutoff (p/q) with a text of `length`."""
    # ratio = 1 - d / (la + lb) and d >= |la - lb|, so lb is within la * s / (2 - s) and
    # la * (2 - s) / s for s = p/q. Whole numbers: a bound rounded the wrong way misses a pair.
    return length * p // (2 * q - p), -(-length * (2 * q - p) // p)


def _required_shared(length: int, longest: int, grams: int, p: int, q: int) -> int:
    """How many grams a text shares with any text at the cutoff (p/q), at least."""
    max_distance = (q - p) * (length + longest) // q
    return grams - Q * max_distance


def _prefix(counts: Counter[str], order: list[str], required: int) -> list[str]:
    """The rarest grams, enough that any text sharing `required` grams shares one of them."""
    # Grams repeat, so the prefix ends where the grams after it weigh less than `required`.
    cut, after = len(order), 0
    while cut and after + counts[order[cut - 1]] < required:
        cut -= 1
        after += counts[order[cut]]
    return order[:cut]


def _other_text_within(length: int, other: int, p: int, q: int) -> bool:
    """Whether a text of `other` characters, other than the text itself, can be at the cutoff
    (p/q) with a text of `length`."""
    # The Indel distance d has the parity of la + lb and is at least |la - lb|: two different
    # texts of one length are at least 2 apart.
    max_distance = (q - p) * (length + other) // q
    return max_distance >= max(abs(length - other), 2 if length == other else 1)


def first_similar(texts: Sequence[str], cutoff: float) -> list[int | None]:
    """For each text, the most similar earlier text it repeats (`fuzz.ratio` >= cutoff), or None.

    Texts that repeat another are not matched against: each points at the first of its kind,
    and ties go to the earliest. The same answer as comparing every pair.
    """
    share = Fraction(cutoff) / 100  # exact for a float cutoff too
    if share > 1:
        return [None] * len(texts)  # no ratio is above 100, not even a text's with itself
    p, q = share.numerator, share.denominator
    # Exact counts: with approximate ones (buckets of grams) chance-shared grams of long texts
    # crept into the prefixes, and every pair of 40,000-character lines was compared in full.
    rarity: Counter[str] = Counter()  # in how many texts a gram occurs
    for text in texts:
        rarity.update(set(_grams(text)))

    # A text the same as a kept one repeats that one: no other kept text scores 100 with it,
    # since kept texts never repeat each other. The indexes below leave such texts to this.
    kept_texts: dict[str, int] = {}
    # Texts shorter than this are at the cutoff with no other text of their own length, so
    # their grams are indexed by length: on a page of lines of one length in a small alphabet,
    # every line shared grams with every other and was compared with them all.
    by_length_below = -(-q // (q - p)) if p < q else max(map(len, texts), default=0) + 1
    index: defaultdict[str, list[int]] = defaultdict(list)
    index_by_length: defaultdict[tuple[str, int], list[int]] = defaultdict(list)
    # Very short texts may share no gram with a text at the cutoff: among themselves they are
    # found by length. A longer text at the cutoff with one shares a gram of its own prefix.
    short: defaultdict[int, list[int]] = defaultdict(list)
    short_longest = 0
    found: list[int | None] = []
    for number, text in enumerate(texts):
        same = kept_texts.get(text)
        if same is not None:
            found.append(same)
            continue
        size = len(text)
        counts = Counter(_grams(text))
        shortest, longest = _partner_lengths(size, p, q)
        required = _required_shared(size, longest, counts.total(), p, q)
        # One order for all texts: ties between equally rare grams are broken by the gram.
        order = sorted(counts, key=lambda gram: (rarity[gram], gram))
        prefix = _prefix(counts, order, required)
        candidates = {kept for gram in prefix for kept in index.get(gram, ())}
        for length in range(shortest, min(longest, by_length_below - 1) + 1):
            if length != size:
                candidates.update(
                    kept for gram in prefix for kept in index_by_length.get((gram, length), ())
                )
        if required <= 0:
            for length in range(shortest, min(longest, short_longest) + 1):
                # Not every length in range: on a listing of 65,535 lines of five characters,
                # none of which can be at 90 with another, that was 2 billion comparisons.
                if _other_text_within(size, length, p, q):
                    candidates.update(short.get(length, ()))
        best: int | None = None
        best_score = 0.0
        for kept in sorted(candidates):
            score = fuzz.ratio(text, texts[kept], score_cutoff=cutoff)
            if score > best_score:
                best, best_score = kept, score
        found.append(best)
        if best is not None:
            continue
        kept_texts[text] = number
        for gram in prefix:
            if size < by_length_below:
                index_by_length[gram, size].append(number)
            else:
                index[gram].append(number)
        if required <= 0:
            short[size].append(number)
            short_longest = max(short_longest, size)
    return found
