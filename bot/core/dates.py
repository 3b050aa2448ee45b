"""Dates written in Japanese news text, and placing partial or missing dates on a listing page.

A listing page is newest first, so an article's date lies (roughly) between the dates of the
articles above and below it. That is what resolves `8日` to a month and `1月15日` to a year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# The years an article's date can have. Outside them a date is a typo or a placeholder
# (0001-01-01), and date arithmetic near the ends of Python's calendar overflows.
ARTICLE_YEARS = range(1900, 2200)
# How many days after today an article's date may lie: Japan's today is already tomorrow in
# some zones, and a few papers date an issue ahead. A later date is a typo, or a plan the text
# mentions (2030年1月1日までに), not the day the article appeared.
FUTURE_DAYS = 7


def latest_article_day(today: date) -> date:
    """The latest date an article read on `today` can have."""
    return today + timedelta(days=FUTURE_DAYS)


_SEP = r"\s*[〜~～\-‐－–—]\s*"
# One alternation so the first date mentioned in the text wins, whatever its form.
_DATE = re.compile(
    r"(?P<iso>(?<!\d)(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d))"
    r"|(?P<full>(?<!\d)(?P<fy>\d{4})年\s*(?P<fm>\d{1,2})月\s*(?P<fd>\d{1,2})日?"
    rf"(?:{_SEP}(?:(?P<fm2>\d{{1,2}})月\s*)?(?P<fd2>\d{{1,2}})日)?)"
    r"|(?P<md>(?<![\d年])(?P<mm>\d{1,2})月\s*(?P<md_d>\d{1,2})日"
    rf"(?:{_SEP}(?:(?P<mm2>\d{{1,2}})月\s*)?(?P<md_d2>\d{{1,2}})日)?)"
    rf"|(?P<d>(?<![\d月年、,.])(?P<dd>\d{{1,2}})(?:{_SEP}(?P<dd2>\d{{1,2}}))?日(?![本間目])"
    r")"
)
# Japanese era years, as official and many news texts write them: 令和7年 is 2025, and an era's
# first year is 元年. Rewritten as Western years, they are read by the same rules as those.
_ERA_FIRST_YEAR = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_ERA_YEAR = re.compile(r"(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年")


def _western_year(match: re.Match[str]) -> str:
    number = 1 if match.group(2) == "元" else int(match.group(2))
    if number < 1:
        return match.group()  # 令和0年 is a year left blank, not the year before the era
    return f"{_ERA_FIRST_YEAR[match.group(1)] + number - 1}年"


# Numbers in kanji, as official texts and some papers write a date: 令和七年十二月十九日,
# 二〇二五年十二月十九日, or mixed with digits (令和7年十二月19日). Only a date that begins with its
# year is written again in digits, then read as any other: a day alone in kanji is too often no
# date (四日市, 一日も早く, 十日町), and 平成三十年七月豪雨, without a day, is the name of a flood.
_KANJI = "〇○零一二三四五六七八九十"
_KANJI_NUMBER = rf"(?:\d{{1,2}}|[{_KANJI}]{{1,3}})"
# A range's first day may go without 日 (十八〜十九日), but no other: 令和七年七月一部改正 (a part
# of the rules) is no date.
_KANJI_RANGE = rf"{_SEP}(?:{_KANJI_NUMBER}月\s*)?{_KANJI_NUMBER}日"
_KANJI_DATE = re.compile(
    rf"(?:(?:明治|大正|昭和|平成|令和)\s*(?:元|{_KANJI_NUMBER})"
    rf"|(?<!\d)\d{{4}}|(?<![{_KANJI}])[〇○零一二三四五六七八九]{{4}})"
    rf"\s*年\s*{_KANJI_NUMBER}月\s*{_KANJI_NUMBER}(?:日(?:{_KANJI_RANGE})?|{_KANJI_RANGE})"
)
_KANJI_RUN = re.compile(f"[{_KANJI}]+")
_KANJI_DIGITS = {"〇": 0, "○": 0, "零": 0} | {ch: n for n, ch in enumerate("一二三四五六七八九", 1)}


def _kanji_number(numeral: str) -> int | None:
    """A kanji number written digit by digit (二〇二五, 一二) or with 十 (十二, 三十一); None for
    one that is neither (十十)."""
    if "十" not in numeral:
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in numeral))
    tens, _, units = numeral.partition("十")
    if len(tens) > 1 or len(units) > 1 or units == "十":
        return None
    return (_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[units] if units else 0)


def _in_digits(match: re.Match[str]) -> str:
    def digits(run: re.Match[str]) -> str:
        number = _kanji_number(run.group())
        return run.group() if number is None else str(number)

    return _KANJI_RUN.sub(digits, match.group())


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date as written: any of year and month may be missing."""

    year: int | None
    month: int | None
    day: int

    @property
    def complete(self) -> bool:
        """True when year, month and day were all written."""
        return self.year is not None and self.month is not None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date(text: str, *, latest: date | None = None) -> DateMention | None:
    """The first date mentioned in `text`; for a range (`27〜28日`) its last day.

    Era years (`令和7年12月19日`, `令和元年5月1日`, `平成31年`) are read as their Western years, and
    a full date in kanji numbers (`令和七年十二月十九日`, `二〇二五年十二月十九日`) as in digits.
    A full date after `latest` is passed over: it is not the day of the article.
    """
    folded = _KANJI_DATE.sub(_in_digits, unicodedata.normalize("NFKC", text))
    folded = _ERA_YEAR.sub(_western_year, folded)
    for match in _DATE.finditer(folded):
        groups = match.groupdict()
        if groups["iso"]:
            mention = DateMention(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
        elif groups["full"]:
            year, month = int(groups["fy"]), int(groups["fm"])
            if groups["fm2"]:
                # 2025年12月30日〜1月2日: a range that ends in an earlier month ends next year.
                year += int(groups["fm2"]) < month
                month = int(groups["fm2"])
            mention = DateMention(year, month, int(groups["fd2"] or groups["fd"]))
        elif groups["md"]:
            month = int(groups["mm2"] or groups["mm"])
            mention = DateMention(None, month, int(groups["md_d2"] or groups["md_d"]))
        else:
            mention = DateMention(None, None, int(groups["dd2"] or groups["dd"]))
        if _plausible(mention) and not _after(mention, latest):
            return mention
    return None


def _plausible(mention: DateMention) -> bool:
    if not 1 <= mention.day <= 31:
        return False
    if mention.month is not None and not 1 <= mention.month <= 12:
        return False
    if mention.year is not None and mention.year not in ARTICLE_YEARS:
        return False
    if mention.month is not None:
        # Without a year, a leap year decides: 2月29日 can exist, 2月30日 cannot.
        year = 2024 if mention.year is None else mention.year
        return _valid(year, mention.month, mention.day) is not None
    return True


def _after(mention: DateMention, latest: date | None) -> bool:
    if latest is None or mention.year is None or mention.month is None:
        return False
    return date(mention.year, mention.month, mention.day) > latest


def _distance(day: date, newer: date | None, older: date | None) -> int:
    """How far `day` lies outside the interval [older, newer] (0 when inside)."""
    if newer is not None and day > newer:
        return (day - newer).days
    if older is not None and day < older:
        return (older - day).days
    return 0


def _candidates(mention: DateMention, reference: date) -> list[date]:
    found: list[date] = []
    if mention.month is not None:
        for year in (reference.year - 1, reference.year, reference.year + 1):
            if (d := _valid(year, mention.month, mention.day)) is not None:
                found.append(d)
        return found
    for shift in (-2, -1, 0, 1):
        index = reference.year * 12 + reference.month - 1 + shift
        if (d := _valid(index // 12, index % 12 + 1, mention.day)) is not None:
            found.append(d)
    return found


def _nearest(resolved: Sequence[date | None], index: int, step: int) -> date | None:
    i = index + step
    while 0 <= i < len(resolved):
        if (found := resolved[i]) is not None:
            return found
        i += step
    return None


def _older_dates(resolved: Sequence[date | None]) -> list[date | None]:
    """For each article, the nearest date resolved after it (older), or None."""
    found: list[date | None] = [None] * len(resolved)
    older: date | None = None
    for i in reversed(range(len(resolved))):
        found[i] = older
        if (day := resolved[i]) is not None:
            older = day
    return found


def from_today(mentions: Sequence[DateMention | None]) -> bool:
    """Whether a page's dates are placed from today alone: none of its mentions is complete."""
    return not any(mention is not None and mention.complete for mention in mentions)


def place_dates(mentions: Sequence[DateMention | None], *, today: date) -> list[tuple[date, bool]]:
    """Dates for the articles of a newest-first page, each with whether it was inferred.

    Complete dates are taken as written. Month-and-day dates, then day-only dates, take the
    candidate closest to the interval between their resolved neighbours. Undated articles are
    spread evenly between the articles around them; `today` bounds a page with no anchor at all.
    On a page without a complete date, the month or year of a partial one is today's guess:
    inferred too.
    """
    resolved: list[date | None] = [None] * len(mentions)
    for i, mention in enumerate(mentions):
        if mention is not None and mention.year is not None and mention.month is not None:
            resolved[i] = date(mention.year, mention.month, mention.day)
    guessed = from_today(mentions)

    for wants_month in (True, False):
        # Each article's nearest dates on either side, kept as the pass goes rather than looked
        # for from each article: that was quadratic (16,000 day-only dates took 4 s). The pass
        # goes from the newest, so the older dates are those resolved before it began.
        older_dates = _older_dates(resolved)
        newer: date | None = None
        for i, mention in enumerate(mentions):
            if i > 0 and resolved[i - 1] is not None:
                newer = resolved[i - 1]
            if mention is None or resolved[i] is not None:
                continue
            if (mention.month is not None) != wants_month:
                continue
            older = older_dates[i]
            reference = newer or older or today
            options = _candidates(mention, reference)
            if newer is None and older is None:
                options = [d for d in options if d <= today] or options
            if options:
                # Ties (equally far outside) go to the later date: pages are newest first.
                resolved[i] = min(
                    options, key=lambda d: (_distance(d, newer, older), -d.toordinal())
                )

    placed: list[tuple[date, bool]] = []
    i = 0
    while i < len(mentions):
        if (known := resolved[i]) is not None:
            placed.append((known, guessed))
            i += 1
            continue
        end = i
        while end < len(mentions) and resolved[end] is None:
            end += 1
        newer = _nearest(resolved, i, -1)
        older = resolved[end] if end < len(mentions) else None
        run = end - i
        for k in range(run):
            placed.append((_between(newer, older, k, run, today), True))
        i = end
    return placed


def _between(newer: date | None, older: date | None, k: int, run: int, today: date) -> date:
    if newer is None and older is None:
        return today
    if newer is None or older is None or older > newer:
        return newer or older or today
    gap = (newer - older).days
    return newer - timedelta(days=round(gap * (k + 1) / (run + 1)))


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(text: str) -> date | None:
    """The date written as exactly `YYYY-MM-DD`, or None.

    `date.fromisoformat` alone also reads `20251215` and `2025-W51-1` (Python 3.11+).
    """
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2025-02-30
        return None


# What may stand between a typed date's parts, read as `-`: the dashes a Japanese keyboard gives
# for a hyphen that NFKC keeps (ー, −), the slash and the dot (2025/12/15, 2025.12.15).
_TYPED_SEPARATORS = str.maketrans(dict.fromkeys("ー−‐‑‒–—―/.", "-"))
# The year first and in four digits: 12/15/2025 or 25-12-15 would each need a guess.
_TYPED_DAY = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"|(?P<jy>[0-9]{4})年(?P<jm>[0-9]{1,2})月(?P<jd>[0-9]{1,2})日"
)


def typed_day(text: str) -> date | None:
    """The date a person typed as `2025-12-15`, `2025/1/5`, `2025.1.5` or `2025年1月5日`, or None.

    Full-width digits and separators are read too (NFKC), as a Japanese keyboard types them,
    and so are an era year and kanji numbers (`令和7年12月15日`, `令和七年十二月十五日`), as
    `find_date` reads them. Compact and week forms (`20251215`, `2025-W51-1`) and dates that
    don't exist are not dates.
    """
    folded = _KANJI_DATE.sub(_in_digits, unicodedata.normalize("NFKC", text).strip())
    folded = _ERA_YEAR.sub(_western_year, folded).translate(_TYPED_SEPARATORS)
    match = _TYPED_DAY.fullmatch(folded)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups() if part is not None)
    return _valid(year, month, day)  # None for 2025-02-30 and for year 0
