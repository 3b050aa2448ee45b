-- 0006: feeds added from Discord may not reach the local network; fetch errors kept as a code to translate.
-- 1 for a feed the operator added at the terminal (`alliance-bot feeds add`), which may be on the
-- LAN like the feeds of feeds.toml; 0 for one added with `/alliance-feeds add`, fetched from
-- public addresses only. Rows older than this migration get 0: who added them is not recorded,
-- so they keep the stricter rule (the operator re-adds a LAN feed from the terminal).
ALTER TABLE runtime_feeds
    ADD COLUMN allow_private INTEGER NOT NULL DEFAULT 0 CHECK (allow_private IN (0, 1));

-- The last error as a reason code (bot/core/feeds/reasons.py) and its parameters as a JSON
-- object, so Discord shows it in the member's language; last_error keeps the English text.
ALTER TABLE feeds ADD COLUMN last_error_code TEXT;
ALTER TABLE feeds ADD COLUMN last_error_params TEXT;
