"""Core logic: corpus, storage, search, topics and digests. Knows nothing about Discord."""
