-- 0005: searches too long to carry in a button's custom_id, so paging still works after a restart.
CREATE TABLE saved_queries (
    key       TEXT PRIMARY KEY,  -- a hash of (query, topic, sort)
    query     TEXT NOT NULL,
    topic     TEXT,
    sort      TEXT NOT NULL CHECK (sort IN ('relevance', 'newest')),
    last_used TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) WITHOUT ROWID;
CREATE INDEX saved_queries_last_used ON saved_queries (last_used);
