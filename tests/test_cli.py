"""The `alliance-bot` CLI, run in-process against a temp database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.metadata
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO

import pytest

from bot.cli import build_parser, main
from bot.cli import run as run_command
from bot.core import articles, db
from bot.core.models import ArticleDraft

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read, data/ lands in tmp
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "data" / "alliance.db"))
    monkeypatch.setenv("ALLIANCE_SEEDS", str(ROOT / "seeds"))
    for name in ("DISCORD_TOKEN", "ALLIANCE_TIMEZONE", "ALLIANCE_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_commands_run_on_uvloop() -> None:
    """Commands, `run` (the bot) among them, run on uvloop, which the package installs."""

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run_command(loop_module()).startswith("uvloop")


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the version the package was installed as, and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"alliance-bot {importlib.metadata.version('alliance-bot')}\n"


def test_latest_seeds_an_empty_db(capsys: pytest.CaptureFixture[str]) -> None:
    """`latest` on an empty database loads the seeds and prints the newest articles."""
    code, out, _ = run(capsys, "latest", "--limit", "3")
    assert code == 0
    assert out.count("#") == 3
    assert "台湾有事の退避" in out


def test_latest_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """`latest --json` prints results in the documented shape, with Japanese unescaped."""
    code, out, _ = run(capsys, "latest", "--json", "--limit", "5")
    payload = json.loads(out)
    assert code == 0
    assert payload["total"] == 21
    assert len(payload["results"]) == 5
    first = payload["results"][0]
    assert set(first) >= {"id", "title", "body", "published", "date_inferred", "topics", "source"}
    assert isinstance(first["date_inferred"], bool)
    assert "\\u" not in out


@pytest.mark.parametrize(
    "name", ["nuclear", "Nuclear", "ＮＵＣＬＥＡＲ", "核・抑止", "nuclear & deterrence"]
)
def test_latest_by_topic(capsys: pytest.CaptureFixture[str], name: str) -> None:
    """`latest --topic` only lists articles of that topic, named by its slug or a label, in
    any case or width."""
    code, out, _ = run(capsys, "latest", "--topic", name, "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["results"]
    assert all("nuclear" in r["topics"] for r in payload["results"])


@pytest.mark.parametrize(
    "argv",
    [
        ["latest", "--topic", "nope"],
        ["latest", "--limit", "0"],
        ["latest", "--limit", "many"],
        ["show", "abc"],
        ["show", "99999"],
        ["ingest", "/no/such/file.txt"],
        ["search", ""],
        ["search", "x" * 10_000],
        ["search"],
        ["search", "核", "--topic", "nope"],
        ["search", "核", "--offset", "-1"],
        ["search", "核", "--limit", "101"],
        ["search", "核", "--sort", "oldest"],
        ["show", "0"],
        ["show", "99999", "--json"],
        ["topics", "--bogus"],
        ["latest", "extra"],
        ["ingest", "--limit", "3"],
        ["frobnicate"],
        [],
        ["search", "\udcff"],  # a terminal's byte that is not UTF-8
        ["feeds", "add", "http://ex\udcffample.com/"],
        ["digest", "--week-of", "9999-12-27"],  # its Sunday is past the last date there is
        ["ingest", ""],  # not the current folder
        ["backup", " "],
        ["search", "核", "--offset", "10001"],  # past the last page there is
        ["healthcheck", "--no-heartbeat", "--max-age", "120"],  # no heartbeat to age
    ],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Bad usage or input exits 2 with a short message on stderr and no traceback."""
    try:
        code: object = main(argv)
    except SystemExit as exited:  # argparse exits by itself on usage errors
        code = exited.code
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert 0 < len(err.strip().splitlines()) <= 3


@pytest.mark.parametrize("offset", ["10001", "1" + "0" * 23])
def test_an_offset_past_paging_names_the_last_one(
    capsys: pytest.CaptureFixture[str], offset: str
) -> None:
    """An `--offset` past where paging ends names that bound (10000), however large it is."""
    with pytest.raises(SystemExit) as exited:
        main(["search", "核", "--offset", offset])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "between 0 and 10000" in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALLIANCE_TIMEZONE", "Mars/Olympus"),
        ("ALLIANCE_TIMEZONE", "localtime"),  # the host's clock, which schedules refuse
        ("ALLIANCE_DIGEST_GRACE_HOURS", "inf"),
        ("ALLIANCE_DIGEST_GRACE_HOURS", "169"),
        ("ALLIANCE_DIGEST_GRACE_HOURS", "nan"),
        ("ALLIANCE_DEV_GUILD", "-5"),  # not a Discord id
        ("ALLIANCE_DEV_GUILD", "0"),
        ("ALLIANCE_DEV_GUILD", "99999999999999999999999"),
        ("ALLIANCE_DB", " "),  # would be a database file named " " (empty means unset)
    ],
)
def test_invalid_setting_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """An invalid setting names the variable in one line and exits 2."""
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "latest")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert name in err
    assert "Value error" not in err
    if value == "nan":
        assert "finite number" in err


@pytest.mark.parametrize("argv", [["latest"], ["healthcheck"]])
def test_a_database_name_too_long_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    """A database file name over 255 bytes is refused in one line, not a traceback."""
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / ("d" * 300 + ".db")))
    code, _, err = run(capsys, *argv)
    assert code in (1, 2)
    assert "File name too long" in err
    assert err.strip().count("\n") == 0


def test_topics_lists_every_topic(capsys: pytest.CaptureFixture[str]) -> None:
    """`topics --json` lists the ten topics with counts that add up to at least 21."""
    code, out, _ = run(capsys, "topics", "--json")
    payload = json.loads(out)
    slugs = {t["slug"] for t in payload["results"]}
    assert code == 0
    assert {"taiwan", "nuclear", "spending", "southwest", "us-politics"} <= slugs
    assert sum(t["count"] for t in payload["results"]) >= 21


def test_topics_text(capsys: pytest.CaptureFixture[str]) -> None:
    """`topics` prints one line per topic with its Japanese label."""
    code, out, _ = run(capsys, "topics")
    assert code == 0
    assert "台湾有事" in out
    assert len(out.strip().splitlines()) >= 10


def test_show_prints_whole_article(capsys: pytest.CaptureFixture[str]) -> None:
    """`show ID` prints the full body of that article."""
    _, out, _ = run(capsys, "latest", "--json", "--limit", "21")
    long_one = max(json.loads(out)["results"], key=lambda r: len(r["body"]))
    code, out, _ = run(capsys, "show", str(long_one["id"]))
    assert code == 0
    assert long_one["body"] in out
    code, out, _ = run(capsys, "show", str(long_one["id"]), "--json")
    assert json.loads(out)["results"][0]["id"] == long_one["id"]


def test_search_finds_and_reports_total(capsys: pytest.CaptureFixture[str]) -> None:
    """`search 核 --json` returns nuclear articles with snippets and a total."""
    code, out, _ = run(capsys, "search", "核", "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["total"] >= 2
    assert all("核" in r["title"] + r["body"] for r in payload["results"])
    assert all("**" in r["snippet"] for r in payload["results"])


def test_one_result_is_counted_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    """A search with one match says "1 result", not "1 results"."""
    code, out, _ = run(capsys, "search", "AMRAAM")
    assert (code, out.splitlines()[0]) == (0, "1 result; showing 1–1")


def test_search_words_need_no_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    """`search 日米 同盟` searches both words, as the quoted `search "日米 同盟"` does."""
    quoted = run(capsys, "search", "日米 同盟")
    assert quoted[0] == 0
    assert run(capsys, "search", "日米", "同盟") == quoted


def test_search_word_left_out_unquoted_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    """`search 台湾 -中国` (argparse reads -中国 as an option) says to write `--` first, and
    `search -- 台湾 -中国` then leaves 中国 out."""
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "台湾", "-中国"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert 'quote the whole query (search "台湾 -中国")' in err
    assert "(search --json -- 台湾 -中国)" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "search", "--json", "--", "台湾", "-中国")
    results = json.loads(out)["results"]
    assert code == 0
    assert results
    assert not any("中国" in r["title"] + r["body"] for r in results)


def test_search_nothing_found_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """A search with no match is not an error."""
    code, out, _ = run(capsys, "search", "zzzqqqxxx")
    assert code == 0
    assert "no results" in out


def test_ingest_reports_counts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`ingest` prints added/updated/unchanged/skipped and is idempotent."""
    code, out, _ = run(capsys, "ingest", str(ROOT / "seeds"))
    assert code == 0
    assert "added 21" in out
    code, out, _ = run(capsys, "ingest", str(ROOT / "seeds"))
    assert "added 0" in out
    assert "unchanged 21" in out


def test_first_ingest_on_an_empty_db_loads_the_seeds_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`ingest PATH` as the first command loads the shipped seeds as well as PATH's articles."""
    own = tmp_path / "own.jsonl"
    own.write_text(
        json.dumps({"title": "日米協議", "body": "日米が協議した。", "published": "2026-02-01"})
        + "\n",
        "utf-8",
    )
    code, out, _ = run(capsys, "ingest", str(own))
    assert code == 0
    assert "added 1," in out
    assert "loaded the shipped seeds first (added 21)" in out
    code, out, _ = run(capsys, "latest", "--json")
    assert json.loads(out)["total"] == 22


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ({"data.csv": "title,body\n"}, ""),
        ({"today.jsonl": ""}, "warning: today.jsonl: empty file\n"),
        ({"a.txt": " \n\n", "data.csv": ""}, "warning: a.txt: empty file\n"),
    ],
)
def test_a_folder_without_article_files_is_said_to_hold_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, files: dict[str, str], said: str
) -> None:
    """`ingest` of a folder holding only other files, or only empty ones, imports nothing,
    says so on stderr, and exits 0 (a drop folder may be empty today)."""
    assert run(capsys, "latest")[0] == 0
    exports = tmp_path / "exports"
    exports.mkdir()
    for name, text in files.items():
        (exports / name).write_text(text, "utf-8")
    code, out, err = run(capsys, "ingest", str(exports))
    assert (code, out) == (0, "added 0, updated 0, unchanged 0, skipped 0\n")
    assert err == f"{said}warning: no article found in .txt, .jsonl or .ndjson files: {exports}\n"


def test_missing_seeds_folder_is_a_config_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ALLIANCE_SEEDS naming no folder exits 2 with one line naming it, not "no articles"."""
    monkeypatch.setenv("ALLIANCE_SEEDS", str(tmp_path / "nonexistent"))
    code, out, err = run(capsys, "latest")
    assert code == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert "ALLIANCE_SEEDS" in err
    assert "nonexistent" in err


def test_empty_seeds_folder_says_so(tmp_path: Path) -> None:
    """ALLIANCE_SEEDS naming a folder with no articles warns once, naming it, on an empty DB."""
    empty = tmp_path / "no-seeds-here"
    empty.mkdir()
    done = _bot(tmp_path, "latest", env={"ALLIANCE_SEEDS": str(empty)})
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("warning: ")
    assert "no-seeds-here" in line


@pytest.mark.parametrize(
    ("token", "why"),
    [(None, "no token"), ("abc", "DISCORD_TOKEN does not start with an application id")],
)
def test_invite_url_without_an_id_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, token: str | None, why: str
) -> None:
    """With no token, or one whose start is not an application id, `invite-url` says which
    and asks for --client-id, in one line, exit 2."""
    if token is not None:
        monkeypatch.setenv("DISCORD_TOKEN", token)
    code, out, err = run(capsys, "invite-url")
    assert (code, out) == (2, "")
    assert err.startswith(f"alliance-bot: {why}: pass --client-id")
    assert err.count("\n") == 1


def test_env_example_filled_in_as_shown_works(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A .env made of .env.example with every setting uncommented as shown (some empty)
    runs the commands: an empty value means the default, not an invalid setting."""
    example = (ROOT / ".env.example").read_text("utf-8")
    (tmp_path / ".env").write_text(re.sub(r"(?m)^#(ALLIANCE_\w+=)", r"\1", example), "utf-8")
    assert "\nALLIANCE_DEV_GUILD=\n" in (tmp_path / ".env").read_text("utf-8")
    code, out, err = run(capsys, "latest", "--limit", "1")
    assert (code, err) == (0, "")
    assert out.count("#") == 1


def test_env_file_not_utf8_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A .env that is not UTF-8 exits 2 with one line naming the file, not a traceback."""
    (tmp_path / ".env").write_bytes(b"DISCORD_TOKEN=\xff\xfe\n")
    code, _, err = run(capsys, "latest")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert str(tmp_path / ".env") in err
    assert "not UTF-8" in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALLIANCE_DISCORD_API_URL", "notaurl"),
        ("ALLIANCE_DISCORD_API_URL", "ftp://x"),
        ("ALLIANCE_DISCORD_API_URL", "http://[::1"),
        ("ALLIANCE_DISCORD_API_URL", "https://"),
        ("ALLIANCE_DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("ALLIANCE_DISCORD_GATEWAY_URL", "wss://host:notaport"),
    ],
)
def test_bad_discord_url_setting_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """A Discord URL setting that is not an http(s)/ws(s) URL with a host is one line, exit 2."""
    monkeypatch.setenv("DISCORD_TOKEN", "x.y.z")
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "sync")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert name in err


def test_busy_database_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A write blocked by another process's write lock says the database is busy, exit 1."""
    assert run(capsys, "latest")[0] == 0  # creates and seeds the database
    own = tmp_path / "own.jsonl"
    own.write_text(
        json.dumps({"title": "日米協議", "body": "日米が協議した。", "published": "2026-02-01"})
        + "\n",
        "utf-8",
    )
    monkeypatch.setattr(db, "connect", functools.partial(db.connect, busy_timeout=0.2))
    holder = sqlite3.connect(tmp_path / "data" / "alliance.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        code, _, err = run(capsys, "ingest", str(own))
    finally:
        holder.close()
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "alliance-bot: the database is busy: another process (the bot, or another command) "
        "is writing to it; try again"
    ]


def test_ingest_of_nothing_readable_names_it_and_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An unreadable file is named in a warning; with nothing else to import the command fails
    (exit 2, one line saying so), so a script can tell."""
    bad = tmp_path / "broken.jsonl"
    bad.write_bytes(b'{"title": "x"\n\xff\xfe\x00garbage\n')
    code, out, err = run(capsys, "ingest", str(bad))
    assert code == 2
    assert "broken.jsonl" in err
    assert "added 0," in out
    assert err.strip().splitlines()[-1].startswith("alliance-bot: nothing imported: ")


def test_ingest_of_articles_stored_from_another_file_exits_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file whose one article is already stored from another file (skipped), with a note
    (an unknown topic ignored), was read: exit 0, not "nothing imported"."""
    line = {"title": "日米協議", "body": "日米が協議した。", "published": "2026-02-01"}
    text = json.dumps({**line, "topics": ["nope"]}, ensure_ascii=False) + "\n"
    (tmp_path / "one.jsonl").write_text(text, "utf-8")
    (tmp_path / "two.jsonl").write_text(text, "utf-8")
    assert run(capsys, "ingest", str(tmp_path / "one.jsonl"))[0] == 0
    code, out, err = run(capsys, "ingest", str(tmp_path / "two.jsonl"))
    assert (code, out) == (0, "added 0, updated 0, unchanged 0, skipped 1\n")
    assert "two.jsonl:1: unknown topic 'nope' ignored" in err
    assert "nothing imported" not in err


@pytest.mark.parametrize("name", ["README.md", "Dockerfile", "notes.TXT.bak"])
def test_ingest_refuses_a_file_that_is_not_articles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    """A file named otherwise than .txt, .jsonl or .ndjson is refused before anything is read:
    each of its lines would have become an article."""
    other = tmp_path / name
    other.write_text("COPY pyproject.toml constraints.txt ./\n", "utf-8")
    code, out, err = run(capsys, "ingest", str(other))
    assert (code, out) == (2, "")
    assert err.strip() == f"alliance-bot: not a file of articles (.txt, .jsonl, .ndjson): {other}"


def test_python_dash_m_bot_runs(tmp_path: Path) -> None:
    """`python -m bot latest` works as a fresh process."""
    env = {
        **os.environ,
        "ALLIANCE_DB": str(tmp_path / "m.db"),
        "ALLIANCE_SEEDS": str(ROOT / "seeds"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "latest", "--limit", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("#")


def test_healthcheck_without_a_running_bot(capsys: pytest.CaptureFixture[str]) -> None:
    """`healthcheck` is unhealthy (exit 1) without a heartbeat, healthy with --no-heartbeat."""
    assert run(capsys, "latest")[0] == 0
    code, _, err = run(capsys, "healthcheck")
    assert code == 1
    assert "heartbeat" in err
    assert run(capsys, "healthcheck", "--no-heartbeat")[0] == 0


def test_backup_writes_a_consistent_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`backup PATH` copies the database; the copy holds every article."""
    assert run(capsys, "latest")[0] == 0
    target = tmp_path / "backup.db"
    code, _, _ = run(capsys, "backup", str(target))
    assert code == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM articles").fetchone() == (21,)


@pytest.mark.parametrize(
    ("argv", "seeded"),
    [
        (["ingest", "{tmp}/no\x1b[31mfile"], True),  # a path that isn't there
        (["healthcheck", "--no-heartbeat"], False),  # no database at its path
        (["backup", "{tmp}/copy\x1b[31m.db"], True),  # names the database and the copy
        (["backup", "{tmp}/no\x1b[31mfolder/copy.db"], True),  # refused: no such folder
    ],
)
def test_paths_are_echoed_without_control_characters(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    seeded: bool,
) -> None:
    """A path with a control character (an escape sequence) is echoed as `\\x1b`, never raw."""
    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "alliance\x1b[2J.db"))
    if seeded:
        assert run(capsys, "latest")[0] == 0
    _, out, err = run(capsys, *(arg.format(tmp=tmp_path) for arg in argv))
    assert "\\x1b" in out + err
    assert "\x1b" not in out + err


def test_search_refusal_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A query made only of symbols is refused with one line and exit code 2."""
    code, out, err = run(capsys, "search", "!!! ***")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["folder", "not sqlite"])
def test_unusable_database_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
) -> None:
    """ALLIANCE_DB naming a folder or a non-SQLite file exits 2 with one line naming it."""
    path = tmp_path / "x.db"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_text("not a database, only text " * 10, "utf-8")
    monkeypatch.setenv("ALLIANCE_DB", str(path))
    code, out, err = run(capsys, "latest")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "x.db" in err


def test_search_text_output_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    """Plain `search` prints the total, each hit and a bold snippet; paging past the end says so."""
    code, out, _ = run(capsys, "search", "台湾", "--limit", "2", "--offset", "1")
    assert code == 0
    assert out.startswith("7 results; showing 2–3")
    assert out.count("**台湾**") >= 2
    code, out, _ = run(capsys, "search", "台湾", "--offset", "50")
    assert code == 0
    assert "7 results; none at offset 50" in out


@pytest.mark.parametrize("name", ["us-politics", "US_Politics", "米国の政策・議会"])
def test_search_json_sorted_newest_with_topic(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """`search --sort newest --topic --json` lists only that topic (named by its slug or a
    label, in any case), newest first, with a total."""
    code, out, _ = run(capsys, "search", "日米", "--sort", "newest", "--topic", name, "--json")
    payload = json.loads(out)
    dates = [r["published"] for r in payload["results"]]
    assert code == 0
    assert payload["total"] == len(dates) >= 3
    assert dates == sorted(dates, reverse=True)
    assert all("us-politics" in r["topics"] for r in payload["results"])


def test_search_typo_says_what_was_searched(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelled name is corrected and the output says what was searched instead."""
    code, out, _ = run(capsys, "search", "クリテンブリング")
    assert code == 0
    assert "showing results for 'クリテンブリンク'" in out
    assert "**クリテンブリンク**" in out
    _, out, _ = run(capsys, "search", "クリテンブリング", "--json")
    assert json.loads(out)["corrected"] == "クリテンブリンク"


def test_search_typo_in_an_or_names_the_word(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in an OR whose other word finds articles is named alone, in text and JSON."""
    code, out, _ = run(capsys, "search", "トランブ OR 関税")
    assert code == 0
    assert out.splitlines()[0] == "no match for 'トランブ'; showing results for 'トランプ OR 関税'"
    _, out, _ = run(capsys, "search", "トランブ OR 関税", "--json")
    assert json.loads(out)["unmatched"] == ["トランブ"]


def test_search_of_words_typed_together_names_them_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A word typed without spaces, found only as its words close together, is said so, its
    words named one by one, not as a query with spaces."""
    code, out, _ = run(capsys, "search", "高市首相")
    assert code == 0
    assert (
        "no exact match for '高市首相'; showing results with '高市', '首相' close together" in out
    )
    _, out, _ = run(capsys, "search", "高市首相", "--json")
    assert json.loads(out)["near"] == ["高市", "首相"]


def test_search_with_few_exact_results_says_it_added_words_close_together(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One article says 高市首相, one 高市早苗首相: both are found, and the output says the second
    came from searching the words close together."""
    (tmp_path / "data").mkdir()
    drafts = [
        ArticleDraft(title, body, date(2025, 12, 19), False, "near.jsonl", f"near.jsonl:{line}")
        for line, (title, body) in enumerate(
            [("typed", "高市首相は語った。"), ("full", "高市早苗首相が訪米した。")], start=1
        )
    ]
    asyncio.run(_store(tmp_path / "data" / "alliance.db", drafts))
    code, out, _ = run(capsys, "search", "高市首相")
    assert code == 0
    assert out.splitlines()[0] == (
        "only 1 exact result for '高市首相'; "
        "also showing results with '高市', '首相' close together"
    )
    _, out, _ = run(capsys, "search", "高市首相", "--json")
    payload = json.loads(out)
    assert (payload["total"], payload["typed_total"]) == (2, 1)
    assert [r["title"] for r in payload["results"]] == ["typed", "full"]


def test_show_prints_a_stored_links_control_characters_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A link stored with terminal escapes (as earlier versions stored it) is shown, not sent."""
    link = "https://example.com/\x1b]0;pwned\x07\x1b[2J\x00"
    _store_one(tmp_path, "esc test", "日米同盟の本文。", "esc.jsonl", url=link)
    code, out, _ = run(capsys, "show", "1")
    assert code == 0
    assert "source: esc.jsonl:1  https://example.com/\\x1b]0;pwned\\x07\\x1b[2J\\x00\n" in out
    assert not any(ch in out for ch in "\x1b\x07\x00")


def test_latest_and_show_print_stored_control_characters_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A title, source and body stored with a CR or escapes (as earlier versions stored them)
    are printed written out; the body keeps its line breaks."""
    _store_one(tmp_path, "Real headline\rFAKE", "一行目\n\t二行目\x1b[2J\u202e", "ev\x1bil.txt")
    _, listed, _ = run(capsys, "latest")
    assert "Real headline\\rFAKE\n" in listed
    assert "ev\\x1bil.txt:1\n" in listed
    _, shown, _ = run(capsys, "show", "1")
    assert shown.startswith("Real headline\\rFAKE\n")
    assert "source: ev\\x1bil.txt:1\n" in shown
    assert "一行目\n\t二行目\\x1b[2J\\u202e\n" in shown
    assert not any(ch in listed + shown for ch in "\r\x1b\u202e")


def test_show_marks_an_inferred_date(capsys: pytest.CaptureFixture[str]) -> None:
    """`show` says when an article's date was inferred rather than read."""
    _, out, _ = run(capsys, "latest", "--json", "--limit", "1")
    newest = json.loads(out)["results"][0]
    assert newest["date_inferred"] is True  # the undated top article of the listing page
    code, out, _ = run(capsys, "show", f"#{newest['id']}")
    assert code == 0
    assert f"{newest['published']} (approximate)" in out


def test_ingest_malformed_files_warns_and_imports_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Binary, empty and bad-line files are named with their line (a name's terminal escapes
    shown, not sent); good articles still import."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "evil\x1b]0;pwned\x07.txt").write_bytes(b"")
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait.".encode("latin-1"))
    good = {"title": "日米協議", "body": "日米が協議した。", "published": "2026-02-01"}
    (folder / "mixed.jsonl").write_text(
        json.dumps(good, ensure_ascii=False) + "\n{oops\n" + json.dumps({"title": "x"}) + "\n",
        "utf-8",
    )
    code, out, err = run(capsys, "ingest", str(folder))
    assert code == 0
    assert "added 1," in out
    for where in ("binary.txt", "empty.txt", "latin1.txt:1", "mixed.jsonl:2", "mixed.jsonl:3"):
        assert where in err, where
    assert "warning: evil\\x1b]0;pwned\\x07.txt: empty file" in err
    assert "\x1b" not in err
    assert "\x07" not in err


def test_ingest_edited_seed_updates_in_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-ingesting a seed folder with one edited summary reports one update and nothing added."""
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    monkeypatch.setenv("ALLIANCE_SEEDS", str(seeds))
    assert "added 21" in run(capsys, "ingest", str(seeds))[1]
    listing = seeds / "000_ec138bacc4a23740.txt"
    listing.write_text(listing.read_text("utf-8").replace("約50分会談", "約55分会談"), "utf-8")
    code, out, _ = run(capsys, "ingest", str(seeds))
    assert code == 0
    assert out.strip() == "added 0, updated 1, unchanged 20, skipped 0"
    _, out, _ = run(capsys, "search", "約55分会談", "--json")
    assert json.loads(out)["total"] == 1


# --- digest ------------------------------------------------------------------------------------


def test_digest_json_for_the_week_of_2025_12_15(capsys: pytest.CaptureFixture[str]) -> None:
    """`digest --json` gives the week's range, its three articles, counts and total."""
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-17", "--json")
    payload = json.loads(out)
    assert code == 0
    assert (payload["week_start"], payload["week_end"]) == ("2025-12-15", "2025-12-21")
    assert sorted(a["published"] for a in payload["articles"]) == [
        "2025-12-16",
        "2025-12-17",
        "2025-12-19",
    ]
    assert payload["total"] == 3
    assert sum(payload["counts"].values()) == 3
    first = payload["articles"][0]
    assert set(first) == {"id", "title", "body", "published", "date_inferred", "topics"} | {
        "source",
        "url",
    }
    assert "\\u" not in out


def test_digest_text_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    """The text digest has a title, the range and one line per article, in ja and en."""
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-15")
    assert code == 0
    assert out.startswith("今週の日米同盟（2025年12月15日〜21日）")
    assert out.count("・2025年12月") == 3
    code, out, _ = run(capsys, "digest", "--week-of", "2025-12-21", "--lang", "en")
    assert code == 0
    assert "Dec 15 – 21, 2025 · 3 articles" in out
    assert out.count("• Dec ") == 3


def test_digest_of_an_empty_week_names_the_latest(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty week says so and points to the newest earlier article."""
    code, out, _ = run(capsys, "digest", "--week-of", "2026-03-04", "--lang", "en")
    assert code == 0
    assert "No news in the week of" in out
    assert "approx. Jan 15, 2026" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["digest", "--week-of", "2025-13-01"],
        ["digest", "--week-of", "last week"],
        ["digest", "--lang", "fr"],
        ["digest", "--week-of", "20251215"],  # ISO basic format: fromisoformat takes it
        ["digest", "--week-of", "2025-W51-1"],  # an ISO week date: so does this
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Bad input exits 2 with a single line on stderr and nothing on stdout."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    assert exc.value.code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize(
    "typed",
    ["２０２５-１２-１５", "2025/12/15", "2025.12.17", "2025年12月17日", "２０２５／１２／２１"],
)
def test_digest_week_of_reads_dates_as_the_bot_does(
    capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """`--week-of` takes what `/alliance digest week_of` takes: full-width, slashes, 年月日."""
    code, out, _ = run(capsys, "digest", "--week-of", typed, "--json")
    assert (code, json.loads(out)["week_start"]) == (0, "2025-12-15")


def test_digest_week_past_the_calendar_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real date whose week runs past 9999-12-31 is refused naming --week-of: exit 2."""
    code, out, err = run(capsys, "digest", "--week-of", "9999/12/27")
    assert (code, out) == (2, "")
    assert err == (
        "alliance-bot: --week-of: the week of '9999/12/27' runs past the last date there is\n"
    )


def test_bad_timezone_setting_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown ALLIANCE_TIMEZONE is reported in one line with exit code 2."""
    monkeypatch.setenv("ALLIANCE_TIMEZONE", "Mars/Olympus")
    code, out, err = run(capsys, "digest")
    assert code == 2
    assert out == ""
    assert "ALLIANCE_TIMEZONE" in err
    assert err.count("\n") == 1


def test_digest_does_not_import_discord(tmp_path: Path) -> None:
    """The digest command stays on the fast path: discord.py is never imported."""
    code = (
        "import sys; from bot.cli import main; rc = main(['digest', '--json']);"
        "assert rc == 0; assert 'discord' not in sys.modules, 'discord imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["week_start"]


# --- numbers typed on the command line -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "٣"],  # Arabic-Indic 3: int() reads it as 3
        ["show", "#３"],  # full-width 3
        ["latest", "--limit", "٥"],
        ["search", "核", "--limit", "5", "--offset", "١٠"],
        ["sync", "--guild", "١٢٣٤٥"],
        ["invite-url", "--client-id", "１２３４５"],
        ["healthcheck", "--max-age", "٦٠"],
        ["feeds", "add", "https://example.jp/rss", "--interval", "٣٠"],
        ["show", "+3"],
        ["latest", "--limit", "1_0"],
    ],
)
def test_numbers_must_be_ascii_digits(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """Ids, counts and other numbers in any digits but ASCII are refused: exit 2, one line."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1
    assert repr(argv[-1]) in err


def test_show_takes_article_3_in_ascii_only(capsys: pytest.CaptureFixture[str]) -> None:
    """`#3`, `# 3`, ` 3 ` and `003` name article 3; `٣`, which int() also reads as 3, does not."""
    for typed in ("#3", "# 3", " 3 ", "003"):
        assert build_parser().parse_args(["show", typed]).id == 3
    code, out, _ = run(capsys, "show", "#3", "--json")
    assert (code, json.loads(out)["results"][0]["id"]) == (0, 3)
    with pytest.raises(SystemExit) as exited:
        main(["show", "٣"])
    assert exited.value.code == 2
    assert capsys.readouterr().out == ""


# --- one-shot commands as fresh processes: stderr and stdout as a shell sees them ----------------


# Runs `python ARGV…` after closing one standard descriptor (as `>&-` does) and/or, when it runs
# as root, taking away root's power to ignore file permissions (CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH, dropped from the bounding set with prctl(PR_CAPBSET_DROP) so the exec'd
# Python never has them), so that an unwritable folder is unwritable for it as for the bot's user.
# Exit code 77: the capabilities could not be dropped.
_LAUNCHER = """
import ctypes, os, sys
closed, unprivileged, *argv = sys.argv[1:]
if unprivileged == "1" and os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    if any(libc.prctl(24, cap, 0, 0, 0) != 0 for cap in (1, 2)):
        sys.exit(77)
if closed != "-":
    os.close(int(closed))
os.execv(sys.executable, [sys.executable, *argv])
"""


def _bot(
    tmp_path: Path,
    *argv: str,
    stdout: int | IO[str] = subprocess.PIPE,
    unbuffered: bool = False,
    env: dict[str, str] | None = None,
    closed: int | None = None,
    unprivileged: bool = False,
    max_file_size: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGV` against a temp database, as a shell would run it.

    `closed` starts it with that standard descriptor closed; `unprivileged` without root's
    power over file permissions (see `_LAUNCHER`); `max_file_size` with no file allowed to
    grow past that many bytes, as on a full disk (`ulimit -f`; Python ignores SIGXFSZ, so a
    write past it fails with EFBIG).
    """
    environ = {
        **os.environ,
        "ALLIANCE_DB": str(tmp_path / "data" / "alliance.db"),
        "ALLIANCE_SEEDS": str(ROOT / "seeds"),
        **(env or {}),
    }
    environ.pop("PYTHONUNBUFFERED", None)  # the developer's shell must not choose the case
    if unbuffered:
        environ["PYTHONUNBUFFERED"] = "1"
    launch = [sys.executable]
    if closed is not None or unprivileged:
        fd = "-" if closed is None else str(closed)
        launch = [sys.executable, "-c", _LAUNCHER, fd, "1" if unprivileged else "0"]
    limit = None
    if max_file_size is not None:
        import resource

        size = max_file_size
        limit = functools.partial(resource.setrlimit, resource.RLIMIT_FSIZE, (size, size))
    return subprocess.run(
        [*launch, "-m", "bot", *argv],
        preexec_fn=limit,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def test_output_to_a_pipe_is_utf8_whatever_the_locale_says(tmp_path: Path) -> None:
    """Under a legacy locale (C, no UTF-8 coercion), articles and `--json` written to a pipe
    are still UTF-8, instead of a UnicodeEncodeError."""
    env = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
    shown = _bot(tmp_path, "show", "16", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "日米" in shown.stdout
    listed = _bot(tmp_path, "latest", "--limit", "1", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [article] = json.loads(listed.stdout)["results"]
    assert any("\u3040" <= ch <= "\u9fff" for ch in article["title"])


def test_errors_to_a_pipe_are_utf8_whatever_the_locale_says(tmp_path: Path) -> None:
    """Under a C locale, an error naming a Japanese value (from .env) reaches a piped stderr
    in UTF-8, not as \\u escapes."""
    (tmp_path / ".env").write_text("ALLIANCE_TIMEZONE=東京\n", encoding="utf-8")
    env = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
    done = _bot(tmp_path, "latest", env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert "'東京'" in done.stderr


def test_an_encoding_set_by_pythonioencoding_is_kept_and_never_a_traceback(
    tmp_path: Path,
) -> None:
    """PYTHONIOENCODING=ascii is the operator's choice: kept, with what it can't write
    replaced, and the command still succeeds."""
    found = _bot(tmp_path, "search", "核", "--limit", "1", env={"PYTHONIOENCODING": "ascii"})
    assert found.returncode == 0, found.stderr
    assert "Traceback" not in found.stderr
    assert found.stdout.isascii()
    assert "?" in found.stdout


def test_ingest_prints_each_warning_once(tmp_path: Path) -> None:
    """`ingest` names each bad line once, as `warning: …`, not also as a bare log line."""
    bad = tmp_path / "bad.jsonl"
    good = '{"title": "日米協議", "body": "日米が協議した。", "published": "2026-02-01"}'
    bad.write_text('{oops\n{"title": "x"}\n' + good + "\n", "utf-8")
    done = _bot(tmp_path, "ingest", str(bad))
    lines = done.stderr.splitlines()
    assert done.returncode == 0, done.stderr
    assert len(lines) == 2, done.stderr
    assert all(line.startswith("warning: ") for line in lines)
    assert "bad.jsonl:1" in lines[0]
    assert "bad.jsonl:2" in lines[1]


@pytest.mark.parametrize(
    "argv",
    [["list"], ["add", "https://example.org/feed.xml"], ["remove", "https://example.org/x"]],
)
def test_feeds_prints_each_config_problem_once(tmp_path: Path, argv: list[str]) -> None:
    """A bad entry in feeds.toml is one `warning: …` line, however often the file is read."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "feeds.toml").write_text('[[feed]]\nurl = "not a url"\n', "utf-8")
    done = _bot(tmp_path, "feeds", *argv)
    lines = done.stderr.splitlines()
    (line,) = [line for line in lines if not line.startswith("alliance-bot: ")]
    assert line.startswith("warning: ")
    assert "feed #1" in line


def test_core_warnings_of_other_commands_use_the_cli_format(tmp_path: Path) -> None:
    """A warning logged while `latest` loads the seeds shows as `warning: …`, not bare."""
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    (seeds / "broken.txt").write_bytes(b"\x00\x01\x02")
    done = _bot(tmp_path, "latest", "--limit", "1", env={"ALLIANCE_SEEDS": str(seeds)})
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("warning: ")
    assert "broken.txt" in line


DEV_FULL = Path("/dev/full")


@pytest.mark.skipif(not DEV_FULL.exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize(
    "argv",
    [
        ["latest"],
        ["latest", "--json", "--limit", "100"],
        ["--help"],
        ["invite-url", "--client-id", "12345"],
    ],
)
def test_full_disk_is_one_line_not_a_traceback(
    tmp_path: Path, argv: list[str], unbuffered: bool
) -> None:
    """Output to a full disk ends with one line on stderr and exit code 1."""
    with DEV_FULL.open("w") as full:
        done = _bot(tmp_path, *argv, stdout=full, unbuffered=unbuffered)
    assert done.returncode == 1
    assert done.stderr == "alliance-bot: cannot write the output: No space left on device\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE is POSIX")
@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [["latest"], ["--help"]])
def test_closed_pipe_is_quiet_exit_141(tmp_path: Path, argv: list[str], unbuffered: bool) -> None:
    """When the reader is gone (`| head`), the command stops quietly with 141 (128 + SIGPIPE)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left before the first line
    try:
        done = _bot(tmp_path, *argv, stdout=write_end, unbuffered=unbuffered)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGPIPE is POSIX")
def test_reader_leaving_mid_output_is_exit_141(tmp_path: Path) -> None:
    """JSON larger than a pipe holds, its reader gone after the first line (`| head -1`): 141,
    not a quiet 0 with the output cut short."""
    articles = tmp_path / "many.jsonl"
    line = {"title": "会談 {}", "body": "日米両政府は防衛協力の拡大で一致した。" * 20}
    articles.write_text(
        "".join(
            json.dumps({**line, "title": f"会談 {i}", "published": "2026-01-05"}) + "\n"
            for i in range(100)
        ),
        encoding="utf-8",
    )
    assert _bot(tmp_path, "ingest", str(articles)).returncode == 0
    environ = {**os.environ, "ALLIANCE_DB": str(tmp_path / "data" / "alliance.db")}
    command = [sys.executable, "-m", "bot", "latest", "--json", "--limit", "100"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, cwd=tmp_path
    ) as reader:
        assert reader.stdout is not None
        assert reader.stderr is not None
        assert reader.stdout.readline() == b"{\n"
        reader.stdout.close()
        code = reader.wait(timeout=60)
        err = reader.stderr.read()
    assert (code, err) == (141, b"")


@pytest.mark.skipif(sys.platform == "win32", reason="closing a standard descriptor is POSIX")
@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("argv", [["latest"], ["--help"], ["topics", "--json"]])
def test_closed_stdout_is_quiet_exit_1(tmp_path: Path, argv: list[str], unbuffered: bool) -> None:
    """With stdout closed (`>&-`) a command stops quietly with exit 1: no abort, no traceback."""
    done = _bot(tmp_path, *argv, closed=1, unbuffered=unbuffered)
    assert (done.returncode, done.stderr) == (1, "")


# Ctrl-C lands while the CLI's modules load: the interrupt is raised by the import of one.
_INTERRUPTED_IMPORT = """
import builtins, sys
real_import = builtins.__import__
def interrupted(name, *args, **kwargs):
    if name == "aiosqlite":
        raise KeyboardInterrupt
    return real_import(name, *args, **kwargs)
builtins.__import__ = interrupted
from bot.__main__ import main
sys.exit(main())
"""


def test_ctrl_c_while_the_cli_loads_exits_130_quietly(tmp_path: Path) -> None:
    """Ctrl-C before the command starts (its modules loading) is exit 130, not a traceback."""
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_IMPORT, "latest"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr, done.stdout) == (130, "", "")


@pytest.mark.skipif(sys.platform == "win32", reason="closing a standard descriptor is POSIX")
@pytest.mark.parametrize("fd", [0, 2])
def test_closed_stdin_or_stderr_changes_nothing(tmp_path: Path, fd: int) -> None:
    """With stdin (`<&-`) or stderr (`2>&-`) closed, `latest` prints its articles, exit 0."""
    done = _bot(tmp_path, "latest", closed=fd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("#")


@contextlib.contextmanager
def _unwritable(tmp_path: Path, path: Path) -> Iterator[None]:
    """`path` read-only while inside, or skip when even that can't stop this user writing."""
    mode = path.stat().st_mode & 0o777
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        target = path / "probe" if path.is_dir() else path
        probe = [sys.executable, "-c", _LAUNCHER, "-", "1", "-c"]
        probe += ["import sys; open(sys.argv[1], 'a')", str(target)]
        done = subprocess.run(probe, capture_output=True, cwd=tmp_path, timeout=60)
        if done.returncode in (0, 77):
            pytest.skip("root's power over file permissions can't be taken away here")
        yield
    finally:
        path.chmod(mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_healthcheck_names_an_unwritable_folder(tmp_path: Path) -> None:
    """A good database in a folder the user can't write is reported as that, not as unreadable."""
    assert _bot(tmp_path, "latest").returncode == 0
    folder = tmp_path / "data"
    # As a stopped bot leaves it: the last connection to close removed the -wal and -shm files.
    assert sorted(p.name for p in folder.iterdir()) == ["alliance.db"]
    with _unwritable(tmp_path, folder):
        done = _bot(tmp_path, "healthcheck", "--no-heartbeat", unprivileged=True)
    assert done.returncode == 1
    assert done.stderr == (
        f"unhealthy: database {folder / 'alliance.db'} cannot be opened: its folder "
        f"{str(folder)!r} is not writable by uid {os.geteuid()}, so SQLite cannot create "
        "alliance.db-wal and alliance.db-shm there\n"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_backup_names_an_unwritable_folder(tmp_path: Path) -> None:
    """A backup of a good database in a folder the user can't write says that the folder is
    why, not SQLite's "unable to open database file"."""
    assert _bot(tmp_path, "latest").returncode == 0
    folder = tmp_path / "data"
    (tmp_path / "backups").mkdir()
    with _unwritable(tmp_path, folder):
        done = _bot(tmp_path, "backup", str(tmp_path / "backups/"), unprivileged=True)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"alliance-bot: cannot read the database {folder / 'alliance.db'}: its folder "
        f"{str(folder)!r} is not writable by uid {os.geteuid()}, so SQLite cannot create "
        "alliance.db-wal and alliance.db-shm there\n"
    )
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_database_in_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    """A database that can't be created in its folder ends with one line that says why."""
    folder = tmp_path / "data"
    folder.mkdir()
    with _unwritable(tmp_path, folder):
        done = _bot(tmp_path, "latest", unprivileged=True)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"alliance-bot: cannot open the database {str(folder / 'alliance.db')!r}: its folder "
        f"{str(folder)!r} is not writable by uid {os.geteuid()}, so SQLite cannot create "
        "alliance.db, alliance.db-wal and alliance.db-shm there\n"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_database_file_is_one_line(tmp_path: Path) -> None:
    """A database file the user can't write (its folder writable) ends with one line naming it."""
    assert _bot(tmp_path, "latest").returncode == 0
    path = tmp_path / "data" / "alliance.db"
    with _unwritable(tmp_path, path):
        done = _bot(tmp_path, "ingest", str(ROOT / "seeds"), unprivileged=True)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"alliance-bot: the database {str(path)!r} is not readable and writable\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_a_disk_that_fails_a_write_is_one_line_and_keeps_nothing_half_written(
    tmp_path: Path,
) -> None:
    """An import whose writes the disk refuses ends with one line and exit 1, and leaves the
    database as it was: no article of the file, the seeds all there."""
    assert _bot(tmp_path, "latest").returncode == 0
    big = tmp_path / "big.jsonl"
    line = {"body": "日米が防衛協力について協議した。" * 20, "published": "2026-02-01"}
    big.write_text(
        "".join(
            json.dumps({**line, "title": f"日米協議 第{i}回"}, ensure_ascii=False) + "\n"
            for i in range(3000)
        ),
        "utf-8",
    )
    path = tmp_path / "data" / "alliance.db"
    done = _bot(tmp_path, "ingest", str(big), max_file_size=path.stat().st_size * 2)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"alliance-bot: the database {str(path)!r} could not be written or read (disk I/O "
        "error): check its disk's free space, then run the command again\n"
    )
    latest = json.loads(_bot(tmp_path, "latest", "--json").stdout)
    assert latest["total"] == 21


def test_a_disk_too_full_to_open_the_database_says_so(tmp_path: Path) -> None:
    """A disk that refuses the -shm SQLite creates to open the database is reported as the
    disk failing, as a write it refuses later is (exit 1), by commands and the healthcheck
    alike, not as "cannot use the database: disk I/O error" (exit 2)."""
    assert _bot(tmp_path, "latest").returncode == 0  # closed: no -wal or -shm left
    path = tmp_path / "data" / "alliance.db"
    done = _bot(tmp_path, "latest", max_file_size=16 * 1024)  # the -shm takes 32 KiB
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"alliance-bot: the database {str(path)!r} could not be written or read (disk I/O "
        "error): check its disk's free space, then run the command again\n"
    )
    done = _bot(tmp_path, "healthcheck", "--no-heartbeat", max_file_size=16 * 1024)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"unhealthy: database {path} unreadable: disk I/O error: check its disk's free space\n"
    )


def test_a_backup_its_disk_refuses_names_the_backup_and_leaves_no_file_behind(
    tmp_path: Path,
) -> None:
    """A backup whose writes the disk refuses ends with one line naming the backup (not the
    database) as what failed, keeps the previous backup, and leaves nothing else in the folder:
    no temporary copy, and no -journal of one."""
    assert _bot(tmp_path, "latest").returncode == 0
    path = tmp_path / "data" / "alliance.db"
    # Larger than the copy's page cache (2,000 pages), so that SQLite writes pages of the copy
    # before it ends, and has to roll them back when the disk refuses one.
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE load (payload BLOB NOT NULL)")
        conn.executemany("INSERT INTO load VALUES (randomblob(1000))", [()] * 12_000)
    conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "old.db").write_bytes(b"the previous backup")
    size = path.stat().st_size
    done = _bot(tmp_path, "backup", str(backups / "old.db"), max_file_size=size // 2)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"alliance-bot: cannot write the backup {backups / 'old.db'}: disk I/O error\n"
    )
    assert [p.name for p in backups.iterdir()] == ["old.db"]
    assert (backups / "old.db").read_bytes() == b"the previous backup"


async def _store(path: Path, drafts: list[ArticleDraft]) -> None:
    conn = await db.connect(path)
    try:
        await articles.ingest(conn, drafts)
    finally:
        await conn.close()


def _store_one(
    workdir: Path, title: str, body: str, origin: str, *, url: str | None = None
) -> None:
    """One article of 19 December 2025 from `origin` (line 1), stored in the working
    directory's database as an earlier version stored it, with nothing cleaned."""
    (workdir / "data").mkdir()
    draft = ArticleDraft(title, body, date(2025, 12, 19), False, origin, f"{origin}:1", url=url)
    asyncio.run(_store(workdir / "data" / "alliance.db", [draft]))


def test_search_says_more_than_10000_and_json_says_not_exact(
    tmp_path: Path, numbered_reports: Callable[[int], list[ArticleDraft]]
) -> None:
    """Past 10,000 matches the text says so and --json has total 10000, total_exact false."""
    (tmp_path / "data").mkdir()
    asyncio.run(_store(tmp_path / "data" / "alliance.db", numbered_reports(10_010)))
    text = _bot(tmp_path, "search", "防衛")
    assert text.stdout.splitlines()[0] == "more than 10000 results; showing 1–10"
    done = _bot(tmp_path, "search", "防衛", "--json")
    payload = json.loads(done.stdout)
    assert (payload["total"], payload["total_exact"]) == (10_000, False)


def test_a_database_damaged_in_its_middle_is_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    numbered_reports: Callable[[int], list[ArticleDraft]],
    damage_middle: Callable[[Path], None],
) -> None:
    """With the middle third of its pages overwritten (past what opening it reads), `search`
    says the database is damaged in one line, exit 2, and `healthcheck --no-heartbeat` fails."""
    assert run(capsys, "latest")[0] == 0  # creates and seeds the database
    path = tmp_path / "data" / "alliance.db"
    asyncio.run(_store(path, numbered_reports(1000)))
    damage_middle(path)
    code, out, err = run(capsys, "search", "防衛", "--sort", "newest")
    assert (code, out) == (2, "")
    assert err.startswith(f"alliance-bot: the database {str(path)!r} is damaged (")
    assert err.endswith(': restore a backup (README, "Backups and upgrades")\n')
    assert err.count("\n") == 1
    code, out, err = run(capsys, "healthcheck", "--no-heartbeat")
    assert (code, out) == (1, "")
    assert err.startswith(f"unhealthy: database {path} is damaged: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["feeds", "add"], "minutes between fetches (5–1440, default 30)"),
        (["search"], "order of the results (default: relevance)"),
    ],
)
def test_help_gives_an_options_range_and_default_as_the_bot_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], said: str
) -> None:
    """`--help` says what the bot's own option descriptions say: --interval's 5–1440 and
    default, --sort's default; not only a minimum, or nothing."""
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    assert said in capsys.readouterr().out


def test_every_command_describes_itself_as_the_list_above_it_does() -> None:
    """Each command's and feeds action's --help opens with the line its parent's --help lists
    (lower case, as all of them): not "Follow a feed." under "follow a feed"."""
    pending = [build_parser()]
    described = 0
    while pending:
        parser = pending.pop()
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                assert child.description == listed[name], name
                described += 1
                pending.append(child)
    assert described > 15
