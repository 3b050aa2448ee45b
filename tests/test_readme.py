"""Every `alliance-bot` command the README shows is a real command, and the offline ones run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.core.topics import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
# The commands in the README's shell blocks, with `docker compose exec bot` and comments removed.
_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
COMMANDS = sorted(
    {
        line.split("#", 1)[0].split("alliance-bot", 1)[1].strip()
        for block in _BLOCKS
        for line in block.splitlines()
        if re.search(r"(^|exec bot |&& )alliance-bot ", line)
    }
)
# Commands that need nothing but the database: run them for real. The others (run, sync, feeds
# fetch, paths inside a container) are covered by their own tests; here they must only parse.
OFFLINE = ("latest", "search", "topics", "show", "digest", "healthcheck --no-heartbeat", "backup")


def test_readme_shows_the_main_commands() -> None:
    """The README's shell examples cover searching, the digest, running and operating the bot."""
    shown = {command.split()[0] for command in COMMANDS}
    assert {"latest", "search", "digest", "run", "invite-url", "healthcheck", "backup"} <= shown


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command: str) -> None:
    """The command is accepted by the CLI's parser exactly as written."""
    args = build_parser().parse_args(shlex.split(command))
    assert callable(args.handler)


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c.startswith(OFFLINE) and "/app/" not in c]
)
def test_readme_offline_command_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as written against a fresh database, the command succeeds."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "data" / "alliance.db"))
    monkeypatch.setenv("ALLIANCE_SEEDS", str(ROOT / "seeds"))
    assert main(["latest"]) == 0  # creates and seeds the database the command reads
    (tmp_path / "backups").mkdir()
    assert main(shlex.split(command)) == 0


def test_readme_examples_name_topics_as_an_english_client_offers_them() -> None:
    """A README example's `topic:` is a choice the English picker offers (Taiwan contingency),
    as its command and option names are English: not the Japanese label."""
    labels = {topic.label_en for topic in load_taxonomy().topics}
    examples = re.findall(r"`(/alliance[^`]*)`", README)
    topics = [m.strip() for e in examples for m in re.findall(r"topic:(.+?)(?=\s\S+:|$)", e)]
    assert topics
    assert [topic for topic in topics if topic not in labels] == []
