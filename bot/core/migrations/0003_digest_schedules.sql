-- 0003: weekly digest schedules (one per channel) and the ledger that makes each post exactly-once.
CREATE TABLE digest_schedules (
    channel_id           INTEGER PRIMARY KEY,  -- Discord snowflake; one schedule per channel
    guild_id             INTEGER NOT NULL,
    weekday              INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: 1 = Monday
    time                 TEXT    NOT NULL CHECK (time GLOB '[0-2][0-9]:[0-5][0-9]'),  -- HH:MM
    timezone             TEXT    NOT NULL,  -- IANA name, e.g. Asia/Tokyo
    language             TEXT    NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en')),
    when_empty           TEXT    NOT NULL DEFAULT 'post' CHECK (when_empty IN ('post', 'skip')),
    paused               INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_error           TEXT,
    last_error_at        TEXT,
    created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))  -- last `set`
);
CREATE INDEX digest_schedules_guild ON digest_schedules (guild_id);

-- No foreign key to digest_schedules: stopping a schedule must not forget what was posted,
-- or setting it again could post the same week twice.
CREATE TABLE digest_posts (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    week_start TEXT    NOT NULL,  -- the Monday (YYYY-MM-DD) of the week posted, schedule's timezone
    status     TEXT    NOT NULL CHECK (status IN ('intent', 'posted', 'missed', 'failed')),
    message_id INTEGER,
    error      TEXT,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    posted_at  TEXT,
    UNIQUE (channel_id, week_start)
);
CREATE INDEX digest_posts_intents ON digest_posts (status) WHERE status = 'intent';
