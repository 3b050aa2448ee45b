-- 0004: followed feeds (fetch status and validators), feeds added at runtime, entry → article.
-- One row per feed URL ever followed; rows stay when a feed is removed, so its history and
-- its entries' article links survive a later re-add.
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,  -- canonical, see bot/core/feeds/config.py
    etag            TEXT,                     -- validators for conditional requests
    last_modified   TEXT,
    last_fetch_at   TEXT,                     -- timestamps: ISO 8601, UTC
    last_success_at TEXT,
    last_new_at     TEXT,                     -- when a fetch last stored a new article
    last_error      TEXT,
    failing_since   TEXT,                     -- first failure of the current run of failures
    failures        INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    retry_after     TEXT,                     -- backoff: scheduled fetches wait until then
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Feeds added by `alliance-bot feeds add` or `/alliance-feeds add`; feeds.toml holds the rest.
CREATE TABLE runtime_feeds (
    feed_id      INTEGER PRIMARY KEY REFERENCES feeds (id) ON DELETE CASCADE,
    name         TEXT,
    interval_min INTEGER NOT NULL CHECK (interval_min >= 5),
    kind         TEXT    NOT NULL CHECK (kind IN ('alliance', 'general')),
    added_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Which article each stored entry became (its own, or the one it duplicates).
CREATE TABLE feed_entries (
    feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_key  TEXT    NOT NULL,  -- the GUID, else the link, else a hash of the title
    url        TEXT,              -- the entry's own link (normalized)
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    seen_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;
CREATE INDEX feed_entries_url ON feed_entries (url) WHERE url IS NOT NULL;
CREATE INDEX feed_entries_article ON feed_entries (article_id);

-- Dedup by URL looks articles up by their link.
CREATE INDEX articles_url ON articles (url) WHERE url IS NOT NULL;
