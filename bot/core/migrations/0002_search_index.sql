-- 0002: the full-text index and the vocabulary behind suggestions and typo correction.
-- The index holds analyzed text (space-separated index forms, see bot/core/search/analyzer.py),
-- so FTS5's own tokenizer only splits on those spaces. Its rowid is the article id.
CREATE VIRTUAL TABLE article_index USING fts5 (
    title,
    body,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

-- Nouns and noun runs with how many articles contain them (df).
CREATE TABLE vocab (
    key     TEXT    PRIMARY KEY,  -- folded form (NFKC, lower case, katakana)
    display TEXT    NOT NULL,     -- as first seen in an article
    df      INTEGER NOT NULL CHECK (df > 0)
) WITHOUT ROWID;
CREATE INDEX vocab_df ON vocab (df DESC);
