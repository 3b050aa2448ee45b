-- 0009: the vocabulary by the last two characters of its words, for typo correction.
-- A typo leaves a word's first two or its last two characters alone; the key's own index finds
-- the first, this one the last, so a correction reads a few thousand words, not all of them.
CREATE INDEX vocab_tail ON vocab (substr(key, -2));
