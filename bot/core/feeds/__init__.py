"""Following RSS, Atom and RDF feeds, so this week's articles reach the corpus and the digest.

- `config`: the feeds an operator follows, kept in `feeds.toml` next to the database.
- `fetch`: polite HTTP with conditional requests, timeouts, a size cap and per-host spacing.
- `parse`: feed bytes (any Japanese encoding) to entries, and entries to `ArticleDraft`s.
- `filter`: which entries of a general news feed are about the alliance.
- `store` and `dedup`: the feeds' tables, and storing entries once (GUID, URL, near-identical text).
- `service`: the scheduler that fetches every feed on its interval and records each feed's status.
- `reasons`: why a feed was refused or a fetch failed, as a code the Discord layer translates.

`alliance-bot feeds …` lives in `bot/feeds_cli.py`. This package imports nothing heavy: aiohttp,
feedparser and APScheduler load with the modules that need them, so `feeds list` starts fast.
"""
