-- 0008: a digest claim records how it is posted, so that a post resumed later posts as it began.
-- language and timezone: the claim's (NULL on claims older than this migration, which follow
-- their channel's schedule, as before). one_off: 1 for a `post-now` in a channel where no
-- schedule runs; its retries and its unposted pages, also after a restart, use these settings.
ALTER TABLE digest_posts ADD COLUMN language TEXT CHECK (language IN ('ja', 'en'));
ALTER TABLE digest_posts ADD COLUMN timezone TEXT;
ALTER TABLE digest_posts ADD COLUMN one_off INTEGER NOT NULL DEFAULT 0 CHECK (one_off IN (0, 1));
