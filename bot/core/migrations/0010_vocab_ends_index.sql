-- 0010: the vocabulary by the last character of its words, then by word, for typo correction.
-- Two characters swapped in the middle of a short word (トンラプ for トランプ) change its first
-- two and its last two; its first and last stay, and this index finds the words sharing both.
CREATE INDEX vocab_ends ON vocab (substr(key, -1), key);
