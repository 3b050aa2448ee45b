-- 0013: the posts ledger records a week a schedule skipped for having no articles ('skipped'),
-- so that each week is handled once: articles dated in it that arrive later neither post it on
-- a restart nor have it recorded as missed, and a changed schedule does not post it. SQLite
-- cannot change a CHECK constraint in place, so the table is copied, rows and ids as they were.
-- Weeks skipped before this version left no row: they can't be told apart from weeks never run.
CREATE TABLE digest_posts_0013 (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    week_start TEXT    NOT NULL,  -- the Monday (YYYY-MM-DD) of the week posted, schedule's timezone
    status     TEXT    NOT NULL
                       CHECK (status IN ('intent', 'posted', 'missed', 'failed', 'skipped')),
    message_id INTEGER,
    error      TEXT,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    posted_at  TEXT,
    language   TEXT    CHECK (language IN ('ja', 'en')),
    timezone   TEXT,
    one_off    INTEGER NOT NULL DEFAULT 0 CHECK (one_off IN (0, 1)),
    UNIQUE (channel_id, week_start)
);
INSERT INTO digest_posts_0013 (
    id, channel_id, week_start, status, message_id, error, created_at, updated_at, posted_at,
    language, timezone, one_off
)
SELECT id, channel_id, week_start, status, message_id, error, created_at, updated_at, posted_at,
       language, timezone, one_off
  FROM digest_posts;
DROP TABLE digest_posts;
ALTER TABLE digest_posts_0013 RENAME TO digest_posts;
CREATE INDEX digest_posts_intents ON digest_posts (status) WHERE status = 'intent';
