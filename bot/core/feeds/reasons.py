"""Why a feed was refused or a fetch failed: a `Reason` code with parameters.

The feeds package's errors (`FeedConfigError`, `FetchError`, `FeedParseError`: `FeedError`s)
carry a `Reason` and its parameters. `str()` of an error is the English text, for the CLI, the
logs and the feed's stored `last_error`; the Discord layer renders the code in the member's
language instead (`bot.i18n`, keys `feeds.reason.<code>`), so the core holds no Japanese.
"""

from __future__ import annotations

from enum import StrEnum

Param = str | int


class Reason(StrEnum):
    """What went wrong, in a word; the parameters each one takes are in `ENGLISH`."""

    # A URL, name or setting given to `feeds add` or written in feeds.toml.
    URL_EMPTY = "url_empty"
    URL_TOO_LONG = "url_too_long"
    URL_SPACES = "url_spaces"
    URL_INVALID = "url_invalid"
    URL_SCHEME = "url_scheme"
    URL_NO_HOST = "url_no_host"
    URL_BAD_HOST = "url_bad_host"
    URL_CREDENTIALS = "url_credentials"
    URL_PRIVATE = "url_private"
    NAME_TOO_LONG = "name_too_long"
    INTERVAL_NOT_INT = "interval_not_int"
    INTERVAL_RANGE = "interval_range"
    KIND_INVALID = "kind_invalid"
    # Adding and removing feeds.
    ALREADY_IN_FILE = "already_in_file"
    ALREADY_ADDED = "already_added"
    REMOVE_FILE_FEED = "remove_file_feed"
    NOT_FOLLOWED = "not_followed"
    # feeds.toml as a whole, and its [[feed]] tables.
    FILE_UNREADABLE = "file_unreadable"
    FILE_NOT_UTF8 = "file_not_utf8"
    FILE_NOT_TOML = "file_not_toml"
    FILE_LAYOUT = "file_layout"
    ENTRY_NOT_TABLE = "entry_not_table"
    ENTRY_UNKNOWN_KEYS = "entry_unknown_keys"
    ENTRY_NO_URL = "entry_no_url"
    ENTRY_NAME_TYPE = "entry_name_type"
    # Fetching.
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    PRIVATE_ADDRESS = "private_address"
    PRIVATE_NAME = "private_name"
    HTTP_STATUS = "http_status"
    REDIRECT_SCHEME = "redirect_scheme"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"
    # Reading the document.
    UNREADABLE_FEED = "unreadable_feed"
    NOT_A_FEED = "not_a_feed"
    INTERNAL = "internal"


# The CLI's and the logs' wording; `bot.i18n` has the same fields in Japanese and English.
ENGLISH: dict[Reason, str] = {
    Reason.URL_EMPTY: "the feed URL is empty",
    Reason.URL_TOO_LONG: "the feed URL is longer than {limit} characters",
    Reason.URL_SPACES: "the feed URL contains spaces or control characters",
    Reason.URL_INVALID: "not a valid URL: {detail}",
    Reason.URL_SCHEME: "the feed URL must start with http:// or https://",
    Reason.URL_NO_HOST: "the feed URL has no host",
    Reason.URL_BAD_HOST: "{host} in the feed URL is not a host name",
    Reason.URL_CREDENTIALS: "feed URLs with a user name or password are not supported",
    Reason.URL_PRIVATE: "feeds on local or private network addresses are not allowed",
    Reason.NAME_TOO_LONG: "the feed name is longer than {limit} characters",
    Reason.INTERVAL_NOT_INT: "interval must be a whole number of minutes",
    Reason.INTERVAL_RANGE: "interval must be between {low} and {high} minutes",
    Reason.KIND_INVALID: 'kind must be "alliance" or "general"',
    Reason.ALREADY_IN_FILE: "{url} is already followed (in feeds.toml)",
    Reason.ALREADY_ADDED: "{url} is already followed (in the database)",
    Reason.REMOVE_FILE_FEED: "{url} is listed in {file}; remove it there",
    Reason.NOT_FOLLOWED: "{url} is not followed",
    Reason.FILE_UNREADABLE: "cannot read {file}: {detail}",
    Reason.FILE_NOT_UTF8: "{file} is not UTF-8 text",
    Reason.FILE_NOT_TOML: "{file} is not valid TOML: {detail}",
    Reason.FILE_LAYOUT: "{file}: `feed` must be written as [[feed]] tables",
    Reason.ENTRY_NOT_TABLE: "not a table",
    Reason.ENTRY_UNKNOWN_KEYS: "unknown key(s) {keys}",
    Reason.ENTRY_NO_URL: "url is missing or not a string",
    Reason.ENTRY_NAME_TYPE: "name must be a string",
    Reason.TIMEOUT: "timed out after {seconds} s",
    Reason.CONNECTION: "connection failed: {detail}",
    Reason.PRIVATE_ADDRESS: "{host} is a local or private address",
    Reason.PRIVATE_NAME: "{host} resolves only to local or private addresses",
    Reason.HTTP_STATUS: "HTTP {status} {phrase}",
    Reason.REDIRECT_SCHEME: "redirected to an unsupported URL: {url}",
    Reason.TOO_MANY_REDIRECTS: "more than {limit} redirects",
    Reason.TOO_LARGE: "too large: over {limit} bytes",
    Reason.UNREADABLE_FEED: "not a readable feed: {detail}",
    Reason.NOT_A_FEED: "not an RSS, Atom or RDF feed",
    Reason.INTERNAL: "internal error: {detail}",
}


def english(reason: Reason, params: dict[str, Param]) -> str:
    """The English text of a reason."""
    return ENGLISH[reason].format(**params).strip()


class FeedError(Exception):
    """A feed error with a `reason` code and its `params`; `str()` is the English text."""

    def __init__(self, reason: Reason, **params: Param) -> None:
        self.reason = reason
        self.params: dict[str, Param] = {k: _storable(v) for k, v in params.items()}
        super().__init__(english(reason, self.params))


def _storable(value: Param) -> Param:
    """`value` with any lone surrogate as "?": a server's stray byte in a status line or a
    Location reaches us as one, and SQLite refused the error that quoted it, which crashed the
    fetch instead of recording it."""
    return value.encode("utf-8", "replace").decode("utf-8") if isinstance(value, str) else value
