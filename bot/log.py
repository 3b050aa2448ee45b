"""Logging for the bot and the CLI: one line per event, text or JSON, the token never written.

`setup_logging(settings)` installs one handler on the root logger. Every record that reaches it
first passes `RedactSecrets`, which replaces the Discord token in the message, its arguments, the
traceback and the stack, so no code path (ours, discord.py's, aiohttp's) can print it.

One-shot CLI commands run inside `command_logging(settings)` instead: warnings and errors only,
as the CLI's own `warning: …` lines. `setup_logging` (which `run` and `sync` call) replaces it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

from bot.core.models import visible
from bot.settings import Settings

REDACTED = "<redacted>"

# Marks the handler we install, so a second call replaces it instead of doubling every line.
_HANDLER_NAME = "alliance-bot"

# aiosqlite logs every SQL call at DEBUG, which drowns the lines an operator turned DEBUG on for.
_CHATTY_LOGGERS = ("aiosqlite",)


def _secrets_of(token: str) -> tuple[str, ...]:
    """The token and, for the usual `id.timestamp.hmac` shape, its secret HMAC part."""
    parts = token.split(".")
    found = [token]
    if len(parts) == 3 and len(parts[2]) >= 16:
        found.append(parts[2])
    return tuple(found)


class RedactSecrets(logging.Filter):
    """Replace every secret in a record before any formatter sees it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `<redacted>`."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep its text, still redacted below
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            # Recomputed even when another handler cached it: that copy was not redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2025-01-01T00:00:00.000Z INFO bot.core.db: message`, newlines escaped as `\\n`."""

    def format(self, record: logging.LogRecord) -> str:
        """One line, traceback included."""
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        details = self._details(record)
        if details:
            line = f"{line}\n{details}"
        # One event, one line: grep and log shippers must never see half a traceback; and what
        # a message quotes (a file name, a feed server's answer) never drives a terminal.
        return visible(line)

    def _details(self, record: logging.LogRecord) -> str:
        parts: list[str] = []
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `ts`, `level`, `logger`, `message`, and `exc` / `stack`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a compact JSON object (UTF-8 text, not ASCII-escaped)."""
        payload: dict[str, str] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


class CommandFormatter(logging.Formatter):
    """`warning: message`, the CLI's own shape for what goes wrong; one line, no traceback."""

    def __init__(self, redactor: RedactSecrets) -> None:
        super().__init__()
        # The exception itself is not redacted by the filter, only its formatted traceback.
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """The level in lower case, the message, and the exception's type and text if any."""
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line = f"{line} ({type(error).__name__}: {self.redactor.redact(str(error))})"
        return visible(line)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when the record arrives (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always sys.stderr; see the getter


def _redactor(settings: Settings) -> RedactSecrets:
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    return RedactSecrets(_secrets_of(token) if token else ())


def _handler(
    stream: TextIO | None, formatter: logging.Formatter, redactor: RedactSecrets
) -> logging.Handler:
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.addFilter(redactor)
    return handler


def _install(handler: logging.Handler) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    # First in line: the filter rewrites the record itself, so every other handler (a test
    # runner's, or one a library adds) also only ever sees the redacted text.
    root.handlers.insert(0, handler)


@contextmanager
def command_logging(settings: Settings, *, stream: TextIO | None = None) -> Iterator[None]:
    """While a one-shot command runs, show WARNING and above as `warning: …` lines on stderr.

    Without a handler, Python's last-resort one prints a core module's warning bare, beside the
    CLI's own line for it. INFO lines are left out: the command prints its own summary. If the
    command calls `setup_logging` (`run`, `sync`), that handler replaces this one and stays.
    """
    redactor = _redactor(settings)
    handler = _handler(stream, CommandFormatter(redactor), redactor)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    level = root.level
    _install(handler)
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        # Only our own: a main() called in-process (tests) leaves logging as it found it.
        if handler in root.handlers:
            root.removeHandler(handler)
            handler.close()
            root.setLevel(level)


def setup_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Send every log record to stderr (or `stream`) as one line, with the token redacted.

    The level comes from `settings.log_level`, the shape from `settings.log_format`
    (`text` or `json`). Calling it again replaces the handler it installed before.
    """
    formatter = JsonFormatter() if settings.log_format == "json" else TextFormatter()
    _install(_handler(stream, formatter, _redactor(settings)))
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    # Warnings (deprecations from libraries) become log lines too, redacted and one-line.
    logging.captureWarnings(True)
