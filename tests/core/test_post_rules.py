"""The exactly-once rules of a digest post, as tables: what a post does next, and with which
settings a scheduled run posts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core import post_rules
from bot.core.post_rules import Step
from bot.core.schedules import (
    FailureCode,
    PostFailure,
    PostRecord,
    PostStatus,
    Schedule,
    WhenEmpty,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GRACE = timedelta(hours=24)
RECENT, LONG_AGO = NOW - timedelta(hours=2), NOW - timedelta(hours=30)
CHANNEL = 7


@pytest.mark.parametrize(
    ("pages", "posted", "empty", "when_empty", "claimed_at", "asked", "step"),
    [
        # A fresh run: claimed, then sent; an empty week is posted or skipped as set.
        (2, 0, False, "post", None, False, "claim"),
        (1, 0, True, "post", None, False, "claim"),
        (1, 0, True, "skip", None, False, "skip"),
        # An admin's post-now of an empty week leaves it to the schedule's run...
        (1, 0, True, "skip", None, True, "leave"),
        # ...unless it finds a claim (made before the schedule skipped empty weeks).
        (1, 0, True, "skip", RECENT, True, "skip"),
        # An interrupted post: the rest is sent, or it is sealed once every page is there.
        (3, 1, False, "post", RECENT, False, "send"),
        (3, 3, False, "post", RECENT, False, "sealed"),
        (3, 4, False, "post", LONG_AGO, False, "sealed"),  # more than today's count: sealed
        (1, 1, True, "skip", RECENT, False, "sealed"),  # its page is out: not skipped now
        # Claimed longer ago than the grace period and not in the channel: missed...
        (2, 0, False, "post", LONG_AGO, False, "missed"),
        # ...unless its first pages are out, or an admin asked.
        (2, 1, False, "post", LONG_AGO, False, "send"),
        (2, 0, False, "post", LONG_AGO, True, "send"),
        (2, 0, False, "post", NOW - GRACE, False, "send"),  # the grace period's last second
    ],
)
def test_the_next_step_of_a_post(
    pages: int,
    posted: int,
    empty: bool,
    when_empty: WhenEmpty,
    claimed_at: datetime | None,
    asked: bool,
    step: Step,
) -> None:
    """Each combination of pages out, emptiness, claim age and an admin's asking takes the
    step the exactly-once rules give it."""
    found = post_rules.delivery_step(
        pages=pages,
        posted=posted,
        empty=empty,
        when_empty=when_empty,
        claimed_at=claimed_at,
        asked=asked,
        now=NOW,
        grace=GRACE,
    )
    assert found == step


def _schedule(*, paused: bool = False) -> Schedule:
    return Schedule(1, CHANNEL, 1, time(9), "Asia/Tokyo", language="en", paused=paused)


def _post(
    status: PostStatus, *, one_off: bool, error: FailureCode | None = None, message: int = 0
) -> PostRecord:
    failure = PostFailure(error).encode() if error is not None else None
    return PostRecord(
        CHANNEL,
        date(2026, 11, 16),
        status,
        message or None,
        failure,
        RECENT,
        RECENT,
        None,
        language="ja",
        timezone="UTC",
        one_off=one_off,
    )


@pytest.mark.parametrize(
    ("schedule", "post", "expected"),
    [
        (_schedule(), None, "schedule"),
        (_schedule(), _post("intent", one_off=True), "schedule"),  # a running schedule's own
        (_schedule(paused=True), None, None),
        (None, None, None),
        # Where no schedule runs, a post-now's own claim is finished or retried...
        (None, _post("intent", one_off=True), "claim"),
        (_schedule(paused=True), _post("intent", one_off=True), "claim"),
        (None, _post("failed", one_off=True, error=FailureCode.TIMEOUT), "claim"),
        # ...but not one it sent, one whose failure an admin must fix, or a schedule's claim.
        (None, _post("intent", one_off=True, message=99), None),
        (None, _post("failed", one_off=True, error=FailureCode.MISSING_ACCESS), None),
        (None, _post("intent", one_off=False), None),
    ],
)
def test_the_settings_a_scheduled_run_posts_with(
    schedule: Schedule | None, post: PostRecord | None, expected: str | None
) -> None:
    """A run posts with its schedule's settings while it runs; with none running, only a
    post-now's unfinished or retried claim is posted, with its own settings."""
    found = post_rules.scheduled_settings(schedule, post)
    if expected == "schedule":
        assert schedule is not None
        assert found == schedule.settings
    elif expected == "claim":
        assert post is not None
        assert found == post.settings
        assert found is not None
        assert found.one_off
    else:
        assert found is None


@pytest.mark.parametrize(
    ("post", "unfinished", "maybe_posted"),
    [
        (None, False, False),
        (_post("intent", one_off=False), True, False),
        (_post("intent", one_off=False, message=99), False, False),
        (_post("posted", one_off=False, message=99), False, False),
        (_post("failed", one_off=False, error=FailureCode.TIMEOUT), False, True),
        (_post("missed", one_off=False, error=FailureCode.UNREACHABLE), False, True),
        (_post("failed", one_off=False, error=FailureCode.CHANNEL_MISSING), False, False),
        (_post("missed", one_off=False), False, False),  # missed while down: never sent
    ],
)
def test_which_posts_are_looked_for_in_the_channel(
    post: PostRecord | None, unfinished: bool, maybe_posted: bool
) -> None:
    """An intent with no message is unfinished; a failure after which Discord may have posted
    anyway (a timeout, a lost connection) is maybe posted; neither is anything else."""
    assert post_rules.unfinished(post) is unfinished
    assert post_rules.maybe_posted(post) is maybe_posted


def test_a_claim_is_looked_for_from_its_latest_attempt() -> None:
    """The channel is read from the latest attempt's start, or the claim without one."""
    post = _post("intent", one_off=False)
    assert post_rules.look_from(post) == RECENT
    later = NOW - timedelta(minutes=5)
    assert post_rules.look_from(replace(post, sending_at=later)) == later
