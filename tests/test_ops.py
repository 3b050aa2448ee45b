"""The operator commands (`healthcheck`, `backup`) and the files that ship for operators."""

from __future__ import annotations

import argparse
import re
import sqlite3
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import db
from bot.core.health import write_heartbeat
from bot.ops import (
    add_backup_arguments,
    add_healthcheck_arguments,
    cmd_backup,
    cmd_healthcheck,
    whole_number,
)
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, db=tmp_path / "data" / "alliance.db")  # type: ignore[call-arg]


def _parse(add: Callable[[argparse.ArgumentParser], None], *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(list(argv))


async def _running_bot(settings: Settings, *, age: timedelta) -> None:
    """A database whose heartbeat was written `age` ago, as a running bot leaves it."""
    conn = await db.connect(settings.db)
    try:
        await write_heartbeat(conn, now=datetime.now(UTC) - age)
    finally:
        await conn.close()


async def test_healthcheck_healthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh heartbeat exits 0 and says ok on stdout."""
    settings = _settings(tmp_path)
    await _running_bot(settings, age=timedelta(seconds=5))
    code = await cmd_healthcheck(_parse(add_healthcheck_arguments), settings)
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.startswith("ok")
    assert captured.err == ""


async def test_healthcheck_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale heartbeat exits 1 with the reason on stderr."""
    settings = _settings(tmp_path)
    await _running_bot(settings, age=timedelta(minutes=10))
    code = await cmd_healthcheck(_parse(add_healthcheck_arguments), settings)
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("unhealthy: heartbeat is")
    assert captured.out == ""


async def test_healthcheck_max_age(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--max-age 900` accepts a ten-minute-old heartbeat."""
    settings = _settings(tmp_path)
    await _running_bot(settings, age=timedelta(minutes=10))
    args = _parse(add_healthcheck_arguments, "--max-age", "900")
    assert await cmd_healthcheck(args, settings) == 0
    assert "ok" in capsys.readouterr().out


async def test_healthcheck_no_heartbeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--no-heartbeat` only needs a readable database; a missing one still fails."""
    settings = _settings(tmp_path)
    args = _parse(add_healthcheck_arguments, "--no-heartbeat")
    assert await cmd_healthcheck(args, settings) == 1
    assert "no database" in capsys.readouterr().err
    conn = await db.connect(settings.db)
    await conn.close()
    assert await cmd_healthcheck(args, settings) == 0
    assert await cmd_healthcheck(_parse(add_healthcheck_arguments), settings) == 1


@pytest.mark.parametrize("value", ["0", "-5", "soon", "86401"])
def test_healthcheck_rejects_bad_max_age(value: str) -> None:
    """`--max-age` must be a whole number of seconds from 1 to a day."""
    with pytest.raises(SystemExit):
        _parse(add_healthcheck_arguments, "--max-age", value)


@pytest.mark.parametrize(
    ("typed", "number"), [("7", 7), (" 7 ", 7), ("007", 7), ("#7", 7), ("10", 10), ("1", 1)]
)
def test_whole_number_reads_ascii_digits(typed: str, number: int) -> None:
    """ASCII digits within the bounds are read, with spaces, leading zeros and the prefix."""
    assert whole_number(1, 10, prefix="#")(typed) == number


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("٣", "not a whole number of items: '٣'"),  # int() reads Arabic-Indic digits
        ("３", "not a whole number of items: '３'"),  # and full-width ones
        ("+3", "not a whole number of items: '+3'"),
        ("1_0", "not a whole number of items: '1_0'"),
        ("-1", "not a whole number of items: '-1'"),
        ("", "not a whole number of items: ''"),
        ("0", "must be between 1 and 10 items"),
        ("11", "must be between 1 and 10 items"),
        ("9" * 5000, "must be between 1 and 10 items"),  # past int()'s 4300 digits
        ("0" * 5000 + "3", None),
    ],
)
def test_whole_number_refuses_other_digits_and_bounds(typed: str, message: str | None) -> None:
    """Anything but ASCII digits, or a number out of bounds, is refused with a clear message."""
    parse = whole_number(1, 10, unit="items")
    if message is None:
        assert parse(typed) == 3
        return
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        parse(typed)
    assert str(refused.value) == message


def test_whole_number_with_a_name_says_what_it_is() -> None:
    """With a name, the error names the kind of id instead of giving bounds."""
    with pytest.raises(argparse.ArgumentTypeError, match=r"^not an article id: '0'$"):
        whole_number(1, 10, name="an article id")("0")
    with pytest.raises(argparse.ArgumentTypeError, match=r"^not an article id: '٣'$"):
        whole_number(1, 10, name="an article id")("٣")


async def test_backup_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`backup PATH` writes a working copy and says where it went."""
    settings = _settings(tmp_path)
    await _running_bot(settings, age=timedelta(0))
    target = tmp_path / "backup.db"
    code = await cmd_backup(_parse(add_backup_arguments, str(target)), settings)
    captured = capsys.readouterr()
    assert code == 0
    assert f"to {target}" in captured.out
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT key FROM meta").fetchall() == [("heartbeat",)]
    copy.close()


async def test_backup_command_refuses_live_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`backup` onto the live database exits 1 with one line on stderr."""
    settings = _settings(tmp_path)
    await _running_bot(settings, age=timedelta(0))
    code = await cmd_backup(_parse(add_backup_arguments, str(settings.db)), settings)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "live database" in err


def _env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.add(str(choices[0]) if choices else f"ALLIANCE_{name.upper()}")
    return names


def test_env_example_lists_every_setting() -> None:
    """.env.example mentions every setting, so operators see all the knobs."""
    text = (ROOT / ".env.example").read_text("utf-8")
    present = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert _env_names() <= present
    assert present <= _env_names()  # nothing stale either


def test_operator_docs_list_every_setting() -> None:
    """The operator settings table names every setting."""
    text = (ROOT / "README.md").read_text("utf-8")
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", text, flags=re.MULTILINE))
    assert table == _env_names()


def test_docker_build_context_excludes_secrets() -> None:
    """The image is built from an allow-list, so .env and data/ never reach it."""
    lines = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    assert "*" in lines
    allowed = [line for line in lines if line.startswith("!")]
    assert not [line for line in allowed if "env" in line or "data" in line]


def test_the_image_builds_the_bot_with_a_pinned_backend() -> None:
    """constraints.txt pins the build backend, and the image builds the bot under it."""
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["build-system"]
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines()
    }
    assert [
        name for name in backend["requires"] if re.split(r"[<>=!~ ]", name)[0] not in pinned
    ] == []
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert "pip install --no-cache-dir --no-deps --build-constraint constraints.txt ." in text


def test_dockerfile_runs_the_documented_commands() -> None:
    """The image runs `alliance-bot run` as a non-root user with the DB on the volume."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert 'ENTRYPOINT ["alliance-bot"]' in text
    assert 'CMD ["run"]' in text
    assert "alliance-bot healthcheck" in text
    assert "ALLIANCE_DB=/app/data/alliance.db" in text
    assert 'VOLUME ["/app/data"]' in text
    user = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert user
    assert not user[-1].startswith(("root", "0"))
