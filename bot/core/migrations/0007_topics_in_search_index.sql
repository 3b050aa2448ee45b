-- 0007: each article's topics in the full-text index, so a search in a topic is one MATCH.
-- FTS5 cannot add a column: the index is made again with a third one, `topics` (one token per
-- topic, see topic_token in bot/core/search/index.py), and left empty, with the vocabulary that
-- counts its text. Without its recorded version it counts as stale, and the next start (or
-- search, or ingest) rebuilds both.
DROP TABLE article_index;
CREATE VIRTUAL TABLE article_index USING fts5 (
    title,
    body,
    topics,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);
DELETE FROM vocab;
DELETE FROM meta WHERE key = 'index_version';
