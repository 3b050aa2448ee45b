"""The rules by which a channel gets each week's digest exactly once, free of Discord and of
the database: from the posts ledger's record of a (channel, week), its schedule and what the
channel holds, what a post does next. `bot.digest_poster` carries them out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from bot.core.schedules import PostRecord, PostSettings, Schedule, WhenEmpty


def unfinished(post: PostRecord | None) -> bool:
    """A claim with no message: a crash or an unclear error, to be looked for before posting."""
    return post is not None and post.status == "intent" and post.message_id is None


def look_from(post: PostRecord) -> datetime | None:
    """Where the channel's history is read for a claim's unrecorded page: its latest attempt's
    start (the pages sent before it are recorded), or its claim when none was recorded."""
    return post.sending_at or post.created_at


def maybe_posted(post: PostRecord | None) -> bool:
    """A post that failed with an error after which Discord may have made it anyway (a 5xx, no
    answer), perhaps recorded as missed since: looked for in the channel before it is claimed
    again."""
    return (
        post is not None
        and post.status in ("failed", "missed")
        and post.failure is not None
        and post.failure.transient
    )


def scheduled_settings(schedule: Schedule | None, post: PostRecord | None) -> PostSettings | None:
    """How a scheduled run, retry or catch-up posts its week: with the schedule's settings
    while it runs; where none runs (stopped, paused), with a `post-now`'s own settings if that
    post is unfinished or failed for a reason worth trying again; else None: nothing is posted
    anew, an unfinished post is only looked for."""
    if schedule is not None and not schedule.paused:
        return schedule.settings
    claimed = post.settings if post is not None else None
    if post is None or claimed is None or not claimed.one_off:
        return None
    if unfinished(post) or (post.failure is not None and post.failure.transient):
        return claimed
    return None


Step = Literal["sealed", "skip", "leave", "missed", "claim", "send"]
"""What a post does next:

- `sealed`: its pages are all in the channel already; recorded as posted.
- `skip`: an empty week on a schedule that skips those; recorded as skipped.
- `leave`: the same, asked for by an admin with no claim: the schedule's run decides.
- `missed`: claimed, then interrupted for longer than the grace period, and not in the
  channel: as late as a run the bot was down for.
- `claim`: the week is claimed, then its pages are sent.
- `send`: already claimed (an interrupted post): its remaining pages are sent.
"""


def delivery_step(
    *,
    pages: int,
    posted: int,
    empty: bool,
    when_empty: WhenEmpty,
    claimed_at: datetime | None,
    asked: bool,
    now: datetime,
    grace: timedelta,
) -> Step:
    """The next step of a week's post whose digest takes `pages` messages, `posted` of them in
    the channel; `claimed_at`: when an unfinished attempt claimed the week (None: unclaimed);
    `asked`: an admin's `post-now`, which posts a week however late."""
    if posted and posted >= pages:
        return "sealed"
    if empty and when_empty == "skip" and not posted:
        # Recorded, so that articles dated in the week that arrive later don't post it on a
        # restart or have it recorded as missed. A `post-now` leaves the decision to the
        # schedule's run, unless it finds a claim, which left alone every start would look for.
        return "skip" if claimed_at is not None or not asked else "leave"
    if claimed_at is None:
        return "claim"
    if not posted and not asked and now - claimed_at > grace:
        return "missed"
    return "send"
