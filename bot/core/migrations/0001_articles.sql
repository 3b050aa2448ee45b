-- 0001: articles, the topic taxonomy, their links, and a key/value table for bookkeeping.
CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    origin        TEXT    NOT NULL,  -- the file or feed it came from; re-ingest matches within it
    source        TEXT    NOT NULL,  -- where exactly, for people: "000_ec138bacc4a23740.txt:2"
    content_hash  TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    title_derived INTEGER NOT NULL DEFAULT 0 CHECK (title_derived IN (0, 1)),
    body          TEXT    NOT NULL,
    published     TEXT    NOT NULL,  -- ISO date, YYYY-MM-DD
    date_inferred INTEGER NOT NULL DEFAULT 0 CHECK (date_inferred IN (0, 1)),
    url           TEXT,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX articles_published ON articles (published DESC, id DESC);
CREATE INDEX articles_origin ON articles (origin);

CREATE TABLE topics (
    slug     TEXT    PRIMARY KEY,
    label_ja TEXT    NOT NULL,
    label_en TEXT    NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE article_topics (
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic       TEXT    NOT NULL REFERENCES topics (slug) ON DELETE CASCADE,
    assigned_by TEXT    NOT NULL CHECK (assigned_by IN ('rules', 'source')),
    PRIMARY KEY (article_id, topic)
) WITHOUT ROWID;
CREATE INDEX article_topics_topic ON article_topics (topic, article_id);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
