-- 0012: the full-text index keyed by publication date, so that its own order is newest first.
-- A search ranks the newest matches FTS5 gives it (ORDER BY rowid DESC) and pages the rest in
-- that order. Keyed by article id, "newest" meant last imported: an archive imported after
-- newer articles filled the ranked window, and the recent articles came last.
-- index_key is the date as YYYYMMDD in the high bits and the id in the low 32 (the order of
-- the articles_published index, one integer); `index_key & 4294967295` is the article's id.
-- Ingest numbers articles from 1 up, so only a row added by hand can have a larger id: the
-- upgrade stops on one (CHECK constraint failed: max_id < 4294967296), and later inserts refuse
-- one, instead of two articles sharing a key.
CREATE TEMP TABLE article_ids_fit_in_32_bits (max_id INTEGER CHECK (max_id < 4294967296));
INSERT INTO article_ids_fit_in_32_bits SELECT max(id) FROM articles;
DROP TABLE article_ids_fit_in_32_bits;
CREATE TRIGGER articles_id_fits_index_key BEFORE INSERT ON articles
    WHEN NEW.id >= 4294967296
BEGIN
    SELECT RAISE(ABORT, 'article ids stop at 4294967295: the search index keys them in 32 bits');
END;
ALTER TABLE articles ADD COLUMN index_key INTEGER
    GENERATED ALWAYS AS ((CAST(replace(published, '-', '') AS INTEGER) << 32) | id) VIRTUAL;
-- FTS5 cannot change its rowids in place: the index is copied under the new keys (the analyzed
-- text is already stored in it; ~5 s at 100k articles, where analyzing it again took 90 s).
-- Inserted in key order (the articles_published index's, so nothing is sorted): FTS5 writes
-- out its pending terms whenever a rowid goes backwards.
CREATE VIRTUAL TABLE article_index_by_date USING fts5 (
    title,
    body,
    topics,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);
INSERT INTO article_index_by_date (rowid, title, body, topics)
    SELECT a.index_key, c.c0, c.c1, c.c2
      FROM articles AS a JOIN article_index_content AS c ON c.id = a.id
     ORDER BY a.published, a.id;
DROP TABLE article_index;
ALTER TABLE article_index_by_date RENAME TO article_index;
INSERT INTO article_index (article_index) VALUES ('optimize');
