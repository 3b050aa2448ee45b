"""alliance-bot: news about the US–Japan alliance, searchable on Discord."""

__version__ = "0.1.0"
