"""Dates written in Japanese text and their placement on a newest-first page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from bot.core import dates
from bot.core.dates import DateMention, find_date, iso_day, place_dates, typed_day
from bot.core.digest import Week, WeekProblem, parse_week_of

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("米国務省は2025年12月16日、承認した。", DateMention(2025, 12, 16)),
        ("２０２５年１２月１９日に報道。", DateMention(2025, 12, 19)),
        ("2025年10月27〜28日に会談。", DateMention(2025, 10, 28)),
        ("2025年10月30日～11月2日に訪問。", DateMention(2025, 11, 2)),
        ("2025年12月30日〜1月2日に訪問。", DateMention(2026, 1, 2)),
        ("政府は令和7年12月19日、閣議決定した。", DateMention(2025, 12, 19)),
        ("令和元年5月1日に即位。", DateMention(2019, 5, 1)),
        ("平成31年4月30日に退位。", DateMention(2019, 4, 30)),
        ("令和７年１２月１８〜１９日に開催。", DateMention(2025, 12, 19)),
        ("令和8年度予算の概算要求。", None),
        ("令和0年12月19日の様式。", None),
        ("平成30年7月豪雨の被災地を訪問。", None),
        ("現地時間1月15日、会談。", DateMention(None, 1, 15)),
        ("25日午前10時、説明。", DateMention(None, None, 25)),
        ("date 2026-01-02 本文", DateMention(2026, 1, 2)),
        ("3日間の訓練を終えた。", None),
        ("2、3年で変わった。", None),
        ("2月30日に会談。", None),
        ("日米同盟の強化。", None),
    ],
)
def test_find_date_reads_each_form(text: str, expected: DateMention | None) -> None:
    """Full (also era), ranged, month-day, day-only and ISO dates are read; durations and junk
    are not."""
    assert find_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("政府は令和七年十二月十九日、閣議決定した。", DateMention(2025, 12, 19)),
        ("令和元年五月一日に即位。", DateMention(2019, 5, 1)),
        ("平成三十一年四月三十日に退位。", DateMention(2019, 4, 30)),
        ("令和7年十二月19日に公布。", DateMention(2025, 12, 19)),
        ("令和七年 十二月 十八〜十九日に開催。", DateMention(2025, 12, 19)),
        ("二〇二五年十二月十九日に報道。", DateMention(2025, 12, 19)),
        ("2025年十二月三十日〜一月二日に訪問。", DateMention(2026, 1, 2)),
        ("二○二五年一二月一九日付。", DateMention(2025, 12, 19)),
        ("令和元年二月三十日は誤りで、令和元年三月一日に署名。", DateMention(2019, 3, 1)),
        ("令和八年度予算の概算要求。", None),
        ("平成三十年七月豪雨の被災地を訪問。", None),
        ("令和七年七月一部改正の規則。", None),
        ("令和〇年十二月十九日の様式。", None),
        ("四日市で、一日も早い合意を求めた。", None),
    ],
)
def test_find_date_reads_kanji_numbers(text: str, expected: DateMention | None) -> None:
    """A date that begins with its year is read in kanji numbers too, whole or mixed with
    digits; a fiscal year, a flood's name, a blank era year and a kanji day alone are not dates."""
    assert find_date(text) == expected


def test_partial_dates_resolve_from_neighbours() -> None:
    """A day-only date takes the month that puts it between its neighbours."""
    mentions = [
        DateMention(2025, 12, 16),
        DateMention(None, 12, 10),
        DateMention(None, None, 6),
        DateMention(None, None, 25),
        DateMention(None, 11, 23),
    ]
    placed = place_dates(mentions, today=TODAY)
    assert [d for d, _ in placed] == [
        date(2025, 12, 16),
        date(2025, 12, 10),
        date(2025, 12, 6),
        date(2025, 11, 25),
        date(2025, 11, 23),
    ]
    assert not any(inferred for _, inferred in placed)


def test_month_day_crosses_the_new_year() -> None:
    """1月15日 above a December date is in the following year."""
    placed = place_dates([DateMention(None, 1, 15), DateMention(2025, 12, 19)], today=TODAY)
    assert placed[0] == (date(2026, 1, 15), False)


def test_undated_run_is_spread_evenly() -> None:
    """Two undated articles between the 16th and the 10th land on the 14th and 12th."""
    mentions = [DateMention(2025, 12, 16), None, None, DateMention(2025, 12, 10)]
    placed = place_dates(mentions, today=TODAY)
    assert placed[1:3] == [(date(2025, 12, 14), True), (date(2025, 12, 12), True)]


def test_partial_dates_on_a_page_without_a_full_one_are_inferred() -> None:
    """Without a full date on the page, 1月15日's year and 8日's month are today's guess."""
    placed = place_dates([DateMention(None, 11, 15), DateMention(None, None, 8)], today=TODAY)
    assert placed == [(date(2026, 11, 15), True), (date(2026, 11, 8), True)]


def test_a_long_page_of_days_looks_for_each_neighbour_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """5,000 day-only dates are placed in today's month without their neighbours looked for
    anew from each, past every article not placed yet (quadratic: 16,000 took 4 s)."""
    walked = 0  # articles the neighbours were looked for among
    nearest = dates._nearest

    def counted(resolved: Sequence[date | None], index: int, step: int) -> date | None:
        nonlocal walked
        at = index + step
        while 0 <= at < len(resolved) and resolved[at] is None:
            at += step
        walked += abs(at - index)
        return nearest(resolved, index, step)

    monkeypatch.setattr(dates, "_nearest", counted)
    placed = place_dates([DateMention(None, None, 5)] * 5_000, today=TODAY)
    assert placed == [(date(2026, 11, 5), True)] * 5_000
    assert walked <= 2 * 5_000


def test_page_without_any_date_uses_today() -> None:
    """With nothing to go by, undated articles are dated today and marked inferred."""
    assert place_dates([None, None], today=TODAY) == [(TODAY, True), (TODAY, True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-15", date(2025, 12, 15)),
        ("20251215", None),
        ("2025-W51-1", None),
        ("2025-02-30", None),
        ("２０２５-１２-１５", None),
        ("2025-12-15 ", None),
    ],
)
def test_iso_day_reads_only_yyyy_mm_dd(text: str, expected: date | None) -> None:
    """Only exactly YYYY-MM-DD in ASCII digits is a date; compact and week forms are not."""
    assert iso_day(text) == expected


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("２０２５－１２－１７", date(2025, 12, 15)),
        ("２０２５ー１２ー１７", date(2025, 12, 15)),
        ("2025/12/17", date(2025, 12, 15)),
        ("20251217", None),
    ],
)
def test_week_of_reads_full_width_digits_but_not_compact_dates(
    text: str, monday: date | None
) -> None:
    """The slash command's week_of takes a Japanese keyboard's full-width date, not 20251217."""
    week = parse_week_of(text, "Asia/Tokyo")
    assert (week.start if isinstance(week, Week) else None) == monday


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9999-12-31", WeekProblem.PAST_THE_CALENDAR),
        ("9999-12-26", None),
        ("2025-02-30", WeekProblem.NOT_A_DATE),
    ],
)
def test_week_of_tells_a_date_past_the_calendar_from_a_non_date(
    text: str, problem: WeekProblem | None
) -> None:
    """9999-12-31 is a date whose week can't be shown, which is not the same as no date."""
    week = parse_week_of(text, "Asia/Tokyo")
    assert (week if isinstance(week, WeekProblem) else None) is problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025/1/5", date(2025, 1, 5)),
        ("2025-1-5", date(2025, 1, 5)),
        ("2025.1.5", date(2025, 1, 5)),
        ("2025/12/15", date(2025, 12, 15)),
        ("2025年12月15日", date(2025, 12, 15)),
        ("2025年1月5日", date(2025, 1, 5)),
        ("２０２５年１月５日", date(2025, 1, 5)),
        ("２０２５／１／５", date(2025, 1, 5)),
        ("２０２５-１２-１５", date(2025, 12, 15)),
        (" 2025-12-15 ", date(2025, 12, 15)),
        ("2025-02-30", None),
        ("2025年2月30日", None),
        ("0000-01-01", None),
        ("20251215", None),
        ("2025-W51-1", None),
        ("12/15/2025", None),
        ("25-1-5", None),
        ("2025-001-05", None),
        ("2025年1月5", None),
        ("٢٠٢٥-١٢-١٥", None),
        ("令和7年12月15日", date(2025, 12, 15)),
        ("令和七年十二月十五日", date(2025, 12, 15)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("二〇二五年一月五日", date(2025, 1, 5)),
        ("令和0年12月15日", None),
        ("令和7年12月", None),
    ],
)
def test_typed_day_reads_common_spellings_of_a_real_date(text: str, expected: date | None) -> None:
    """Year-first dates with -, /, . or 年月日 (an era year, kanji numbers), padded or not, are
    read; others are not dates."""
    assert typed_day(text) == expected


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2025/1/5", date(2024, 12, 30)),  # a Sunday: its week began the year before
        ("2025-1-5", date(2024, 12, 30)),
        ("2025年1月5日", date(2024, 12, 30)),
        ("2025年12月15日", date(2025, 12, 15)),
    ],
)
def test_week_of_reads_unpadded_and_japanese_dates(text: str, monday: date) -> None:
    """The reviewer's week_of values, refused as not dates before, each name their week."""
    week = parse_week_of(text, "Asia/Tokyo")
    assert isinstance(week, Week)
    assert week.start == monday
