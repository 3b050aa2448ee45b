"""Log output: one line per event, JSON lines that parse, and the token never written."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from bot.log import REDACTED, RedactSecrets, command_logging, setup_logging
from bot.settings import Settings

# Shaped like a real token: base64 id, timestamp, HMAC.
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.s3cr3t-hmac-part_0123456789abcdefXYZ"
HMAC = TOKEN.rsplit(".", 1)[1]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = logging.getLogger("aiosqlite")
    quiet_level = quiet.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    quiet.setLevel(quiet_level)
    logging.captureWarnings(False)


def _settings(**values: str) -> Settings:
    return Settings.model_validate({"DISCORD_TOKEN": TOKEN, **values})


def _leak_everywhere(log: logging.Logger) -> int:
    """Log the token every way code might; return how many events were logged."""
    log.info("token is %s", TOKEN)
    log.warning(f"token in the message itself: {TOKEN}")
    log.error("headers %r", {"Authorization": f"Bot {TOKEN}"})
    try:
        raise RuntimeError(f"login failed for {TOKEN}")
    except RuntimeError:
        log.exception("could not log in")
    log.info("stack %s", "follows", stack_info=True)
    log.info("only the secret part %s", HMAC)
    return 6  # five of them carry the token; the stack only the code


def test_json_lines_parse_and_carry_the_fields() -> None:
    """With ALLIANCE_LOG_FORMAT=json every line is one JSON object with the event's fields."""
    out = io.StringIO()
    setup_logging(_settings(log_format="json"), stream=out)
    log = logging.getLogger("bot.test")
    log.info("記事 %d 件を追加", 3)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("failed\nwith a second line")
    lines = out.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == 2
    assert events[0]["message"] == "記事 3 件を追加"
    assert events[0]["level"] == "INFO"
    assert events[0]["logger"] == "bot.test"
    assert events[0]["ts"].endswith("Z")
    assert "ZeroDivisionError" in events[1]["exc"]
    assert "\\u" not in lines[0]  # Japanese stays readable


def test_text_format_is_one_line_per_event() -> None:
    """Text logs put each event, traceback included, on exactly one line."""
    out = io.StringIO()
    setup_logging(_settings(log_format="text"), stream=out)
    count = _leak_everywhere(logging.getLogger("bot.test"))
    lines = out.getvalue().splitlines()
    assert len(lines) == count
    assert "Traceback" in lines[3]
    assert " ERROR bot.test: could not log in" in lines[3]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_token_never_appears(fmt: str) -> None:
    """The token, or its secret part, is redacted from messages, arguments and tracebacks."""
    out = io.StringIO()
    setup_logging(_settings(log_format=fmt), stream=out)
    _leak_everywhere(logging.getLogger("discord.http"))
    text = out.getvalue()
    assert TOKEN not in text
    assert HMAC not in text
    assert text.count(REDACTED) == 5


def test_token_redacted_in_captured_warnings() -> None:
    """A library warning that mentions the token is logged, redacted, as one line."""
    out = io.StringIO()
    setup_logging(_settings(), stream=out)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated call with {TOKEN}", UserWarning, stacklevel=1)
    text = out.getvalue()
    assert "deprecated call with" in text
    assert TOKEN not in text
    assert len(text.splitlines()) == 1


def test_level_comes_from_settings() -> None:
    """Records below ALLIANCE_LOG_LEVEL are dropped."""
    out = io.StringIO()
    setup_logging(_settings(log_level="warning"), stream=out)
    log = logging.getLogger("bot.test")
    log.info("quiet")
    log.warning("loud")
    assert "quiet" not in out.getvalue()
    assert "loud" in out.getvalue()


def test_debug_keeps_aiosqlite_quiet() -> None:
    """DEBUG shows our debug lines but not aiosqlite's line per SQL call."""
    out = io.StringIO()
    setup_logging(_settings(log_level="DEBUG"), stream=out)
    logging.getLogger("bot.test").debug("ours")
    logging.getLogger("aiosqlite").debug("executing SELECT 1")
    assert "ours" in out.getvalue()
    assert "executing" not in out.getvalue()


def test_setup_twice_does_not_double_lines() -> None:
    """Calling setup_logging again replaces its handler instead of adding another."""
    first, second = io.StringIO(), io.StringIO()
    setup_logging(_settings(), stream=first)
    setup_logging(_settings(), stream=second)
    logging.getLogger("bot.test").warning("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_default_stream_is_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a stream, lines go to stderr, and stdout stays clean for command output."""
    setup_logging(_settings())
    logging.getLogger("bot.test").warning("to stderr %s", TOKEN)
    captured = capsys.readouterr()
    assert "to stderr <redacted>" in captured.err
    assert captured.out == ""


def test_bad_format_arguments_are_still_redacted() -> None:
    """A call with the wrong number of arguments keeps its text, with the token redacted."""
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, "a %s %s", (TOKEN,), None)
    assert RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert "a %s %s" in record.getMessage()
    assert REDACTED in record.getMessage()


def test_other_handlers_see_the_redacted_record() -> None:
    """A handler added before ours (a library's, a test runner's) only sees redacted text."""
    theirs = io.StringIO()
    other = logging.StreamHandler(theirs)
    logging.getLogger().addHandler(other)
    try:
        setup_logging(_settings(), stream=io.StringIO())
        logging.getLogger("bot.test").warning("token %s", TOKEN)
    finally:
        logging.getLogger().removeHandler(other)
    assert "token <redacted>" in theirs.getvalue()
    assert TOKEN not in theirs.getvalue()


def test_command_logging_shows_warnings_in_the_cli_format() -> None:
    """One-shot commands show warnings and errors as `warning: …` lines, redacted, without INFO."""
    out = io.StringIO()
    log = logging.getLogger("bot.test")
    with command_logging(_settings(), stream=out):
        log.info("ingest: 3 added")
        log.warning("bad.jsonl:2: not valid JSON")
        try:
            raise RuntimeError(f"login failed for {TOKEN}\nsecond line")
        except RuntimeError:
            log.exception("could not log in")
    assert out.getvalue().splitlines() == [
        "warning: bad.jsonl:2: not valid JSON",
        "error: could not log in (RuntimeError: login failed for <redacted>\\nsecond line)",
    ]


@pytest.mark.parametrize("fmt", ["text", "command"])
def test_control_characters_in_a_message_are_shown_not_sent(fmt: str) -> None:
    """A feed server's ESC sequence or a bidi override in a message reaches the log escaped."""
    out = io.StringIO()
    hostile = "feed https://x.test/: HTTP 500 \x1b[2J\u202egnp.exe"
    if fmt == "command":
        with command_logging(_settings(), stream=out):
            logging.getLogger("bot.test").warning(hostile)
    else:
        setup_logging(_settings(log_format="text"), stream=out)
        logging.getLogger("bot.test").warning(hostile)
    written = out.getvalue()
    assert "\x1b" not in written
    assert "\u202e" not in written
    assert written.rstrip("\n").endswith("HTTP 500 \\x1b[2J\\u202egnp.exe")


def test_command_logging_leaves_logging_as_it_found_it() -> None:
    """After the command, its handler is gone and the root level is back."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    before = list(root.handlers)
    out = io.StringIO()
    with command_logging(_settings(), stream=out):
        assert root.level == logging.WARNING
    logging.getLogger("bot.test").warning("after")
    assert root.handlers == before
    assert root.level == logging.DEBUG
    assert out.getvalue() == ""


def test_run_inside_command_logging_logs_each_line_once() -> None:
    """`run` calls setup_logging inside the CLI's setup: the bot's log replaces it, no doubles."""
    cli, bot = io.StringIO(), io.StringIO()
    with command_logging(_settings(), stream=cli):
        setup_logging(_settings(), stream=bot)
        logging.getLogger("bot.test").warning("feed failed")
        logging.getLogger("bot.test").info("connected")
    logging.getLogger("bot.test").warning("after the run")
    assert cli.getvalue() == ""
    assert bot.getvalue().count("feed failed") == 1
    assert "connected" in bot.getvalue()
    assert "after the run" in bot.getvalue()  # the bot's log stays to the end of the process
