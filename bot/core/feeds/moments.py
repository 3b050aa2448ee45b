"""When a feed says an entry was published, read as the feed meant it.

feedparser gives every date in UTC, but where it doesn't know the zone ("JST") or the feed gave
none, it takes the clock time as UTC: a Japanese article of 20:00 lands on the next day, and a
Sunday evening's in the next week's digest. It also reads "2025/05/04 20:00" as a day in
November. So the forms Japanese feeds use are read here first; a time with no zone is left
naive, for the caller to read in the feed's timezone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz

# 2025-05-04, 2025/5/4, 2025.05.04, 2025年5月4日, with a weekday ((日), （月）) and a time.
_NUMERIC = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*[(（][^)）]{1,9}[)）])?"
    r"(?:(?:T|\s*)(?P<H>\d{1,2})\s*[:時]\s*(?P<M>\d{2})\s*分?"
    r"(?:\s*:?\s*(?P<S>\d{2})\s*秒?(?:[.,]\d+)?)?)?"
    r"\s*(?P<zone>.*?)\s*"
)
# What follows the time of an RFC 822 date ("Sun, 04 May 2025 20:00:00 JST"): its zone.
_AFTER_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*(?P<zone>.*?)\s*$")
_YEAR = re.compile(r"\b\d{4}\b")
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?(?:\s*\(.*\))?")
# Zone names seen in feeds. feedparser knows the American ones, but not the Asian ones.
_NAMED_HOURS = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "JST": 9, "KST": 9,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip


class _Unknown:
    """A zone written in a way not read here (e.g. "CET"): feedparser's reading stands."""


_UNKNOWN = _Unknown()


def _zone(text: str) -> tzinfo | _Unknown | None:
    """The zone a date's tail names; None when it names none (the feed's own clock)."""
    if not text:
        return None
    hours = _NAMED_HOURS.get(text.upper())
    if hours is not None:
        return UTC if hours == 0 else timezone(timedelta(hours=hours))
    offset = _OFFSET.fullmatch(text)
    if offset is None:
        return _UNKNOWN
    minutes = int(offset["h"]) * 60 + int(offset["m"] or 0)
    if minutes >= 24 * 60:
        return _UNKNOWN
    return timezone(timedelta(minutes=-minutes if offset["sign"] == "-" else minutes))


def feed_moment(text: str) -> datetime | None:
    """The moment a feed's date string names: aware when it gives a zone, naive (the feed's
    own clock time) when it gives none; None when it is in a form not read here, or names no
    real day or time, so that feedparser's reading is used instead."""
    text = text.strip()[:100]
    numeric = _NUMERIC.fullmatch(text)
    if numeric is not None:
        fields = [numeric[name] for name in ("y", "m", "d", "H", "M", "S")]
        parts = [int(value or 0) for value in fields]
        zone = _zone(numeric["zone"])
    else:
        parsed = parsedate_tz(text)
        after = _AFTER_TIME.search(text)
        if parsed is None or after is None:
            return None
        # A year of two digits or fewer becomes 19xx or 20xx ("0001" is 2001): not ours.
        written = _YEAR.search(text)
        if written is None or int(written[0]) != parsed[0]:
            return None
        parts = list(parsed[:6])
        zone = _zone(after["zone"])
    if isinstance(zone, _Unknown):
        return None
    year, month, day, hour, minute, second = parts
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None
