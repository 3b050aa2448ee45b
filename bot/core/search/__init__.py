"""Japanese-aware full-text search over the corpus (see `engine` for how results are ranked)."""

from bot.core.search.engine import SearchHit, SearchResult, Sort, search, suggest
from bot.core.search.query import MAX_QUERY_CHARS, QueryProblem

__all__ = [
    "MAX_QUERY_CHARS",
    "QueryProblem",
    "SearchHit",
    "SearchResult",
    "Sort",
    "search",
    "suggest",
]
