-- 0014: the posts ledger records each page of a digest as it is sent (`pages`: message ids,
-- space-separated, in the order posted) and when the latest attempt began sending (`sending_at`).
-- An interrupted post is then finished from what it recorded, and the channel's history is read
-- only from that attempt on, for the one page a crash may have left unrecorded: however busy the
-- channel was between attempts, no page is taken for missing and posted twice. NULL on claims
-- made before this version, which are looked for from their claim as before.
ALTER TABLE digest_posts ADD COLUMN pages TEXT;
ALTER TABLE digest_posts ADD COLUMN sending_at TEXT;
